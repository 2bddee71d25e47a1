"""The batch's kernel: a process of its own that runs whole notebooks, one after another.

A batch worker starts one (:class:`kpitools.batch.kernels.WarmKernel`) and sends it each
service's job. The kernel runs the notebook through papermill's steps, its cells in IPython
(:class:`~kpitools.batch.shell.NotebookShell`, papermill's engine
:data:`~kpitools.batch.shell.ENGINE`), then
builds the HTML report and the published notebook, and sends back the files. Starting a
process and importing pandas, plotly and python-pptx costs more than building a deck, so the
kernel stays up; its namespace is reset before every notebook, so a notebook sees what a
fresh kernel would.

It tells the worker each cell as it starts and each cell's outputs as it ends (displays by
their plain text): a cell that runs past its time limit is named and the kernel killed, and
a cell that ends the process (``os._exit``, a crash in a library) is named, with the
notebook as far as it got. The kernel
talks over its standard input and output, which a cell never sees: its own text, and any a
library writes to the process's file descriptors, goes nowhere.

The reset clears the notebook's variables, not the state of imported modules: an analyst cell
that changes library settings (``pd.set_option``, plotly defaults) should set them back.
"""

from __future__ import annotations

import gc
import itertools
import json
import os
import pickle
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from typing import Any

from kpitools.batch.messages import receive, send

#: Imported before the first notebook: what every CPR notebook needs.
_WARM_UP = ("kpitools", "kpitools.report.charts", "kpitools.report.fragments", "plotly.io",
            "kpitools.report.export", "kpitools.batch.jobs", "kpitools.batch.shell",
            "papermill.engines", "papermill.execute", "papermill.parameterize")  # fmt: skip
#: The collector's thresholds in a kernel: a notebook allocates in bursts (a deck, a page),
#: and Python's default (a young collection every 700 objects) walks them again and again.
_COLLECT_EVERY = (10_000, 10, 10)


class _Printed:
    """A cell's printed text on its way to the worker, as a Jupyter kernel sends it: text
    printed within :data:`PAUSE` seconds of the last sending is sent together, by a thread
    of its own if the cell prints no more (so a cell that then hangs has it sent)."""

    PAUSE = 0.05

    def __init__(self, sending: Callable[[int, str, str], None], lock: threading.Lock):
        self._sending = sending
        self._lock = lock  # every message the kernel sends goes under it, one at a time
        self._waiting: list[tuple[int, str, str]] = []
        self._sent = 0.0
        self._due = threading.Event()
        threading.Thread(target=self._send_late, daemon=True).start()

    def write(self, cell: int, name: str, text: str) -> None:
        with self._lock:
            self._waiting.append((cell, name, text))
            if time.monotonic() - self._sent >= self.PAUSE:
                self._send_waiting()
            else:
                self._due.set()

    def forget(self) -> None:
        """A cell has ended: its outputs carry whatever still waits (call under the lock)."""
        self._waiting.clear()

    def _send_waiting(self) -> None:
        for cell, name, text in _joined(self._waiting):
            self._sending(cell, name, text)
        self._waiting.clear()
        self._sent = time.monotonic()

    def _send_late(self) -> None:
        while True:
            self._due.wait()
            time.sleep(self.PAUSE)
            with self._lock:
                self._due.clear()
                if self._waiting:
                    self._send_waiting()


def _joined(pieces: list[tuple[int, str, str]]) -> list[tuple[int, str, str]]:
    """Consecutive pieces of one cell's stream as one."""
    joined: list[tuple[int, str, str]] = []
    for cell, name, text in pieces:
        if joined and joined[-1][:2] == (cell, name):
            joined[-1] = (cell, name, joined[-1][2] + text)
        else:
            joined.append((cell, name, text))
    return joined


def _so_far(output: dict[str, Any]) -> dict[str, Any]:
    """An output as the worker keeps it in case the kernel stops in a later cell: as plain
    dicts (read without nbformat), printed text and errors whole, a display by its plain
    text only (a chart's caption, a table's text): what a notebook that broke off needs to
    be read, without sending every chart twice."""
    if output.get("output_type") in ("display_data", "execute_result"):
        data = output.get("data", {})
        kept = {"text/plain": data["text/plain"]} if "text/plain" in data else {}
        return {**output, "data": kept, "metadata": {}}
    return {k: dict(v) if isinstance(v, dict) else v for k, v in output.items()}


