"""The seed figures, shipped inside the package as consolidate.seeds (see pyproject.toml)."""
