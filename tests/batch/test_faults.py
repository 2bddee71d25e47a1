"""The fault catalogue as tests: a batch killed, a cell that calls exit(), what a run needs
checked before anything is written, a disk that cannot take more, records on disk that are
not what the batch left."""

import json
import resource
import signal
import subprocess
import time
from pathlib import Path

import nbformat
import pytest

from kpitools.batch.scratch import PREFIX
from tests.batch.test_batch_end_to_end import (
    ENV,
    QUARTER,
    command,
    leftovers,
    manifest,
    run,
    statuses,
    wait_until,
    with_analyst_cell,
)
from tests.conftest import COUNCIL_CONFIG, require

pytestmark = pytest.mark.slow  # real notebooks and kernels, in subprocesses


def descendants(pid: int) -> set[int]:
    """Every process below ``pid`` (workers, their kernels), read from /proc."""
    found: set[int] = set()
    todo = [pid]
    while todo:
        parent = todo.pop()
        try:
            tasks = list(Path(f"/proc/{parent}/task").iterdir())
        except OSError:
            continue
        for task in tasks:
            try:
                children = {int(c) for c in (task / "children").read_text().split()}
            except OSError:
                continue
            todo.extend(children - found)
            found |= children
    return found


def cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""  # gone


def kernels(pid: int) -> list[int]:
    """The batch's kernels, among its descendants (not the spawner they are forked from, on
    Linux: the kernel process with kernels of its own)."""
    running = [child for child in descendants(pid) if b"kpitools.batch.kernel" in cmdline(child)]
    return [child for child in running if not descendants(child)]


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has ended; only its parent's wait is missing


def scratch_folders(tmp: Path) -> list[Path]:
    return sorted(p for p in tmp.iterdir() if p.name.startswith(PREFIX))


def test_a_killed_batch_leaves_no_process_and_the_next_run_sweeps_its_scratch(tmp_path):
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = {**ENV, "TMPDIR": str(tmp)}
    out = tmp_path / "out"
    batch = subprocess.Popen(command("--out", str(out), "--jobs", "2"), env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                             stdin=subprocess.DEVNULL)  # fmt: skip
    # Two workers, each a kernel, and the batch under way (its scratch folder made).
    wait_until(lambda: len(kernels(batch.pid)) == 2 and len(scratch_folders(tmp)) == 1, batch)
    below = descendants(batch.pid)
    batch.kill()
    batch.communicate(timeout=30)
    deadline = time.monotonic() + 20
    while any(alive(p) for p in below) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert [p for p in below if alive(p)] == []
    # What it had finished is complete; the rest is built by the next run, which removes
    # the killed batch's scratch folder and leaves none of its own.
    again = subprocess.run(command("--out", str(out), "--jobs", "2", "--service", "Finance"),
                           env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL,
                           timeout=600)  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert scratch_folders(tmp) == []
    assert leftovers(out) == []


def test_a_sigterm_stops_workers_and_kernels_with_the_batch(tmp_path):
    out = tmp_path / "out"
    batch = subprocess.Popen(command("--out", str(out), "--jobs", "2"), env=ENV,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             stdin=subprocess.DEVNULL)  # fmt: skip
    wait_until(lambda: len(kernels(batch.pid)) == 2, batch)
    below = descendants(batch.pid)
    started = time.monotonic()
    batch.send_signal(signal.SIGTERM)
    _, err = batch.communicate(timeout=60)
    assert batch.returncode == 143, err
    assert time.monotonic() - started < 30
    assert b"Traceback" not in err
    deadline = time.monotonic() + 20
    while any(alive(p) for p in below) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert [p for p in below if alive(p)] == []
    assert leftovers(out) == []


def exiting_notebook(tmp_path: Path) -> Path:
    return with_analyst_cell(
        tmp_path, 'if service == "Finance":\n    exit()\n', "analyst-exit", "exits.ipynb"
    )


def test_exit_in_a_cell_fails_that_cell_not_a_later_one(tmp_path):
    out = tmp_path / "out"
    result = run("--out", str(out), "--notebook", str(exiting_notebook(tmp_path)),
                 "--service", "Finance", "--service", "Customer Services",
                 check=False)  # fmt: skip
    assert result.returncode == 1, result.stderr
    assert statuses(out) == {"finance": "failed", "customer-services": "ok"}
    failed = manifest(out)["services"]["finance"]
    executed = nbformat.read(out / QUARTER / "failed" / "finance" / "finance.ipynb", 4)
    # Counted in the notebook as run (the parameters cell included; papermill's own red
    # "An exception was encountered" cells in the saved copy are not cells of the notebook).
    cells = [
        c for c in executed.cells if "papermill-error-cell-tag" not in c.metadata.get("tags", [])
    ]
    position = next(i for i, c in enumerate(cells) if "exit()" in c.source) + 1
    assert failed["failed_cell"] == position
    # The error names the cell by the number the kept notebook shows beside it.
    count = cells[position - 1].execution_count
    assert count and failed["error"].startswith(f"cell In [{count}]: RuntimeError: exit() and")


# -- checked before anything is written ----------------------------------------------------
def refused(out: Path, *args: str, env: dict | None = None) -> str:
    """Run the batch expecting a refusal up front: exit 2, a sentence, nothing written."""
    result = subprocess.run(command("--out", str(out), *args), capture_output=True, text=True,
                            env=env or ENV, stdin=subprocess.DEVNULL, timeout=300)  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert not out.exists()  # not even the output folder's lock file
    return result.stderr


def test_a_notebook_that_is_not_a_notebook_is_refused_up_front(tmp_path):
    fake = tmp_path / "cpr.ipynb"
    fake.write_text("print('hello')\n", encoding="utf-8")
    err = refused(tmp_path / "out", "--notebook", str(fake))
    assert f"error: notebook {fake} is not a Jupyter notebook (.ipynb, format 4)" in err


