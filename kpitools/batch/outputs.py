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

FAILED_DIR = "failed"
STAGING_PREFIX = ".staging-"
OLD_PREFIX = ".old-"


def recover(root: Path) -> None:
    """Tidy what an interrupted run may have left: half-built folders go, a report moved
    aside but not yet replaced comes back."""
    if not root.is_dir():
        return
    for path in sorted(root.iterdir()):
        if path.name.startswith(STAGING_PREFIX):
            shutil.rmtree(path, ignore_errors=True)
        elif path.name.startswith(OLD_PREFIX):
            slug = path.name[len(OLD_PREFIX) :].rsplit("-", 1)[0]
            if (root / slug).exists():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.rename(root / slug)
        elif path.name.startswith(".") and path.suffix == ".json":
            path.unlink(missing_ok=True)  # a manifest being written


def place_folder(root: Path, name: str, files: dict[str, bytes]) -> None:
    """Build ``root/name`` aside and swap it in; readers see the old folder or the new one."""
    target = root / name
    target.parent.mkdir(parents=True, exist_ok=True)
    flat = name.replace("/", "-")
    staging = Path(tempfile.mkdtemp(prefix=f"{STAGING_PREFIX}{flat}-", dir=root))
    for file_name, blob in files.items():
        (staging / file_name).write_bytes(blob)
        os.chmod(staging / file_name, 0o644)
    os.chmod(staging, 0o755)
    old = None
    if target.exists():
        old = root / f"{OLD_PREFIX}{flat}-{os.getpid()}"
        target.rename(old)
    staging.rename(target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def remove_failed(root: Path, slug: str) -> None:
    """A service that now succeeded has no failed folder any more."""
    shutil.rmtree(root / FAILED_DIR / slug, ignore_errors=True)
