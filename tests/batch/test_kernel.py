"""The batch's kernel process, from its worker's side: warm between notebooks, and a cell that
ends it or runs too long named, with the notebook as far as it got."""

import json
import os
import re
import signal
import tempfile
import time
from pathlib import Path

import nbformat
import pytest

from kpitools.batch.jobs import ServiceJob
from kpitools.batch.kernels import CellTimeoutError, DeadKernelError, WarmKernel
from tests.conftest import COUNCIL_CONFIG, EXAMPLE, QUARTER, ROOT

pytestmark = pytest.mark.slow  # kernel processes


def notebook(tmp_path: Path, *sources: str) -> Path:
    cells = [nbformat.v4.new_code_cell("service = ''", metadata={"tags": ["parameters"]})]
    cells += [nbformat.v4.new_code_cell(source) for source in sources]
    for number, cell in enumerate(cells):
        cell["id"] = f"cell-{number}"
    path = tmp_path / "test.ipynb"
    kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nbformat.v4.new_notebook(cells=cells, metadata={"kernelspec": kernelspec}),
                   path)  # fmt: skip
    return path


def request(tmp_path: Path, path: Path) -> tuple:
    job = ServiceJob(service="Finance", slug="finance", quarter=QUARTER, report_date="",
                     run_id="r1", data_dir=str(EXAMPLE), config=str(COUNCIL_CONFIG),
                     notebook=str(path))  # fmt: skip
    scratch = tempfile.mkdtemp(dir=tmp_path)  # each job's own, as the worker makes it
    return (job, job.data_dir, job.config, job.notebook, scratch)


@pytest.fixture(params=["process", "forked"])
def kernel(request, tmp_path, monkeypatch):
    """A kernel of its own process, and one forked from a spawner (Linux): each test holds
    for both."""
    from kpitools.batch import kernels

    monkeypatch.setattr(kernels, "_SPAWNERS", {})
    if request.param == "forked":
        if not kernels.spawner_supported():
            pytest.skip("kernels are forked on Linux only")
        kernels._SPAWNERS[str(tmp_path)] = kernels.Spawner(str(tmp_path))
    warm = WarmKernel(cwd=tmp_path)
    if request.param == "forked":  # not a process of its own, as it would be without one
        assert parent_of(warm.ready().pid) == kernels._SPAWNERS[str(tmp_path)].process.pid
    yield warm
    warm.shutdown()
    for spawner in kernels._SPAWNERS.values():
        spawner.stop()


