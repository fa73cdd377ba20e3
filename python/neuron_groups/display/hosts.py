"""What notebook hosts other than Jupyter need before a widget is shown, done once per kernel.

The widget's front end is anywidget's (module ``"anywidget"``, version ``~<major>.<minor>.*``
of the installed anywidget) plus this package's ES module, which travels in the widget's state.
JupyterLab, Notebook 7 and Voila load anywidget's front end from its lab extension; marimo has
its own anywidget support. Two hosts need more, and neither can run in the test machines, so
what is done here is tested with fakes (``tests/display/test_hosts.py``):

- **Google Colab** renders third-party widgets only once its custom widget manager is enabled
  (``google.colab.output.enable_custom_widget_manager()``). anywidget does that when
  ``google.colab.output`` is already imported; :func:`prepare_host` imports it whenever
  ``google.colab`` is, and enables the manager once.
- **VS Code** (the Jupyter extension) loads a widget module's front end from the kernel
  environment's ``<sys.prefix>/share/jupyter/nbextensions/<module>/index.js`` (anywidget's pip
  package puts it there), or else from a CDN, and only if the user allowed one
  (``"jupyter.widgetScriptSources": ["jsdelivr.com", "unpkg.com"]``). Without either the cell
  shows "No version of module anywidget is registered". :func:`prepare_host` checks for the
  file and, when it is missing, warns once with the two ways out.

Nothing here imports a host: hosts are recognized from ``sys.modules``, the environment and the
IPython user namespace, all passed in so that tests can fake them.
"""

from __future__ import annotations

import importlib
import os
import sys
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

COLAB = "colab"
VSCODE = "vscode"
OTHER = "other"

ANYWIDGET_NBEXTENSION = Path("share", "jupyter", "nbextensions", "anywidget", "index.js")
"""Where VS Code looks for anywidget's front end, relative to the kernel's ``sys.prefix``."""

VSCODE_ADVICE = (
    "VS Code loads anywidget's front end from {path}, which is missing, so the widget may show "
    '"No version of module anywidget is registered". Install anywidget into the kernel\'s '
    "environment (pip install anywidget, not --user), or let VS Code load it from a CDN: "
    'set "jupyter.widgetScriptSources": ["jsdelivr.com", "unpkg.com"] in the settings and '
    "restart the kernel."
)

_done: set[str] = set()
"""The hosts already prepared in this process (each is prepared once)."""


def detect_host(
    modules: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
    user_ns: Mapping[str, Any] | None = None,
) -> str:
    """Which host runs this kernel: ``"colab"``, ``"vscode"`` or ``"other"``.

    Parameters
    ----------
    modules : mapping, optional
        The imported modules (default ``sys.modules``): Colab's kernel imports
        ``google.colab`` at start-up.
    environ : mapping, optional
        The process environment (default ``os.environ``): VS Code's kernels inherit
        ``VSCODE_PID``.
    user_ns : mapping, optional
        The IPython user namespace (default: the running shell's, if any): VS Code's Jupyter
        extension defines ``__vsc_ipynb_file__`` there.
    """
    modules = sys.modules if modules is None else modules
    environ = os.environ if environ is None else environ
    if "google.colab" in modules:
        return COLAB
    namespace = _user_namespace(modules) if user_ns is None else user_ns
    if "VSCODE_PID" in environ or "__vsc_ipynb_file__" in namespace:
        return VSCODE
    return OTHER


def _user_namespace(modules: Mapping[str, Any]) -> Mapping[str, Any]:
    """The running IPython shell's user namespace, or ``{}`` (IPython is never imported here)."""
    ipython = modules.get("IPython")
    get_ipython = getattr(ipython, "get_ipython", None)
    shell = get_ipython() if callable(get_ipython) else None
    return getattr(shell, "user_ns", None) or {}


def enable_colab_widgets(import_module: Callable[[str], Any] = importlib.import_module) -> None:
    """Enable Colab's custom widget manager (third-party widgets such as this one).

    Parameters
    ----------
    import_module : callable
        Imports a module by name (default :func:`importlib.import_module`).
    """
    output = import_module("google.colab.output")
    output.enable_custom_widget_manager()


def vscode_front_end(prefix: str | os.PathLike | None = None) -> Path:
    """Where VS Code looks for anywidget's front end for a kernel in ``prefix`` (sys.prefix)."""
    return Path(sys.prefix if prefix is None else prefix) / ANYWIDGET_NBEXTENSION


def check_vscode_front_end(prefix: str | os.PathLike | None = None) -> str | None:
    """The advice to show when anywidget's front end is not where VS Code looks, else None."""
    path = vscode_front_end(prefix)
    return None if path.is_file() else VSCODE_ADVICE.format(path=path)


def prepare_host(
    modules: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
    user_ns: Mapping[str, Any] | None = None,
    *,
    import_module: Callable[[str], Any] = importlib.import_module,
    prefix: str | os.PathLike | None = None,
) -> str:
    """Do what the host needs before a widget is displayed, once per process; return the host.

    Called by :class:`~neuron_groups.display.widget.GroupWidget` when it is made. Never
    raises: a host whose preparation fails gets a warning, and the widget is made anyway.

    Parameters
    ----------
    modules, environ, user_ns : mapping, optional
        See :func:`detect_host`.
    import_module : callable
        See :func:`enable_colab_widgets`.
    prefix : path, optional
        The kernel's ``sys.prefix`` (the default; see :func:`check_vscode_front_end`).
    """
    host = detect_host(modules, environ, user_ns)
    if host in _done:
        return host
    _done.add(host)
    if host == COLAB:
        try:
            enable_colab_widgets(import_module)
        except Exception as exc:  # the widget may still render; say why it may not
            warnings.warn(
                f"Could not enable Colab's custom widget manager ({exc}); run "
                "`from google.colab import output; output.enable_custom_widget_manager()`.",
                stacklevel=2,
            )
    elif host == VSCODE:
        advice = check_vscode_front_end(prefix)
        if advice is not None:
            warnings.warn(advice, stacklevel=2)
    return host
