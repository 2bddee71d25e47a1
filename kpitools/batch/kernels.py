"""A batch worker's kernel, seen from the worker: started once, sent one notebook at a time.

The kernel is a process of its own (:mod:`kpitools.batch.kernel`) that runs each service's
notebook and builds its files. The worker keeps it warm between notebooks and watches it: a
cell running past its time limit gets the kernel killed and is named, a kernel that dies is
named with the cell it died in and the notebook as far as it got, and either way the next
notebook starts a new kernel.

On Linux a local run's kernels are forked from one process (:class:`Spawner`) that has
imported the libraries, and read and rated the council's data, once for them all: a kernel
starts as warm as one that has built two reports, and a replacement starts in milliseconds.
Elsewhere, or when that process is gone, a kernel is a new Python process.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import pickle
import queue
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from kpitools.batch.messages import receive, send

#: How long a new kernel may take to import what a notebook needs and say it is ready.
START_TIMEOUT = 120


class KernelError(Exception):
    """The kernel could not be started."""


class KernelFailure(Exception):
    """The kernel stopped in a notebook: ``cell`` (1-based, if known) is the cell it was
    running, ``notebook`` the notebook as far as it got (None before it started)."""

    def __init__(self, message: str, cell: int | None, notebook: Any):
        super().__init__(message)
        self.cell = cell
        self.notebook = notebook


class DeadKernelError(KernelFailure):
    """The kernel's process ended in the middle of a notebook."""


class CellTimeoutError(KernelFailure):
    """A cell ran past its time limit; the kernel was killed."""


class WarmKernel:
    """One kernel process, reused for many notebooks.

    Args:
        cwd: the folder the kernel starts in (each notebook runs in its own folder).
    """

    def __init__(self, cwd: str | Any | None = None):
        self.cwd = str(cwd) if cwd else None
        self.process: subprocess.Popen[bytes] | _Forked | None = None
        self._messages: queue.Queue[tuple[Any, ...] | None] = queue.Queue()
        self._started = False  # it said it is ready

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def launch(self) -> None:
        """Start the kernel's process and go on: :meth:`ready` waits for it."""
        self._messages = queue.Queue()
        self._started = False
        spawner = _SPAWNERS.get(self.cwd or "")
        process: subprocess.Popen[bytes] | _Forked | None = (
            spawner.fork(self.cwd or "") if spawner is not None else None
        )
        if process is None:
            code = "import kpitools.batch.kernel as kernel; kernel.main()"
            process = subprocess.Popen(
                [sys.executable, "-c", code, str(os.getpid())],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                cwd=self.cwd,
                start_new_session=True,  # Ctrl-C in a terminal is the batch's, not the kernel's
            )
        self.process = process
        reader = threading.Thread(target=_read, args=(process.stdout, self._messages), daemon=True)
        reader.start()

    def ready(self) -> WarmKernel:
        """This kernel, started (again) if it is not running, once it is ready."""
        if self.process is None or self.process.poll() is not None:
            self.shutdown()
            self.launch()
        if not self._started:
            try:
                message = self._messages.get(timeout=START_TIMEOUT)
            except queue.Empty:
                message = None
            if (message is None or message[0] != "ready") and isinstance(self.process, _Forked):
                # The spawner is stuck (reading data that does not come) or gone: this
                # folder's kernels start as processes of their own from now on. (Stopped
                # first: the kernels it has not forked yet go with it.)
                spawner = _SPAWNERS.pop(self.cwd or "", None)
                if spawner is not None:
                    spawner.stop()
                self.kill()
                return self.ready()
            if message is None or message[0] != "ready":
                self.kill()
                raise KernelError(
                    "the kernel did not start"
                    + ("" if message is not None else f" within {START_TIMEOUT} s")
                )
            if isinstance(self.process, _Forked):
                self.process.pid = int(message[1])
            self._started = True
        return self

    def render(self, request: tuple[Any, ...], timeout: int | None) -> Any:
        """Send one notebook's job and return the kernel's answer.

        Raises:
            CellTimeoutError: a cell ran more than ``timeout`` seconds (the kernel is killed).
            DeadKernelError: the kernel ended before it answered.
        """
        assert self.process is not None and self.process.stdin is not None
        notebook: Any = None
        cell: int | None = None
        deadline: float | None = None
        with contextlib.suppress(OSError):  # it has died: the reader says so
            send(self.process.stdin, ("render", *request))
        while True:
            wait = None if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                message = self._messages.get(timeout=wait)
            except queue.Empty:
                self.kill()
                raise CellTimeoutError("timed out", cell, _opened(notebook)) from None
            if message is None:
                self.kill()
                raise DeadKernelError("the kernel died", cell, _opened(notebook))
            kind = message[0]
            if kind == "result":
                return message[1]
            if kind == "notebook":
                notebook = message[1]
            elif kind == "cell":
                cell = message[1] + 1
                deadline = None if not timeout else time.monotonic() + timeout
            elif kind == "text" and notebook is not None:
                index, name, text = message[1:]
                if isinstance(notebook["cells"][index].get("outputs"), bytes):
                    _opened(notebook)  # (a cell's text comes before its outputs)
                outputs = notebook["cells"][index].setdefault("outputs", [])
                last = outputs[-1] if outputs else None
                if (
                    last is not None
                    and last.get("output_type") == "stream"
                    and last["name"] == name
                ):
                    last["text"] += text
                else:
                    outputs.append({"output_type": "stream", "name": name, "text": text})
            elif kind == "outputs":  # pickled: opened only if they are needed (_opened)
                index, outputs, count = message[1:]
                notebook["cells"][index]["outputs"] = outputs
                notebook["cells"][index]["execution_count"] = count
                deadline = None

    def replace(self) -> None:
        """Throw the kernel away (after a crash or a hang); the next notebook starts a new one."""
        self.shutdown()

    def kill(self) -> None:
        """End the kernel's process at once (and reap it)."""
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(OSError):
                self.process.kill()
        self.shutdown()

    def shutdown(self) -> None:
        """Stop the kernel: its input closed, it leaves; killed if it does not."""
        process, self.process = self.process, None
        self._started = False
        if process is None:
            return
        with contextlib.suppress(OSError):
            if process.stdin is not None:
                process.stdin.close()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=5)  # killed: it ends (a forked one is reaped elsewhere)
        if isinstance(process, _Forked):
            # Its output is closed by the thread reading it, at its end: a kernel the
            # spawner has not forked yet has no end to close (and closing a stream another
            # thread reads waits for that read).
            process.release()
        else:
            with contextlib.suppress(OSError):
                if process.stdout is not None:
                    process.stdout.close()


