"""The example catalog, shipped inside the package as consolidate.schemas (see pyproject.toml)."""
