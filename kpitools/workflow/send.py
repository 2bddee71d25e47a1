"""Decks and commentary workbooks to the Directors, and reminders to those who owe comments.

Each Director gets one message: a short covering note with the deadline, their service's deck
(as the run built it) and a fresh commentary workbook. By default nothing is sent: the messages
are written as ``.eml`` files (open one in any mail program to check it). With ``smtp`` the
messages go to the server the configuration names (``mail.smtp_host``), signed in with the user
and password from the environment (``KPITOOLS_SMTP_USER``, ``KPITOOLS_SMTP_PASSWORD``), never
from the configuration file.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import smtplib
import ssl
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from pathlib import Path

from kpitools.batch.outcomes import report_files
from kpitools.core.dataset import Dataset
from kpitools.core.errors import KpiToolsError
from kpitools.core.files import write_atomic
from kpitools.core.naming import quarter_folder, slugify
from kpitools.report.content import Cpr, build_cpr
from kpitools.workflow.commentary import Owed, form_of, owed, workbook_name

USER_VARIABLE = "KPITOOLS_SMTP_USER"
PASSWORD_VARIABLE = "KPITOOLS_SMTP_PASSWORD"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"


@dataclass(frozen=True)
class Letter:
    """One message to one Director."""

    service: str
    to: str
    message: EmailMessage


def letters(
    dataset: Dataset,
    period: str,
    services: Sequence[str],
    out: Path,
    *,
    due: str = "",
    reminder: bool = False,
) -> list[Letter]:
    """The messages for ``services`` (for a reminder: only those who owe comments).

    Raises:
        KpiToolsError: the configuration names no sender or no Director's address for a
            service, or a service's deck has not been built.
    """
    config = dataset.config
    sender = config.mail.sender
    problems = []
    if not sender:
        problems.append("mail.sender (the address messages come from)")
    owing = {o.service: o for o in owed(dataset, period, services)} if reminder else {}
    chosen = [s for s in services if not reminder or s in owing]
    for service in chosen:
        if not config.service(service).director_email:
            problems.append(f"services.{service}.director_email")
    if problems:
        where = f" ({config.source.name})" if config.source else ""
        raise KpiToolsError("the configuration" + where + " needs " + "; ".join(problems))
    root = out / quarter_folder(period)
    found = []
    for service in chosen:
        report = build_cpr(dataset, service, period)
        slug = slugify(service)
        deck = root / next(name for name in report_files(slug) if name.endswith(".pptx"))
        if not deck.is_file():
            raise KpiToolsError(
                f"no deck of {service} for {period} in {root}: build it with 'kpitools run "
                f'--period "{period}" --out {out}\' first'
            )
        director = config.service(service)
        message = EmailMessage()
        message["From"] = sender
        message["To"] = formataddr((director.director, director.director_email))
        if config.mail.reply_to:
            message["Reply-To"] = config.mail.reply_to
        deadline = f" by {due}" if due else ""
        if reminder:
            message["Subject"] = f"Reminder: {service} comments for {report.period_words}{deadline}"
        else:
            message["Subject"] = f"{service}: performance report for {report.period_words}"
        # Dated by the report, not the clock: the same inputs give the same messages.
        message["Date"] = format_datetime(
            dt.datetime.combine(report.report_date, dt.time(9, 0), tzinfo=dt.UTC)
        )
        message.set_content(_note(report, due, owing.get(service), reminder))
        message.add_attachment(
            deck.read_bytes(),
            maintype="application",
            subtype=PPTX.split("/")[1],
            filename=deck.name,
        )
        with tempfile.TemporaryDirectory(prefix="kpitools-mail-") as scratch:
            from kpitools.contract.commentary import write_form

            book = Path(scratch) / workbook_name(service, report.quarter)
            write_form(form_of(dataset, report, due), book)
            message.add_attachment(
                book.read_bytes(),
                maintype="application",
                subtype=XLSX.split("/")[1],
                filename=book.name,
            )
        # A boundary and id from the content, not random: the same inputs, the same bytes.
        parts = b"".join(part.as_bytes() for part in message.iter_parts())
        message.set_boundary(f"kpitools-{hashlib.sha256(parts).hexdigest()[:32]}")
        digest = hashlib.sha256(message.as_bytes()).hexdigest()[:24]
        message["Message-ID"] = f"<{digest}.{slug}@kpitools>"
        found.append(Letter(service, director.director_email, message))
    return found


def _note(report: Cpr, due: str, owes: Owed | None, reminder: bool) -> str:
    name = report.director or "Director"
    deadline = f" by {due}" if due else ""
    lines = [f"Dear {name},", ""]
    if reminder and owes is not None:
        missing = [f"- {title} ({measure_id})" for measure_id, title in owes.exceptions]
        lines.append(
            f"We still need your comments on the {report.service} performance report "
            f"for {report.period_words}{deadline}:"
        )
        lines += ["", *missing] if missing else []
        if owes.summary:
            lines.append("- your summary of the quarter")
    else:
        n = len(report.exceptions)
        lines.append(
            f"Attached are the {report.service} performance report for "
            f"{report.period_words} and a workbook for your comments."
        )
        lines.append("")
        lines.append(
            f"{n} measure{'s' if n != 1 else ''} need{'s' if n == 1 else ''} "
            "attention. Please answer the committees' questions for each in the "
            f"workbook and return it{deadline}."
        )
    lines += [
        "",
        "The workbook's first sheet says how to fill it in. Cells to fill are yellow; the "
        "figures are locked.",
        "",
        "Performance team",
        report.council,
    ]
    return "\n".join(lines) + "\n"


def write_eml(found: Sequence[Letter], folder: Path) -> list[Path]:
    """Write each message as ``<service>.eml`` in ``folder`` (the dry run)."""
    paths = []
    for letter in found:
        path = folder / f"{slugify(letter.service)}.eml"
        write_atomic(path, letter.message.as_bytes())
        paths.append(path)
    return paths


def send(found: Sequence[Letter], host: str, port: int, security: str) -> int:
    """Send the messages over SMTP; returns how many were sent.

    Raises:
        KpiToolsError: the server cannot be reached, refuses the sign-in or a recipient.
    """
    user = os.environ.get(USER_VARIABLE, "")
    password = os.environ.get(PASSWORD_VARIABLE, "")
    try:
        connection: smtplib.SMTP
        if security == "ssl":
            connection = smtplib.SMTP_SSL(
                host, port, timeout=30, context=ssl.create_default_context()
            )
        else:
            connection = smtplib.SMTP(host, port, timeout=30)
        with connection:
            if security == "starttls":
                connection.starttls(context=ssl.create_default_context())
            if user:
                connection.login(user, password)
            for letter in found:
                connection.send_message(letter.message)
    except smtplib.SMTPAuthenticationError:
        raise KpiToolsError(
            f"the mail server {host} refused the sign-in of {USER_VARIABLE} ({user or 'not set'})"
        ) from None
    except (smtplib.SMTPException, OSError) as err:
        raise KpiToolsError(f"mail server {host}:{port}: {err}") from None
    return len(found)
