"""One run per output folder at a time.

Two runs writing one ``--out`` would leave reports of one run under the other's manifest.
Every command that writes there holds a lock on ``<out>/.kpitools.lock`` while it works: an
advisory lock of the operating system (``flock`` on Linux and macOS, ``msvcrt`` on
Windows), so it is released however the holder ends - even killed, nothing stale is left to
clear by hand. A second run either stops with a message naming the first, or (``--wait``)
says it is waiting and starts when the first has finished.
"""

from __future__ import annotations

import errno
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from kpitools.core.errors import KpiToolsError

LOCK_NAME = ".kpitools.lock"

#: Errors saying the folder cannot be written at all: no run can change it, so there is
#: nothing to keep apart (a run that then needs to write says so itself).
_READ_ONLY = (errno.EACCES, errno.EPERM, errno.EROFS)


class Busy(KpiToolsError):
    """Another run holds the output folder."""


@contextmanager
def output_lock(
    out: Path, *, wait: bool = False, waiting: Callable[[str], None] | None = None
) -> Iterator[None]:
    """Hold ``out`` for this run: nobody else's run writes there until the block ends.

    Args:
        out: the output folder (made if absent).
        wait: wait for another run to finish instead of stopping.
        waiting: told, once, that this run is waiting (and for whom).

    Raises:
        Busy: another run holds the folder and ``wait`` is False.
        KpiToolsError: ``out`` is a file, or cannot be made.
    """
    descriptor = _open(out)
    if descriptor is None:
        yield
        return
    try:
        if not _try_lock(descriptor):
            holder = _holder(descriptor)
            if not wait:
                raise Busy(
                    f"another kpitools run ({holder}) is writing to {out}: wait for it to "
                    "finish, or give --wait to start when it has"
                )
            if waiting is not None:
                waiting(f"waiting for another kpitools run ({holder}) to finish with {out}")
            _lock(descriptor)
        os.ftruncate(descriptor, 0)
        os.lseek(descriptor, 0, os.SEEK_SET)
        os.write(descriptor, f"process {os.getpid()}\n".encode())
        yield
    finally:
        os.close(descriptor)  # the lock goes with the descriptor


def _open(out: Path) -> int | None:
    """The lock file's descriptor; None for a folder nobody can write."""
    if out.exists() and not out.is_dir():
        raise KpiToolsError(f"--out {out} is a file, not a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
        return os.open(out / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
    except (FileExistsError, NotADirectoryError):
        raise KpiToolsError(f"--out {out}: a file stands where a folder of it should be") from None
    except OSError as err:
        if err.errno in _READ_ONLY and out.is_dir():
            return None
        raise KpiToolsError(f"--out {out} cannot be written: {err.strerror}") from None


def _holder(descriptor: int) -> str:
    """Who holds the lock, as it wrote itself into the file."""
    try:
        os.lseek(descriptor, 0, os.SEEK_SET)
        text = os.read(descriptor, 200).decode("ascii", "replace").strip()
    except OSError:
        text = ""
    return text or "process unknown"


if sys.platform == "win32":  # pragma: no cover - the tests run on Linux
    import msvcrt

    def _try_lock(descriptor: int) -> bool:
        try:
            msvcrt.locking(descriptor, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _lock(descriptor: int) -> None:
        while not _try_lock(descriptor):
            import time

            time.sleep(0.5)

else:
    import fcntl

    def _try_lock(descriptor: int) -> bool:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _lock(descriptor: int) -> None:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