def parent_of(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def published_output(result) -> list[str]:
    """What the last cell of a test notebook printed, as published."""
    cells = json.loads(result.files["finance.ipynb"])["cells"]
    return [line for o in cells[-1]["outputs"] for line in o.get("text", [])]


def test_a_kernel_stays_warm_and_each_notebook_starts_afresh(kernel, tmp_path):
    path = notebook(tmp_path, "import os\nprint(os.getpid())", "left = service", "1 / 0")
    first, fresh = kernel.ready().render(request(tmp_path, path), 60)
    pid = kernel.pid
    assert not fresh and first.error == "cell In [5]: ZeroDivisionError: division by zero"
    # The failed notebook comes back for debugging, as papermill marks it.
    published = json.loads(first.files["finance.ipynb"])
    [failing] = [c for c in published["cells"] if "".join(c["source"]) == "1 / 0"]
    assert failing["execution_count"] == 5  # the number the error names it by
    assert "An Exception was encountered" in "".join(published["cells"][0]["source"])
    [printed] = [c for c in published["cells"] if "print(os.getpid())" in "".join(c["source"])]
    assert printed["outputs"][0]["text"] == [f"{pid}\n"]
    path = notebook(tmp_path, "print(service, 'left' in dir())")
    second, _ = kernel.ready().render(request(tmp_path, path), 60)
    assert kernel.pid == pid  # the same process
    published = json.loads(second.files["finance.ipynb"])
    assert published["cells"][2]["outputs"][0]["text"] == ["Finance False\n"]
    assert published["cells"][2]["execution_count"] == 3  # counted from 1 again


def test_a_cell_that_ends_the_kernel_is_named_with_the_notebook_so_far(kernel, tmp_path):
    path = notebook(tmp_path, "print('before')\nfrom IPython.display import HTML\nHTML('<b>x</b>')",
                    "import os\nos._exit(3)", "print('never')")  # fmt: skip
    with pytest.raises(DeadKernelError) as caught:
        kernel.ready().render(request(tmp_path, path), 60)
    assert caught.value.cell == 4  # 1-based, after papermill's injected parameters
    cells = caught.value.notebook["cells"]
    assert cells[2]["outputs"] == [  # what was printed; a display by its plain text
        {"output_type": "stream", "name": "stdout", "text": "before\n"},
        {"output_type": "execute_result", "execution_count": 3, "metadata": {},
         "data": {"text/plain": "<IPython.core.display.HTML object>"}},
    ]  # fmt: skip
    assert cells[4]["outputs"] == []


def test_a_cell_past_its_time_limit_kills_the_kernel_and_is_named(kernel, tmp_path):
    path = notebook(tmp_path, "x = 1", "import time\nprint('waiting', flush=True)\ntime.sleep(600)")
    kernel.ready()
    pid = kernel.pid
    started = time.monotonic()
    with pytest.raises(CellTimeoutError) as caught:
        kernel.render(request(tmp_path, path), 2)
    assert 2 <= time.monotonic() - started < 10
    assert caught.value.cell == 4
    cells = caught.value.notebook["cells"]
    assert cells[2]["execution_count"] == 3
    # What the cell printed before it hung is kept (sent as it was printed).
    assert cells[3]["outputs"] == [{"output_type": "stream", "name": "stdout", "text": "waiting\n"}]
    deadline = time.monotonic() + 10
    while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
        kernel.shutdown()  # reaps it
        time.sleep(0.1)
    assert not Path(f"/proc/{pid}").exists()


@pytest.mark.parametrize("how", ["process", "forked"])
def test_a_kernel_leaves_when_its_worker_is_gone(tmp_path, how):
    """A worker killed outright (no chance to stop its kernel) while a cell runs: the kernel
    ends too (it does not wait for the cell to end and read that its pipe has closed), and
    the spawner a forked kernel came from."""
    import subprocess
    import sys

    from kpitools.batch.kernels import spawner_supported

    if how == "forked" and not spawner_supported():
        pytest.skip("kernels are forked on Linux only")
    path = notebook(tmp_path, "import time\ntime.sleep(600)")
    start = f"start_ahead(1, {str(tmp_path)!r})\n" if how == "forked" else ""
    code = (
        "import sys, time\n"
        "from kpitools.batch.kernels import _SPAWNERS, start_ahead, take\n"
        "from kpitools.batch.messages import send\n"
        "from tests.batch.test_kernel import request\n"
        f"{start}k = take({str(tmp_path)!r}); k.ready()\n"
        "spawner = next(iter(_SPAWNERS.values())).process.pid if _SPAWNERS else 0\n"
        "print(k.pid, spawner, flush=True)\n"
        f"send(k.process.stdin, ('render', *request({str(tmp_path)!r}, {str(path)!r})))\n"
        "while k._messages.get()[:2] != ('cell', 2): pass  # the third cell (it sleeps)\n"
        "print('running', flush=True)\n"
        "time.sleep(600)\n"
    )
    with subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, cwd=ROOT
    ) as worker:
        kernel_pid, spawner_pid = map(int, worker.stdout.readline().split())
        assert worker.stdout.readline() == "running\n"  # the sleeping cell has started
        if how == "forked":
            assert parent_of(kernel_pid) == spawner_pid
        else:
            assert parent_of(kernel_pid) == worker.pid and spawner_pid == 0
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
        deadline = time.monotonic() + 10
        while (_running(kernel_pid) or _running(spawner_pid)) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _running(kernel_pid) and not _running(spawner_pid)


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_kernels_started_ahead_are_taken_by_the_run_or_killed(tmp_path, monkeypatch):
    from kpitools.batch import kernels

    monkeypatch.setattr(kernels, "_AHEAD", [])
    monkeypatch.setattr(kernels, "_SPAWNERS", {})
    kernels.start_ahead(2, tmp_path)
    try:
        first = kernels.take(tmp_path)
        assert first.process is not None  # launched already, importing while it is planned
        elsewhere = kernels.take(tmp_path / "other")
        assert elsewhere.pid is None  # none was started there: a new one, started when ready
        assert first.ready() is first and first.process.poll() is None
        [left] = kernels._AHEAD
        spawners = list(kernels._SPAWNERS.values())
        kernels.kill_ahead()  # at exit: what the run did not take, and the spawner
        assert kernels._AHEAD == [] and left.process is None and kernels._SPAWNERS == {}
        assert all(s.process.poll() is not None for s in spawners)
        assert first.process.poll() is None  # a kernel taken goes on without its spawner
        first.shutdown()
    finally:
        kernels.kill_ahead()


