"""The quarter's workflow on the command line: comments, sign-off, decisions, publishing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from kpitools.cli.commands import (
    _config_option,
    _data_option,
    _db_option,
    _held,
    _load,
    _reports_errors,
    _service_option,
    chosen_services,
    cli,
    public_site,
    publish_period,
    recording,
    resolve_period,
)
from kpitools.core.workflow import FollowUp, SignOffState

_workflow_data_option = click.option(
    "--data",
    "data",
    type=click.Path(file_okay=False, path_type=str),
    metavar="DIR",
    help="The data folder the comments and records go into; or give --db.",
)
_period_option = click.option(
    "--period",
    metavar="PERIOD",
    help="The report period: a quarter (2024/25 Q1), a month, a year or 'latest'.",
)


def _notes(notes: list[str]) -> None:
    for text in notes:
        click.echo(f"note: {text}", err=True)


def _moment(text: str | None) -> dt.datetime | None:
    """``--at``: a date or date and time (UTC unless an offset is given), read as
    ``signoff.csv``'s ``at`` is."""
    if not text:
        return None
    from kpitools.contract.validation import parse_moment

    try:
        return parse_moment(text)
    except ValueError:
        raise click.BadParameter(
            f"'{text}' is not a date and time (2024-07-19T10:30)", param_hint="--at"
        ) from None


def _day(option: str) -> Callable[[click.Context, click.Parameter, Any], dt.date | None]:
    def parse(ctx: click.Context, param: click.Parameter, value: Any) -> dt.date | None:
        if value is None:
            return None
        try:
            return dt.date.fromisoformat(str(value).strip())
        except ValueError:
            raise click.BadParameter(
                f"'{value}' is not a date (2024-11-30)", param_hint=option
            ) from None

    return parse


# -- comments --------------------------------------------------------------------------------
@cli.command()
@_workflow_data_option
@_db_option
@_period_option
@_service_option
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    metavar="DIR",
    help="Write each service's commentary workbook here.",
)
@click.option(
    "--due",
    default="",
    metavar="TEXT",
    help="When comments are due, shown on the workbook, e.g. '12 July 2024'.",
)
@click.option(
    "--read",
    "read",
    multiple=True,
    metavar="FILE",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Check returned workbooks and record their comments and actions "
    "(repeatable; all or nothing).",
)
@click.option("--owed", is_flag=True, help="List who still owes which comments.")
@_config_option
@_reports_errors
def comments(
    data: str | None,
    db: str | None,
    period: str | None,
    services: tuple[str, ...],
    out_dir: Path | None,
    due: str,
    read: tuple[Path, ...],
    owed: bool,
    config_path: str | None,
) -> None:
    """Directors' commentary workbooks: write them (--out), record returned ones (--read),
    or list who still owes comments (--owed)."""
    from kpitools.workflow import commentary

    if sum(bool(x) for x in (out_dir, read, owed)) != 1:
        raise click.UsageError("say what to do: --out DIR, --read FILE... or --owed")
    if read:
        with recording(data, db, config_path, "Directors' commentary") as (folder, dataset):
            chosen = resolve_period(dataset, period) if period else None
            done = commentary.record_workbooks(folder, dataset, read, chosen)
        _notes(list(done.notes))
        for name, service, label in done.workbooks:
            click.echo(f"{name}: {service} {label}")
        click.echo(
            f"Recorded {done.comments} comment(s), {done.actions_updated} action(s) "
            f"updated and {done.actions_added} added."
        )
        return
    if db and not data:
        raise click.UsageError("--out and --owed read --data (export the store first)")
    if not data:
        raise click.UsageError("say where the data is: --data DIR")
    dataset = _load(data, config_path)
    label = resolve_period(dataset, period)
    picked = chosen_services(dataset, services)
    if out_dir is not None:
        for path in commentary.write_workbooks(dataset, label, picked, out_dir, due):
            click.echo(str(path))
        return
    found = commentary.owed(dataset, label, picked)
    if not found:
        click.echo(f"Every comment is in for {label}.")
        return
    for item in found:
        who = f" ({item.director})" if item.director else ""
        parts = []
        if item.summary:
            parts.append("the Director's summary")
        if item.exceptions:
            ids = ", ".join(m for m, _ in item.exceptions)
            parts.append(f"comments on {len(item.exceptions)} exception(s): {ids}")
        click.echo(f"{item.service}{who}: {'; '.join(parts)}")


