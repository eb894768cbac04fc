"""Outputs appear whole or not at all: temp file beside the target, then rename."""

from __future__ import annotations

import os
from pathlib import Path


def publish(tmp: Path, target: Path) -> None:
    """Rename a finished temp file over the target, with the mode a new file would get.

    mkstemp creates files readable by their owner only; on a shared drive the board's other
    controllers must be able to open the master, as they could any file saved there."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    os.replace(tmp, target)
