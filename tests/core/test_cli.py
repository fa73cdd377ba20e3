import numpy as np
import pytest

from neuron_groups import cli, load


@pytest.fixture(autouse=True)
def _model_loaded_once(inception):
    # load_model caches the network per process, so the CLI reuses the session's copy.
    return inception


def table_rows(out: str) -> list[str]:
    """The rows of the printed class table (after its title and header, before its note)."""
    lines = out.split("output classes")[1].splitlines()[2:]
    return lines[: next(i for i, line in enumerate(lines) if not line.strip() or ":" in line)]


def test_demo_prints_top5_and_table_and_writes_files(tmp_path, capsys):
    npz, page = tmp_path / "demo.npz", tmp_path / "demo.html"
    code = cli.main(["demo", "--no-icons", "--save", str(npz), "--out", str(page)])
    out = capsys.readouterr().out
    assert code == 0
    assert "1. golden retriever" in out and "2. Labrador retriever" in out
    table = out.split("output classes")[1].splitlines()
    assert "by integrated gradients" in table[0] and table[1].split()[-1] == "rest"
    assert table[2].startswith("Labrador retriever") and table[3].startswith("tiger cat")
    result = load(npz)
    assert result.attributions.shape == (2, 6) and result.attribution_method == "integrated"
    cells = [f"{v:.3f}" for v in (*result.attributions[0], result.rest[0])]
    assert table[2].split()[2:] == cells
    assert "mixed4d: 6 groups explain" in out and "stability of each group" in out
    assert "<html" in page.read_text()


def test_the_linear_table_is_the_articles_and_disagreements_are_warned(tmp_path, capsys):
    npz = tmp_path / "linear.npz"
    args = ["dog_cat", "--layer", "mixed4a", "--groups", "6", "--attribution", "linear"]
    assert cli.main([*args, "--no-icons", "--save", str(npz)]) == 0
    out = capsys.readouterr().out
    result = load(npz)
    assert "by linear attribution (the article's)" in out and "rest" not in table_rows(out)[0]
    np.testing.assert_array_equal(result.attributions, result.tables["linear"])
    from neuron_groups.attribution import sign_disagreements

    expected = sign_disagreements(result.tables["linear"], result.tables["ablation"]).sum()
    assert out.count("warning: for ") == expected


def test_the_command_reads_uncompiled_and_gets_the_compiled_numbers(
    tmp_path, inception, monkeypatch
):
    """One reading per process: the command runs it without a trace, with the same result."""
    from neuron_groups.pipeline import neuron_groups

    compiled_at_read = []
    read = inception.read

    def spy(*args, **kwargs):
        compiled_at_read.append(inception.compile_readings)
        return read(*args, **kwargs)

    monkeypatch.setattr(inception, "read", spy)
    npz = tmp_path / "demo.npz"
    assert cli.main(["demo", "--no-icons", "--save", str(npz)]) == 0
    assert compiled_at_read == [False]
    assert inception.compile_readings  # the process's shared model is left as it was
    monkeypatch.undo()
    demo = cli.DEMO
    compiled = neuron_groups(
        demo["image"], demo["layer"], demo["groups"], demo["classes"], model=inception, icons=False
    )
    eager = load(npz)
    np.testing.assert_allclose(eager.attributions, compiled.attributions, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(eager.channel, compiled.channel, rtol=1e-4, atol=1e-5)


def test_options_and_default_classes(capsys):
    assert cli.main(["flowers", "--groups", "3", "--layer", "mixed4c", "--no-icons"]) == 0
    out = capsys.readouterr().out
    assert "1. lemon" in out
    assert len(table_rows(out)) == 5  # the top 5


def test_bad_input_is_one_line_not_a_traceback(capsys):
    assert cli.main(["dog_cat", "--layer", "mixed9", "--no-icons"]) == 2
    err = capsys.readouterr().err
    assert "error: Unknown layer 'mixed9'" in err and "Traceback" not in err
    assert cli.main(["no/such/file.png", "--no-icons"]) == 2
    assert "No image file" in capsys.readouterr().err
    assert cli.main(["demo", "--classes", "tigger cat", "--no-icons"]) == 2
    assert "tiger cat" in capsys.readouterr().err


def test_classes_by_index(capsys):
    assert cli.main(["dog_cat", "--classes", "208", "282", "--no-icons", "--groups", "2"]) == 0
    out = capsys.readouterr().out
    rows = table_rows(out)
    assert [r.split()[0] for r in rows] == ["Labrador", "tiger"]
    assert np.isfinite([float(v) for v in rows[0].split()[2:]]).all()


def test_unwritable_output_fails_before_any_work(tmp_path, capsys, monkeypatch):
    import neuron_groups.reading

    monkeypatch.setattr(neuron_groups.reading, "ImageReading", None)  # must not be reached
    missing = tmp_path / "no" / "such" / "page.html"
    assert cli.main(["demo", "--no-icons", "--out", str(missing)]) == 2
    err = capsys.readouterr().err
    assert f"Cannot write {missing}" in err and "does not exist" in err


@pytest.mark.parametrize("groups", ["0", "-2", "two"])
def test_bad_group_counts_fail_at_once(groups, capsys, monkeypatch):
    import neuron_groups.models

    monkeypatch.setattr(neuron_groups.models, "load_model", None)  # must not be reached
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["dog_cat", "--groups", groups, "--no-icons"])
    assert exit_info.value.code == 2
    assert "--groups" in capsys.readouterr().err