# -- sign-off --------------------------------------------------------------------------------
@cli.command()
@_workflow_data_option
@_db_option
@_period_option
@_service_option
@click.option(
    "--state",
    type=click.Choice([s.value for s in SignOffState if s.value != "published"]),
    metavar="STATE",
    help="The step to record: draft, comments_received, approved (by the Director) or noted "
    "(by the cabinet member); without it, show where each service stands.",
)
@click.option("--by", default="", metavar="NAME", help="Who took the step.")
@click.option("--at", "at", metavar="TIME", help="When (default: now), e.g. 2024-07-19T10:30.")
@click.option("--note", default="", metavar="TEXT")
@click.option("--force", is_flag=True, help="Record noting of a report not approved.")
@click.option(
    "--report-date",
    default="",
    metavar="DATE",
    help="The report's date if the run gave one (kpitools run --report-date).",
)
@_config_option
@_reports_errors
def signoff(
    data: str | None,
    db: str | None,
    period: str | None,
    services: tuple[str, ...],
    state: str | None,
    by: str,
    at: str | None,
    note: str,
    force: bool,
    report_date: str,
    config_path: str | None,
) -> None:
    """Record a sign-off step of a service's report (draft, comments received, approved by
    the Director, noted by the cabinet member), or show where each service stands."""
    from kpitools.workflow.signoff import current_signoff, record_step

    if state is None:
        if not data:
            raise click.UsageError("say where the data is: --data DIR")
        dataset = _load(data, config_path)
        label = resolve_period(dataset, period)
        for service in chosen_services(dataset, services):
            click.echo(f"{service}: {current_signoff(dataset, service, label, report_date).text}")
        return
    if len(services) != 1:
        raise click.UsageError("name the service whose report it is: --service NAME (once)")
    notes: list[str] = []
    with recording(data, db, config_path, f"sign-off: {state}") as (folder, dataset):
        label = resolve_period(dataset, period)
        service = chosen_services(dataset, services)[0]
        result = record_step(
            folder,
            dataset,
            service,
            label,
            SignOffState(state),
            by,
            at=_moment(at),
            note=note,
            force=force,
            report_date=report_date,
            notes=notes,
        )
    _notes(notes)
    click.echo(f"{service} {label}: {result.text}")


# -- committee decisions ---------------------------------------------------------------------
@cli.command()
@_workflow_data_option
@_db_option
@_period_option
@click.option("--measure", "measure_id", required=True, metavar="ID")
@click.option("--committee", default="", metavar="NAME", help="e.g. Scrutiny.")
@click.option(
    "--decision",
    type=click.Choice([f.value for f in FollowUp]),
    metavar="DECISION",
    help="The follow-up the committee chose: approve_actions, other_actions, refer_dmt, "
    "refer_task_and_finish, refer_leadership or refer_policy_committee.",
)
@click.option(
    "--report-back",
    callback=_day("--report-back"),
    metavar="DATE",
    help="When the service reports back, e.g. 2024-11-30.",
)
@click.option("--note", default="", metavar="TEXT")
@click.option(
    "--close",
    callback=_day("--close"),
    metavar="DATE",
    help="Close the measure's open decisions on this date instead.",
)
@_config_option
@_reports_errors
def decide(
    data: str | None,
    db: str | None,
    period: str | None,
    measure_id: str,
    committee: str,
    decision: str | None,
    report_back: dt.date | None,
    note: str,
    close: dt.date | None,
    config_path: str | None,
) -> None:
    """Record a committee's follow-up decision on an exception (shown with the measure and
    in the improvement plan until closed), or close the decisions on a measure."""
    from kpitools.workflow.signoff import close_decisions, record_decision

    notes: list[str] = []
    if close is not None:
        if decision:
            raise click.UsageError("record a decision or --close decisions, not both")
        with recording(data, db, config_path, "committee decision closed") as (folder, ds):
            count = close_decisions(folder, ds, measure_id, close, committee, notes)
        _notes(notes)
        click.echo(f"Closed {count} decision(s) on {measure_id}.")
        return
    if not decision:
        raise click.UsageError("say what the committee decided: --decision CHOICE")
    with recording(data, db, config_path, "committee decision") as (folder, dataset):
        label = resolve_period(dataset, period)
        service = record_decision(
            folder,
            dataset,
            measure_id,
            label,
            committee,
            FollowUp(decision),
            report_back=report_back,
            note=note,
            notes=notes,
        )
    _notes(notes)
    click.echo(f"{service} {label}, {measure_id}: {FollowUp(decision).words}.")


# -- publishing ------------------------------------------------------------------------------
@cli.command()
@_workflow_data_option
@_db_option
@_period_option
@_service_option
@click.option(
    "--out",
    "out_dir",
    default="outputs",
    show_default=True,
    metavar="DIR",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where 'kpitools run' wrote the reports.",
)
@click.option("--by", default="", metavar="NAME", help="Who published.")
@click.option("--force", is_flag=True, help="Publish reports not approved, saying so.")
@click.option(
    "--public",
    "public",
    type=click.Path(file_okay=False, path_type=Path),
    metavar="DIR",
    help="Also write the public performance pages (measures marked "
    "public, published reports only) into this folder.",
)
@_config_option
@_reports_errors
def publish(
    data: str | None,
    db: str | None,
    period: str | None,
    services: tuple[str, ...],
    out_dir: Path,
    by: str,
    force: bool,
    public: Path | None,
    config_path: str | None,
) -> None:
    """Publish the period's built reports: refuses any not approved by the Director (unless
    --force) and records what was published in published.json."""
    with _held(out_dir), recording(data, db, config_path, "published") as (folder, dataset):
        published = publish_period(folder, dataset, period, services, out_dir, by, force)
        if public is not None:
            pages = public_site(dataset, published, public)
    for item in published:
        click.echo(f"Published {item.service}: {item.signoff}")
    if public is not None:
        click.echo(f"Public pages: {len(pages)} in {public}")


