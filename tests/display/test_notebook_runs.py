"""The example notebook runs top to bottom in a real kernel (nbclient), no browser needed."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

NOTEBOOK = REPO / "examples" / "neuron_groups.ipynb"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
STEPS = 8  # icon optimization steps: enough to go through the whole path, fast on a CPU


def test_notebook_is_committed_without_outputs() -> None:
    nb = json.loads(NOTEBOOK.read_text())
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None, cell["source"]
    assert "widgets" not in nb["metadata"]
    assert nb["metadata"]["kernelspec"]["name"] == "python3"


@pytest.fixture(scope="module")
def executed(tmp_path_factory: pytest.TempPathFactory):
    """The example notebook after running every cell (small icon steps, fresh icon cache)."""
    import nbformat
    from nbclient import NotebookClient

    tmp = tmp_path_factory.mktemp("notebook")
    with pytest.MonkeyPatch.context() as mp:  # the kernel inherits this environment
        mp.setenv("NEURON_GROUPS_STEPS", str(STEPS))
        mp.setenv("NEURON_GROUPS_CACHE", str(tmp / "cache"))
        mp.setenv("TF_CPP_MIN_LOG_LEVEL", "2")
        nb = nbformat.read(NOTEBOOK, as_version=4)
        client = NotebookClient(
            nb,
            timeout=600,
            kernel_name="python3",
            store_widget_state=True,
            resources={"metadata": {"path": str(tmp)}},
        )
        client.execute()  # raises CellExecutionError, with the traceback, if a cell fails
    return nb


def _outputs(nb) -> list[dict]:
    return [out for cell in nb.cells if cell.cell_type == "code" for out in cell.outputs]


def _stdout(nb) -> str:
    return "".join(
        out.get("text", "")
        for out in _outputs(nb)
        if out.get("output_type") == "stream" and out.get("name") == "stdout"
    )


def _views(nb) -> list[str]:
    return [
        out["data"][WIDGET_VIEW]["model_id"]
        for out in _outputs(nb)
        if WIDGET_VIEW in out.get("data", {})
    ]


@pytest.mark.slow
def test_both_widgets_are_displayed_and_saved_with_their_final_state(executed) -> None:
    views = _views(executed)
    assert len(views) == 2, "expected the dog_cat and the flowers widgets"
    state = executed.metadata["widgets"][WIDGET_STATE]["state"]
    for model_id, n_groups in zip(views, (6, 5), strict=True):
        model = state[model_id]
        assert model["model_name"] == "AnyModel"
        traits = model["state"]
        assert traits["error"] == ""
        # The notebook waits for the icons (w.wait()), so the saved state is the final one.
        assert traits["status"] == "ready"
        assert traits["spatial_shape"][0] == n_groups
        colors = traits["group_colors"]  # numbers, not CSS strings
        assert len(colors) == n_groups and all(len(c) == 3 for c in colors)
        assert all(isinstance(v, int) and 0 <= v <= 255 for c in colors for v in c)
        icons = [b for b in model.get("buffers", []) if b["path"][0] == "icons"]
        assert sorted(b["path"][1] for b in icons) == list(range(n_groups)), "icons missing"
        assert all(len(b["data"]) > 100 for b in icons), "empty icon"
    dog_cat = state[views[0]]["state"]
    assert dog_cat["class_names"] == ["Labrador retriever", "tiger cat"]
    assert dog_cat["classes"] == dog_cat["class_names"]  # as asked, one per row
    assert dog_cat["layer"] == "mixed4d"
    assert len(state[views[1]]["state"]["class_names"]) == 5  # the top 5 predicted


@pytest.mark.slow
def test_the_attribution_tables_are_printed(executed) -> None:
    text = _stdout(executed)
    number = r"\s+-?\d+\.\d{3}"
    # Integrated gradients by default: each table ends with its rest column.
    header6 = "".join(rf"\s+group {g}" for g in range(6)) + r"\s+rest"
    assert re.search(rf"^{header6}$", text, re.M), text
    for name in ("Labrador retriever", "tiger cat"):
        assert re.search(rf"^{name}(?:{number}){{7}}$", text, re.M), text
    header5 = "".join(rf"\s+group {g}" for g in range(5)) + r"\s+rest"
    assert len(re.findall(rf"^{header5}$", text, re.M)) == 2, text  # widget and function
    assert re.search(r"^selected group: -1$", text, re.M), text
