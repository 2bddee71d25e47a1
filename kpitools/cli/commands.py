"""The command line: parse options, call the library, print. No rules live here."""

from __future__ import annotations

import atexit
import contextlib
import errno
import json
import math
import os
import signal
import sys
import tempfile
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from kpitools._version import __version__
from kpitools.core.errors import KpiToolsError, ValidationError
from kpitools.report.words import counted, period_words

if TYPE_CHECKING:
    import pandas as pd

    from kpitools.batch.outcomes import BatchOptions
    from kpitools.core.dataset import Dataset

EXIT_BAD_INPUT = 2


def _reports_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Bad input becomes one line per problem on stderr and exit status 2, never a traceback."""

    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except ValidationError as err:
            click.echo(err.report(), err=True)
            count = len(err.problems)
            click.echo(
                f"{count} problem{'s' if count != 1 else ''} found; nothing written.", err=True
            )
            sys.exit(EXIT_BAD_INPUT)
        except KpiToolsError as err:
            click.echo(f"error: {err}", err=True)
            sys.exit(EXIT_BAD_INPUT)
        except OSError as err:
            said = _cannot_write(err)
            if said is None:
                raise
            click.echo(f"error: {said[0]}", err=True)
            sys.exit(said[1])

    return wrapper


#: Errors of a disk that cannot take more: the run failed, what it finished is complete.
_DISK_FULL = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}
#: Errors of a place that cannot be written at all: a bad --out, nothing written.
_NOT_WRITABLE = {errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOTDIR, errno.EEXIST,
                 errno.EISDIR}  # fmt: skip


def _cannot_write(err: OSError) -> tuple[str, int] | None:
    """A sentence for a file the command could not write, and the exit status; None for an
    error that is not about writing (a fault, left to show as one)."""
    where = f" {err.filename}" if err.filename else ""
    if err.errno in _DISK_FULL:
        return (
            f"cannot write{where}: {err.strerror}. Reports finished before it are complete and "
            "nothing is half-written; free some space (or raise the file-size limit) and run "
            "the same command again",
            1,
        )
    if err.errno in _NOT_WRITABLE:
        return f"cannot write{where}: {err.strerror}; nothing half-written is left", EXIT_BAD_INPUT
    return None


_data_option = click.option(
    "--data",
    "data",
    required=True,
    type=click.Path(file_okay=False, path_type=str),
    metavar="DIR",
    help="Folder with measures, values (and optional targets, comments, actions, benchmarks).",
)
_data_or_db_option = click.option(
    "--data",
    "data",
    type=click.Path(file_okay=False, path_type=str),
    metavar="DIR",
    help="Folder with measures, values (and optional targets, comments, actions, "
    "benchmarks); or give --db.",
)
_db_option = click.option(
    "--db",
    metavar="URL",
    help="History store to read (instead of --data) or write: a file (SQLite) or a database "
    "URL (postgresql+psycopg://...); default $KPITOOLS_DB.",
)
_as_of_option = click.option(
    "--as-of",
    "as_of",
    metavar="TIME",
    help="With --db: the data as it was known then, e.g. 2024-10-05T12:00 (UTC unless an "
    "offset is given).",
)


def _store(db: str | None) -> Any:
    """The history store ``--db`` or ``$KPITOOLS_DB`` names."""
    from kpitools.store.history import HistoryStore, resolve_url

    url = resolve_url(db)
    if url is None:
        raise click.UsageError("give the history store: --db FILE-OR-URL (or set KPITOOLS_DB)")
    return HistoryStore(url)


def _data_folder(
    data: str | None, db: str | None, as_of: str | None, root: Path, config_path: str | None
) -> tuple[str, Any]:
    """The data folder to read: ``--data``, or the history store's data as of a time written
    under ``root``; and the (store, ingest id, as-of) it came from, or None."""
    from kpitools.contract.config_file import load_config

    if data and db:
        raise click.UsageError("read the data from --data or from --db, not both")
    if data:
        if as_of:
            raise click.UsageError("--as-of needs --db: a folder has no history")
        return data, None
    from kpitools.store.history import parse_as_of, resolve_url, snapshot  # SQLAlchemy: 0.2 s

    if resolve_url(db) is None:
        raise click.UsageError("say where the data is: --data DIR (or --db, or KPITOOLS_DB)")
    store = _store(db)
    moment = parse_as_of(as_of) if as_of else None
    ingest_id, folder = snapshot(store, moment, root, load_config(config_path))
    return str(folder), (store, ingest_id, moment)


_config_option = click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=str),
    metavar="FILE",
    help="Council configuration (params/council.yaml): financial year, tolerance and more; "
    "defaults apply without one.",
)
_service_option = click.option(
    "--service",
    "services",
    multiple=True,
    metavar="NAME",
    help="Only this service (repeatable).",
)


def _removed_year_start(ctx: click.Context, param: click.Parameter, value: Any) -> None:
    if value is not None:
        raise click.UsageError(
            "--year-start was removed: set year_start_month in the council configuration "
            "and pass it with --config, so every command and report uses the same year"
        )


_year_start_removed = click.option(
    "--year-start", hidden=True, expose_value=False, callback=_removed_year_start
)


def _load(data: str, config_path: str | None) -> Dataset:
    """The data folder read with the council's settings: the one way every command loads.
    What the loader warns about goes to stderr."""
    from kpitools.contract.config_file import load_config
    from kpitools.contract.loading import load

    dataset = load(data, config=load_config(config_path))
    _warn(dataset)
    return dataset


def _warn(dataset: Dataset) -> None:
    for warning in dataset.warnings:
        click.echo(f"warning: {warning}", err=True)


def _options(options: tuple[Callable[..., Any], ...]) -> Callable[..., Any]:
    """Options shared by several commands, in the order ``--help`` lists them."""

    def apply(command: Callable[..., Any]) -> Callable[..., Any]:
        for option in reversed(options):
            command = option(command)
        return command

    return apply


def _reports_out(layout: str) -> Callable[..., Any]:
    """``--out``: where a batch writes its reports, laid out as ``layout``."""
    return click.option(
        "--out",
        "out_dir",
        default="outputs",
        show_default=True,
        type=click.Path(file_okay=False, path_type=str),
        metavar="DIR",
        help=f"Folder for the reports: {layout}.",
    )


def _stop_if_interrupted(signal_name: str) -> None:
    """After a batch stopped by a signal: say so and exit 130 (SIGINT) or 143 (SIGTERM)."""
    if signal_name:
        click.echo(f"Stopped by {signal_name}: finished reports are in place; run the same "
                   "command again to finish the rest.", err=True)  # fmt: skip
        sys.exit(130 if signal_name == "SIGINT" else 143)


#: Workers, time limit, caching and cluster: shared by run and run-councils.
_BATCH_OPTIONS = (
    click.option(
        "--jobs",
        type=click.IntRange(1),
        metavar="N",
        help="Parallel workers (default: CPU cores).",
    ),
    click.option(
        "--timeout",
        type=click.IntRange(1),
        default=600,
        show_default=True,
        metavar="SECONDS",
        help="Seconds a notebook cell may run before its service fails.",
    ),
    click.option("--force", is_flag=True, help="Rerun services whose inputs have not changed."),
    click.option(
        "--scheduler", metavar="ADDRESS", help="Run on a Dask cluster, e.g. tcp://10.0.0.5:8786."
    ),
    click.option(
        "--wait",
        is_flag=True,
        help="When another run is writing to --out, wait for it to finish (default: stop).",
    ),
)


def _held(out: Path, wait: bool = False) -> AbstractContextManager[None]:
    """The output folder held for this command: one run writes there at a time."""
    from kpitools.batch.lock import output_lock

    return output_lock(out, wait=wait, waiting=lambda message: click.echo(message, err=True))


#: The board pack and plotly.js: shared by run and run-councils.
_OUTPUT_OPTIONS = (
    click.option(
        "--pack/--no-pack",
        default=True,
        show_default=True,
        help="Write the board pack (board-pack.pptx and .html) after the reports.",
    ),
    click.option(
        "--pack-pdf/--no-pack-pdf",
        default=True,
        show_default=True,
        help="Make board-pack.pdf too, when LibreOffice is installed.",
    ),
    click.option(
        "--plotly-js",
        type=click.Choice(["inline", "folder"]),
        default="inline",
        show_default=True,
        help="inline: each web page holds plotly.js (one self-contained file, ~4.8 MB); folder: "
        "plotly.js is written once into the period's folder and the pages load it from there "
        "(a few hundred kB each; keep the folder together, still offline).",
    ),
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="kpitools")
def cli() -> None:
    """kpitools: council performance data in, Corporate Performance Reports out."""


@cli.command()
@_data_option
@_config_option
@_year_start_removed
@_reports_errors
def validate(data: str, config_path: str | None) -> None:
    """Check a data folder against the data contract and report every problem."""
    click.echo(_summary(_load(data, config_path)))


@cli.command()
@_data_or_db_option
@_db_option
@_as_of_option
@click.option(
    "--period",
    metavar="PERIOD",
    help="A month (2017-08), quarter (2023/24 Q1), year (2023/24), run of months "
    "(2017-06..2017-08) or 'latest'.",
)
@click.option(
    "--by",
    type=click.Choice(["month", "quarter", "year"]),
    help="Period length when --period is absent or 'latest' (default: quarter).",
)
@_service_option
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["table", "csv", "json", "xlsx"]),
    default="table",
    show_default=True,
)
@click.option(
    "--output",
    "output",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE",
    help="Write to this file (needed for xlsx) instead of printing.",
)
@_config_option
@_year_start_removed
@_reports_errors
def scorecard(
    data: str | None,
    db: str | None,
    as_of: str | None,
    period: str | None,
    by: str | None,
    services: tuple[str, ...],
    output_format: str,
    output: Path | None,
    config_path: str | None,
) -> None:
    """Rate every measure: RAG, direction of travel and exceptions per period."""
    from kpitools.core.scorecard import rate

    if output_format == "xlsx" and output is None:
        raise click.UsageError("--format xlsx writes a workbook: give --output FILE.xlsx")
    if output is not None and output_format == "table":
        raise click.UsageError("--output writes csv, json or xlsx: give --format too")
    with tempfile.TemporaryDirectory(prefix="kpitools-scorecard-") as scratch:
        folder, _ = _data_folder(data, db, as_of, Path(scratch), config_path)
        dataset = _load(folder, config_path)
    chosen_services(dataset, services)
    if period is not None and period.strip().lower() != "latest":
        resolve_period(dataset, period)  # a period the data does not reach is an error
    elif period is not None and dataset.latest_month is None:
        raise KpiToolsError("the data has no values, so there is no latest period")
    try:
        rows = rate(dataset, period=period, by=by, services=services or None)
    except ValueError as err:
        raise click.BadParameter(str(err), param_hint="--period") from None
    if output_format == "xlsx" and output is not None:
        _scorecard_workbook(rows, dataset, output, period)
        click.echo(f"{len(rows)} rows -> {output}")
    elif output_format in ("csv", "json"):
        _emit(to_csv(rows) if output_format == "csv" else to_json(rows) + "\n", output, len(rows))
    else:
        from kpitools.cli.console import print_scorecard

        print_scorecard(rows, dataset)


@cli.command()
@_data_or_db_option
@_db_option
@_as_of_option
@click.option(
    "--measure",
    "measure_ids",
    multiple=True,
    metavar="ID",
    help="Only this measure (repeat for more).",
)
@_service_option
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["table", "csv", "json"]),
    default="table",
    show_default=True,
)
@click.option(
    "--output",
    "output",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE",
    help="Write csv or json to this file instead of printing.",
)
@_config_option
@_reports_errors
def spc(
    data: str | None,
    db: str | None,
    as_of: str | None,
    measure_ids: tuple[str, ...],
    services: tuple[str, ...],
    output_format: str,
    output: Path | None,
    config_path: str | None,
) -> None:
    """Statistical process control: every measure's XmR chart, point by point, with its
    mean, process limits, variation (improvement, concern, neither, common_cause), the rule
    that fired and the assurance against the target."""
    from kpitools.core.variation import spc_table

    if output is not None and output_format == "table":
        raise click.UsageError("--output writes csv or json: give --format too")
    with tempfile.TemporaryDirectory(prefix="kpitools-spc-") as scratch:
        folder, _ = _data_folder(data, db, as_of, Path(scratch), config_path)
        dataset = _load(folder, config_path)
    chosen_services(dataset, services)
    missing = [m for m in measure_ids if m not in dataset.measures.index]
    if missing:
        raise click.BadParameter(
            f"{', '.join(missing)} not in the data dictionary", param_hint="--measure"
        )
    rows = spc_table(dataset, measures=measure_ids or None, services=services or None)
    if output_format == "table":
        from kpitools.cli.console import print_spc

        print_spc(rows)
        return
    if output_format == "csv":
        text = to_csv(rows)
    else:
        records = [
            {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in r.items()}
            for r in _rounded(rows).to_dict(orient="records")
        ]
        text = json.dumps(records, ensure_ascii=False, indent=1, allow_nan=False) + "\n"
    _emit(text, output, len(rows))


@cli.command()
@_data_or_db_option
@_db_option
@_as_of_option
@click.option(
    "--period",
    metavar="PERIOD",
    help="The period to report: a month (2017-12), a financial quarter (2017/18 Q3), a "
    "financial year (2015/16), a run of months (2017-06..2017-08), or 'latest' (the latest "
    "finished quarter).",
)
@click.option(
    "--quarter",
    metavar="QUARTER",
    help="The same as --period (kept for scripts written for quarters).",
)
@_service_option
@_reports_out("<out>/<quarter>/<service>/")
@_config_option
@_options(_BATCH_OPTIONS)
@click.option(
    "--report-date",
    default="",
    metavar="DATE",
    help="Date printed on the reports, e.g. 2024-07-19 (default: quarter end).",
)
@click.option(
    "--run-id",
    default="",
    metavar="ID",
    help="Run id printed on the reports (default: from the inputs).",
)
@click.option("--strict", is_flag=True, help="Treat warnings (missing comments) as failures.")
@click.option(
    "--notebook",
    type=click.Path(dir_okay=False, exists=True, path_type=str),
    metavar="FILE",
    help="A council's own CPR notebook (default: the one kpitools ships; "
    "'kpitools notebook' copies it).",
)
@click.option(
    "--publish",
    "publish",
    is_flag=True,
    help="Then publish the reports (see 'kpitools publish'): refused for any "
    "service not approved by the Director.",
)
@click.option(
    "--publish-unapproved",
    is_flag=True,
    help="With --publish: publish reports not approved too, saying so.",
)
@click.option(
    "--public",
    "public",
    type=click.Path(file_okay=False, path_type=Path),
    metavar="DIR",
    help="With --publish: also write the public performance pages into this folder.",
)
@_options(_OUTPUT_OPTIONS)
@_year_start_removed
@_reports_errors
def run(
    data: str | None,
    db: str | None,
    as_of: str | None,
    period: str | None,
    quarter: str | None,
    services: tuple[str, ...],
    out_dir: str,
    config_path: str | None,
    jobs: int | None,
    timeout: int,
    force: bool,
    scheduler: str | None,
    wait: bool,
    report_date: str,
    run_id: str,
    strict: bool,
    notebook: str | None,
    publish: bool,
    publish_unapproved: bool,
    public: Path | None,
    pack: bool,
    pack_pdf: bool,
    plotly_js: str,
) -> None:
    """Build each service's CPR for a period: deck (.pptx), web page (.html), notebook."""
    if period and quarter and period != quarter:
        raise click.UsageError("give the period once: --period or --quarter, not both")
    if (publish_unapproved or public) and not publish:
        raise click.UsageError("--publish-unapproved and --public go with --publish")
    chosen = period or quarter
    if not chosen:
        raise click.UsageError("say which period to report: --period 2024/25 Q1 (or latest)")

    request = key = None
    if data and not db and not as_of and not force and not publish:
        from kpitools.batch.uptodate import RunRequest, recall

        request = RunRequest.of(data, config_path, notebook, chosen, services, report_date,
                                run_id, strict, pack, pack_pdf, plotly_js)  # fmt: skip
        key = request.key()
        recalled = recall(Path(out_dir), request, key) if key else None
        if recalled is not None:  # nothing has changed since the same command last ran
            from kpitools.batch.status import BatchEvent
            from kpitools.cli.progress import BatchDisplay

            last, warnings = recalled
            for warning in warnings:
                click.echo(f"warning: {warning}", err=True)
            summary = last.outcomes[0].summary
            words = period_words(summary.quarter if summary else "")
            shown = BatchDisplay(title=f"{words} CPRs: nothing has changed since the last run")
            with shown:
                shown.update(BatchEvent.START, None, last.outcomes)
            shown.summary(last)
            return

    # The kernels start first: they import their libraries (and read the data) while this
    # process imports its own and plans the run.
    ahead = (data, config_path, chosen) if data and not db and not as_of else None
    workers = _workers(jobs)
    if not scheduler:
        _start_kernels(notebook, min(workers, len(set(services)) or workers), ahead)
    from kpitools.batch.plan import plan_run
    from kpitools.batch.run import check_outputs, run_batch
    from kpitools.batch.status import BatchEvent
    from kpitools.cli.progress import BatchDisplay

    options = _batch_settings(jobs, timeout, force, scheduler, pack, pack_pdf, plotly_js)
    folder, source = _data_folder(data, db, as_of, Path(out_dir), config_path)
    plan = plan_run(
        folder, chosen, services=services, out_dir=out_dir, config_path=config_path,
        report_date=report_date, run_id=run_id, strict=strict, notebook=notebook,
    )  # fmt: skip
    _warn(plan.dataset)
    check_outputs([plan], options.scheduler)  # before the lock: a refusal writes nothing
    with _held(Path(out_dir), wait):
        display = BatchDisplay(title=f"{period_words(plan.quarter)} CPRs on {_where(options)}")
        with display:
            result = run_batch(plan, options, progress=display.update)
        display.summary(result)
        if request is not None and key:
            from kpitools.batch.uptodate import remember
            from kpitools.report.template import template_path

            named = [template_path(plan.config), *([plan.config.logo] if plan.config.logo else [])]
            remember(Path(out_dir), request, key, result, named)
        if source is not None:
            _record_publications(source, plan.quarter, result)
        _stop_if_interrupted(result.interrupted)
        if result.failed:
            if publish:
                click.echo("Not published: some reports failed.", err=True)
            sys.exit(1)
        if publish:
            with recording(data, db, config_path, "published") as (into, dataset):
                done = publish_period(
                    into, dataset, plan.quarter, services, Path(out_dir), "", publish_unapproved
                )
                pages = public_site(dataset, done, public) if public is not None else []
            for item in done:
                click.echo(f"Published {item.service}: {item.signoff}")
            if public is not None:
                click.echo(f"Public pages: {len(pages)} in {public}")


