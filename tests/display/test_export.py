"""The offline notebook export's Python side without a browser: dependencies and settings."""

from __future__ import annotations

import json
import sys

import pytest

from neuron_groups.display import export

EMPTY = {"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


def blank(tmp_path):
    notebook = tmp_path / "nb.ipynb"
    notebook.write_text(json.dumps(EMPTY), encoding="utf-8")
    return notebook


@pytest.mark.parametrize("module", ["nbconvert", "nbformat", "jinja2"])
def test_a_missing_package_names_the_export_extra(module, monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, module, None)  # "import module" now fails
    notebook = blank(tmp_path)
    with pytest.raises(export.MissingDependencyError) as info:
        export.export_notebook(notebook)
    message = str(info.value)
    assert f"needs {module}, which is not installed" in message
    assert 'pip install "neuron-groups[export]"' in message
    assert isinstance(info.value, ImportError)


def test_execute_needs_nbclient(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "nbclient", None)
    notebook = blank(tmp_path)
    with pytest.raises(export.MissingDependencyError, match=r"needs nbclient"):
        export.export_notebook(notebook, execute=True)


def test_every_missing_package_is_named_at_once(monkeypatch):
    for module in ("nbconvert", "jinja2"):
        monkeypatch.setitem(sys.modules, module, None)
    with pytest.raises(export.MissingDependencyError, match=r"needs jinja2, nbconvert, which are"):
        export._require("nbformat", "jinja2", "nbconvert")


def test_command_line_says_what_to_install(monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(sys.modules, "nbconvert", None)
    notebook = blank(tmp_path)
    assert export.main([str(notebook)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: Exporting a notebook needs nbconvert")
    assert 'pip install "neuron-groups[export]"' in err


def test_importing_the_module_needs_none_of_them(monkeypatch):
    for module in ("nbconvert", "nbformat", "jinja2", "nbclient"):
        monkeypatch.setitem(sys.modules, module, None)
    monkeypatch.delitem(sys.modules, "neuron_groups.display.export")
    import neuron_groups.display.export as fresh

    assert fresh.nbconvert_config("x")["HTMLExporter"]["require_js_url"] == "x/require.js"


def test_nbconvert_config():
    config = export.nbconvert_config("nb_files/")["HTMLExporter"]
    assert config == {
        "require_js_url": "nb_files/require.js",
        "widget_renderer_url": "nb_files/embed-amd.js",
        "mathjax_url": "",
    }


def test_missing_npm_packages_say_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setattr(export, "_candidates", lambda given: [tmp_path])
    with pytest.raises(export.AssetsError, match=r"npm install @jupyter-widgets/html-manager@"):
        export.find_node_modules()
