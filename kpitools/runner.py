"""Running the CPR notebook for services and a quarter (papermill), writing the reports.

For each service the notebook is executed into a private staging folder beside the output
folder; the HTML report is rendered from the executed notebook; then the three files are
renamed into place, so a report is either complete or absent, never half-written.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from kpitools.config import CouncilConfig, load_config_or_default
from kpitools.cpr import build_cpr, slugify
from kpitools.deck import check_template, write_atomic
from kpitools.errors import KpiToolsError
from kpitools.loading import load_dataset
from kpitools.model import Dataset
from kpitools.periods import Granularity
from kpitools.tables import FILES

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
    run_id: str
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
    slugs: dict[str, str] = {}
    for service in chosen:
        slug = slugify(service)
        if slug in slugs:
            raise KpiToolsError(
                f"services '{slugs[slug]}' and '{service}' would share the file name '{slug}'"
            )
        slugs[slug] = service
    if report_date:
        build_cpr(dataset, chosen[0], label, config, report_date=report_date)  # checks the date
    return RunPlan(
        data_dir=data,
        quarter=label,
        services=chosen,
        out_dir=Path(out_dir).resolve(),
        config=config,
        config_path=Path(config_path).resolve() if config_path else None,
        report_date=report_date,
        run_id=run_id or default_run_id(data, label, config_path),
        strict=strict,
        notebook=Path(notebook).resolve() if notebook else NOTEBOOK,
        dataset=dataset,
    )


def default_run_id(data_dir: Path, quarter: str, config_path: str | Path | None) -> str:
    """A run id from the inputs' contents: the same inputs always give the same id."""
    digest = hashlib.sha256(quarter.encode())
    for path in sorted(data_dir.iterdir()):
        if path.is_file() and path.stem.lower() in FILES:
            digest.update(path.name.encode() + path.read_bytes())
    if config_path:
        digest.update(Path(config_path).read_bytes())
    return digest.hexdigest()[:12]


def run_service(plan: RunPlan, service: str) -> ServiceRun:
    """Execute the notebook for one service and put its three files in place."""
    import papermill
    from papermill.exceptions import PapermillExecutionError

    from kpitools.html_export import export_html

    started = time.perf_counter()
    slug = slugify(service)
    result = ServiceRun(service=service, slug=slug)
    report = build_cpr(
        plan.dataset, service, plan.quarter, plan.config,
        report_date=plan.report_date or None, run_id=plan.run_id,
    )  # fmt: skip
    result.warnings = list(report.warnings)
    if plan.strict and report.warnings:
        result.error = "warnings are errors with --strict: " + "; ".join(report.warnings)
        result.seconds = time.perf_counter() - started
        return result
    plan.out_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{slug}.", dir=plan.out_dir))
    executed = staging / f"{slug}.ipynb"
    try:
        try:
            papermill.execute_notebook(
                str(plan.notebook),
                str(executed),
                parameters={
                    "data_dir": str(plan.data_dir),
                    "service": service,
                    "quarter": plan.quarter,
                    "output_dir": str(staging),
                    "council_config": str(plan.config_path) if plan.config_path else "",
                    "report_date": report.report_date.isoformat(),
                    "run_id": plan.run_id,
                },
                kernel_name="python3",
                kernel_manager_class=KERNEL_MANAGER,
                progress_bar=False,
                request_save_on_cell_execute=False,
                cwd=str(plan.notebook.parent),
            )
        except PapermillExecutionError as err:
            result.error = f"cell {err.exec_count}: {err.ename}: {err.evalue}"
            _keep_failed(executed, plan.out_dir / f"{slug}.failed.ipynb")
            return result
        notebook = nbformat.read(executed, as_version=4)
        page = export_html(
            notebook,
            title=f"{report.title} - {report.council}",
            footer=(
                f"{report.council} · {report.service} · Corporate Performance Report "
                f"{report.quarter} · Report date {report.report_date:%d %B %Y} · "
                f"Run {plan.run_id}"
            ),
        )
        write_atomic(staging / f"{slug}.html", page.encode("utf-8"))
        for suffix in (".pptx", ".html", ".ipynb"):
            target = plan.out_dir / f"{slug}{suffix}"
            (staging / f"{slug}{suffix}").replace(target)
            result.files.append(target)
        (plan.out_dir / f"{slug}.failed.ipynb").unlink(missing_ok=True)
        result.ok = True
        return result
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        result.seconds = time.perf_counter() - started


def _keep_failed(executed: Path, target: Path) -> None:
    """Keep a failed run's executed notebook for debugging."""
    if executed.exists():
        write_atomic(target, executed.read_bytes())


def run_reports(
    plan: RunPlan, on_done: Callable[[ServiceRun], None] | None = None
) -> list[ServiceRun]:
    """Run every service of the plan in turn; a failing service does not stop the others."""
    results = []
    for service in plan.services:
        result = run_service(plan, service)
        if on_done:
            on_done(result)
        results.append(result)
    return results
