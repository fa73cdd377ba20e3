"""neuron_groups.display.hosts: Colab and VS Code, which cannot run here, faked."""

from __future__ import annotations

import sys
import types
import warnings

import pytest

from neuron_groups.display import hosts


@pytest.fixture(autouse=True)
def fresh_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test is a new kernel: nothing prepared yet."""
    monkeypatch.setattr(hosts, "_done", set())


class FakeColabOutput:
    def __init__(self) -> None:
        self.enabled = 0

    def enable_custom_widget_manager(self) -> None:
        self.enabled += 1


def colab(output: FakeColabOutput):
    """A fake google.colab: the modules of its kernel and the importer of its output module."""
    modules = {"google": types.ModuleType("google"), "google.colab": types.ModuleType("c")}
    imported: list[str] = []

    def import_module(name: str):
        imported.append(name)
        assert name == "google.colab.output"
        return output

    return modules, import_module, imported


def test_colab_is_recognized_by_its_module() -> None:
    assert hosts.detect_host({"google.colab": object()}, {}, {}) == hosts.COLAB
    assert hosts.detect_host({"google": object()}, {}, {}) == hosts.OTHER


def test_vscode_is_recognized_by_its_environment_or_namespace() -> None:
    assert hosts.detect_host({}, {"VSCODE_PID": "1"}, {}) == hosts.VSCODE
    assert hosts.detect_host({}, {}, {"__vsc_ipynb_file__": "/a.ipynb"}) == hosts.VSCODE
    assert hosts.detect_host({}, {"JPY_PARENT_PID": "1"}, {"x": 1}) == hosts.OTHER


def test_the_namespace_comes_from_a_running_ipython_shell() -> None:
    shell = types.SimpleNamespace(user_ns={"__vsc_ipynb_file__": "/a.ipynb"})
    ipython = types.SimpleNamespace(get_ipython=lambda: shell)
    assert hosts.detect_host({"IPython": ipython}, {}) == hosts.VSCODE
    no_shell = types.SimpleNamespace(get_ipython=lambda: None)  # IPython imported, no kernel
    assert hosts.detect_host({"IPython": no_shell}, {}) == hosts.OTHER


def test_colab_gets_its_custom_widget_manager_once() -> None:
    output = FakeColabOutput()
    modules, import_module, imported = colab(output)
    for _ in range(3):  # three widgets in one kernel
        host = hosts.prepare_host(modules, {}, {}, import_module=import_module)
        assert host == hosts.COLAB
    assert output.enabled == 1
    assert imported == ["google.colab.output"]


def test_a_failing_colab_manager_warns_and_does_not_raise() -> None:
    class Broken(FakeColabOutput):
        def enable_custom_widget_manager(self) -> None:
            raise RuntimeError("no frontend")

    modules, import_module, _ = colab(Broken())
    with pytest.warns(UserWarning, match="enable_custom_widget_manager"):
        assert hosts.prepare_host(modules, {}, {}, import_module=import_module) == hosts.COLAB


def test_vscode_warns_once_when_anywidgets_front_end_is_not_in_the_kernels_prefix(
    tmp_path,
) -> None:
    env = {"VSCODE_PID": "1"}
    with pytest.warns(UserWarning, match="jupyter.widgetScriptSources") as caught:
        hosts.prepare_host({}, env, {}, prefix=tmp_path)
        hosts.prepare_host({}, env, {}, prefix=tmp_path)
    assert len(caught) == 1
    assert str(tmp_path / hosts.ANYWIDGET_NBEXTENSION) in str(caught[0].message)


def test_vscode_is_quiet_when_the_front_end_is_there(tmp_path) -> None:
    index = tmp_path / hosts.ANYWIDGET_NBEXTENSION
    index.parent.mkdir(parents=True)
    index.write_text("define([], () => ({}));")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert hosts.prepare_host({}, {"VSCODE_PID": "1"}, {}, prefix=tmp_path) == hosts.VSCODE


def test_other_hosts_are_left_alone(tmp_path) -> None:
    def no_import(name: str):
        raise AssertionError(f"imported {name}")

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        host = hosts.prepare_host({}, {}, {}, import_module=no_import, prefix=tmp_path)
    assert host == hosts.OTHER


def test_this_environment_has_anywidgets_front_end_where_vscode_looks() -> None:
    """pip installs anywidget's nbextension into sys.prefix: VS Code would find it here."""
    assert hosts.check_vscode_front_end() is None, hosts.vscode_front_end()


def test_making_a_group_widget_prepares_the_host(monkeypatch: pytest.MonkeyPatch, tmp_path):
    """GroupWidget calls prepare_host: in a (faked) VS Code without anywidget's front end in
    the kernel's prefix, making a widget warns."""
    from neuron_groups import GroupWidget
    from tests.fakes import fake_result

    monkeypatch.setenv("VSCODE_PID", "1")
    monkeypatch.setattr(sys, "prefix", str(tmp_path))
    with pytest.warns(UserWarning, match="jupyter.widgetScriptSources"):
        GroupWidget.from_result(fake_result())
