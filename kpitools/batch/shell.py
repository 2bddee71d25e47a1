"""Notebook cells run by IPython in this process, their outputs kept as a notebook keeps them.

The batch's kernel (:mod:`kpitools.batch.kernel`) runs every cell of a notebook here, through
IPython's own shell - the one a Jupyter kernel wraps - so a cell behaves as it does in
JupyterLab: magics, ``display()``, the value of a cell's last line, ``print``, tracebacks,
``exit()``. Only the Jupyter messaging is left out: a kernel would turn each output into a
message for a client that turns it back into the output saved in the notebook, which costs
more than most of the CPR notebook's cells. Here each output is written straight into the
cell as nbformat writes it: ``stream``, ``display_data``, ``execute_result`` and ``error``.
"""

from __future__ import annotations

import builtins
import io
import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from IPython.core.displayhook import DisplayHook
from IPython.core.displaypub import DisplayPublisher
from IPython.core.interactiveshell import InteractiveShell
from jupyter_client.jsonutil import json_default
from nbformat.notebooknode import NotebookNode as _NotebookNode
from papermill.engines import Engine, papermill_engines
from traitlets import Type

Output = dict[str, Any]
NotebookNode: Any = _NotebookNode  # nbformat's dict with attribute access (untyped)
#: The papermill engine that runs a notebook in a :class:`NotebookShell`.
ENGINE = "kpitools"

#: What the notebook records of the language it ran in (as ipykernel reports it).
LANGUAGE_INFO = {
    "codemirror_mode": {"name": "ipython", "version": 3},
    "file_extension": ".py",
    "mimetype": "text/x-python",
    "name": "python",
    "nbconvert_exporter": "python",
    "pygments_lexer": "ipython3",
    "version": sys.version.split()[0],
}


def _output(output_type: str, **fields: Any) -> Output:
    """An output as nbformat holds it (its data and metadata plain dicts inside)."""
    for name in ("data", "metadata"):
        if name in fields:
            fields[name] = NotebookNode(fields[name])
    node: Output = NotebookNode(output_type=output_type, **fields)
    return node


def _plain(value: Any) -> Any:
    """``value`` as JSON gives it back (numbers, dates and bytes as a kernel sends them): a
    copy of its own, so what a cell changes afterwards is not shown. Data that is JSON's
    own types already (a chart's figure) is copied as it is, the same result at a fraction
    of the cost of writing and reading it."""
    copied = _copied(value)
    if copied is not _NOT_PLAIN:
        return copied
    return json.loads(json.dumps(value, default=json_default, ensure_ascii=False))


_NOT_PLAIN = object()
_JSON_SCALARS = frozenset({str, int, float, bool, type(None)})


def _copied(value: Any) -> Any:
    """A copy of data made of JSON's own types (dicts with text keys, lists, text, numbers,
    true, false, null), or :data:`_NOT_PLAIN` for anything else (tuples, numpy, dates...)."""
    kind = type(value)
    if kind in _JSON_SCALARS:
        return value  # immutable: the copy is the value
    if kind is list:
        if set(map(type, value)) <= _JSON_SCALARS:
            return list(value)
        items = []
        for item in value:
            copied = _copied(item)
            if copied is _NOT_PLAIN:
                return _NOT_PLAIN
            items.append(copied)
        return items
    if kind is dict:
        entries = {}
        for key, item in value.items():
            copied = _copied(item) if type(key) is str else _NOT_PLAIN
            if copied is _NOT_PLAIN:
                return _NOT_PLAIN
            entries[key] = copied
        return entries
    return _NOT_PLAIN


def _plain_data(data: dict[str, Any]) -> dict[str, Any]:
    """A display's data by MIME type, as JSON gives it back."""
    return {str(k): _plain(v) for k, v in data.items()}


