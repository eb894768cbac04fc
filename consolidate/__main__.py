"""`python -m consolidate` runs the command line."""

from .cli import main

# Guarded, so that importing the module (a tool, a spawned worker's set-up) does not run the CLI.
if __name__ == "__main__":
    main()