def _batch_settings(jobs: int | None, timeout: int, force: bool, scheduler: str | None,
                    pack: bool, pack_pdf: bool, plotly_js: str) -> BatchOptions:  # fmt: skip
    """The batch's options from the command line's (workers default to the CPU cores)."""
    from kpitools.batch.outcomes import BatchOptions

    return BatchOptions(jobs=_workers(jobs), timeout=timeout, force=force,
                        scheduler=scheduler, pack=pack, pack_pdf=pack_pdf,
                        plotly_js=plotly_js)  # fmt: skip


def _workers(jobs: int | None) -> int:
    """Workers at once: as asked, else one per CPU core."""
    return jobs or os.cpu_count() or 1


def _start_kernels(
    notebook: str | None,
    count: int,
    data: tuple[str | Path, str | Path | None, str] | None = None,
) -> None:
    """A local run's ``count`` kernels, started while the data is read and the run planned
    (they import their libraries meanwhile, and read and rate ``data``, a data folder,
    configuration file and period, where kernels are forked); a run that stops before it
    needs them kills them."""
    from kpitools.batch.kernels import kill_ahead, start_ahead
    from kpitools.batch.portable import default_notebook

    folder = Path(notebook).resolve().parent if notebook else default_notebook().parent
    prepare = None
    if data is not None:
        where, config, period = data
        prepare = (str(Path(where).resolve()), str(Path(config).resolve()) if config else "",
                   period)  # fmt: skip
    start_ahead(count, folder, prepare)
    context = click.get_current_context(silent=True)
    if context is not None:  # what the run did not take goes as the command ends
        context.call_on_close(kill_ahead)