class _Cell:
    """The outputs of the cell being run, with nbclient's rules for clearing and updating.

    Printed text is kept as pieces and joined once a stream's output is done (another
    output follows, or the cell ends): a loop that prints does not copy all it printed
    so far at every line.
    """

    def __init__(self) -> None:
        self.outputs: list[Output] = []
        self.clear_waiting = False
        self.displays: dict[str, list[Output]] = {}  # display id -> its outputs, every cell
        #: Told each piece of printed text as it is written (stream name, text).
        self.on_text: Callable[[str, str], None] | None = None
        self._stream: Output | None = None  # the stream output being written
        self._pieces: list[str] = []

    def start(self) -> list[Output]:
        self.outputs = []
        self.clear_waiting = False
        self._stream, self._pieces = None, []
        return self.outputs

    def finish(self) -> list[Output]:
        """The cell's outputs, its printed text joined."""
        self._join()
        return self.outputs

    def _join(self) -> None:
        if self._stream is not None and len(self._pieces) > 1:
            self._stream["text"] = "".join(self._pieces)
        self._stream, self._pieces = None, []

    def add(self, output: Output) -> None:
        self._join()
        if self.clear_waiting:
            self.outputs.clear()
            self.clear_waiting = False
        self.outputs.append(output)

    def write(self, name: str, text: str) -> None:
        if not self.clear_waiting and self._stream is not None and self._stream["name"] == name:
            self._pieces.append(text)
            return
        self.add(_output("stream", name=name, text=text))
        self._stream, self._pieces = self.outputs[-1], [text]

    def clear(self, wait: bool) -> None:
        self._join()
        if wait:
            self.clear_waiting = True
        else:
            self.outputs.clear()
            self.clear_waiting = False


class _Stream(io.TextIOBase):
    """``sys.stdout`` or ``sys.stderr`` while a cell runs: text goes to the cell's outputs."""

    def __init__(self, cell: _Cell, name: str):
        self._cell = cell
        self.name = name

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return "utf-8"

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return False

    def write(self, text: str) -> int:
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        if text:
            self._cell.write(self.name, text)
            if self._cell.on_text is not None:
                self._cell.on_text(self.name, text)
        return len(text)


class _DisplayPublisher(DisplayPublisher):
    """``display()`` and rich outputs: a ``display_data`` output of the running cell."""

    cell: _Cell

    def publish(
        self,
        data: dict[str, Any],
        metadata: dict[str, Any] | None = None,
        source: Any = None,
        *,
        transient: dict[str, Any] | None = None,
        update: bool = False,
        **kwargs: Any,
    ) -> None:
        display_id = str((transient or {}).get("display_id", ""))
        data, metadata = _plain_data(data), _plain(metadata or {})
        if update:  # a display handle's update: every output shown with its id changes
            for output in self.cell.displays.get(display_id, []):
                output["data"], output["metadata"] = NotebookNode(data), NotebookNode(metadata)
            return
        output = _output("display_data", data=data, metadata=metadata)
        if display_id:
            self.cell.displays.setdefault(display_id, []).append(output)
        self.cell.add(output)

    def clear_output(self, wait: bool = False) -> None:
        self.cell.clear(wait)


class _DisplayHook(DisplayHook):
    """The value of a cell's last line: an ``execute_result`` output."""

    def start_displayhook(self) -> None:
        self._output: Output = _output("execute_result", data={}, metadata={})

    def write_output_prompt(self) -> None:
        self._output["execution_count"] = self.prompt_count

    def write_format_data(self, format_dict: dict[str, Any], md_dict: Any = None) -> None:
        self._output["data"] = NotebookNode(_plain_data(format_dict))
        self._output["metadata"] = NotebookNode(_plain(md_dict or {}))

    def finish_displayhook(self) -> None:
        # A value that displayed itself (``_ipython_display_``, a plotly figure) has no data
        # of its own to show: no output, as a kernel sends none.
        if self._output["data"]:
            self.shell.display_pub.cell.add(self._output)  # type: ignore[union-attr]

    def flush(self) -> None:
        """Forget the cached results (``_1``, ``_oh``), as IPython's own ``flush`` does but
        without its full garbage collection: with a council's data in memory that takes
        longer than a notebook's cells, and Python's collector frees the last notebook's
        cycles in its own time."""
        shell: Any = self.shell
        for n in range(1, self.prompt_count + 1):
            shell.user_ns_hidden.pop(f"_{n}", None)
            shell.user_ns.pop(f"_{n}", None)
        cache = shell.user_ns.get("_oh")
        if cache is not None:
            cache.clear()
        self._, self.__, self.___ = "", "", ""
        if "_" not in builtins.__dict__:
            shell.user_ns.update({"_": self._, "__": self.__, "___": self.___})


