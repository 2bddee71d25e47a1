"""The kernel's shell: a notebook's cells run by IPython, outputs kept as a notebook keeps them
(as nbclient would have written them from a Jupyter kernel's messages)."""

import nbformat
import pytest

from kpitools.batch.jobs import ANSI
from kpitools.batch.shell import NotebookShell


@pytest.fixture
def shell():
    shell = NotebookShell.instance()
    shell.new_notebook()
    yield shell
    NotebookShell.clear_instance()


def test_a_cells_text_displays_and_value_are_its_outputs_in_order(shell):
    outputs, count, failed = shell.run(
        "import sys\n"
        "from IPython.display import display, HTML\n"
        "print('one')\n"
        "print('two')\n"
        "display(HTML('<b>bold</b>'))\n"
        "print('oops', file=sys.stderr)\n"
        "6 * 7"
    )
    assert (count, failed) == (1, False)
    assert outputs == [
        {"output_type": "stream", "name": "stdout", "text": "one\ntwo\n"},
        {"output_type": "display_data", "metadata": {},
         "data": {"text/html": "<b>bold</b>", "text/plain": "<IPython.core.display.HTML object>"}},
        {"output_type": "stream", "name": "stderr", "text": "oops\n"},
        {"output_type": "execute_result", "execution_count": 1, "metadata": {},
         "data": {"text/plain": "42"}},
    ]  # fmt: skip
    for output in outputs:  # as nbformat's schema has them
        nbformat.validate(nbformat.v4.new_notebook(cells=[
            nbformat.v4.new_code_cell("x", outputs=[output], execution_count=1)]))  # fmt: skip


def test_counts_go_on_from_cell_to_cell_and_a_semicolon_hides_the_value(shell):
    assert shell.run("x = 1")[:2] == ([], 1)
    assert shell.run("x + 1;")[:2] == ([], 2)
    outputs, count, _ = shell.run("x + 2")
    assert count == 3 and outputs[0]["execution_count"] == 3
    assert shell.run("_ + 1")[0][0]["data"] == {"text/plain": "4"}  # the last value, as in Jupyter


def test_an_error_is_an_error_output_and_fails_the_cell(shell):
    outputs, count, failed = shell.run("print('before')\n1 / 0")
    assert failed and count == 1
    assert outputs[0] == {"output_type": "stream", "name": "stdout", "text": "before\n"}
    error = outputs[1]
    assert (error["output_type"], error["ename"], error["evalue"]) == (
        "error", "ZeroDivisionError", "division by zero")  # fmt: skip
    assert "1 / 0" in ANSI.sub("", "".join(error["traceback"]))
    outputs, count, failed = shell.run("def broken(:\n    pass")  # fails before it runs
    assert failed and outputs[0]["ename"] == "SyntaxError" and count == 2
    assert shell.run("2")[1:] == (3, False)  # the next cell runs as usual


def test_exit_fails_its_cell_instead_of_ending_the_kernel(shell):
    for call in ("exit()", "quit()"):
        outputs, _, failed = shell.run(call)
        assert failed
        assert outputs[0]["ename"] == "RuntimeError"
        assert "a CPR notebook runs to its last cell" in outputs[0]["evalue"]
    assert shell.run("'still here'")[0][0]["data"] == {"text/plain": "'still here'"}


def test_clear_output_and_updated_displays_as_a_notebook_shows_them(shell):
    outputs, _, _ = shell.run(
        "from IPython.display import clear_output, display\n"
        "print('first')\n"
        "clear_output()\n"
        "print('second')\n"
        "clear_output(wait=True)\n"
        "handle = display('draft', display_id=True)\n"
    )
    assert [o.get("text") or o["data"]["text/plain"] for o in outputs] == ["'draft'"]
    shell.run("handle.update('final')")
    assert outputs[0]["data"] == {"text/plain": "'final'"}  # shown once, changed in place


