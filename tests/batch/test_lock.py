"""One run per output folder: a second run stops with a message, or waits with --wait."""

import os
import subprocess
import sys
import threading
import time

import pytest

from kpitools.batch.lock import LOCK_NAME, Busy, output_lock
from kpitools.core.errors import KpiToolsError


def hold(out, **kwargs) -> None:
    """Take the lock and let it go."""
    with output_lock(out, **kwargs):
        pass


def test_a_second_run_on_the_same_folder_is_refused_naming_the_first(tmp_path):
    out = tmp_path / "out"
    with output_lock(out), pytest.raises(Busy) as caught:
        hold(out)
    assert str(caught.value) == (
        f"another kpitools run (process {os.getpid()}) is writing to {out}: wait for it to "
        "finish, or give --wait to start when it has"
    )
    hold(out)  # released when the first ended


def test_other_folders_are_not_held(tmp_path):
    with output_lock(tmp_path / "a"), output_lock(tmp_path / "b"):
        pass


def test_a_waiting_run_says_so_and_starts_when_the_first_ends(tmp_path):
    out = tmp_path / "out"
    told: list[str] = []
    order: list[str] = []
    held = threading.Event()

    def first() -> None:
        with output_lock(out):
            held.set()
            time.sleep(0.5)
            order.append("first done")

    thread = threading.Thread(target=first)
    thread.start()
    held.wait()
    with output_lock(out, wait=True, waiting=told.append):
        order.append("second started")
    thread.join()
    assert order == ["first done", "second started"]
    pid = os.getpid()
    assert told == [f"waiting for another kpitools run (process {pid}) to finish with {out}"]


def test_a_killed_holder_leaves_no_lock_behind(tmp_path):
    out = tmp_path / "out"
    code = (
        "import sys, time; from pathlib import Path; from kpitools.batch.lock import output_lock\n"
        f"with output_lock(Path({str(out)!r})):\n"
        "    print('held', flush=True); time.sleep(60)\n"
    )
    holder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(Busy, match=f"process {holder.pid}"), output_lock(out):
            pass
    finally:
        holder.kill()
        holder.wait()
        if holder.stdout is not None:
            holder.stdout.close()
    hold(out)
    assert (out / LOCK_NAME).is_file()


def test_an_output_folder_that_is_a_file_is_named(tmp_path):
    (tmp_path / "out").write_text("not a folder")
    with pytest.raises(KpiToolsError, match=r"--out .*out is a file, not a folder"):
        hold(tmp_path / "out")
    with pytest.raises(KpiToolsError, match="a file stands where a folder of it should be"):
        hold(tmp_path / "out" / "inner")


def test_a_read_only_folder_is_not_locked_but_not_refused(tmp_path, monkeypatch):
    """Nobody can write there, so no run can change it: a rerun with nothing to do still
    answers (a run that must write says so itself)."""
    import errno

    out = tmp_path / "out"
    out.mkdir()

    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(os, "open", read_only)
    hold(out)
    assert not (out / LOCK_NAME).exists()