class NotebookShell(InteractiveShell):
    """IPython's shell, running a notebook's cells and keeping their outputs.

    History is kept in memory only (a batch leaves no history database behind), and
    ``exit()``/``quit()`` fail their cell: a report's notebook runs to its last cell.
    """

    displayhook_class = Type(_DisplayHook)
    display_pub_class = Type(_DisplayPublisher)

    def __init__(self, **kwargs: Any):
        from traitlets.config import Config

        config = Config()
        config.HistoryManager.hist_file = ":memory:"
        super().__init__(config=config, **kwargs)
        self._cell = _Cell()
        self.display_pub.cell = self._cell  # type: ignore[attr-defined]
        self.failed = False
        # `!command` in a cell: its output read from a pipe and printed (as in a kernel),
        # not written straight to this process's own stdout.
        self.system = self.system_piped  # type: ignore[method-assign]

    def init_environment(self) -> None:
        """As ipykernel: subprocesses of a cell see no pager."""
        os.environ["PAGER"] = "cat"
        os.environ["GIT_PAGER"] = "cat"

    def ask_exit(self) -> None:
        raise RuntimeError(
            "exit() and quit() would stop the kernel in the middle of the report: a CPR "
            "notebook runs to its last cell"
        )

    def _showtraceback(self, etype: Any, evalue: Any, stb: Any) -> None:
        self.failed = True
        self._cell.add(
            _output("error", ename=str(etype.__name__), evalue=str(evalue), traceback=list(stb))
        )

    def run(self, source: str) -> tuple[list[Output], int | None, bool]:
        """Run one cell's source: its outputs, execution count and whether it raised."""
        outputs = self._cell.start()
        self.failed = False
        with self._streams():
            result = self.run_cell(source, store_history=True, silent=False)
        self._cell.finish()
        failed = self.failed or not result.success
        count = self.execution_count - 1 if source.strip() else None
        return outputs, count, failed

    @contextmanager
    def _streams(self) -> Iterator[None]:
        saved = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = _Stream(self._cell, "stdout"), _Stream(self._cell, "stderr")
        try:
            yield
        finally:
            sys.stdout, sys.stderr = saved

    @property
    def on_text(self) -> Callable[[str, str], None] | None:
        """Told each piece of text a cell prints as it prints it (stream name, text)."""
        return self._cell.on_text

    @on_text.setter
    def on_text(self, hook: Callable[[str, str], None] | None) -> None:
        self._cell.on_text = hook

    def new_notebook(self) -> None:
        """Forget the last notebook: its variables, its outputs and its execution count."""
        self.reset(new_session=True)
        self._cell.displays.clear()


class ShellEngine(Engine):
    """papermill's engine for a notebook run in this process's
    :class:`~kpitools.batch.shell.NotebookShell` (passed as ``shell=``).

    Cells run in order, as papermill's nbclient engine runs them: each marked started and
    completed in papermill's record, the run stopped at the first cell that raises (unless
    tagged ``raises-exception``), empty cells and markdown left as they are. ``on_cell`` is
    told each code cell's index as it starts and ``on_outputs`` its index and the cell as it
    ends.
    """

    @classmethod
    def execute_managed_notebook(
        cls,
        nb_man: Any,
        kernel_name: str,
        shell: Any = None,
        on_cell: Any = None,
        on_outputs: Any = None,
        **kwargs: Any,
    ) -> Any:
        shell.new_notebook()
        for index, cell in enumerate(nb_man.nb.cells):
            try:
                nb_man.cell_start(cell, index)
                if cell.cell_type != "code" or not cell.source.strip():
                    continue
                if on_cell is not None:
                    on_cell(index)
                outputs, count, failed = shell.run(cell.source)
                cell.outputs = outputs
                cell.execution_count = count
                if on_outputs is not None:
                    on_outputs(index, cell)
                if failed and "raises-exception" not in cell.metadata.get("tags", []):
                    nb_man.cell_exception(cell, cell_index=index)
                    break
            finally:
                nb_man.cell_complete(cell, cell_index=index)
        nb_man.nb.metadata["language_info"] = dict(LANGUAGE_INFO)
        return nb_man.nb


papermill_engines.register(ENGINE, ShellEngine)