def _where(options: BatchOptions) -> str:
    return f"Dask cluster {options.scheduler}" if options.scheduler else f"{options.jobs} worker(s)"


@cli.command(name="run-councils")
@click.argument("councils_file", metavar="COUNCILS", type=click.Path(dir_okay=False, path_type=str))
@click.option(
    "--period",
    required=True,
    metavar="PERIOD",
    help="The period to report, as for 'kpitools run' ('latest': each council's own latest "
    "finished quarter).",
)
@_reports_out("<out>/<council>/<quarter>/<service>/")
@_options(_BATCH_OPTIONS)
@click.option("--strict", is_flag=True, help="Treat warnings (missing comments) as failures.")
@_options(_OUTPUT_OPTIONS)
@_reports_errors
def run_councils(
    councils_file: str,
    period: str,
    out_dir: str,
    jobs: int | None,
    timeout: int,
    force: bool,
    scheduler: str | None,
    wait: bool,
    strict: bool,
    pack: bool,
    pack_pdf: bool,
    plotly_js: str,
) -> None:
    """Build the CPRs of many councils in one run (a shared service, a national body).

    COUNCILS is a YAML file naming each council's data folder (and configuration and notebook,
    when it has its own). Every council's services run on one set of workers, or one Dask
    cluster; each council's reports, manifest, overview and board pack go into
    <out>/<council>/<quarter>/, as 'kpitools run' writes them for one. A council whose inputs
    are bad is refused with its problems (file, row, column) and the others still run; the
    exit status is then 2.
    """
    from kpitools.batch.plan import plan_run
    from kpitools.batch.run import check_outputs, run_councils
    from kpitools.cli.progress import BatchDisplay
    from kpitools.contract.councils_file import load_councils

    entries = load_councils(councils_file)
    options = _batch_settings(jobs, timeout, force, scheduler, pack, pack_pdf, plotly_js)
    if entries and not scheduler:
        first = entries[0]
        _start_kernels(str(first.notebook) if first.notebook else None, options.jobs,
                       (first.data, first.config, period))  # fmt: skip
    plans, refused = [], []
    for entry in entries:
        try:
            plan = plan_run(
                entry.data, period, out_dir=Path(out_dir) / entry.folder,
                config_path=entry.config, strict=strict, notebook=entry.notebook,
            )  # fmt: skip
            plan.check_template()
        except ValidationError as err:
            refused.append(entry.name)
            problems = counted(len(err.problems), "problem")
            click.echo(f"{entry.name}: refused, {problems} in its inputs; nothing written for it:",
                       err=True)  # fmt: skip
            click.echo(err.report(), err=True)
            continue
        except KpiToolsError as err:
            refused.append(entry.name)
            click.echo(f"{entry.name}: refused: {err}", err=True)
            continue
        for warning in plan.dataset.warnings:
            click.echo(f"warning: {entry.name}: {warning}", err=True)
        plans.append((entry.name, plan))
    if not plans:
        click.echo("No council's inputs could be used; nothing written.", err=True)
        sys.exit(EXIT_BAD_INPUT)
    check_outputs([plan for _, plan in plans], options.scheduler)
    with _held(Path(out_dir), wait):
        display = BatchDisplay(title=f"{counted(len(plans), 'council')}: CPRs on {_where(options)}")
        with display:
            results = run_councils(plans, options, progress=display.update)
        display.councils_summary(
            [(name, result) for (name, _), result in zip(plans, results, strict=True)]
        )
        if refused:
            click.echo(f"Refused for bad inputs: {', '.join(refused)}.", err=True)
        _stop_if_interrupted(next((r.interrupted for r in results if r.interrupted), ""))
        if refused:
            sys.exit(EXIT_BAD_INPUT)
        if any(r.failed for r in results):
            sys.exit(1)