def _opened(notebook: Any) -> Any:
    """The notebook so far with each cell's outputs as they came from the kernel (pickled,
    they are opened here: only a notebook whose kernel died or hung needs them)."""
    for cell in notebook["cells"] if notebook is not None else ():
        if isinstance(cell.get("outputs"), bytes):
            cell["outputs"] = pickle.loads(cell["outputs"])
    return notebook


class _Forked:
    """A kernel forked by the :class:`Spawner`, with what the worker uses of a ``Popen``: its
    pipes, whether it runs, kill and wait. It is the spawner's child, not the batch's: the
    system reaps it, and its id comes with its first message (``ready``). It is watched
    through a process handle (Linux 5.3 and later), which no other process can take over
    once it has ended, not by its id alone."""

    def __init__(self, stdin: Any, stdout: Any):
        self.stdin, self.stdout = stdin, stdout
        self._pid: int | None = None
        self._handle: int | None = None

    @property
    def pid(self) -> int | None:
        return self._pid

    @pid.setter
    def pid(self, pid: int) -> None:
        self._pid = pid
        with contextlib.suppress(AttributeError, OSError):
            self._handle = os.pidfd_open(pid)

    def poll(self) -> int | None:
        """None while the kernel runs (or has not said who it is), else -1."""
        if self._pid is None:
            return None
        if self._handle is not None:
            ended, _, _ = select.select([self._handle], [], [], 0)
            return -1 if ended else None
        try:
            os.kill(self._pid, 0)
        except ProcessLookupError:
            return -1
        except OSError:
            return None
        return None

    def kill(self) -> None:
        if self._handle is not None:
            with contextlib.suppress(OSError):
                signal.pidfd_send_signal(self._handle, signal.SIGKILL)
        elif self._pid is not None:
            with contextlib.suppress(OSError):
                os.kill(self._pid, signal.SIGKILL)
        with contextlib.suppress(OSError):
            self.stdin.close()

    def wait(self, timeout: float | None = None) -> int:
        """Wait for the kernel to end, at most ``timeout`` seconds (the system reaps it)."""
        if self._pid is None:
            return 0
        if self._handle is not None:
            ended, _, _ = select.select([self._handle], [], [], timeout)
            if not ended:
                raise subprocess.TimeoutExpired("kernel", timeout or 0)
            return 0
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired("kernel", timeout or 0)
            time.sleep(0.01)
        return 0

    def release(self) -> None:
        """Close the process handle (the kernel has ended or been left)."""
        if self._handle is not None:
            with contextlib.suppress(OSError):
                os.close(self._handle)
            self._handle = None


