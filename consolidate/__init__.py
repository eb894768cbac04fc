"""Tertial follow-up for a Swedish social services board: templates, validation, master workbook."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .api import (
        check,
        consolidate_folder,
        load_catalog,
        mail_master,
        make_templates,
        write_export,
        write_master,
    )

__version__ = "0.1.0"
__all__ = ["__version__", "load_catalog", "make_templates", "check", "consolidate_folder",
           "write_master", "write_export", "mail_master"]


def __getattr__(name: str) -> Any:
    """The entry points are imported when first used, so `consolidate --help` stays fast."""
    if name in __all__:
        from . import api

        return getattr(api, name)
    raise AttributeError(f"module 'consolidate' has no attribute {name!r}")