def _scorecard_workbook(
    rows: pd.DataFrame, dataset: Dataset, output: Path, period: str | None
) -> None:
    """The scorecard as an Excel workbook, dated by the data's reach (never the clock)."""
    import datetime as dt

    from kpitools.contract.excel_out import write_scorecard
    from kpitools.report.words import rag_label

    latest = dataset.latest_month
    stamp = (
        dt.datetime.combine(latest.end_time.date(), dt.time(0, 0))
        if latest is not None
        else dt.datetime(2000, 1, 1)
    )
    palette = dataset.config.palette
    words = {rag: rag_label(rag) for rag in palette}
    title = f"{dataset.config.council}: scorecard" + (f", {period}" if period else "")
    write_scorecard(_rounded(rows), output, palette, words, stamp, title)


# -- shared with the workflow commands -----------------------------------------------------
@contextmanager
def recording(
    data: str | None, db: str | None, config_path: str | None, reason: str
) -> Iterator[tuple[Path, Dataset]]:
    """The folder to record into and its data: ``--data`` itself, or (with ``--db``) the
    store's latest data in a scratch folder, ingested again when the block ends well."""
    from kpitools.contract.config_file import load_config

    if data and db:
        raise click.UsageError("record into --data or into --db, not both")
    if data:
        yield Path(data), _load(data, config_path)
        return
    if not db:
        raise click.UsageError("say where to record: --data DIR (or --db URL)")
    store = _store(db)
    config = load_config(config_path)
    with tempfile.TemporaryDirectory(prefix="kpitools-record-") as scratch:
        folder = store.export(store.ingest_as_of(None), Path(scratch) / "data")
        yield folder, _load(str(folder), config_path)
        report = store.ingest(folder, config, reason=reason)
        click.echo(f"Recorded in the history store as ingest {report.ingest_id}.")


