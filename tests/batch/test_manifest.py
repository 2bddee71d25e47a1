"""The manifest's building blocks: cache keys, its bytes, and reading it back."""

import json
from pathlib import Path

import pytest

from kpitools.batch.manifest import (
    MANIFEST,
    cache_key,
    file_sha256,
    manifest_bytes,
    package_versions,
    read_manifest,
)


def test_cache_key_ignores_the_order_of_keys():
    one = cache_key({"quarter": "2024/25 Q1", "config": {"a": 1, "b": [1, 2]}, "strict": False})
    two = cache_key({"strict": False, "config": {"b": [1, 2], "a": 1}, "quarter": "2024/25 Q1"})
    assert one == two
    assert len(one) == 64 and int(one, 16) >= 0


def test_cache_key_is_a_known_hash():
    """The same parts give the same key on every machine and every run."""
    assert cache_key({}) == "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
    assert cache_key({"a": 1}) == cache_key({"a": 1})


@pytest.mark.parametrize(
    "other",
    [
        {"quarter": "2024/25 Q2", "strict": False},
        {"quarter": "2024/25 Q1", "strict": True},
        {"quarter": "2024/25 Q1", "strict": False, "run_id": ""},
        {"quarter": "2024/25 Q1", "strict": "False"},
        {"quarter": "2024/25 Q1"},
    ],
)
def test_cache_key_changes_with_any_part(other):
    assert cache_key(other) != cache_key({"quarter": "2024/25 Q1", "strict": False})


def test_cache_key_takes_values_json_cannot(tmp_path):
    assert cache_key({"path": tmp_path}) == cache_key({"path": str(tmp_path)})


def test_manifest_bytes_are_deterministic():
    one = {"quarter": "2024/25 Q1", "services": {"finance": {"status": "ok", "seconds": 1.5}},
           "council": "Café & Bar"}  # fmt: skip
    two = {"council": "Café & Bar", "services": {"finance": {"seconds": 1.5, "status": "ok"}},
           "quarter": "2024/25 Q1"}  # fmt: skip
    blob = manifest_bytes(one)
    assert blob == manifest_bytes(two)
    assert blob.endswith(b"}\n")
    assert "Café".encode() in blob  # UTF-8, not \\u escapes
    assert json.loads(blob) == one
    assert blob.decode().splitlines()[:3] == ['{', '  "council": "Café & Bar",',
                                              '  "quarter": "2024/25 Q1",']  # fmt: skip


def test_read_manifest_reads_what_manifest_bytes_wrote(tmp_path):
    manifest = {"quarter": "2024/25 Q1", "services": {"finance": {"status": "ok"}}}
    (tmp_path / MANIFEST).write_bytes(manifest_bytes(manifest))
    assert read_manifest(tmp_path) == manifest


@pytest.mark.parametrize(
    "blob",
    [b'{"quarter": "2024/25 Q1", "services": {', b"", b"\xff\xfe{}", b"[1, 2]", b'"text"', b"null"],
    ids=["truncated", "empty", "not-utf8", "list", "string", "null"],
)
def test_a_damaged_manifest_reads_as_none(tmp_path, blob):
    (tmp_path / MANIFEST).write_bytes(blob)
    assert read_manifest(tmp_path) == {}


def test_a_missing_manifest_reads_as_none(tmp_path):
    assert read_manifest(tmp_path) == {}
    assert read_manifest(tmp_path / "no-such-folder") == {}
    (tmp_path / MANIFEST).mkdir()  # a folder where the file should be
    assert read_manifest(tmp_path) == {}


def test_file_sha256(tmp_path):
    path = Path(tmp_path / "x")
    path.write_bytes(b"abc")
    assert file_sha256(path) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


def test_package_versions_name_what_writes_the_files():
    versions = package_versions()
    assert set(versions) == {"kpitools", "pandas", "python-pptx", "plotly", "papermill",
                             "nbconvert", "nbclient", "ipython", "ipykernel",
                             "XlsxWriter"}  # fmt: skip
    import kpitools

    assert versions["kpitools"] == kpitools.__version__
    assert all(v for v in versions.values())
