"""`python -m aitia.cli` runs the command line (as `aitia` does)."""

from . import app

if __name__ == "__main__":
    app()
