r"""Exported notebooks whose widgets work with no network: nbconvert tooling and its command.

``jupyter nbconvert --to html`` writes a page that renders saved widget state with the
Jupyter widgets HTML manager. By default that page loads everything from CDNs: require.js
(cdnjs), ``@jupyter-widgets/html-manager``'s ``embed-amd.js`` (unpkg), and then, through
require.js, each widget library's module; for an anywidget that is the AMD module
``anywidget`` (tried first next to the page, then from jsDelivr,
``anywidget@<version>/dist/index.js``). Offline nothing of it loads and the widget area stays
empty. :func:`export_notebook` points the page at local copies in a folder next to it:

``require.js``
    require.js (npm ``requirejs``) followed by one line mapping the module ``anywidget`` to
    ``anywidget.js`` in the same folder, wherever the folder is served from.
``embed-amd.js`` (and its fonts)
    npm ``@jupyter-widgets/html-manager``; it defines ``@jupyter-widgets/base`` and
    ``@jupyter-widgets/controls`` itself.
``anywidget.js``
    anywidget's front end as the AMD module the classic notebook loads: the Python
    package's ``anywidget/nbextension/index.js`` (the same file as the npm package's
    ``dist/index.js``), so it always matches the kernel's anywidget version.

The widget's own ES module and CSS are part of its saved state, so nothing else is needed.
MathJax is not loaded unless ``mathjax_url`` names a local copy.

The same settings, for ``jupyter nbconvert`` itself once the folder exists
(``neuron-groups export --assets-only DIR`` writes it; ``DIR`` is a URL
relative to the exported page, which nbconvert writes next to the notebook)::

    jupyter nbconvert --to html NOTEBOOK.ipynb \
        --HTMLExporter.require_js_url=DIR/require.js \
        --HTMLExporter.widget_renderer_url=DIR/embed-amd.js \
        --HTMLExporter.mathjax_url=

:func:`export_notebook` also uses a small template that keeps a widget's ``text/html``
fallback (see :mod:`neuron_groups.display.fallback`) under its live view, hidden once the
view has rendered: the page stays readable where JavaScript does not run.

nbconvert, nbformat, jinja2 and nbclient are not dependencies of the widget: they come with
the ``export`` extra (``pip install "neuron-groups[export]"``), and are imported only when
a notebook is exported; without them :class:`MissingDependencyError` says what to install.
"""

from __future__ import annotations

import argparse
import importlib
import os
import shutil
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import quote

from neuron_groups.display.assets import checkout_root

NODE_MODULES_ENV = "NEURON_GROUPS_NODE_MODULES"
"""Environment variable naming the ``node_modules`` folder that holds the npm packages."""

NPM_PACKAGES = {"@jupyter-widgets/html-manager": "1.0.15", "requirejs": "2.3.8"}
"""The npm packages :func:`write_assets` copies from, at the versions tested."""

_HTML_MANAGER = ("@jupyter-widgets", "html-manager", "dist")
_FONT_SUFFIXES = (".woff2", ".woff")  # what browsers fetch for the bundled icon fonts

_WIDGET_STATE = "application/vnd.jupyter.widget-state+json"

# Appended to require.js: resolve "anywidget" next to this very file (an absolute URL, so the
# folder works from any page that links it), not next to the page or on jsDelivr.
_REQUIRE_CONFIG = """
/* neuron-groups: load anywidget's front end from this folder, not from a CDN. */
(function () {
  var script = document.currentScript;
  if (script && script.src) {
    requirejs.config({ paths: { anywidget: script.src.replace(/[^/]*$/, "") + "anywidget" } });
  }
})();
"""

FALLBACK_CLASS = "widget-static-fallback"
"""Class of the element holding a widget's ``text/html`` fallback in an exported page."""

