"""The analyst's exploration notebook, run for a period: every service's measures with their
XmR charts, benchmarks and forecasts in one place (``notebooks/explore.ipynb``).

Executed by papermill like the CPR notebook, with the same kind of parameters, and written
with its HTML copy into the period's output folder: ``explore.ipynb`` and ``explore.html``.
Nothing is written until the notebook has run to its end.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

from kpitools.core.dataset import Dataset
from kpitools.core.errors import KpiToolsError
from kpitools.core.files import write_atomic
from kpitools.core.naming import quarter_folder
from kpitools.core.periods import Granularity

EXPLORE_NOTEBOOK = "explore.ipynb"


class ExploreFailed(Exception):
    """The exploration notebook stopped at a cell (a fault, not bad input)."""


@dataclass(frozen=True)
class Exploration:
    """What an exploration run wrote."""

    notebook: Path
    page: Path


def run_explore(
    dataset: Dataset,
    data_dir: Path,
    period: str,
    out_dir: Path,
    *,
    services: tuple[str, ...] = (),
    config_path: Path | None = None,
    notebook: Path | None = None,
    timeout: int = 900,
) -> Exploration:
    """Run the exploration notebook for ``period`` (a label, or ``latest``) and write it
    and its HTML copy under ``out_dir/<period>/``.

    Raises:
        KpiToolsError: no period to explore.
        ExploreFailed: the notebook failed (the cell and its error are named).
    """
    import nbformat
    import papermill
    from papermill.exceptions import PapermillExecutionError

    from kpitools.batch.portable import default_notebook, portable_notebook, shown_path
    from kpitools.report.export import export_html

    source = notebook or default_notebook(EXPLORE_NOTEBOOK)
    if period.strip().lower() == "latest":
        latest = dataset.latest_period(Granularity.QUARTER)
        if latest is None:
            raise KpiToolsError("the data has no finished quarter to explore")
        period = dataset.calendar.label(latest)
    folder = out_dir / quarter_folder(period)
    folder.mkdir(parents=True, exist_ok=True)
    here = folder.resolve()
    with tempfile.TemporaryDirectory(prefix="kpitools-explore-") as scratch:
        executed = Path(scratch) / EXPLORE_NOTEBOOK
        # Paths relative to the output folder: the executed notebook runs again where it is.
        parameters = {
            "data_dir": shown_path(data_dir, here),
            "quarter": period,
            "services": "|".join(services),
            "output_dir": ".",
            "council_config": shown_path(config_path, here),
        }
        try:
            papermill.execute_notebook(
                str(source),
                str(executed),
                parameters=parameters,
                kernel_name="python3",
                progress_bar=False,
                execution_timeout=timeout,
                cwd=str(here),
            )
        except PapermillExecutionError as err:
            raise ExploreFailed(
                f"{source.name} cell {err.cell_index + 1}: {err.ename}: {err.evalue}"
            ) from None
        shown = "kpitools:" + EXPLORE_NOTEBOOK if notebook is None else source.name
        blob = portable_notebook(json.loads(executed.read_bytes()), parameters, shown,
                                 EXPLORE_NOTEBOOK)  # fmt: skip
    council = dataset.config.council
    page = export_html(
        nbformat.reads(blob.decode("utf-8"), as_version=4),
        title=f"{council}: exploring performance, {period}",
        footer=f"{council} · Exploration notebook · {period}",
    )
    written = Exploration(notebook=folder / EXPLORE_NOTEBOOK, page=folder / "explore.html")
    write_atomic(written.notebook, blob)
    write_atomic(written.page, page.encode("utf-8"))
    return written
