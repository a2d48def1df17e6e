"""Name -> class registries with helpful errors (learners, perturbation predictors)."""

from __future__ import annotations

import difflib
from typing import Any

from .errors import AitiaError


def create(registry: dict[str, type], name: str, kind: str, **kwargs: Any) -> Any:
    """Instantiate ``registry[name](**kwargs)``; an unknown name raises with the closest matches and all options.

    Example:
        >>> create({"mean": dict}, "mean", "Predictor")
        {}
    """
    if name not in registry:
        close = difflib.get_close_matches(name, list(registry), n=2)
        hint = f" Did you mean {' or '.join(close)}?" if close else ""
        raise AitiaError(f"{kind} {name!r} not recognised.{hint} Options: {', '.join(registry)}.")
    return registry[name](**kwargs)
