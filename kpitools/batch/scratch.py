"""What a batch keeps while it runs, and nothing after: one scratch folder per run, workers
that end with the batch.

Every temporary file of a local batch - each job's scratch folder and whatever a kernel
writes to its temporary folder - lives in one folder, ``<tmp>/kpitools-run-<pid>-*``,
removed when the batch ends however it ends. A batch killed outright (SIGKILL, a power
cut) cannot remove it: the next batch removes every such folder whose process is gone.

Kernels ask the operating system to stop them when the process that started them dies
(Linux's ``PR_SET_PDEATHSIG``); a kernel forked from the spawner watches the batch itself
(:func:`die_with`); and every kernel leaves by itself when the batch's end of its pipe
closes. So no kernel outlives its batch.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PREFIX = "kpitools-run-"
#: Names the batch's scratch folder while it runs (its jobs' folders go there).
SCRATCH_ENV = "KPITOOLS_SCRATCH"


@contextmanager
def batch_scratch() -> Iterator[Path]:
    """A scratch folder for this batch and its workers, removed afterwards (earlier killed
    batches' folders are removed first)."""
    sweep()
    root = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-"))
    saved = os.environ.get(SCRATCH_ENV)
    os.environ[SCRATCH_ENV] = str(root)
    try:
        yield root
    finally:
        if saved is None:
            os.environ.pop(SCRATCH_ENV, None)
        else:
            os.environ[SCRATCH_ENV] = saved
        shutil.rmtree(root, ignore_errors=True)


def sweep(folder: Path | None = None) -> list[Path]:
    """Remove the scratch folders of batches whose process is gone; the ones removed."""
    folder = Path(folder or tempfile.gettempdir())
    removed: list[Path] = []
    try:
        entries = list(folder.iterdir())
    except OSError:
        return removed
    for path in entries:
        pid = _pid_of(path.name)
        if pid is None or path.is_symlink() or not path.is_dir() or _alive(pid):
            continue
        try:
            if path.stat().st_uid != os.getuid():
                continue  # another user's batch: theirs to remove
        except OSError:
            continue
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    return removed


def _pid_of(name: str) -> int | None:
    if not name.startswith(PREFIX):
        return None
    number = name[len(PREFIX) :].split("-", 1)[0]
    return int(number) if number.isdigit() else None


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def scratch_folder() -> str | None:
    """The batch's scratch folder, if this process runs in a batch (its temporary files go
    there); None elsewhere."""
    scratch = os.environ.get(SCRATCH_ENV)
    return scratch if scratch and Path(scratch).is_dir() else None


def die_with_parent(signum: int) -> None:
    """Ask Linux to send ``signum`` to this process when its parent dies (elsewhere a kernel
    notices when its end of the pipe from the batch closes)."""
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signum, 0, 0, 0)  # PR_SET_PDEATHSIG


def die_with(pid: int) -> None:
    """End this process as soon as process ``pid`` (not its parent) has ended: a thread waits
    on it (a process handle on Linux 5.3 and later, else a look every half second)."""
    import select
    import threading
    import time

    try:
        handle: int | None = os.pidfd_open(pid)
    except (AttributeError, OSError):
        handle = None

    def watch() -> None:
        if handle is not None:
            select.select([handle], [], [])
        else:
            while True:
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    break  # it has gone
                except PermissionError:
                    pass  # it runs (as another user: the id has been taken again)
                time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, daemon=True).start()
