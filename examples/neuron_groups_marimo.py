# ruff: noqa: N803, B018 (marimo's cell style: names passed between cells, a cell's output
# is its last expression)
"""Neuron groups in marimo: the widget as a marimo UI element, read by a cell that follows it.

Run it with ``marimo edit examples/neuron_groups_marimo.py`` (or ``marimo run`` for the app
view). ``NEURON_GROUPS_STEPS`` (e.g. 32) makes the icons quicker and rougher.
"""

import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium")


@app.cell
def _():
    import os

    import marimo as mo

    from neuron_groups import GroupWidget, IconSettings

    return GroupWidget, IconSettings, mo, os


@app.cell
def _(mo):
    mo.md("""
    # Neuron groups in marimo

    The layer `mixed4d` of InceptionV1 split into groups of neurons that fire together
    (*The Building Blocks of Interpretability*, Distill 2018). Hover a group's tile to
    spotlight it; click it to pin it: the cell below the widget runs again and reads the
    pinned group from Python.
    """)
    return


@app.cell
def _(GroupWidget, IconSettings, mo, os):
    steps = int(os.environ.get("NEURON_GROUPS_STEPS", 513))
    view = mo.ui.anywidget(
        GroupWidget(
            "dog_cat",
            "mixed4d",
            6,
            ["Labrador retriever", "tiger cat"],
            icon_settings=IconSettings(steps=steps),
        )
    )
    view
    return (view,)


@app.cell
def _(mo, view):
    # Runs again whenever the widget changes a value (a pin, the groups, the classes).
    group = view.widget.selected_group
    result = view.widget.result
    if group < 0 or result is None:
        summary = "No group pinned: click a tile above."
    else:
        effects = ", ".join(
            f"{name} {value:+.3f}"
            for name, value in zip(result.classes, result.attributions[:, group], strict=True)
        )
        summary = f"Pinned group {group}: {effects}"
    mo.md(summary)
    return


if __name__ == "__main__":
    app.run()
