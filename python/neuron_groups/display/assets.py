"""Where the front end's files are: ``js/`` in a source checkout, ``static/`` when installed.

The wheel copies ``js/widget.js`` and ``js/widget.css`` to ``neuron_groups/static/``
(``pyproject.toml``), so ``pip install .`` ships the front end without Node.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1]
"""The installed ``neuron_groups`` folder."""

ESM, CSS = "widget.js", "widget.css"


def checkout_root() -> Path | None:
    """The repository root when running from a source checkout (it has ``js/``), else None."""
    root = PACKAGE.parents[1]
    return root if (root / "js" / ESM).is_file() else None


def asset_path(name: str) -> Path:
    """Path of a front-end file (``"widget.js"`` or ``"widget.css"``)."""
    root = checkout_root()
    return root / "js" / name if root is not None else PACKAGE / "static" / name


def asset_text(name: str) -> str:
    """Text of a front-end file (UTF-8)."""
    return asset_path(name).read_text(encoding="utf-8")
