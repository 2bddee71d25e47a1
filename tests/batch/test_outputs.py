"""The batch's output folder: folders swapped in whole, leftovers of a killed run tidied."""

import os
import stat
import tempfile
from pathlib import Path

import pytest

from kpitools.batch import outputs
from kpitools.batch.outputs import place_folder, recover, remove_failed
from kpitools.core.files import write_atomic


def write(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def tree(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): p.read_text(encoding="utf-8")
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_recover_removes_half_built_folders(tmp_path):
    write(tmp_path / ".staging-finance-a1b2c3", {"finance.pptx": "half"})
    write(tmp_path / ".staging-failed-finance-x9", {"run.log": "half"})
    write(tmp_path / "finance", {"finance.pptx": "published"})
    recover(tmp_path)
    assert tree(tmp_path) == {"finance/finance.pptx": "published"}


def test_recover_brings_back_a_report_moved_aside(tmp_path):
    """Killed between moving the old folder aside and renaming the new one in."""
    write(tmp_path / ".old-adult-social-care-4242", {"adult-social-care.pptx": "old report"})
    recover(tmp_path)
    assert tree(tmp_path) == {"adult-social-care/adult-social-care.pptx": "old report"}


def test_recover_drops_a_moved_aside_report_already_replaced(tmp_path):
    write(tmp_path / ".old-finance-4242", {"finance.pptx": "old report"})
    write(tmp_path / "finance", {"finance.pptx": "new report"})
    recover(tmp_path)
    assert tree(tmp_path) == {"finance/finance.pptx": "new report"}


def test_recover_removes_a_manifest_being_written(tmp_path):
    (tmp_path / ".manifest.json").write_text("{", encoding="utf-8")
    (tmp_path / "manifest.json").write_text("{}", encoding="utf-8")
    recover(tmp_path)
    assert tree(tmp_path) == {"manifest.json": "{}"}


@pytest.mark.parametrize(
    "name", ["manifest.json", "index.html", "timings.json", "board-pack.pptx", "plotly.min.js"]
)
def test_recover_removes_the_temporary_file_write_atomic_leaves(tmp_path, name):
    handle, temporary = tempfile.mkstemp(prefix=f".{name}.", dir=tmp_path)
    os.close(handle)  # what write_atomic leaves when the process is killed mid-write
    (tmp_path / "manifest.json").write_text("{}", encoding="utf-8")
    recover(tmp_path)
    assert not Path(temporary).exists()
    assert tree(tmp_path) == {"manifest.json": "{}"}


def test_recover_brings_back_a_failed_folder_moved_aside(tmp_path):
    """A failed service's old folder is moved aside within failed/ and comes back there."""
    write(tmp_path / "failed" / ".old-finance-4242", {"run.log": "an earlier failure"})
    recover(tmp_path)
    assert tree(tmp_path) == {"failed/finance/run.log": "an earlier failure"}


def test_replacing_a_failed_folder_leaves_nothing_at_the_top(tmp_path):
    place_folder(tmp_path, "failed/finance", {"run.log": b"first"})
    place_folder(tmp_path, "failed/finance", {"run.log": b"second"})
    assert tree(tmp_path) == {"failed/finance/run.log": "second"}


def test_recover_leaves_published_reports_alone(tmp_path):
    write(tmp_path / "finance", {"finance.pptx": "report", "summary.json": "{}"})
    write(tmp_path / "failed" / "waste", {"run.log": "failed"})
    (tmp_path / "manifest.json").write_text("{}", encoding="utf-8")
    (tmp_path / "index.html").write_text("<html>", encoding="utf-8")
    before = tree(tmp_path)
    recover(tmp_path)
    assert tree(tmp_path) == before


def test_recover_of_a_missing_folder_does_nothing(tmp_path):
    recover(tmp_path / "not-there")
    assert not (tmp_path / "not-there").exists()


def test_place_folder_replaces_the_old_folder_whole(tmp_path):
    write(tmp_path / "finance", {"finance.pptx": "old deck", "stale.txt": "from an old run"})
    place_folder(tmp_path, "finance", {"finance.pptx": b"new deck", "summary.json": b"{}"})
    assert tree(tmp_path) == {"finance/finance.pptx": "new deck", "finance/summary.json": "{}"}
    assert mode(tmp_path / "finance") == 0o755
    assert mode(tmp_path / "finance" / "finance.pptx") == 0o644
    assert mode(tmp_path / "finance" / "summary.json") == 0o644
    assert [p.name for p in tmp_path.iterdir()] == ["finance"]  # nothing left aside


def test_place_folder_makes_a_nested_folder(tmp_path):
    place_folder(tmp_path, "failed/finance", {"run.log": b"status: failed\n"})
    assert tree(tmp_path) == {"failed/finance/run.log": "status: failed\n"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["failed"]


def test_place_folder_swaps_in_a_complete_folder(tmp_path, monkeypatch):
    """At each rename a reader sees the whole old folder or the whole new one."""
    write(tmp_path / "finance", {"finance.pptx": "old deck"})
    seen = []
    rename = Path.rename

    def watch(self, target):
        seen.append((self.name, Path(target).name, tree(self)))
        return rename(self, target)

    monkeypatch.setattr(Path, "rename", watch)
    place_folder(tmp_path, "finance", {"finance.pptx": b"new deck", "run.log": b"ok\n"})
    monkeypatch.undo()
    assert len(seen) == 2
    (aside_from, aside_to, aside_files), (new_from, new_to, new_files) = seen
    assert (aside_from, aside_files) == ("finance", {"finance.pptx": "old deck"})
    assert aside_to == f"{outputs.OLD_PREFIX}finance-{os.getpid()}"
    assert new_from.startswith(outputs.STAGING_PREFIX + "finance-") and new_to == "finance"
    assert new_files == {"finance.pptx": "new deck", "run.log": "ok\n"}
    assert tree(tmp_path) == {"finance/finance.pptx": "new deck", "finance/run.log": "ok\n"}


def test_remove_failed(tmp_path):
    write(tmp_path / "failed" / "finance", {"run.log": "x"})
    write(tmp_path / "failed" / "waste", {"run.log": "y"})
    remove_failed(tmp_path, "finance")
    remove_failed(tmp_path, "never-failed")
    assert tree(tmp_path) == {"failed/waste/run.log": "y"}


def test_write_atomic_leaves_no_temporary_file(tmp_path):
    write_atomic(tmp_path / "manifest.json", b"{}\n")
    assert [p.name for p in tmp_path.iterdir()] == ["manifest.json"]
    assert mode(tmp_path / "manifest.json") == 0o644


def test_clean_up_never_follows_a_link_out_of_the_output_folder(tmp_path):
    """A leftover ``failed`` that is a link to a folder elsewhere: the link goes, what it
    points at stays untouched, and nothing is written through it."""
    outside = write(tmp_path / "elsewhere" / "finance", {"precious.txt": "keep me"})
    root = tmp_path / "out" / "2024-25-q1"
    root.mkdir(parents=True)
    (root / "failed").symlink_to(outside.parent, target_is_directory=True)
    remove_failed(root, "finance")
    assert (outside / "precious.txt").read_text(encoding="utf-8") == "keep me"
    assert not (root / "failed").exists()

    (root / "failed").symlink_to(outside.parent, target_is_directory=True)
    recover(root)
    assert not (root / "failed").is_symlink()
    assert tree(tmp_path / "elsewhere") == {"finance/precious.txt": "keep me"}

    (root / "failed").symlink_to(outside.parent, target_is_directory=True)
    place_folder(root, "failed/finance", {"run.log": b"failed"})
    assert tree(tmp_path / "elsewhere") == {"finance/precious.txt": "keep me"}
    assert tree(root) == {"failed/finance/run.log": "failed"}


def test_a_report_folder_that_is_a_link_is_replaced_not_followed(tmp_path):
    outside = write(tmp_path / "elsewhere", {"precious.txt": "keep me"})
    root = tmp_path / "out"
    root.mkdir()
    (root / "finance").symlink_to(outside, target_is_directory=True)
    (root / ".staging-x-1").symlink_to(outside, target_is_directory=True)
    recover(root)
    assert not (root / ".staging-x-1").exists()
    place_folder(root, "finance", {"finance.pptx": b"new"})
    assert tree(outside) == {"precious.txt": "keep me"}
    assert tree(root) == {"finance/finance.pptx": "new"}
    (root / "failed").mkdir()
    (root / "failed" / "finance").symlink_to(outside, target_is_directory=True)
    remove_failed(root, "finance")
    assert tree(outside) == {"precious.txt": "keep me"}
    assert not (root / "failed" / "finance").exists()