def council_with_logo(tmp_path: Path, logo: bytes) -> Path:
    (tmp_path / "logo.png").write_bytes(logo)
    config = tmp_path / "council.yaml"
    text = COUNCIL_CONFIG.read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if not line.startswith(("logo:", "template:"))]
    config.write_text("\n".join([*lines, "logo: logo.png", ""]), encoding="utf-8")
    return config


def test_a_logo_that_is_not_an_image_is_refused_up_front(tmp_path):
    config = council_with_logo(tmp_path, b"<html>not a picture</html>")
    err = refused(tmp_path / "out", "--config", str(config))
    assert "logo.png is not an image kpitools can read (PNG or JPEG)" in err


def test_a_logo_of_hundreds_of_megapixels_is_refused_up_front(tmp_path):
    from PIL import Image

    image = tmp_path / "huge.png"
    Image.new("1", (20_000, 20_000)).save(image)  # 400 megapixels, a few kB on disk
    config = council_with_logo(tmp_path, image.read_bytes())
    err = refused(tmp_path / "out", "--config", str(config))
    assert "logo.png is 20000 x 20000 pixels: more than a logo needs" in err


@pytest.mark.parametrize("address", ["nonsense", "tcp://127.0.0.1:1"])
def test_a_scheduler_that_does_not_answer_is_refused_up_front(tmp_path, address):
    err = refused(tmp_path / "out", "--scheduler", address)
    assert f"error: --scheduler {address}: " in err


def test_a_file_where_the_period_folder_goes_is_refused(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / QUARTER).write_text("not a folder", encoding="utf-8")
    result = run("--out", str(out), check=False)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert f"{out / QUARTER} is a file where the period's folder should be" in result.stderr
    assert (out / QUARTER).read_text(encoding="utf-8") == "not a folder"
    assert [p.name for p in out.iterdir()] == [QUARTER]


def test_a_quarter_with_no_data_is_refused_naming_the_data(tmp_path):
    out = tmp_path / "out"
    for quarter in ("2999/00 Q1", "1995/96 Q1"):
        args = [a if a != "2024/25 Q1" else quarter for a in command("--out", str(out))]
        result = subprocess.run(args, capture_output=True, text=True, env=ENV,
                                stdin=subprocess.DEVNULL, timeout=300)  # fmt: skip
        assert result.returncode == 2, result.stderr
        assert "Traceback" not in result.stderr
        assert "the data" in result.stderr, result.stderr
    assert not out.exists()


# -- what the batch finds on disk ----------------------------------------------------------
def test_records_on_disk_that_are_not_what_the_batch_left_are_rebuilt(tmp_path):
    out = tmp_path / "out"
    run("--out", str(out), "--service", "Finance", "--service", "Finance")
    assert statuses(out) == {"finance": "ok"}  # given twice, built once
    report = out / QUARTER / "finance" / "finance.html"
    report.write_bytes(b"")  # cut to nothing: not up to date
    run("--out", str(out), "--service", "Finance")
    assert statuses(out) == {"finance": "ok"} and report.stat().st_size > 1000
    (out / QUARTER / "manifest.json").write_text('{"services": null}', encoding="utf-8")
    result = run("--out", str(out), "--service", "Finance")
    assert "Traceback" not in result.stderr
    assert statuses(out) == {"finance": "ok"}
    assert leftovers(out) == []


def test_a_file_size_limit_fails_the_run_naming_the_file_and_leaves_nothing_half_written(
    tmp_path,
):
    out = tmp_path / "out"

    def small_files() -> None:  # every file the batch writes at most 1 MB: reports are larger
        resource.setrlimit(resource.RLIMIT_FSIZE, (1_000_000, 1_000_000))

    result = subprocess.run(command("--out", str(out), "--service", "Finance"),
                            capture_output=True, text=True, env=ENV, stdin=subprocess.DEVNULL,
                            timeout=600, preexec_fn=small_files)  # fmt: skip
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert "File too large" in result.stderr
    assert "run the same command again" in result.stderr or "FAILED" in result.stderr
    assert leftovers(out) == []
    # With room again, the same command builds it.
    run("--out", str(out), "--service", "Finance")
    assert statuses(out) == {"finance": "ok"}
    assert json.loads((out / QUARTER / "finance" / "summary.json").read_text("utf-8"))
    assert leftovers(out) == []


def test_a_stop_while_the_board_pack_is_made_leaves_no_office_suite_and_a_rerun_makes_it(
    tmp_path,
):
    require("soffice")
    out = tmp_path / "out"
    batch = subprocess.Popen(command("--out", str(out), "--jobs", "2"), env=ENV,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             stdin=subprocess.DEVNULL)  # fmt: skip
    root = out / QUARTER

    def converting() -> bool:
        return any(b"soffice" in cmdline(p) for p in descendants(batch.pid))

    wait_until(converting, batch)  # every report done, the pack's PDF being made
    below = descendants(batch.pid)
    batch.send_signal(signal.SIGTERM)
    _, err = batch.communicate(timeout=60)
    assert batch.returncode == 143, err
    assert b"Traceback" not in err
    deadline = time.monotonic() + 20
    while any(alive(p) for p in below) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert [p for p in below if alive(p)] == []  # LibreOffice's whole process group is gone
    assert set(statuses(out).values()) == {"ok"}  # the record was finished before the stop
    assert leftovers(out) == []
    again = run("--out", str(out))
    assert "Traceback" not in again.stderr
    assert (root / "board-pack.pdf").is_file() and (root / "board-pack.json").is_file()