# -- the board pack --------------------------------------------------------------------------
@cli.command()
@_data_option
@_period_option
@click.option(
    "--out",
    "out_dir",
    default="outputs",
    show_default=True,
    metavar="DIR",
    type=click.Path(file_okay=False, path_type=Path),
    help="Output folder: the pack goes in <out>/<period>/.",
)
@click.option(
    "--report-date",
    default="",
    metavar="DATE",
    help="Date printed on the reports, as for kpitools run.",
)
@click.option("--run-id", default="", metavar="ID", help="Run id, as for kpitools run.")
@click.option(
    "--pdf/--no-pdf",
    default=True,
    show_default=True,
    help="Make board-pack.pdf too, when LibreOffice is installed.",
)
@_config_option
@_reports_errors
def pack(
    data: str,
    period: str | None,
    out_dir: Path,
    report_date: str,
    run_id: str,
    pdf: bool,
    config_path: str | None,
) -> None:
    """Write the period's board pack (board-pack.pptx, .html and .pdf): a cover, the corporate
    summary, the RAG dashboard by month and every service's CPR slides."""
    from kpitools.batch.outcomes import BatchOptions
    from kpitools.batch.pack import write_pack
    from kpitools.batch.plan import plan_run
    from kpitools.batch.run import plan_outcomes
    from kpitools.core.naming import quarter_folder

    if not period:
        raise click.UsageError("say which period: --period 2024/25 Q1 (or latest)")
    plan = plan_run(
        data,
        period,
        out_dir=out_dir,
        config_path=config_path,
        report_date=report_date,
        run_id=run_id,
    )
    plan.check_template()
    root = plan.out_dir / quarter_folder(plan.quarter)
    with _held(plan.out_dir):
        root.mkdir(parents=True, exist_ok=True)
        outcomes = plan_outcomes(plan, BatchOptions(), root)
        built = [(o.service, o.run_id, o.cache_key) for o in outcomes]
        written = write_pack(root, plan, built, pdf=pdf)
    for path in written:
        click.echo(str(path))


# -- sending ---------------------------------------------------------------------------------
@cli.command()
@_data_option
@_period_option
@_service_option
@click.option(
    "--out",
    "out_dir",
    default="outputs",
    show_default=True,
    metavar="DIR",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where 'kpitools run' wrote the decks.",
)
@click.option(
    "--due",
    default="",
    metavar="TEXT",
    help="When comments are due, e.g. '12 July 2024': in the note and the workbook.",
)
@click.option(
    "--reminder", is_flag=True, help="Only to the Directors who still owe comments, as a reminder."
)
@click.option(
    "--smtp",
    "smtp",
    is_flag=True,
    help="Send through the configuration's mail.smtp_host (sign-in from "
    "KPITOOLS_SMTP_USER and KPITOOLS_SMTP_PASSWORD); without it, a dry run.",
)
@click.option(
    "--mail-dir",
    type=click.Path(file_okay=False, path_type=Path),
    metavar="DIR",
    help="Dry run: write the messages here (default <out>/<period>/mail).",
)
@_config_option
@_reports_errors
def send(
    data: str,
    period: str | None,
    services: tuple[str, ...],
    out_dir: Path,
    due: str,
    reminder: bool,
    smtp: bool,
    mail_dir: Path | None,
    config_path: str | None,
) -> None:
    """Give each Director their service's deck and commentary workbook with a covering note
    (or, with --reminder, remind those who owe comments): as .eml files, or by SMTP."""
    from kpitools.core.naming import quarter_folder
    from kpitools.workflow import send as mail

    if smtp and mail_dir is not None:
        raise click.UsageError("--mail-dir is for the dry run; --smtp sends")
    dataset = _load(data, config_path)
    label = resolve_period(dataset, period)
    found = mail.letters(
        dataset, label, chosen_services(dataset, services), out_dir, due=due, reminder=reminder
    )
    if not found:
        click.echo("Nobody to write to: every comment is in." if reminder else "No services.")
        return
    if smtp:
        settings = dataset.config.mail
        if not settings.smtp_host:
            raise click.UsageError("--smtp needs mail.smtp_host in the configuration")
        count = mail.send(found, settings.smtp_host, settings.smtp_port, settings.security)
        for letter in found:
            click.echo(f"Sent to {letter.to}: {letter.message['Subject']}")
        click.echo(f"{count} message(s) sent through {settings.smtp_host}.")
        return
    folder = mail_dir or out_dir / quarter_folder(label) / "mail"
    for path in mail.write_eml(found, folder):
        click.echo(str(path))
    click.echo(f"Dry run: {len(found)} message(s) written, none sent (--smtp sends them).")
