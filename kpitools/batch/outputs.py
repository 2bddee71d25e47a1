"""The batch's output folder: per-service folders swapped in whole, leftovers tidied.

Only the process that owns ``<out>/<quarter>/`` writes there. Each service's folder is built
aside (``.staging-*``) and renamed into place, the folder it replaces moved aside first
(``.old-*``), so a reader - or an interrupted run - sees the old folder or the new one,
never a mixture.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from kpitools.core.naming import PACK_NAME, PLOTLY_FILE

FAILED_DIR = "failed"
STAGING_PREFIX = ".staging-"
OLD_PREFIX = ".old-"


# The temporary names write_atomic gives the quarter's own files while it writes them
# (".manifest.json.<random>"): one left by a killed run is removed by the next.
BEING_WRITTEN = tuple(
    f".{name}" for name in ("manifest.json", "index.html", "timings.json", PLOTLY_FILE, PACK_NAME)
)


def recover(root: Path) -> None:
    """Tidy what an interrupted run may have left, in the quarter's folder and in
    ``failed/``: half-built folders and half-written files go, a folder moved aside but not
    yet replaced comes back. Clean-up never follows a symbolic link: a link where kpitools
    keeps its own folders is removed itself, whatever it points at left alone."""
    _own_folder(root / FAILED_DIR, create=False)
    for folder in (root, root / FAILED_DIR):
        if folder.is_dir() and not folder.is_symlink():
            _tidy(folder)


def _own_folder(folder: Path, *, create: bool = True) -> None:
    """Make ``folder`` (one kpitools keeps inside the output folder) a real folder: a symbolic
    link or a file in its place is removed (the link, never what it points at)."""
    if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
        folder.unlink()
    if create:
        folder.mkdir(parents=True, exist_ok=True)


def _remove(path: Path) -> None:
    """Remove a folder of kpitools' own, or a link in its place (never what a link points at)."""
    if path.is_symlink() or (path.exists() and not path.is_dir()):
        path.unlink(missing_ok=True)
    else:
        shutil.rmtree(path, ignore_errors=True)


def _tidy(folder: Path) -> None:
    for path in sorted(folder.iterdir()):
        name = path.name
        if path.is_symlink() and name.startswith((STAGING_PREFIX, OLD_PREFIX, *BEING_WRITTEN)):
            path.unlink()
        elif name.startswith(STAGING_PREFIX) and path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        elif name.startswith(OLD_PREFIX) and path.is_dir() and not path.is_symlink():
            slug = name[len(OLD_PREFIX) :].rsplit("-", 1)[0]
            if (folder / slug).exists():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.rename(folder / slug)
        elif name.startswith(BEING_WRITTEN) and path.is_file():
            path.unlink(missing_ok=True)


def place_folder(root: Path, name: str, files: dict[str, bytes]) -> None:
    """Build ``root/name`` aside and swap it in; readers see the old folder or the new one."""
    target = root / name
    parent = target.parent  # staging and old copies sit beside the target: one rename each
    root.mkdir(parents=True, exist_ok=True)
    if parent != root:
        _own_folder(parent)  # failed/: never written through a link to elsewhere
    leaf = target.name
    staging = Path(tempfile.mkdtemp(prefix=f"{STAGING_PREFIX}{leaf}-", dir=parent))
    try:
        for file_name, blob in files.items():
            try:
                (staging / file_name).write_bytes(blob)
            except OSError as err:
                err.filename = err.filename or str(target / file_name)  # named in the message
                raise
            os.chmod(staging / file_name, 0o644)
        os.chmod(staging, 0o755)
    except BaseException:  # a full disk, a signal: nothing half-built is left
        shutil.rmtree(staging, ignore_errors=True)
        raise
    old = None
    if target.is_symlink() or target.exists():
        old = parent / f"{OLD_PREFIX}{leaf}-{os.getpid()}"
        target.rename(old)  # a link is moved itself, not followed
    staging.rename(target)
    if old is not None:
        _remove(old)


def remove_failed(root: Path, slug: str) -> None:
    """A service that now succeeded has no failed folder any more."""
    failed = root / FAILED_DIR
    if failed.is_symlink() or not failed.is_dir():
        _own_folder(failed, create=False)
        return
    _remove(failed / slug)