def test_too_many_groups_is_an_error_not_a_default(capsys):
    assert cli.main(["dog_cat", "--groups", "500", "--no-icons"]) == 2
    err = capsys.readouterr().err
    assert "between 1 and 16" in err and "Nearest valid: 16" in err


def test_negative_steps_fail_before_the_model_loads(capsys, monkeypatch):
    import neuron_groups.models

    monkeypatch.setattr(neuron_groups.models, "load_model", None)  # must not be reached
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["dog_cat", "--steps", "-1"])
    assert exit_info.value.code == 2
    assert "--steps" in capsys.readouterr().err


def fake_render_icons(asked: list):
    def render(model, layer, directions, settings, **kwargs):
        asked.append(settings)
        return np.zeros((len(directions), settings.size, settings.size, 3), np.float32)

    return render


def test_zero_steps_is_a_value_not_unset(monkeypatch, tmp_path, capsys):
    import neuron_groups.icons

    asked = []
    monkeypatch.setattr(neuron_groups.icons, "render_icons", fake_render_icons(asked))
    monkeypatch.setenv("NEURON_GROUPS_ICON_CACHE", "off")
    assert cli.main(["dog_cat", "--groups", "2", "--steps", "0"]) == 0
    assert [settings.steps for settings in asked] == [0]


