"""Regenerate templates_xlsx/: the unit templates of the catalog's example period (python -m consolidate.generate)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from .catalog import Catalog, load_catalog
from .errors import ConsolidateError
from .periods import parse_period
from .template import write_templates

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates_xlsx"


def generate(catalog: Catalog | None = None, out_dir: Path = TEMPLATES_DIR) -> list[Path]:
    """Write every unit's template for the example period; drop .xlsx files no longer produced."""
    catalog = catalog if catalog is not None else load_catalog()
    written = write_templates(catalog, parse_period(catalog.settings.example_period), out_dir)
    keep = {p.name for p in written}
    for old in sorted(out_dir.glob("*.xlsx")):
        if old.name not in keep:
            old.unlink()
    return written


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m consolidate.generate",
        description="Skriv om mallarna i templates_xlsx/ för katalogens exempelperiod.",
    )
    parser.add_argument("--out", type=Path, default=TEMPLATES_DIR, metavar="MAPP",
                        help="mappen som mallarna skrivs till (standard: templates_xlsx/)")
    parser.add_argument("--katalog", type=Path, default=None, metavar="FIL",
                        help="katalogen (standard: schemas/katalog.toml)")
    args = parser.parse_args(argv)
    try:
        written = generate(load_catalog(args.katalog), args.out)
    except ConsolidateError as exc:
        sys.stderr.write(f"Fel: {exc}\n")
        return 2
    count = f"{len(written)} {'mall skriven' if len(written) == 1 else 'mallar skrivna'}"
    sys.stdout.write(f"{count} till {args.out}.\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
