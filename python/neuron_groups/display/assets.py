"""Where the front end's files are: ``neuron_groups/static/`` (the bundle), and how they are sent.

``static/widget.js`` and ``static/widget.css`` are built from ``js/src/`` by esbuild
(``npm run build``) and committed, so an installed package (``pip install .`` without
Node) and a source checkout read the same files.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1]
"""The installed ``neuron_groups`` folder."""

ESM, CSS = "widget.js", "widget.css"


def checkout_root() -> Path | None:
    """The repository root when running from a source checkout (it has ``js/src/``), else None."""
    root = PACKAGE.parents[1]
    return root if (root / "js" / "src" / "index.js").is_file() else None


def asset_path(name: str) -> Path:
    """Path of a front-end file (``"widget.js"`` or ``"widget.css"``)."""
    return PACKAGE / "static" / name


def asset_text(name: str) -> str:
    """Text of a front-end file (UTF-8)."""
    return asset_path(name).read_text(encoding="utf-8")


@functools.cache
def compact_text(name: str) -> str:
    """A front-end file as it is sent: whole-line comments and indentation left out.

    The bundle keeps the sources' JSDoc inside functions and esbuild's ``// js/src/...``
    module markers (readable on purpose); every widget and every page carries the module, so
    they travel without them. Only whole comment lines go: a line that starts a comment is a
    comment (the bundle has no multi-line template literals, and no code after a comment that
    closes on its line, which tests check), so no code can be cut.
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