def test_printed_text_goes_at_once_or_together_within_a_pause():
    import threading

    from kpitools.batch.kernel import _Printed

    sent: list[tuple[int, str, str]] = []
    lock = threading.Lock()
    printed = _Printed(lambda *piece: sent.append(piece), lock)
    printed.write(3, "stdout", "first\n")  # nothing sent lately: at once
    assert sent == [(3, "stdout", "first\n")]
    for n in range(1000):  # a loop that prints: one piece, not a thousand
        printed.write(3, "stdout", f"{n}\n")
    printed.write(3, "stderr", "oops\n")
    time.sleep(printed.PAUSE * 4)  # the cell prints no more: the thread sends what waits
    assert sent[1:] == [(3, "stdout", "".join(f"{n}\n" for n in range(1000))),
                        (3, "stderr", "oops\n")]  # fmt: skip
    printed.write(4, "stdout", "late\n")  # a while since the last: at once
    printed.write(4, "stdout", "later\n")  # waits...
    with lock:
        printed.forget()  # ...but the cell ended: its outputs carry it
    time.sleep(printed.PAUSE * 4)
    assert sent[3:] == [(4, "stdout", "late\n")]


def test_kernels_forked_from_a_spawner_start_with_the_data_read_once(tmp_path, monkeypatch):
    """The spawner reads and rates the council's data before it forks: a forked kernel's
    notebook finds it (its ``kpitools.load`` reads nothing again). A spawner killed from
    outside costs no kernel, and the next kernel is a process of its own."""
    from kpitools.batch import kernels

    if not kernels.spawner_supported():
        pytest.skip("kernels are forked on Linux only")
    monkeypatch.setattr(kernels, "_AHEAD", [])
    monkeypatch.setattr(kernels, "_SPAWNERS", {})
    kernels.start_ahead(2, tmp_path, (str(EXAMPLE), str(COUNCIL_CONFIG), QUARTER))
    spawner = kernels._SPAWNERS[str(tmp_path)]
    one, two = kernels.take(tmp_path), kernels.take(tmp_path)
    try:
        assert one.ready().pid != two.ready().pid
        assert parent_of(one.pid) == parent_of(two.pid) == spawner.process.pid
        path = notebook(tmp_path, "from kpitools.contract.loading import _PARSED\n"
                        "[parsed] = _PARSED.values()\n"
                        "print(len(_PARSED), parsed.config.council,"
                        " any(k[0] == 'rate' for k in parsed._memo))")  # fmt: skip
        result, _ = one.render(request(tmp_path, path), 60)
        assert published_output(result) == ["1 Northfield Borough Council True\n"]
        spawner.process.kill()
        spawner.process.wait(timeout=10)
        result, _ = two.render(request(tmp_path, path), 60)
        assert published_output(result) == ["1 Northfield Borough Council True\n"]
        two.replace()
        assert parent_of(two.ready().pid) == os.getpid()  # not forked: the spawner is gone
        result, _ = two.render(request(tmp_path, path), 60)
        assert re.match(r"cell In \[\d+\]: ValueError: not enough values to unpack",
                        result.error)  # fmt: skip
    finally:
        one.shutdown()
        two.shutdown()
        kernels.kill_ahead()


def test_a_spawner_that_does_not_answer_gives_way_to_kernels_of_their_own(tmp_path, monkeypatch):
    """Reading the inputs hangs in the spawner (a configuration file that never comes, here
    a pipe nothing writes to): its kernel does not start in time, and the folder's kernels
    start as processes of their own."""
    from kpitools.batch import kernels

    if not kernels.spawner_supported():
        pytest.skip("kernels are forked on Linux only")
    monkeypatch.setattr(kernels, "_AHEAD", [])
    monkeypatch.setattr(kernels, "_SPAWNERS", {})
    monkeypatch.setattr(kernels, "START_TIMEOUT", 5)
    stuck = tmp_path / "council.yaml"
    os.mkfifo(stuck)  # nothing ever writes to it
    kernels.start_ahead(1, tmp_path, (str(EXAMPLE), str(stuck), QUARTER))
    [spawner] = kernels._SPAWNERS.values()
    kernel = kernels.take(tmp_path)
    try:
        started = time.monotonic()
        assert parent_of(kernel.ready().pid) == os.getpid()
        assert 5 <= time.monotonic() - started < 5 + kernels.START_TIMEOUT
        assert kernels._SPAWNERS == {} and spawner.process.poll() is not None
    finally:
        kernel.shutdown()
        kernels.kill_ahead()
