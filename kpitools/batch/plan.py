"""Planning a run: every input checked before any notebook starts.

Bad data, a bad configuration, an unknown service or quarter stop the command here, with
exit status 2 and nothing written. :func:`kpitools.batch.run.run_batch` then runs the plan;
it checks the deck template (:meth:`RunPlan.check_template`) before building the first
report, with the same exit status and nothing written.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from kpitools.batch.portable import default_notebook
from kpitools.contract.config_file import load_config
from kpitools.contract.loading import load
from kpitools.core.config import CouncilConfig
from kpitools.core.dataset import Dataset
from kpitools.core.errors import KpiToolsError
from kpitools.core.periods import Granularity
from kpitools.report.content import parse_report_date


@dataclass(frozen=True)
class RunPlan:
    """Everything a run needs, resolved and validated before any notebook starts."""

    data_dir: Path
    quarter: str
    services: tuple[str, ...]
    out_dir: Path
    config: CouncilConfig
    config_path: Path | None
    report_date: str
    run_id: str  # '' = each service's own id, from its inputs
    strict: bool
    notebook: Path
    dataset: Dataset = field(repr=False, compare=False)

    def check_template(self) -> None:
        """Open the deck template and find its layouts; called before the first report is
        built, not when planning, so that a run with nothing to build never loads the deck
        library.

        Raises:
            KpiToolsError: the template cannot be opened, is not 16:9, or lacks a layout.
        """
        from kpitools.report.deck import check_template

        check_template(self.config)


def plan_run(
    data_dir: str | Path,
    quarter: str,
    *,
    services: Sequence[str] = (),
    out_dir: str | Path = "outputs",
    config_path: str | Path | None = None,
    report_date: str = "",
    run_id: str = "",
    strict: bool = False,
    notebook: str | Path | None = None,
) -> RunPlan:
    """Validate the inputs of a run: data, configuration, services and quarter.

    The deck template is checked later, by :meth:`RunPlan.check_template`, once there is a
    report to build.

    Raises:
        kpitools.ValidationError: bad data or configuration (nothing has been written).
        KpiToolsError: an unknown service, a bad quarter or report date, a missing notebook.
    """
    config = load_config(config_path)
    data = Path(data_dir).resolve()
    dataset = load(data, config=config)
    label = resolve_quarter(dataset, quarter)
    unknown = [s for s in services if s not in dataset.services]
    if unknown:
        raise KpiToolsError(
            f"unknown service {', '.join(repr(s) for s in unknown)}: the data has "
            + ", ".join(dataset.services)
        )
    if report_date:
        parse_report_date(report_date)
    notebook_path = Path(notebook).resolve() if notebook else default_notebook()
    check_notebook(notebook_path)
    return RunPlan(
        data_dir=data,
        quarter=label,
        services=tuple(dict.fromkeys(services)) or tuple(dataset.services),
        out_dir=Path(out_dir).resolve(),
        config=config,
        config_path=Path(config_path).resolve() if config_path else None,
        report_date=report_date,
        run_id=run_id,
        strict=strict,
        notebook=notebook_path,
        dataset=dataset,
    )


def check_notebook(path: Path) -> None:
    """A notebook the batch can run: a Jupyter notebook (format 4) with cells, checked before
    any service starts rather than failing in every one.

    Raises:
        KpiToolsError: missing, unreadable or not a notebook.
    """
    import json

    if not path.is_file():
        raise KpiToolsError(f"notebook {path} does not exist")
    try:
        notebook = json.loads(path.read_bytes())
    except OSError as err:
        raise KpiToolsError(f"notebook {path} cannot be read: {err.strerror}") from None
    except ValueError:
        notebook = None
    if (
        not isinstance(notebook, dict)
        or not isinstance(notebook.get("cells"), list)
        or notebook.get("nbformat") != 4
    ):
        raise KpiToolsError(
            f"notebook {path} is not a Jupyter notebook (.ipynb, format 4): give the CPR "
            "notebook ('kpitools notebook' writes a copy to start from)"
        )


def resolve_quarter(dataset: Dataset, quarter: str) -> str:
    """``--period``: a month, a financial quarter, a financial year or a run of months, as
    its label, or the latest finished quarter (the data reaches its last month).

    Raises:
        KpiToolsError: not a period, outside the data, or no data to find the latest.
    """
    calendar = dataset.calendar
    if quarter.strip().lower() == "latest":
        latest = dataset.latest_period(Granularity.QUARTER)
        if dataset.latest_month is None:
            raise KpiToolsError("the data has no values, so there is no latest quarter")
        if latest is None:
            raise KpiToolsError(
                "the data covers no whole quarter yet: name the quarter to build it as "
                "provisional (--period 2024/25 Q1)"
            )
        return calendar.label(latest)
    try:
        period = calendar.parse(quarter)
    except ValueError as err:
        raise KpiToolsError(f"--period {err}") from None
    label = calendar.label(period)
    first, latest = dataset.first_month, dataset.latest_month
    if first is None or latest is None:
        raise KpiToolsError("the data has no values, so there is no period to report")
    if not dataset.covers(period):
        raise KpiToolsError(
            f"--period {label} is outside the data, which runs from {calendar.label(first)} "
            f"to {calendar.label(latest)}"
        )
    return label
