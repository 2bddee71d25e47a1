"""Decks and workbooks to the Directors: .eml files by default, SMTP to a real server on
loopback (aiosmtpd), credentials from the environment only."""

from __future__ import annotations

import email
import shutil
import socket
from email import policy
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from kpitools.cli import cli
from kpitools.core.naming import slugify
from tests.conftest import COUNCIL_CONFIG, QUARTER

# The server on loopback takes a sign-in without TLS, as these tests mean it to (it warns
# each time a client connects, in its own thread).
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def config(tmp_path) -> Path:
    """The example configuration with addresses and a mail server on loopback."""
    settings = yaml.safe_load(COUNCIL_CONFIG.read_text(encoding="utf-8"))
    for name, service in settings["services"].items():
        service["director_email"] = f"{slugify(name)}@northfield.example"
    settings["mail"] = {"sender": "Performance Team <performance@northfield.example>",
                        "smtp_host": "127.0.0.1", "smtp_port": free_port(),
                        "security": "none"}  # fmt: skip
    if settings.get("logo"):
        shutil.copy(COUNCIL_CONFIG.parent / settings["logo"], tmp_path / settings["logo"])
    path = tmp_path / "council.yaml"
    path.write_text(yaml.safe_dump(settings), encoding="utf-8")
    return path


@pytest.fixture
def decks(tmp_path) -> Path:
    out = tmp_path / "out"
    for slug in ("finance", "childrens-services"):
        (out / "2024-25-q1" / slug).mkdir(parents=True)
        (out / "2024-25-q1" / slug / f"{slug}.pptx").write_bytes(b"deck " + slug.encode())
    return out


def send(*args: str):
    return CliRunner().invoke(cli, ["send", *args], catch_exceptions=False)


def test_the_dry_run_writes_one_message_per_director(folder, config, decks):
    result = send("--data", str(folder), "--period", QUARTER, "--service", "Finance", "--out",
                  str(decks), "--due", "12 July 2024", "--config", str(config))  # fmt: skip
    assert result.exit_code == 0, result.output
    path = decks / "2024-25-q1" / "mail" / "finance.eml"
    assert result.stdout.splitlines()[-1] == (
        "Dry run: 1 message(s) written, none sent (--smtp sends them)."
    )
    message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
    assert message["To"] == "Director of Finance <finance@northfield.example>"
    assert message["From"] == "Performance Team <performance@northfield.example>"
    assert message["Subject"] == "Finance: performance report for 2024/25 Q1"
    assert message["Date"] == "Sun, 30 Jun 2024 09:00:00 +0000"
    body = message.get_body(("plain",)).get_content()
    assert body.startswith("Dear Director of Finance,")
    assert "6 measures need attention" in body and "return it by 12 July 2024." in body
    names = [part.get_filename() for part in message.iter_attachments()]
    assert names == ["finance.pptx", "finance-2024-25-q1-comments.xlsx"]
    deck = next(message.iter_attachments()).get_content()
    assert deck == b"deck finance"
    first = path.read_bytes()
    again = send("--data", str(folder), "--period", QUARTER, "--service", "Finance", "--out",
                 str(decks), "--due", "12 July 2024", "--config", str(config))  # fmt: skip
    assert again.exit_code == 0
    assert path.read_bytes() == first  # the same inputs, the same message


def test_no_address_or_no_deck_is_exit_2(folder, config, decks, tmp_path):
    bare = send("--data", str(folder), "--period", QUARTER, "--service", "Finance", "--out",
                str(decks), "--config", str(COUNCIL_CONFIG))  # fmt: skip
    assert bare.exit_code == 2
    assert "needs mail.sender (the address messages come from); services.Finance" in bare.stderr
    missing = send("--data", str(folder), "--period", QUARTER, "--service", "Adult Social Care",
                   "--out", str(decks), "--config", str(config))  # fmt: skip
    assert missing.exit_code == 2 and "no deck of Adult Social Care" in missing.stderr


def test_a_password_in_the_configuration_is_refused(folder, config):
    settings = yaml.safe_load(config.read_text(encoding="utf-8"))
    settings["mail"]["password"] = "hunter2"
    config.write_text(yaml.safe_dump(settings), encoding="utf-8")
    result = send("--data", str(folder), "--period", QUARTER, "--config", str(config))
    assert result.exit_code == 2
    assert "mail credentials are never kept in the configuration" in result.stderr
    assert "hunter2" not in result.stderr


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


def authenticator(server, session, envelope, mechanism, auth_data):
    from aiosmtpd.smtp import AuthResult

    ok = auth_data.login == b"perf-team" and auth_data.password == b"s3cret"
    return AuthResult(success=ok, handled=False)  # not handled: the server answers 535


@pytest.fixture
def smtp_server(config):
    from aiosmtpd.controller import Controller

    port = yaml.safe_load(config.read_text(encoding="utf-8"))["mail"]["smtp_port"]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, authenticator=authenticator,
                            auth_required=True, auth_require_tls=False)  # fmt: skip
    controller.start()
    try:
        yield inbox
    finally:
        controller.stop()


def test_smtp_sends_with_the_environment_s_credentials(folder, config, decks, smtp_server,
                                                        monkeypatch):  # fmt: skip
    monkeypatch.setenv("KPITOOLS_SMTP_USER", "perf-team")
    monkeypatch.setenv("KPITOOLS_SMTP_PASSWORD", "s3cret")
    result = send("--data", str(folder), "--period", QUARTER, "--service", "Finance",
                  "--service", "Children's Services", "--out", str(decks), "--smtp",
                  "--config", str(config))  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == "2 message(s) sent through 127.0.0.1."
    recipients = [to for _, to, _ in smtp_server.messages]
    assert recipients == [["finance@northfield.example"], ["childrens-services@northfield.example"]]
    message = email.message_from_bytes(smtp_server.messages[0][2], policy=policy.default)
    assert message["Subject"] == "Finance: performance report for 2024/25 Q1"
    assert not (decks / "2024-25-q1" / "mail").exists()  # sent, not written


def test_a_wrong_password_is_exit_2_naming_the_variable(folder, config, decks, smtp_server,
                                                        monkeypatch):  # fmt: skip
    monkeypatch.setenv("KPITOOLS_SMTP_USER", "perf-team")
    monkeypatch.setenv("KPITOOLS_SMTP_PASSWORD", "wrong")
    result = send("--data", str(folder), "--period", QUARTER, "--service", "Finance", "--out",
                  str(decks), "--smtp", "--config", str(config))  # fmt: skip
    assert result.exit_code == 2
    assert "refused the sign-in of KPITOOLS_SMTP_USER (perf-team)" in result.stderr
    assert smtp_server.messages == []


def test_a_reminder_goes_only_to_those_who_owe(folder, config, decks):
    result = send("--data", str(folder), "--period", QUARTER, "--reminder", "--out", str(decks),
                  "--service", "Finance", "--service", "Waste & Environment", "--due",
                  "12 July 2024", "--config", str(config))  # fmt: skip
    assert result.exit_code == 0, result.output
    written = sorted(p.name for p in (decks / "2024-25-q1" / "mail").iterdir())
    assert written == ["finance.eml"]  # Waste & Environment owes nothing
    message = email.message_from_bytes((decks / "2024-25-q1" / "mail" / "finance.eml")
                                       .read_bytes(), policy=policy.default)  # fmt: skip
    assert message["Subject"] == "Reminder: Finance comments for 2024/25 Q1 by 12 July 2024"
    body = message.get_body(("plain",)).get_content()
    assert "- Forecast outturn as a share of budget (FIN_FN_01)" in body
