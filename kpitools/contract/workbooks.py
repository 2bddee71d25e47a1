"""Opening the Excel workbooks councils send: one place that tells a damaged, encrypted or
old-format file from a workbook, and which sheets a person can see.

Every reader of a workbook (a contract file, a whole data folder in one workbook, the
importer's sheets, a returned commentary workbook) opens it here, so each says the same
sentence about the same broken file and none ends in a traceback.
"""

from __future__ import annotations

import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from openpyxl import Workbook

#: The first bytes of an OLE compound file: an Excel 97-2003 workbook, or an encrypted one.
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
#: The stream an encrypted (password-protected) Office file keeps its workbook in.
_ENCRYPTED = "EncryptedPackage".encode("utf-16-le")

#: What a damaged workbook raises while it is opened or read: a broken zip or deflate
#: stream, XML that does not parse (lxml's and the standard library's errors are both
#: SyntaxError), a part that is missing or of the wrong shape.
DAMAGED = (
    zipfile.BadZipFile, zlib.error, EOFError, KeyError, IndexError, ValueError, TypeError,
    AttributeError, SyntaxError, OSError,
)  # fmt: skip


class WorkbookUnreadable(Exception):
    """A file that cannot be read as a workbook; the message says why and what to do."""


def why_unreadable(path: Path, err: BaseException | None = None) -> str:
    """Why a file is not a workbook kpitools reads, in a sentence for the person sending it."""
    try:
        with path.open("rb") as file:
            head = file.read(8)
            blob = head + file.read(4 * 1024 * 1024) if head == _OLE else head
    except OSError as failure:
        return f"cannot be read: {failure.strerror}"
    if head == _OLE:
        if _ENCRYPTED in blob:
            return (
                "is protected by a password (encrypted), so it cannot be read: save a copy "
                "without the password (in Excel: File > Info > Protect Workbook)"
            )
        return (
            "is an Excel 97-2003 workbook (.xls), not an .xlsx: open it in Excel and save it "
            "as 'Excel Workbook (.xlsx)'"
        )
    detail = f" ({type(err).__name__}: {err})" if err is not None and str(err) else ""
    return f"is not a readable Excel workbook: it is damaged or not an .xlsx file{detail}"


@contextmanager
def opened(path: Path, *, read_only: bool = True, data_only: bool = True) -> Iterator[Workbook]:
    """A workbook open for reading, closed afterwards. A failure while it is opened, or while
    its sheets are read inside the block (a read-only workbook reads them lazily), becomes a
    :class:`WorkbookUnreadable` saying why.

    Raises:
        WorkbookUnreadable: damaged, encrypted, old-format or not a workbook at all.
    """
    import openpyxl

    try:
        file = path.open("rb")  # ours to close, however far openpyxl gets
    except OSError as err:
        raise WorkbookUnreadable(f"cannot be read: {err.strerror}") from None
    with file:
        try:
            workbook = openpyxl.load_workbook(file, read_only=read_only, data_only=data_only)
        except DAMAGED as err:
            raise WorkbookUnreadable(why_unreadable(path, err)) from None
        try:
            yield workbook
        except DAMAGED as err:
            raise WorkbookUnreadable(why_unreadable(path, err)) from None
        finally:
            workbook.close()


def is_hidden(workbook: Workbook, name: str) -> bool:
    """Whether a sheet is hidden (or "very hidden") in Excel: nobody sees what it holds."""
    return getattr(workbook[name], "sheet_state", "visible") != "visible"


def visible_sheets(workbook: Workbook) -> list[str]:
    """The names of the sheets a person can see, in the workbook's order."""
    return [name for name in workbook.sheetnames if not is_hidden(workbook, name)]


def hidden_sheet(label: str) -> str:
    """The sentence for a sheet kpitools will not read because it is hidden."""
    return (
        f"sheet {label} is hidden in Excel, so kpitools does not read it (what nobody sees is "
        "not published): unhide it (right-click a sheet tab > Unhide), or delete it"
    )
