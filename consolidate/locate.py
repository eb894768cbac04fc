"""Which catalog a command uses: --katalog, CONSOLIDATE_KATALOG, katalog.toml nearby, the
example."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from .catalog import Catalog, Origin
from .catalog_parse import load_catalog
from .errors import CatalogError

ENV_VAR = Origin.ENVIRONMENT.value
FILENAME = "katalog.toml"


def find_catalog(option: Path | None = None, folders: Sequence[Path] = (),
                 environ: Mapping[str, str] | None = None) -> tuple[Path | None, Origin]:
    """The catalog's path and why it was chosen; None means the bundled example.

    In order: the --katalog option, the environment variable, a katalog.toml in the first of
    `folders` (the folders a command works on, then the current folder) or a folder above it."""
    if option is not None:
        return option, Origin.OPTION
    env = (os.environ if environ is None else environ).get(ENV_VAR, "").strip()
    if env:
        path = Path(env)
        if not path.is_file():
            raise CatalogError(f"{ENV_VAR} pekar på {env}, som inte är en fil. Rätta variabeln "
                               "eller ta bort den, eller ange katalogen med --katalog.")
        return path, Origin.ENVIRONMENT
    for folder in [*folders, Path()]:
        found = _nearest(folder)
        if found is not None:
            return found, Origin.FOLDER
    return None, Origin.BUNDLED


def load_catalog_for(option: Path | None = None, folders: Sequence[Path] = ()) -> Catalog:
    """find_catalog, then load_catalog with the reason recorded in Catalog.origin."""
    path, origin = find_catalog(option, folders)
    return load_catalog(path, origin)


def work_folder(path: Path) -> Path:
    """The folder a command works on when it is given a file or a folder."""
    return path if path.is_dir() else path.parent


def _nearest(folder: Path) -> Path | None:
    """katalog.toml in the folder or the nearest folder above it. A relative folder gives a path
    relative to the current folder when the file lies inside it (`katalog.toml`, not a long absolute
    path), else an absolute one. `..` is resolved by name, not by following links, so a mapped
    network drive keeps the drive letter the user knows."""
    start = Path(os.path.abspath(folder))
    here = Path(os.path.abspath(Path()))
    for candidate in (start, *start.parents):
        path = candidate / FILENAME
        if path.is_file():
            if not folder.is_absolute() and path.is_relative_to(here):
                return path.relative_to(here)
            return path
    return None
