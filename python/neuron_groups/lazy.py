"""Names a package exports from its modules, imported on first use (one style everywhere).

A package (the top level for the display layer, ``display``, ``backends/tensorflow``,
``backends/torch`` and their ``optvis``) lists its names and the modules they live in;
importing the package then imports neither anywidget nor a framework, and the first use of a
name imports its module.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any


def lazy_exports(package: str, **modules: str | tuple[str, ...]) -> tuple[Callable, list[str]]:
    """A module ``__getattr__`` that imports each name from its module, and ``__all__``.

    Parameters
    ----------
    package : str
        The package's ``__name__``.
    **modules : str or tuple of str
        Module name within the package -> the name (or names) it exports.

    Examples
    --------
    In a package's ``__init__.py``:
    ``__getattr__, __all__ = lazy_exports(__name__, render=("Renderer", "RendererPool"))``.
    """
    where = {}
    for module, names in modules.items():
        for name in (names,) if isinstance(names, str) else names:
            where[name] = f"{package}.{module}"

    def getattr_(name: str) -> Any:
        if name in where:
            return getattr(importlib.import_module(where[name]), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return getattr_, sorted(where)


__all__ = ["lazy_exports"]