def _widen(fd: int) -> None:
    """A pipe that holds a notebook's largest messages (a cell of charts, a report's files):
    the kernel goes on while the batch reads them, rather than waiting on every 64 kB. Linux
    only (``F_SETPIPE_SZ``); elsewhere, and beyond what the system allows, pipes stay as
    they are."""
    try:
        import fcntl

        fcntl.fcntl(fd, getattr(fcntl, "F_SETPIPE_SZ", 1031), 1 << 20)
    except (ImportError, OSError):
        pass


def main() -> None:
    """The kernel process: answer the worker (its parent) until it says stop or is gone."""
    parent = int(sys.argv[1]) if len(sys.argv) > 1 else os.getppid()
    _watch_parent(parent)
    # The worker's messages come on stdin and go back on stdout; the process's own file
    # descriptors 0-2 then point nowhere, so nothing a cell or a library writes reaches them.
    incoming = os.fdopen(os.dup(0), "rb")
    outgoing = os.fdopen(os.dup(1), "wb")
    nowhere = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(nowhere, fd)
    gc.disable()  # until the libraries are settled (_serve)
    _warm_up()
    _serve(incoming, outgoing)


def spawner() -> None:
    """The process kernels are forked from (Linux): it imports what a notebook needs once,
    and reads a council's data and rates it once when asked (``prepare``), then forks a
    kernel for each ``fork`` the batch sends, with the two pipe ends that come with it. Every
    kernel so starts warm, as a kernel does after its first notebooks; a kernel that died or
    hung is replaced by a fork too. It leaves when the batch closes its socket or dies."""
    import pickle
    import socket

    from kpitools.batch.scratch import die_with

    parent, channel = int(sys.argv[1]), int(sys.argv[2])
    _watch_parent(parent)
    batch = socket.socket(fileno=channel)
    gc.disable()  # until what is made ready is settled: imports and rating are all keepers
    _warm_up()
    # Forked kernels are reaped by the system: this process never waits for them.
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    while True:
        try:  # the pipe ends come close-on-exec: a program a cell starts holds none of them
            data, fds, _, _ = socket.recv_fds(batch, 1 << 16, 2, socket.MSG_CMSG_CLOEXEC)
        except OSError:
            break
        if not data:
            break  # the batch has gone
        message = pickle.loads(data)
        if not gc.isenabled() and message[0] != "prepare":
            _settle(walk=False)  # made ready: settled once, with the council's data if asked
        if message[0] == "prepare":
            gc.disable()
            _prepare(*message[1:])
            _settle()  # what the deck left (the rest is frozen already: a short walk)
        elif message[0] == "fork" and len(fds) == 2 and _forked():
            try:  # the new kernel: it never returns to this loop
                batch.close()
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                # The kernel ends with the batch, not with this process: a spawner killed
                # from outside costs no service its kernel.
                die_with(parent)
                os.chdir(message[1])
                _serve(os.fdopen(fds[0], "rb"), os.fdopen(fds[1], "wb"))
            finally:
                os._exit(1)
        for fd in fds:
            os.close(fd)
    os._exit(0)


def _forked() -> bool:
    """Fork: True in the new process. A fork the system refuses (no memory, too many
    processes) leaves the spawner as it is: that kernel does not start, and the worker
    starts one of its own."""
    try:
        return os.fork() == 0
    except OSError:
        return False


def _watch_parent(parent: int) -> None:
    from kpitools.batch.scratch import die_with_parent

    # (Linux only; Windows has no SIGKILL, and there the kernel leaves when its pipe closes.)
    die_with_parent(getattr(signal, "SIGKILL", signal.SIGTERM))
    if os.getppid() != parent:
        os._exit(1)  # the batch died before the request was made
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the batch's to handle