def test_cached_icons_are_said_to_come_from_the_cache(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("NEURON_GROUPS_ICON_CACHE", str(tmp_path / "icons"))
    npz = tmp_path / "first.npz"
    assert cli.main(["dog_cat", "--groups", "2", "--steps", "2", "--save", str(npz)]) == 0
    first = capsys.readouterr().err
    assert "2/2" in first and "from the cache" not in first
    again = tmp_path / "again.npz"
    assert cli.main(["dog_cat", "--groups", "2", "--steps", "2", "--save", str(again)]) == 0
    second = capsys.readouterr().err
    assert "Icons: from the cache" in second and "0/2" not in second
    np.testing.assert_array_equal(load(again).icons, load(npz).icons)


def test_a_class_named_twice_is_one_row(capsys):
    assert cli.main(["dog_cat", "--classes", "Labrador retriever", "208", "--no-icons"]) == 0
    rows = table_rows(capsys.readouterr().out)
    assert [r.split()[0] for r in rows] == ["Labrador"]


# -- several layers ------------------------------------------------------------------------------


def test_demo_layers_prints_flows_and_writes_every_layer(tmp_path, capsys):
    npz, page = tmp_path / "layers.npz", tmp_path / "layers.html"
    assert cli.main(["demo-layers", "--no-icons", "--save", str(npz), "--out", str(page)]) == 0
    out = capsys.readouterr().out
    saved = load(npz)
    assert saved.layers == ["mixed4a", "mixed4d"] and saved.counts == [5, 6]
    assert saved.classes == ["Labrador retriever", "tiger cat"]
    table = out.split("output classes")[1].splitlines()
    assert table[2].startswith("Labrador retriever") and table[3].startswith("tiger cat")
    flows = out.split(
        "Flows from the groups at mixed4a to the groups at mixed4d by integrated gradients "
        "(largest 10):"
    )
    rows = flows[1].strip().split("\n\n")[0].splitlines()
    assert rows[0].split() == ["from", "to", "flow"] and len(rows) == 11
    values = saved.flows[("mixed4a", "mixed4d")]
    i, j = np.unravel_index(np.abs(values).argmax(), values.shape)
    assert rows[1].split() == ["mixed4a", str(i), "mixed4d", str(j), f"{values[i, j]:.3f}"]
    with np.load(npz, allow_pickle=False) as data:
        assert data["flow_mixed4a_mixed4d"].shape == (5, 6)
        assert data["spatial_mixed4a"].shape == (5, 14, 14)
        assert data["channel_mixed4d"].shape == (6, 528)
    text = page.read_text()
    assert '"earlier_layers":[{"layer":"mixed4a"' in text and '"from":"mixed4a"' in text


def test_one_groups_value_applies_to_every_layer(tmp_path, capsys):
    npz = tmp_path / "two.npz"
    args = ["flowers", "--layer", "mixed4b", "mixed4c", "--groups", "3", "--no-icons"]
    assert cli.main([*args, "--save", str(npz)]) == 0
    assert load(npz).counts == [3, 3]
    assert "Flows from the groups at mixed4b to the groups at mixed4c" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--layer", "mixed4a", "mixed4d", "--groups", "5", "6", "7"], "--groups 6 6"),
        (["--groups", "5", "6"], "2 values for 1 layer (mixed4d)"),
        (["--layer", "mixed3a", "mixed3b", "mixed4a", "mixed4b", "mixed4c"], "at most 4 layers"),
    ],
)
def test_layer_and_group_mismatches_fail_before_the_model_loads(args, message, capsys, monkeypatch):
    import neuron_groups.models

    monkeypatch.setattr(neuron_groups.models, "load_model", None)  # must not be reached
    assert cli.main(["dog_cat", *args, "--no-icons"]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_layers_out_of_order_name_the_fix(capsys, monkeypatch):
    import neuron_groups.reading

    monkeypatch.setattr(neuron_groups.reading, "ImageReading", None)  # no pass is made
    assert cli.main(["dog_cat", "--layer", "mixed4d", "mixed4a", "--no-icons"]) == 2
    assert "Write ['mixed4a', 'mixed4d']" in capsys.readouterr().err


def test_the_fast_and_lucid_flags_choose_the_presets(monkeypatch, capsys):
    import neuron_groups.icons
    from neuron_groups import IconSettings

    asked = []
    monkeypatch.setattr(neuron_groups.icons, "render_icons", fake_render_icons(asked))
    monkeypatch.setenv("NEURON_GROUPS_ICON_CACHE", "off")
    assert cli.main(["dog_cat", "--groups", "2", "--fast"]) == 0
    assert cli.main(["dog_cat", "--groups", "2", "--fast", "--steps", "7"]) == 0
    assert cli.main(["dog_cat", "--groups", "2", "--lucid"]) == 0
    assert cli.main(["dog_cat", "--groups", "2", "--lucid", "--fast"]) == 0
    fast = IconSettings.fast()
    assert asked[0] == fast and asked[1].steps == 7 and asked[1].beta2 == fast.beta2
    assert asked[2] == IconSettings.lucid() and asked[3] == IconSettings.lucid(steps=256)


def test_fit_saves_shared_groups_and_names_skipped_files(tmp_path, capsys, shared):
    import shutil

    from neuron_groups import load_groups

    folder = tmp_path / "photos"
    folder.mkdir()
    for name in ("dog_cat", "flowers", "chair"):
        shutil.copy(shared / "images" / f"{name}.png", folder / f"{name}.png")
    (folder / "notes.png").write_bytes(b"not an image")
    out = tmp_path / "groups.npz"
    assert cli.main(["fit", str(folder), "--groups", "3", "--save", str(out)]) == 0
    captured = capsys.readouterr()
    assert "3 images, 1 skipped" in captured.out and "skipped" in captured.err
    assert "notes.png" in captured.err
    groups = load_groups(out)
    assert groups.channel.shape == (3, 528) and groups.n_images == 3


def test_fit_needs_a_place_to_save(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["fit", "dog_cat.png"])
    assert exit_info.value.code == 2 and "--save" in capsys.readouterr().err


def test_help_names_every_command(capsys):
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    out = capsys.readouterr().out
    for command in ("neuron-groups fit", "neuron-groups export", "demo-layers", "demo "):
        assert command in out
    assert "1 to 16" in out  # the group rule, as the widget states it


def test_a_fit_takes_one_layer(capsys, monkeypatch):
    import neuron_groups.models

    monkeypatch.setattr(neuron_groups.models, "load_model", None)  # must not be reached
    code = cli.main(["fit", "photos", "--layer", "mixed4a", "mixed4d", "--save", "g.npz"])
    err = capsys.readouterr().err
    assert code == 2 and "A fit finds groups at one layer" in err and "--layer mixed4d" in err


def test_export_is_a_command(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["export", "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: neuron-groups export") and "--assets-only" in out