def resolve_period(dataset: Dataset, period: str | None) -> str:
    from kpitools.batch.plan import resolve_quarter

    if not period:
        raise click.UsageError("say which period: --period 2024/25 Q1 (or latest)")
    return resolve_quarter(dataset, period)


def chosen_services(dataset: Dataset, services: tuple[str, ...]) -> list[str]:
    unknown = [s for s in services if s not in dataset.services]
    if unknown:
        raise click.BadParameter(
            f"{', '.join(unknown)} not among the services: {', '.join(dataset.services)}",
            param_hint="--service",
        )
    return list(dict.fromkeys(services)) or list(dataset.services)


def publish_period(
    folder: Path,
    dataset: Dataset,
    period: str | None,
    services: tuple[str, ...],
    out_dir: Path,
    by: str,
    force: bool,
) -> list[Any]:
    """Publish (shared by ``publish`` and ``run --publish``)."""
    from kpitools.workflow.signoff import publish as publish_reports

    label = resolve_period(dataset, period)
    chosen = chosen_services(dataset, services)
    notes: list[str] = []
    done = publish_reports(folder, dataset, label, out_dir, chosen, by=by, force=force,
                           notes=notes)  # fmt: skip
    for text in notes:
        click.echo(f"note: {text}", err=True)
    return done


