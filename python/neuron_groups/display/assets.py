"""Where the front end's files are: ``js/`` in a source checkout, ``static/`` when installed.

The wheel copies ``js/widget.js`` and ``js/widget.css`` to ``neuron_groups/static/``
(``pyproject.toml``), so ``pip install .`` ships the front end without Node.
"""

from __future__ import annotations

import functools
import re
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


@functools.cache
def compact_text(name: str) -> str:
    """A front-end file as it is sent: whole-line comments and indentation left out.

    ``widget.js`` is half documentation (JSDoc types for the type check, comments for the
    reader); every widget and every page carries the module, so they travel without it.
    Only whole comment lines go: a line that starts a comment is a comment (the module has
    no multi-line template literals, which a test checks), so no code can be cut.
    """
    text = asset_text(name)
    return _compact_css(text) if name.endswith(".css") else _compact_js(text)


def _compact_js(text: str) -> str:
    kept, in_block = [], False
    for line in text.splitlines():
        stripped = line.strip()
        if in_block:
            in_block = "*/" not in stripped
            continue
        if stripped.startswith("/*"):
            in_block = "*/" not in stripped
            continue
        if stripped and not stripped.startswith("//"):
            kept.append(stripped)
    return "\n".join(kept) + "\n"


def _compact_css(text: str) -> str:
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.DOTALL)
    return "\n".join(line.strip() for line in text.splitlines() if line.strip()) + "\n"