# The lab template, with each widget's text/html fallback inside its output, after the view's
# script tag. The fallback shows where no JavaScript runs (or the widget could not load) and
# hides once the HTML manager has rendered a view there (:has is in every current browser;
# older ones show both).
_TEMPLATE_NAME = "neuron_groups_lab.html.j2"
_TEMPLATE = """{%- extends 'index.html.j2' -%}
{%- block extra_css -%}
{{ super() }}
<style>
.jp-OutputArea-output:has(> .widget-subarea > .lm-Widget > *) > .FALLBACK { display: none; }
</style>
{%- endblock extra_css -%}
{%- block data_widget_view scoped -%}
{%- set mimetype = (output.data | filter_data_type)[0] %}
<div id="{{ uuid4() }}" class="jupyter-widgets jp-OutputArea-output {{ extra_class }}">
<script type="{{ mimetype }}">
{{ output.data[mimetype] | json_dumps | escape_html_script }}
</script>
{%- if 'text/html' in output.data %}
<div class="FALLBACK jp-RenderedHTMLCommon">
{{ output.data['text/html'] }}
</div>
{%- endif %}
</div>
{%- endblock data_widget_view -%}
""".replace("FALLBACK", FALLBACK_CLASS)


EXPORT_INSTALL = 'pip install "neuron-groups[export]"'
"""What installs the Python packages a notebook export needs."""


class AssetsError(RuntimeError):
    """The npm packages the offline export copies from are not installed."""


class MissingDependencyError(ImportError):
    """A Python package the notebook export needs (nbconvert, nbformat, ...) is missing."""


def _require(*names: str) -> list[ModuleType]:
    """Import these modules, or say in one message which are missing and how to install them."""
    modules, missing = [], []
    for name in names:
        try:
            modules.append(importlib.import_module(name))
        except ImportError:
            missing.append(name)
    if missing:
        raise MissingDependencyError(
            f"Exporting a notebook needs {', '.join(missing)}, which "
            f"{'is' if len(missing) == 1 else 'are'} not installed: {EXPORT_INSTALL}"
        )
    return modules


# -- offline assets -------------------------------------------------------------------------


def find_node_modules(node_modules: str | os.PathLike | None = None) -> Path:
    """The ``node_modules`` folder holding :data:`NPM_PACKAGES`.

    Looked for, in order: ``node_modules``, ``$NEURON_GROUPS_NODE_MODULES``, the source
    checkout's ``node_modules``, ``./node_modules``.

    Raises
    ------
    AssetsError
        When none holds them; the message says what to install.
    """
    candidates = _candidates(node_modules)
    for candidate in candidates:
        if _has_packages(candidate):
            return candidate.resolve()
    install = " ".join(f"{name}@{version}" for name, version in NPM_PACKAGES.items())
    raise AssetsError(
        "The offline notebook export copies require.js and the Jupyter widgets HTML manager "
        f"from npm packages; none found (looked in {[str(c) for c in candidates]}). "
        f"Install them with `npm install {install}` and point to that node_modules folder "
        f"(node_modules=, --node-modules or ${NODE_MODULES_ENV})."
    )


def _candidates(node_modules: str | os.PathLike | None) -> list[Path]:
    given = [node_modules, os.environ.get(NODE_MODULES_ENV)]
    root = checkout_root()
    checkout = [root / "node_modules"] if root is not None else []
    return [Path(c) for c in given if c] + [*checkout, Path("node_modules")]


def _has_packages(folder: Path) -> bool:
    return (folder / "requirejs" / "require.js").is_file() and (
        folder.joinpath(*_HTML_MANAGER, "embed-amd.js").is_file()
    )


def _anywidget_amd(node_modules: Path) -> Path:
    import anywidget

    bundled = Path(anywidget.__file__).parent / "nbextension" / "index.js"
    if bundled.is_file():
        return bundled
    npm = node_modules / "anywidget" / "dist" / "index.js"
    if npm.is_file():
        return npm
    raise AssetsError(
        f"anywidget's front end was not found ({bundled}); reinstall anywidget, or "
        f"`npm install anywidget@{anywidget.__version__}`."
    )


