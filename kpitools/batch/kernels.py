"""A batch worker's kernel, seen from the worker: started once, sent one notebook at a time.

The kernel is a process of its own (:mod:`kpitools.batch.kernel`) that runs each service's
notebook and builds its files. The worker keeps it warm between notebooks and watches it: a
cell running past its time limit gets the kernel killed and is named, a kernel that dies is
named with the cell it died in and the notebook as far as it got, and either way the next
notebook starts a new kernel.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import queue
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
        self.process: subprocess.Popen[bytes] | None = None
        self._messages: queue.Queue[tuple[Any, ...] | None] = queue.Queue()
        self._started = False  # it said it is ready

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def launch(self) -> None:
        """Start the kernel's process and go on: :meth:`ready` waits for it."""
        self._messages = queue.Queue()
        self._started = False
        code = "import kpitools.batch.kernel as kernel; kernel.main()"
        self.process = subprocess.Popen(
            [sys.executable, "-c", code, str(os.getpid())],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            cwd=self.cwd,
            start_new_session=True,  # Ctrl-C in a terminal is the batch's, not the kernel's
        )
        reader = threading.Thread(
            target=_read, args=(self.process.stdout, self._messages), daemon=True
        )
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
            if message is None or message[0] != "ready":
                self.kill()
                raise KernelError(
                    "the kernel did not start"
                    + ("" if message is not None else f" within {START_TIMEOUT} s")
                )
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
                raise CellTimeoutError("timed out", cell, notebook) from None
            if message is None:
                self.kill()
                raise DeadKernelError("the kernel died", cell, notebook)
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
            elif kind == "outputs":
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
            process.wait()
        with contextlib.suppress(OSError):
            if process.stdout is not None:
                process.stdout.close()


def _read(stream: Any, messages: queue.Queue[tuple[Any, ...] | None]) -> None:
    """The kernel's messages, in order, then None when it has gone."""
    try:
        while True:
            messages.put(receive(stream))
    except (EOFError, OSError, ValueError):
        messages.put(None)


_AHEAD: list[WarmKernel] = []  # started before a run needed them, not yet taken


def start_ahead(count: int, cwd: str | Path) -> None:
    """Start ``count`` kernels now, for a run that will want them once its data is read and
    its plan made: they import their libraries meanwhile. Kernels a run does not take are
    killed when this process ends."""
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
    """Kill the kernels started ahead that no run took (at the latest as this process
    ends)."""
    while _AHEAD:
        _AHEAD.pop().kill()
