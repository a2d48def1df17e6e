"""The ``aitia`` command line (typer + rich): one module per command group, one error boundary (``_app``).

Every command has ``--help``; scripts use ``--json``.

Example:
    >>> from typer.testing import CliRunner
    >>> CliRunner().invoke(app, ["datasets", "list", "--json"]).exit_code
    0
"""

from __future__ import annotations

from . import data, knowledge, learning, runs  # noqa: F401  (each registers its commands on `app`)
from ._app import USER_ERROR, app

__all__ = ["USER_ERROR", "app"]

if __name__ == "__main__":  # pragma: no cover
    app()