def write_assets(
    folder: str | os.PathLike, *, node_modules: str | os.PathLike | None = None
) -> Path:
    """Write the files an exported notebook loads instead of CDNs into ``folder``.

    Parameters
    ----------
    folder : path
        Created if needed; files already there are replaced.
    node_modules : path, optional
        Where the npm packages are (see :func:`find_node_modules`).

    Returns
    -------
    Path
        ``folder``, holding ``require.js``, ``embed-amd.js`` (with its fonts) and
        ``anywidget.js``.
    """
    modules = find_node_modules(node_modules)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    require = (modules / "requirejs" / "require.js").read_text(encoding="utf-8")
    (folder / "require.js").write_text(require + _REQUIRE_CONFIG, encoding="utf-8")
    dist = modules.joinpath(*_HTML_MANAGER)
    shutil.copyfile(dist / "embed-amd.js", folder / "embed-amd.js")
    for font in sorted(dist.iterdir()):
        if font.suffix in _FONT_SUFFIXES:
            shutil.copyfile(font, folder / font.name)
    shutil.copyfile(_anywidget_amd(modules), folder / "anywidget.js")
    return folder


def _has_assets(folder: Path) -> bool:
    return all((folder / name).is_file() for name in ("require.js", "embed-amd.js", "anywidget.js"))


def _url(target: Path, start: Path) -> str:
    return quote(Path(os.path.relpath(target, start)).as_posix())


def nbconvert_config(assets_url: str, *, mathjax_url: str = "") -> dict[str, dict[str, str]]:
    """The ``HTMLExporter`` settings that load the widgets from ``assets_url`` (a folder URL).

    ``assets_url`` may be relative to the exported page (``"nb_files"``) or absolute
    (``"http://localhost:8000/assets"``).
    """
    base = assets_url.rstrip("/") + "/"
    return {
        "HTMLExporter": {
            "require_js_url": base + "require.js",
            "widget_renderer_url": base + "embed-amd.js",
            "mathjax_url": mathjax_url,
        }
    }


def execute_notebook(nb: Any, *, cwd: str | os.PathLike, kernel_name: str | None, timeout: int):
    """Run every cell of ``nb`` (in place) with nbclient, keeping the widgets' state."""
    (nbclient,) = _require("nbclient")
    kwargs: dict[str, Any] = {"timeout": timeout, "store_widget_state": True}
    if kernel_name:
        kwargs["kernel_name"] = kernel_name
    nbclient.NotebookClient(nb, resources={"metadata": {"path": str(cwd)}}, **kwargs).execute()
    return nb