def test_a_value_that_displays_itself_is_shown_once(shell):
    outputs, _, failed = shell.run(
        "class Shown:\n"
        "    def _ipython_display_(self):\n"
        "        from IPython.display import display\n"
        "        display({'text/plain': 'drawn'}, raw=True)\n"
        "Shown()"
    )
    assert not failed
    assert outputs == [{"output_type": "display_data", "data": {"text/plain": "drawn"},
                        "metadata": {}}]  # fmt: skip


def test_rich_data_is_kept_as_json_gives_it_back(shell):
    outputs, _, failed = shell.run(
        "import numpy as np\n"
        "from IPython.display import display\n"
        "display({'application/json': {'n': np.int64(3), 'x': np.float64(0.5)}}, raw=True)"
    )
    assert not failed
    assert outputs[0]["data"] == {"application/json": {"n": 3, "x": 0.5}}
    assert type(outputs[0]["data"]["application/json"]["n"]) is int


def test_a_shell_command_prints_into_the_cell(shell):
    outputs, _, failed = shell.run("!echo from a shell")
    assert not failed
    # Read from a terminal, as a Jupyter kernel reads it: lines end in CR LF.
    assert outputs == [{"output_type": "stream", "name": "stdout", "text": "from a shell\r\n"}]


def test_a_new_notebook_starts_with_nothing_of_the_last(shell):
    shell.run("left_over = 1")
    shell.run("left_over")
    shell.new_notebook()
    outputs, count, failed = shell.run("left_over")
    assert failed and count == 1 and outputs[0]["ename"] == "NameError"
    assert shell.run("_")[0][0]["ename"] == "NameError"  # no last value either


def test_text_written_outside_a_cell_is_not_a_cells(shell, capsys):
    outputs, _, _ = shell.run("print('in the cell')")
    print("after the cell")
    assert outputs == [{"output_type": "stream", "name": "stdout", "text": "in the cell\n"}]
    assert capsys.readouterr().out == "after the cell\n"


def test_a_displays_data_is_copied_as_json_gives_it_back():
    """The copy a display keeps of its data: what a JSON round trip gives (tuples as lists,
    keys as text, dates and numpy as a kernel sends them), a copy of its own either way."""
    import datetime
    import json
    import math
    import random

    import numpy as np
    from jupyter_client.jsonutil import json_default

    from kpitools.batch.shell import _plain

    def same(a, b):
        if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
            return True
        if type(a) is not type(b):
            return False
        if isinstance(a, dict):
            return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
        if isinstance(a, list):
            return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
        return a == b

    chance = random.Random(14)
    leaves = [1, -0.0, 1.5, math.nan, math.inf, True, False, None, "x ☃", "\ud800", 10**30,
              np.float64(2.5), np.int64(3), datetime.date(2024, 1, 2)]  # fmt: skip

    def made(depth: int = 0):
        pick = chance.random()
        if depth > 3 or pick < 0.4:
            return chance.choice(leaves)
        if pick < 0.6:
            return [made(depth + 1) for _ in range(chance.randint(0, 4))]
        if pick < 0.7:
            return tuple(made(depth + 1) for _ in range(2))
        if pick < 0.75:
            return {1: made(depth + 1), "a": made(depth + 1)}
        return {f"k{n}": made(depth + 1) for n in range(chance.randint(0, 4))}

    for _ in range(3000):
        value = made()
        expected = json.loads(json.dumps(value, default=json_default, ensure_ascii=False))
        assert same(_plain(value), expected), value
    figure = {"data": [{"x": ["2024-04", "2024-05"], "y": [1.0, 2.0]}], "layout": {}}
    kept = _plain(figure)
    figure["data"][0]["y"].append(3.0)  # the cell changes its figure afterwards
    assert kept == {"data": [{"x": ["2024-04", "2024-05"], "y": [1.0, 2.0]}], "layout": {}}