def public_site(dataset: Dataset, published: list[Any], site: Path) -> list[Path]:
    """Write the public pages after publishing (shared by ``publish`` and ``run``)."""
    from kpitools.workflow.signoff import write_public

    if not published:
        return []
    period = published[0].period
    return write_public(dataset, period, site, [p.service for p in published])


def _record_publications(source: Any, period: str, result: Any) -> None:
    """Record in the history store what the run published, from which ingest."""
    import datetime as dt

    from kpitools.batch.manifest import file_sha256
    from kpitools.store.history import Publication

    store, ingest_id, as_of = source
    now = dt.datetime.now(dt.UTC)
    for outcome in result.outcomes:
        if outcome.status.value != "ok":
            continue
        files = {name: file_sha256(result.root / name) for name in outcome.files}
        store.record_publication(Publication(ingest_id, now, as_of, period, outcome.service, files))


@cli.command()
@_data_option
@_db_option
@_config_option
@click.option("--reason", default="", metavar="TEXT",
              help="Why figures changed, shown with each restatement.")  # fmt: skip
@_reports_errors
def ingest(data: str, db: str | None, config_path: str | None, reason: str) -> None:
    """Validate a data folder and record it in the history store: new values added,
    unchanged ones skipped, changed ones kept as restatements."""
    from kpitools.contract.config_file import load_config

    store = _store(db)
    config = load_config(config_path)
    report = store.ingest(Path(data), config, reason=reason)
    if not report.recorded:
        click.echo(f"Nothing changed since ingest {report.ingest_id}: nothing recorded.")
        return
    click.echo(f"Ingest {report.ingest_id} recorded at {report.recorded_at.isoformat()}:")
    for name in report.added:
        parts = [f"{report.added[name]} added", f"{report.unchanged[name]} unchanged",
                 f"{report.restated[name]} restated"]  # fmt: skip
        if report.removed[name]:
            parts.append(f"{report.removed[name]} no longer there")
        click.echo(f"  {name}: {', '.join(parts)}")


@cli.command()
@click.argument("measure_id", metavar="MEASURE_ID")
@_db_option
@_reports_errors
def history(measure_id: str, db: str | None) -> None:
    """Show a measure's values, restatements and publications over time."""
    from kpitools.cli.console import print_history

    store = _store(db)
    print_history(store, measure_id)