class Spawner:
    """The process a folder's kernels are forked from (Linux; :func:`spawner_supported`).

    It imports what a notebook needs as it starts, reads and rates a council's data when
    asked (:meth:`prepare`), and forks a kernel for each :meth:`fork`, in the order asked: a
    fork asked after ``prepare`` starts with the data read. It ends with the batch (its
    socket closes, or the system kills it with its parent); the kernels it forked end with
    the batch too, not with it.
    """

    def __init__(self, cwd: str):
        self.cwd = cwd
        self._socket, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        code = "import kpitools.batch.kernel as kernel; kernel.spawner()"
        with theirs:
            self.process = subprocess.Popen(
                [sys.executable, "-c", code, str(os.getpid()), str(theirs.fileno())],
                pass_fds=[theirs.fileno()],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                cwd=cwd,
                start_new_session=True,  # Ctrl-C in a terminal is the batch's
            )
        self._lock = threading.Lock()

    def prepare(self, data_dir: str, config: str, period: str) -> None:
        """Have the council's data read and rated once, for every kernel forked after."""
        self._send(("prepare", data_dir, config, period))

    def fork(self, cwd: str) -> _Forked | None:
        """A new kernel (started in ``cwd``), its pipes; None if the spawner is gone."""
        from_batch, to_kernel = os.pipe()
        from_kernel, to_batch = os.pipe()
        try:
            if not self._send(("fork", cwd), [from_batch, to_batch]):
                os.close(to_kernel)
                os.close(from_kernel)
                return None
        finally:
            os.close(from_batch)
            os.close(to_batch)
        return _Forked(os.fdopen(to_kernel, "wb"), os.fdopen(from_kernel, "rb"))

    def _send(self, message: tuple[Any, ...], fds: list[int] | None = None) -> bool:
        if self.process.poll() is not None:
            return False
        try:
            with self._lock:
                socket.send_fds(self._socket, [pickle.dumps(message)], fds or [])
        except OSError:
            return False
        return True

    def stop(self) -> None:
        """End the spawner (kernels it forked go on until their worker is done with them)."""
        with contextlib.suppress(OSError):
            self._socket.close()
        with contextlib.suppress(OSError):
            self.process.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=5)


def spawner_supported() -> bool:
    """Kernels are forked on Linux (where ``fork`` is safe with the libraries imported and a
    socket can carry a pipe's ends); elsewhere each is a new process."""
    return sys.platform.startswith("linux") and hasattr(socket, "send_fds")


def _read(stream: Any, messages: queue.Queue[tuple[Any, ...] | None]) -> None:
    """The kernel's messages, in order, then None when it has gone (its output closed)."""
    try:
        while True:
            messages.put(receive(stream))
    except (EOFError, OSError, ValueError):
        messages.put(None)
    finally:
        with contextlib.suppress(OSError, ValueError):
            stream.close()


_AHEAD: list[WarmKernel] = []  # started before a run needed them, not yet taken
_SPAWNERS: dict[str, Spawner] = {}  # by the folder their kernels start in


def start_ahead(count: int, cwd: str | Path, prepare: tuple[str, str, str] | None = None) -> None:
    """Start ``count`` kernels now, for a run that will want them once its data is read and
    its plan made: they import their libraries meanwhile (on Linux, once, in the spawner they
    are forked from, which first reads and rates ``prepare``'s data folder, configuration
    file and period when given). Kernels a run does not take, and spawners, are killed when
    this process ends."""
    folder = str(cwd)
    if count > 0 and spawner_supported() and folder not in _SPAWNERS:
        _SPAWNERS[folder] = Spawner(folder)
        if prepare is not None:
            _SPAWNERS[folder].prepare(*prepare)
    for _ in range(count):
        kernel = WarmKernel(cwd=cwd)
        kernel.launch()
        _AHEAD.append(kernel)


def take(cwd: str | Path) -> WarmKernel:
    """A kernel started ahead in ``cwd`` if there is one, else a new one (started when
    first made ready)."""
    for kernel in _AHEAD:
        if kernel.cwd == str(cwd):
            _AHEAD.remove(kernel)
            return kernel
    return WarmKernel(cwd=cwd)


@atexit.register
def kill_ahead() -> None:
    """Kill the kernels started ahead that no run took, and the spawners (at the latest as
    this process ends)."""
    while _SPAWNERS:  # first: the kernels they have not forked yet go with them
        _SPAWNERS.popitem()[1].stop()
    while _AHEAD:
        _AHEAD.pop().kill()
