"""Outputs appear whole or not at all: temp file beside the target, then rename."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from .errors import UsageError, os_reason

MASTER_PREFIX = ".~sammanställning_"  # master.write_master's temp files


class ReplaceError(UsageError):
    """The finished output could not take the old file's place (on Windows: it is open in Excel)."""


def _file_mode() -> int:
    """The mode a plainly created file gets now; mkstemp makes 0600, which would hide outputs on a
    shared drive from the board's other controllers."""
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


def write_atomically(target: Path, write: Callable[[Path], object], prefix: str = ".~tmp_") -> Path:
    """Call write(temp) on a unique temp file in the target's folder, then rename it over the
    target with a normal file mode; on any failure the temp file is removed and target untouched.

    When the rename fails (Windows refuses to replace a file that Excel has open), ReplaceError
    says so in Swedish; the old file stays as it was."""
    fd, name = tempfile.mkstemp(prefix=prefix, suffix=target.suffix, dir=target.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        write(tmp)
        os.chmod(tmp, _file_mode())
        try:
            os.replace(tmp, target)
        except OSError as exc:
            what = "sammanställningen" if prefix == MASTER_PREFIX else "filen"
            raise ReplaceError(f"{target} kan inte ersättas ({os_reason(exc, writing=True)}): den "
                               f"är troligen öppen i Excel eller ett annat program. Stäng {what} i "
                               "Excel och kör igen; den gamla filen är orörd.") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return target