def _warm_up() -> None:
    """What a Jupyter kernel gives a cell (matplotlib draws inline, plotly figures show as
    plotly's own output: the HTML report draws them with its one copy of plotly.js), and the
    libraries every CPR notebook imports."""
    import importlib

    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    os.environ.setdefault("PLOTLY_RENDERER", "plotly_mimetype")
    for name in _WARM_UP:
        importlib.import_module(name)
    import nbformat

    from kpitools.report.export import export_html

    # The page's templates, compiled now rather than in the first notebook's time.
    shown = {"output_type": "display_data", "data": {"text/html": "<p></p>"}, "metadata": {}}
    cell: dict[str, Any] = {"cell_type": "code", "id": "warm-up", "source": "", "metadata": {},
            "execution_count": None, "outputs": [shown]}  # fmt: skip
    convert: Any = nbformat.from_dict
    page = {"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    export_html(convert(page), title="", footer="")
    # The notebook schema's checker, compiled now: papermill checks the notebook it reads.
    read: Any = nbformat.reads
    read(json.dumps(page), as_version=4)


def _prepare(data_dir: str, config: str, period: str) -> None:
    """Read a council's data and work out what every report of ``period`` starts from (the
    whole council's ratings), as a kernel does over its first two notebooks: the notebook's
    own ``kpitools.load`` then finds it, for as long as the files and configuration are the
    same. Data the batch will refuse is the batch's to report: nothing is kept of it here."""
    import kpitools
    from kpitools.batch.plan import resolve_quarter
    from kpitools.report.deck import deck_bytes

    try:
        dataset = kpitools.load(data_dir, config=kpitools.load_config(config or None))
        dataset.expect_every_report()  # kept with the parsed data the kernels' loads find
        report = kpitools.build_cpr(dataset, dataset.services[0], resolve_quarter(dataset, period))
        # What is kept is made: it stays without a walk of it all (_settle). The deck made
        # next leaves its builder kept, emptied, for the kernels' first decks (the template
        # opened and its text measures ready); the deck itself goes, by the collector.
        gc.freeze()
        gc.enable()
        deck_bytes(report)  # the deck's template and text measures
    except Exception:  # a cache only: the kernels do it again if need be
        pass


def _settle(walk: bool = True) -> None:
    """What is in memory now stays: the collector no longer walks it (each notebook then
    costs a walk of its own objects only) and a forked kernel leaves its pages shared. The
    collector, held off while libraries were imported or data rated (what they make is
    kept: collecting as they go walks it again and again), runs again from here.

    Without ``walk`` (the spawner, before any kernel can start) what is in memory is kept
    without a last collection: the few cycles the imports leave (some thousands of objects,
    no memory to speak of) are not worth the tenth of a second a walk of everything takes."""
    if walk:
        gc.collect()
    gc.freeze()
    gc.enable()


def _serve(incoming: Any, outgoing: Any) -> None:
    """Run the worker's jobs, one notebook at a time, until it closes the pipe."""
    from kpitools.batch.jobs import build_reports
    from kpitools.batch.shell import NotebookShell

    _widen(outgoing.fileno())
    shell = NotebookShell.instance()
    running = [0]  # the cell being run
    lock = threading.Lock()  # one message at a time: printed text goes from a thread too

    def tell(*parts: Any) -> None:
        with lock:
            send(outgoing, parts)

    # Printed text goes to the worker as it is printed, so it is kept if the kernel then dies
    # or hangs in that cell; a burst of it (a loop that prints) goes a piece at a time.
    printed = _Printed(lambda cell, name, text: send(outgoing, ("text", cell, name, text)), lock)
    shell.on_text = lambda name, text: printed.write(running[0], name, text)

    def started(index: int) -> None:
        running[0] = index
        tell("cell", index)

    def ended(index: int, cell: Any) -> None:
        # Pickled on their own: the worker keeps them as they come and opens them only if
        # the kernel then dies or hangs (a notebook that runs to its end never needs them).
        outputs = pickle.dumps([_so_far(o) for o in cell.outputs], pickle.HIGHEST_PROTOCOL)
        with lock:
            printed.forget()
            send(outgoing, ("outputs", index, outputs, cell.execution_count))

    _settle()
    gc.set_threshold(*_COLLECT_EVERY)
    tell("ready", os.getpid())
    for done in itertools.count():
        try:
            message = receive(incoming)
        except EOFError:
            break
        if message[0] != "render":
            break
        if done in (1, 2):
            # The data and what was worked out from it (read by the first notebooks) join
            # what stays. Once only: what is frozen is never walked again, so a cycle the
            # first notebooks left is kept (one notebook's worth, at most); never unfrozen,
            # which in a forked kernel would copy the spawner's memory it shares.
            _settle()
        # A cell's temporary files go beside the job's own scratch folder: in the batch's
        # scratch folder, removed with it (a kernel started ahead of the batch's folder).
        tempfile.tempdir = os.path.dirname(message[-1])
        result = build_reports(
            *message[1:],
            shell=shell,
            on_cell=started,
            on_outputs=ended,
            on_notebook=lambda nb: tell("notebook", json.loads(json.dumps(nb))),
        )
        tell("result", result)
    os._exit(0)