@cli.command()
@_data_option
@click.option(
    "--period",
    default="latest",
    show_default=True,
    metavar="PERIOD",
    help="The period to explore: a quarter (2024/25 Q1), a month, a year or 'latest'.",
)
@_service_option
@click.option(
    "--out",
    "out_dir",
    default="outputs",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    metavar="DIR",
    help="Folder for explore.ipynb and explore.html: <out>/<period>/.",
)
@click.option(
    "--notebook",
    "notebook_path",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    metavar="FILE",
    help="Your own copy of the exploration notebook (default: the one kpitools ships).",
)
@_config_option
@_reports_errors
def explore(
    data: str,
    period: str,
    services: tuple[str, ...],
    out_dir: Path,
    notebook_path: Path | None,
    config_path: str | None,
) -> None:
    """Run the analyst's exploration notebook: every measure's XmR chart, benchmarks and
    forecast across services, with an HTML copy."""
    from kpitools.batch.explore import ExploreFailed, run_explore

    dataset = _load(data, config_path)
    chosen_services(dataset, services)
    resolve_period(dataset, period)  # before the notebook runs: a period outside the data
    try:
        with _held(out_dir):
            written = run_explore(
                dataset,
                Path(data),
                period,
                out_dir,
                services=services,
                config_path=Path(config_path) if config_path else None,
                notebook=notebook_path,
            )
    except ExploreFailed as err:
        click.echo(f"error: {err}; nothing written", err=True)
        sys.exit(1)
    click.echo(f"Wrote {written.notebook} and {written.page}")


@cli.command()
@click.option(
    "--out",
    "out_path",
    default="cpr.ipynb",
    show_default=True,
    type=click.Path(dir_okay=False, path_type=str),
    metavar="FILE",
    help="Where to write the copy.",
)
@_reports_errors
def notebook(out_path: str) -> None:
    """Copy the CPR notebook kpitools ships, for a council to add its own cells to.

    Run it with 'kpitools run ... --notebook FILE'.
    """
    from kpitools.batch.portable import default_notebook

    target = Path(out_path)
    if target.exists():
        raise KpiToolsError(f"{target} already exists: choose another --out or remove it")
    target.write_bytes(default_notebook().read_bytes())
    click.echo(f"Wrote {target}: run it with kpitools run ... --notebook {target}")


@cli.command()
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path), metavar="DIR")
@click.option("--csv", "as_csv", is_flag=True, help="Write one CSV file per contract file "
              "(header only) instead of the workbook.")  # fmt: skip
@_config_option
@_reports_errors
def init(folder: Path, as_csv: bool, config_path: str | None) -> None:
    """Start a data folder: a workbook (data.xlsx) with a sheet per contract file, its
    columns, the allowed words as dropdowns and one worked example row each.

    Fill it in (or replace the example rows) and check it with 'kpitools validate --data DIR'.
    With --config, the categories dropdown lists the council's own categories.
    """
    from kpitools.contract.config_file import load_config
    from kpitools.contract.template import write_template

    written = write_template(folder, load_config(config_path), csv=as_csv)
    for path in written:
        click.echo(f"Wrote {path}")
    click.echo(f"Check it with: kpitools validate --data {folder}")


@cli.command(name="import")
@click.argument(
    "workbooks", nargs=-1, required=True, metavar="WORKBOOK...",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
)  # fmt: skip
@click.option("--out", "out_dir", required=True, metavar="DIR",
              type=click.Path(file_okay=False, path_type=Path),
              help="The data folder to write or update.")  # fmt: skip
@click.option("--mapping", metavar="FILE", type=click.Path(dir_okay=False, path_type=Path),
              help="The council's own ids: a CSV of measure_id, service, title.")  # fmt: skip
@_config_option
@_reports_errors
def import_(workbooks: tuple[Path, ...], out_dir: Path, mapping: Path | None,
            config_path: str | None) -> None:  # fmt: skip
    """Read the spreadsheets a council keeps (a sheet per service, months across the
    columns, header rows found) into a data folder: measures.csv and values.csv.

    Re-run it on next month's workbook: ids are kept (ids.csv), other months' values stay.
    """
    from kpitools.contract.config_file import load_config
    from kpitools.contract.importer import import_workbooks

    config = load_config(config_path)
    result = import_workbooks(
        workbooks, out_dir, year_start_month=config.year_start_month, mapping=mapping
    )
    for line in result.sheets:
        click.echo(f"Read {line}")
    wrote = f"{counted(result.measures, 'measure')}, {counted(result.values, 'value')}"
    click.echo(f"Wrote {out_dir}: {wrote} (ids kept in {out_dir / 'ids.csv'}).")
    for line in result.skipped:
        click.echo(f"Skipped {line}")
    if result.to_supply:
        click.echo("Still to supply in measures.csv (kpitools cannot tell from the sheets):")
        for line in result.to_supply:
            click.echo(f"  {line}")
    click.echo(f"Then check it: kpitools validate --data {out_dir}")


def _summary(dataset: Dataset) -> str:
    measures = len(dataset.measures)
    services = len(dataset.services)
    counts = [
        counted(measures, "measure") + f" in {counted(services, 'service')}",
        counted(len(dataset.values), "value"),
        counted(len(dataset.targets), "target range"),
        counted(len(dataset.comments), "comment"),
        counted(len(dataset.actions), "action"),
        counted(len(dataset.benchmarks), "benchmark"),
    ]
    return f"OK: {', '.join(counts)}.\n" + _reach(dataset)


