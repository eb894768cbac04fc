"""Regenerate the committed files: templates_xlsx/ and the example workbooks in seeds/exempel/.

A tool for the source repository (with `pip install -e .`): it reads the repository's
schemas/katalog.toml and seeds/figurer.toml, which the package carries as its bundled example."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from .catalog import Catalog
from .catalog_parse import load_catalog
from .errors import ConsolidateError
from .periods import parse_period
from .template import write_templates

REPO = Path(__file__).resolve().parent.parent
TEMPLATES_DIR = REPO / "templates_xlsx"
EXAMPLES_DIR = REPO / "seeds" / "exempel"
SOURCE_CATALOG = REPO / "schemas" / "katalog.toml"


def generate(catalog: Catalog | None = None, out_dir: Path = TEMPLATES_DIR) -> list[Path]:
    """Write every unit's template for the example period; drop .xlsx files no longer produced."""
    catalog = catalog if catalog is not None else load_catalog(SOURCE_CATALOG)
    written = write_templates(catalog, parse_period(catalog.settings.example_period), out_dir)
    keep = {p.name for p in written}
    for old in sorted(out_dir.glob("*.xlsx")):
        if old.name not in keep:
            old.unlink()
    return written


def generate_examples(catalog: Catalog | None = None, out_dir: Path = EXAMPLES_DIR) -> list[Path]:
    """The demo's shared folder, filled from seeds/figurer.toml, as committed example workbooks."""
    from .demo import build_demo_folder, prepare_demo_folder

    catalog = catalog if catalog is not None else load_catalog(SOURCE_CATALOG)
    prepare_demo_folder(out_dir)
    return build_demo_folder(catalog, out_dir)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m consolidate.generate",
        description="Skriv om mallarna i templates_xlsx/ för katalogens exempelperiod.",
    )
    parser.add_argument("--out", type=Path, default=TEMPLATES_DIR, metavar="MAPP",
                        help="mappen som mallarna skrivs till (standard: templates_xlsx/)")
    parser.add_argument("--katalog", type=Path, default=None, metavar="FIL",
                        help="katalogen (standard: schemas/katalog.toml)")
    parser.add_argument("--exempel", type=Path, default=EXAMPLES_DIR, metavar="MAPP",
                        help="mappen för exempelarbetsböckerna (standard: seeds/exempel/)")
    args = parser.parse_args(argv)
    if not (REPO / "pyproject.toml").is_file():
        sys.stderr.write("Fel: python -m consolidate.generate skriver om filerna i "
                         "källkodsförrådet och körs därifrån, efter pip install -e . (det "
                         "installerade paketet har inga mallar att skriva om).\n")
        return 2
    try:
        catalog = load_catalog(args.katalog or SOURCE_CATALOG)
        written = generate(catalog, args.out)
        examples = generate_examples(catalog, args.exempel)
    except ConsolidateError as exc:
        sys.stderr.write(f"Fel: {exc}\n")
        return 2
    count = f"{len(written)} {'mall skriven' if len(written) == 1 else 'mallar skrivna'}"
    sys.stdout.write(f"{count} till {args.out}.\n")
    sys.stdout.write(f"{len(examples)} exempelarbetsböcker till {args.exempel}.\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
