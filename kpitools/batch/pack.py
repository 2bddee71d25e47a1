"""Writing the period's board pack beside the services' reports.

After a run, ``board-pack.pptx`` and ``board-pack.html`` (and ``board-pack.pdf`` when
LibreOffice is installed) go in the period's folder, built from the same reports as the
services' own decks. A service without a report (failed, not run) is named on the cover as
not in the pack.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

from kpitools.batch.manifest import file_sha256
from kpitools.batch.plan import RunPlan
from kpitools.batch.scratch import SCRATCH_ENV
from kpitools.core.files import write_atomic
from kpitools.core.naming import PACK_NAME, slugify
from kpitools.core.workflow import sign_off

PDF_TIMEOUT = 600  # seconds LibreOffice may take to turn the pack into PDF


def pack_key(plan: RunPlan, built: Sequence[tuple[str, str, str]],
             left_out: Sequence[tuple[str, str]]) -> str:  # fmt: skip
    """What the pack is made from: each service's report (its cache key), who is left out, and
    every sign-off step of the period (the pack shows noting and publishing too)."""
    steps = plan.dataset.signoff
    mine = steps[steps["period"] == plan.quarter].drop(columns="row") if not steps.empty else steps
    parts = [repr(list(built)), repr(list(left_out)), mine.to_csv(index=False)]
    return hashlib.sha256("\x1e".join(parts).encode("utf-8")).hexdigest()


def write_pack(
    root: Path,
    plan: RunPlan,
    built: Sequence[tuple[str, str, str]],
    left_out: Sequence[tuple[str, str]] = (),
    *,
    pdf: bool = True,
) -> list[Path]:
    """Write the board pack of ``built`` services ((service, run id, cache key), in order)
    into ``root``, unless the pack there is already of the same reports; returns the pack's
    files. The PDF is made only when the deck changed. Without any report, no pack."""
    if not built:
        return []
    key = pack_key(plan, built, left_out)
    record = root / f"{PACK_NAME}.json"
    names = [f"{PACK_NAME}.pptx", f"{PACK_NAME}.html"] + ([f"{PACK_NAME}.pdf"] if pdf else [])
    try:
        before = json.loads(record.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        before = {}
    if (
        isinstance(before, dict)
        and before.get("key") == key
        and all((root / n).is_file() for n in names if n.endswith((".pptx", ".html")))
        and (not pdf or not _soffice() or (root / f"{PACK_NAME}.pdf").is_file())
    ):
        return [root / n for n in names if (root / n).is_file()]
    written = _write(root, plan, [(s, r) for s, r, _ in built], left_out, pdf)
    blob = {"key": key, "services": [s for s, _, _ in built],
            "left_out": [list(x) for x in left_out],
            "files": {p.name: file_sha256(p) for p in written}}  # fmt: skip
    write_atomic(record, (json.dumps(blob, indent=1, sort_keys=True) + "\n").encode("utf-8"))
    return written


def _soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def _write(
    root: Path,
    plan: RunPlan,
    built: Sequence[tuple[str, str]],
    left_out: Sequence[tuple[str, str]],
    pdf: bool,
) -> list[Path]:
    # The deck and page libraries load only when the pack is to be made again.
    from kpitools.report.content import build_cpr, content_digest
    from kpitools.report.pack import build_pack, pack_deck_bytes, pack_html

    dataset = plan.dataset
    reports = [
        build_cpr(
            dataset, service, plan.quarter, report_date=plan.report_date or None, run_id=run_id
        )
        for service, run_id in built
    ]
    if not reports:
        return []
    signoffs = {
        r.service: sign_off(dataset.signoff, r.service, plan.quarter, content_digest(r)).text
        for r in reports
    }
    pack = build_pack(dataset, plan.quarter, reports, signoffs, tuple(left_out))
    deck = root / f"{PACK_NAME}.pptx"
    blob = pack_deck_bytes(pack)
    changed = not deck.is_file() or deck.read_bytes() != blob
    write_atomic(deck, blob)
    links = {r.service: f"{slugify(r.service)}/{slugify(r.service)}.html" for r in reports}
    page = root / f"{PACK_NAME}.html"
    write_atomic(page, pack_html(pack, links).encode("utf-8"))
    written = [deck, page]
    pdf_path = root / f"{PACK_NAME}.pdf"
    soffice = _soffice()
    if pdf and soffice and (changed or not pdf_path.is_file()):
        made = to_pdf(soffice, deck, pack.report_date.strftime("%Y%m%d"))
        if made is not None:
            write_atomic(pdf_path, made)
            written.append(pdf_path)
    elif pdf_path.is_file():
        written.append(pdf_path)
    return written


def to_pdf(soffice: str, deck: Path, day: str) -> bytes | None:
    """The deck as PDF by LibreOffice (headless, its own profile), dated ``day``
    (YYYYMMDD) instead of the clock; None if LibreOffice fails.

    LibreOffice runs in a process group of its own (its launcher starts ``soffice.bin``),
    killed whole if the conversion is broken off - by its time limit or a signal - so none of
    it outlives the command; its profile lives in the batch's scratch folder when there is one.
    """
    scratch_root = os.environ.get(SCRATCH_ENV) or None
    with tempfile.TemporaryDirectory(prefix="kpitools-pdf-", dir=scratch_root,
                                     ignore_cleanup_errors=True) as scratch:  # fmt: skip
        folder = Path(scratch)
        try:
            process = subprocess.Popen(
                [soffice, f"-env:UserInstallation=file://{folder / 'profile'}", "--headless",
                 "--convert-to", "pdf", "--outdir", str(folder), str(deck)],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                start_new_session=True,
            )  # fmt: skip
        except OSError:
            return None
        code: int | None = None
        try:
            code = process.wait(timeout=PDF_TIMEOUT)
        except subprocess.TimeoutExpired:
            pass
        finally:  # finished, timed out or broken off by a signal: none of it is left running
            _kill_group(process)
            process.wait()
        out = folder / f"{deck.stem}.pdf"
        if code != 0 or not out.is_file():
            return None
        return reproducible_pdf(out.read_bytes(), day)


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    """Kill a process and, where the system has process groups, every process of its group."""
    with contextlib.suppress(OSError):
        if hasattr(os, "killpg"):
            os.killpg(process.pid, signal.SIGKILL)
        else:
            process.kill()


_PDF_DATE = re.compile(rb"D:\d{14}")
_PDF_ID = re.compile(rb"/ID\s*\[\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*\]")
_PDF_CHECKSUM = re.compile(rb"/DocChecksum\s*/([0-9A-Fa-f]+)")
_XMP_DATE = re.compile(rb"(<xmp:(?:CreateDate|ModifyDate|MetadataDate)>)[^<]*(</xmp:)")


def reproducible_pdf(blob: bytes, day: str) -> bytes:
    """A PDF with its dates set to ``day`` and its document id from its content: every
    replacement keeps its length, so the cross-reference offsets still hold."""
    stamp = f"D:{day}000000".encode()
    blob = _PDF_DATE.sub(stamp, blob)

    def iso(match: re.Match[bytes]) -> bytes:
        text = match.group(0)
        inner = text[len(match.group(1)) : len(text) - len(match.group(2))]
        fixed = f"{day[:4]}-{day[4:6]}-{day[6:]}T00:00:00".encode()
        fixed = (fixed + inner[len(fixed) :])[: len(inner)] if len(inner) >= len(fixed) else inner
        return match.group(1) + fixed + match.group(2)

    blob = _XMP_DATE.sub(iso, blob)
    unmarked = _PDF_CHECKSUM.sub(b"", _PDF_ID.sub(b"", blob))
    digest = hashlib.sha256(unmarked).hexdigest().upper().encode()
    blob = _PDF_CHECKSUM.sub(
        lambda m: m.group(0)[: -len(m.group(1))] + digest[: len(m.group(1))], blob
    )

    def ident(match: re.Match[bytes]) -> bytes:
        a, b = match.group(1), match.group(2)
        text = match.group(0)
        return text.replace(a, digest[: len(a)], 1).replace(b, digest[-len(b) :], 1)

    return _PDF_ID.sub(ident, blob)
