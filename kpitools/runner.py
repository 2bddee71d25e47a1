"""Planning a run: every input checked before any notebook starts.

Bad data, a bad configuration or template, an unknown service or quarter stop the command
here, with exit status 2 and nothing written. The batch (:mod:`kpitools.batch`) then runs
the plan.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from kpitools.config import CouncilConfig, load_config_or_default
from kpitools.cpr import parse_report_date
from kpitools.deck import check_template
from kpitools.errors import KpiToolsError
from kpitools.loading import load_dataset
from kpitools.model import Dataset
from kpitools.periods import Granularity

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "cpr.ipynb"
KERNEL_MANAGER = "kpitools.kernels.IpcKernelManager"


@dataclass
class ServiceRun:
    """What happened to one service's report."""

    service: str
    slug: str
    ok: bool = False
    files: list[Path] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    error: str = ""
    seconds: float = 0.0


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

    Raises:
        kpitools.ValidationError: bad data or configuration (nothing has been written).
        KpiToolsError: an unknown service, a bad quarter or report date.
    """
    config = load_config_or_default(config_path)
    check_template(config)
    data = Path(data_dir).resolve()
    dataset = load_dataset(
        data,
        year_start_month=config.year_start_month,
        default_tolerance=config.default_tolerance,
    )
    calendar = dataset.calendar
    if quarter.strip().lower() == "latest":
        latest = dataset.latest_month
        if latest is None:
            raise KpiToolsError("the data has no values, so there is no latest quarter")
        label = calendar.label(calendar.containing(latest, Granularity.QUARTER))
    else:
        try:
            period = calendar.parse(quarter)
        except ValueError as err:
            raise KpiToolsError(f"--quarter {err}") from None
        if calendar.granularity(period) is not Granularity.QUARTER:
            raise KpiToolsError(f"--quarter '{quarter}' is not a financial quarter (2024/25 Q1)")
        label = calendar.label(period)
    unknown = [s for s in services if s not in dataset.services]
    if unknown:
        raise KpiToolsError(
            f"unknown service {', '.join(repr(s) for s in unknown)}: the data has "
            + ", ".join(dataset.services)
        )
    chosen = tuple(services) or tuple(dataset.services)
    if report_date:
        parse_report_date(report_date)
    return RunPlan(
        data_dir=data,
        quarter=label,
        services=chosen,
        out_dir=Path(out_dir).resolve(),
        config=config,
        config_path=Path(config_path).resolve() if config_path else None,
        report_date=report_date,
        run_id=run_id,
        strict=strict,
        notebook=Path(notebook).resolve() if notebook else NOTEBOOK,
        dataset=dataset,
    )