def export_notebook(
    notebook: str | os.PathLike,
    html_path: str | os.PathLike | None = None,
    *,
    assets: str | os.PathLike | None = None,
    node_modules: str | os.PathLike | None = None,
    execute: bool = False,
    kernel_name: str | None = None,
    timeout: int = 1200,
    mathjax_url: str = "",
    static_fallback: bool = True,
) -> Path:
    """Export a notebook to HTML whose widgets work offline, from local copies of their code.

    Parameters
    ----------
    notebook : path
        The ``.ipynb``. Its widgets show only if their state is saved in it (JupyterLab:
        *Settings → Save Widget State Automatically*), or with ``execute=True``.
    html_path : path, optional
        The page to write (default: the notebook's path with ``.html``).
    assets : path, optional
        The folder of the page's scripts (default: ``<page name>_files`` next to the page).
        Written by :func:`write_assets` unless it already holds them; keep it next to the
        page when sharing (the page links it by a relative URL).
    node_modules : path, optional
        Where the npm packages are (see :func:`find_node_modules`).
    execute : bool
        Run the notebook first (nbclient, in the notebook's folder) and keep the widget state.
    kernel_name : str, optional
        Kernel for ``execute`` (default: the notebook's).
    timeout : int
        Seconds each cell may run when executing.
    mathjax_url : str
        MathJax to load for formulas (default: none, so no network).
    static_fallback : bool
        Keep each widget's ``text/html`` fallback under its live view (shown where no
        JavaScript runs).

    Returns
    -------
    Path
        The page written.

    Raises
    ------
    MissingDependencyError
        nbconvert, nbformat or jinja2 (nbclient with ``execute``) is not installed.
    AssetsError
        The npm packages to copy the scripts from are not installed.
    """
    from traitlets.config import Config

    nbformat, jinja2, nbconvert = _require("nbformat", "jinja2", "nbconvert")
    if execute:
        _require("nbclient")

    notebook = Path(notebook)
    html_path = Path(html_path) if html_path is not None else notebook.with_suffix(".html")
    folder = Path(assets) if assets is not None else html_path.with_name(html_path.stem + "_files")
    nb = nbformat.read(notebook, as_version=4)
    if execute:
        execute_notebook(nb, cwd=notebook.parent, kernel_name=kernel_name, timeout=timeout)
    if not nb.metadata.get("widgets", {}).get(_WIDGET_STATE, {}).get("state"):
        warnings.warn(
            f"{notebook} has no saved widget state: its widgets will show as their static "
            "fallback (or not at all). Save the widget state, or pass execute=True.",
            UserWarning,
            stacklevel=2,
        )
    if not _has_assets(folder):
        write_assets(folder, node_modules=node_modules)

    html_path.parent.mkdir(parents=True, exist_ok=True)
    config = Config(
        nbconvert_config(
            _url(folder.resolve(), html_path.parent.resolve()), mathjax_url=mathjax_url
        )
    )
    options: dict[str, Any] = {"config": config, "template_name": "lab"}
    if static_fallback:
        options["extra_loaders"] = [jinja2.DictLoader({_TEMPLATE_NAME: _TEMPLATE})]
        options["template_file"] = _TEMPLATE_NAME
    exporter = nbconvert.HTMLExporter(**options)
    resources = {"metadata": {"name": notebook.stem, "path": str(notebook.parent)}}
    body, _ = exporter.from_notebook_node(nb, resources=resources)
    html_path.write_text(body, encoding="utf-8")
    return html_path


def main(argv: Sequence[str] | None = None, prog: str = "neuron-groups export") -> int:
    """``neuron-groups export``: the command line of :func:`export_notebook`.

    ``python -m neuron_groups.display.export`` runs it too.
    """
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Export a notebook to HTML whose widgets work offline (no CDN).",
    )
    parser.add_argument("notebook", nargs="?", help="the .ipynb to export")
    parser.add_argument("-o", "--output", help="the page to write (default: NOTEBOOK.html)")
    parser.add_argument("--assets", help="folder of the page's scripts (default: PAGE_files)")
    parser.add_argument("--node-modules", help=f"npm packages' folder (or ${NODE_MODULES_ENV})")
    parser.add_argument("--execute", action="store_true", help="run the notebook first")
    parser.add_argument("--kernel", help="kernel for --execute")
    parser.add_argument("--timeout", type=int, default=1200, help="seconds per cell")
    parser.add_argument("--mathjax-url", default="", help="a local MathJax (default: none)")
    parser.add_argument("--no-fallback", action="store_true", help="drop the static fallback")
    parser.add_argument(
        "--assets-only", metavar="DIR", help="only write the scripts' folder DIR, for nbconvert"
    )
    args = parser.parse_args(argv)
    try:
        if args.assets_only:
            folder = write_assets(args.assets_only, node_modules=args.node_modules)
            print(f"Wrote {folder}; for jupyter nbconvert --to html:")
            for key, value in nbconvert_config(args.assets_only)["HTMLExporter"].items():
                print(f"  --HTMLExporter.{key}={value}")
            return 0
        if not args.notebook:
            parser.error("a notebook is needed (or --assets-only DIR)")
        page = export_notebook(
            args.notebook,
            args.output,
            assets=args.assets,
            node_modules=args.node_modules,
            execute=args.execute,
            kernel_name=args.kernel,
            timeout=args.timeout,
            mathjax_url=args.mathjax_url,
            static_fallback=not args.no_fallback,
        )
    except (AssetsError, MissingDependencyError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"Wrote {page}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