def _reach(dataset: Dataset) -> str:
    """How far the data really reaches: its months, quarters and years, and the latest
    finished quarter (what ``--quarter latest`` builds)."""
    from kpitools.core.periods import Granularity
    from kpitools.core.scorecard import coverage_text

    calendar = dataset.calendar
    values = dataset.values
    spans = []
    for granularity in (Granularity.MONTH, Granularity.QUARTER, Granularity.YEAR):
        periods = values.loc[values["granularity"] == int(granularity), "period"]
        if not periods.empty:
            first, last = min(periods), max(periods)
            spans.append(f"{granularity.word}s {calendar.label(first)} to {calendar.label(last)}")
    latest = dataset.latest_period(Granularity.QUARTER)
    finished = calendar.label(latest) if latest is not None else "none yet"
    if not spans:
        return "No values yet."
    reach = f"Values for {'; '.join(spans)}. Latest finished quarter: {finished}."
    part = values[values["coverage"].notna()]
    if not part.empty:
        counts = Counter(
            f"{calendar.label(p)} {coverage_text(c, p)}"
            for p, c in zip(part["period"], part["coverage"], strict=True)
        )
        listed = ", ".join(
            f"{what} ({n} value{'s' if n != 1 else ''})" for what, n in sorted(counts.items())
        )
        reach += f"\nPart-year figures: {listed}."
    return reach


def _rounded(rows: pd.DataFrame) -> pd.DataFrame:
    """Floats to 6 decimals so ratios print without binary noise (0.30000000000000004)."""
    floats = rows.select_dtypes("float").columns
    return rows.assign(**{c: rows[c].round(6) for c in floats})


def _emit(text: str, output: Path | None, rows: int) -> None:
    """Print ``text``, or write it to ``output`` (whole or not at all) and say so."""
    if output is None:
        click.echo(text, nl=False)
        return
    from kpitools.core.files import write_atomic

    write_atomic(output, text.encode("utf-8"))
    click.echo(f"{rows} rows -> {output}")


def to_csv(rows: pd.DataFrame) -> str:
    """The scorecard as CSV text (booleans as true/false, empty cells for no value)."""
    import numpy as np
    import pandas as pd

    from kpitools.core.files import defuse_formula

    out = _rounded(rows)
    for column in out.select_dtypes("bool").columns:
        out[column] = out[column].map({True: "true", False: "false"})
    for column in out.select_dtypes(include=["object", "str"]).columns:
        # Each distinct text once: a scorecard of a million values has few distinct texts.
        codes, distinct = pd.factorize(out[column].to_numpy(dtype=object))
        safe = np.empty(len(distinct) + 1, dtype=object)
        safe[:-1] = [defuse_formula(v) if isinstance(v, str) else v for v in distinct.tolist()]
        safe[-1] = None  # a missing cell (code -1) stays empty
        out[column] = np.take(safe, codes)
    return out.to_csv(index=False, lineterminator="\n")


def to_json(rows: pd.DataFrame) -> str:
    """The scorecard as a JSON array of objects; exception reasons as a list."""
    records = []
    for record in _rounded(rows).to_dict(orient="records"):
        for key, value in record.items():
            if isinstance(value, float) and math.isnan(value):
                record[key] = None
        record["exception_reasons"] = (record["exception_reasons"] or "").split()
        records.append(record)
    return json.dumps(records, ensure_ascii=False, indent=1, allow_nan=False)


def _stopped(signum: int, frame: object) -> None:
    """Ctrl-C or SIGTERM outside a batch (which handles its own): leave cleanly, the lock
    released and temporary files removed on the way out, exit 130 or 143."""
    for each in (signal.SIGINT, signal.SIGTERM):
        signal.signal(each, signal.SIG_IGN)  # one stop is enough
    name = signal.Signals(signum).name
    with contextlib.suppress(Exception):
        click.echo(f"Stopped by {name}: files written before it are complete; nothing is "
                   "half-written.", err=True)  # fmt: skip
    raise SystemExit(130 if signum == signal.SIGINT else 143)


def main() -> None:
    """Console-script entry point."""
    for each in (signal.SIGINT, signal.SIGTERM):
        signal.signal(each, _stopped)
    try:
        cli(standalone_mode=True)
    except BrokenPipeError:  # `kpitools scorecard ... | head`
        sys.stderr.close()
        sys.exit(0)
    except SystemExit as stop:
        if stop.code in (0, None) and threading.active_count() == 1:
            # Done, everything written and closed: the exit handlers run (kernels no run
            # took are killed, logs flushed) and the process leaves without the
            # interpreter's teardown of every module it imported (a tenth of a second).
            # Output that cannot be written out leaves as Python leaves then (status 120).
            atexit._run_exitfuncs()
            try:
                sys.stdout.flush()
                sys.stderr.flush()
            except BrokenPipeError:  # `kpitools scorecard ... | head`, as above
                os._exit(0)
            except Exception:
                os._exit(120)
            os._exit(0)
        if isinstance(stop.code, int) and stop.code != 0:
            # A stop or a failure, everything recorded and cleaned: leave now. The
            # interpreter's own exit joins worker-pool threads, which a batch broken off by a
            # signal or a full disk can leave waiting for good.
            with contextlib.suppress(Exception):
                sys.stdout.flush()
                sys.stderr.flush()
            if "kpitools.batch.kernels" in sys.modules:  # kernels no run took
                with contextlib.suppress(Exception):
                    sys.modules["kpitools.batch.kernels"].kill_ahead()
            os._exit(stop.code)
        raise
