"""The icon disk cache (numpy only): keys, hits, corrupt entries, cancellation, switches."""

from __future__ import annotations

import numpy as np
import pytest

from neuron_groups.backends.base import IconHooks, IconSettings
from neuron_groups.errors import Cancelled
from neuron_groups.icons import (
    ICON_CACHE_ENV,
    cache_key,
    cached_icons,
    icon_cache_folder,
    render_icons,
)
from tests.fakes import FakeModel

SETTINGS = IconSettings(size=6, steps=3)
DIRECTIONS = np.arange(16, dtype=np.float32).reshape(2, 8) / 16


def entries(folder):
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_a_hit_returns_the_stored_icons_without_rendering(tmp_path):
    model = FakeModel()
    first = render_icons(model, "conv", DIRECTIONS, SETTINGS, cache=tmp_path)
    calls = []
    again = render_icons(
        model,
        "conv",
        DIRECTIONS,
        SETTINGS,
        cache=tmp_path,
        hooks=IconHooks(progress=lambda *a: calls.append(a)),
    )
    assert model.icon_calls == 1 and calls == []
    assert first.shape == (2, 6, 6, 3) and first.dtype == np.float32
    np.testing.assert_array_equal(first, again)
    assert len(entries(tmp_path)) == 1 and entries(tmp_path)[0].endswith(".npy")


def test_cached_icons_looks_up_without_rendering(tmp_path):
    model = FakeModel()
    assert cached_icons(model, "conv", DIRECTIONS, SETTINGS, cache=tmp_path) is None
    assert model.icon_calls == 0 and entries(tmp_path) == []
    rendered = render_icons(model, "conv", DIRECTIONS, SETTINGS, cache=tmp_path)
    found = cached_icons(model, "block/conv", DIRECTIONS, SETTINGS, cache=tmp_path)
    np.testing.assert_array_equal(found, rendered)
    assert cached_icons(model, "conv", DIRECTIONS * 2, SETTINGS, cache=tmp_path) is None
    assert cached_icons(model, "conv", DIRECTIONS, SETTINGS, cache=False) is None
    assert model.icon_calls == 1


def test_the_alias_of_a_layer_shares_its_entry(tmp_path):
    model = FakeModel()
    render_icons(model, "conv", DIRECTIONS, SETTINGS, cache=tmp_path)
    render_icons(model, "block/conv", DIRECTIONS, SETTINGS, cache=tmp_path)
    assert model.icon_calls == 1


@pytest.mark.parametrize(
    "change",
    [
        {"settings": IconSettings(size=6, steps=4)},
        {"settings": IconSettings(size=6, steps=3, seed=1)},
        {"settings": IconSettings(size=6, steps=3, transforms="none")},
        {"directions": DIRECTIONS * 2},
        {"directions": DIRECTIONS[:1]},
    ],
)
def test_anything_that_changes_the_icons_changes_the_key(tmp_path, change):
    model = FakeModel()
    render_icons(model, "conv", DIRECTIONS, SETTINGS, cache=tmp_path)
    render_icons(
        model,
        "conv",
        change.get("directions", DIRECTIONS),
        change.get("settings", SETTINGS),
        cache=tmp_path,
    )
    assert model.icon_calls == 2 and len(entries(tmp_path)) == 2


def test_the_key_depends_on_the_weights_identity():
    model, other = FakeModel(), FakeModel()
    other.name = "fake-retrained"
    assert cache_key(model, "conv", DIRECTIONS, SETTINGS) != cache_key(
        other, "conv", DIRECTIONS, SETTINGS
    )
    # float64 input hashes as the same float32 vectors
    assert cache_key(model, "conv", DIRECTIONS.astype(np.float64), SETTINGS) == cache_key(
        model, "conv", DIRECTIONS, SETTINGS
    )


@pytest.mark.parametrize("garbage", [b"", b"not an npy file", None])
def test_a_corrupt_entry_is_ignored_and_replaced(tmp_path, garbage):
    model = FakeModel()
    good = render_icons(model, "conv", DIRECTIONS, SETTINGS, cache=tmp_path)
    (entry,) = tmp_path.iterdir()
    if garbage is None:  # a valid .npy of the wrong shape
        np.save(entry, np.zeros((1, 2, 2, 3), np.float32))
    else:
        entry.write_bytes(garbage)
    again = render_icons(model, "conv", DIRECTIONS, SETTINGS, cache=tmp_path)
    assert model.icon_calls == 2
    np.testing.assert_array_equal(good, again)
    np.testing.assert_array_equal(np.load(entry), good)


def test_cancelling_leaves_no_entry_and_no_temporary_file(tmp_path):
    model = FakeModel()
    asked = []

    def stop():
        asked.append(1)
        return len(asked) > 2

    with pytest.raises(Cancelled):
        render_icons(
            model, "conv", DIRECTIONS, SETTINGS, cache=tmp_path, hooks=IconHooks(should_stop=stop)
        )
    assert entries(tmp_path) == []


def test_a_crash_while_writing_leaves_no_entry(tmp_path, monkeypatch):
    def broken_save(f, array):
        f.write(b"\x93NUMPY half")
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "save", broken_save)
    with pytest.raises(KeyboardInterrupt):
        render_icons(FakeModel(), "conv", DIRECTIONS, SETTINGS, cache=tmp_path)
    assert entries(tmp_path) == []


def test_cache_false_never_touches_the_disk(tmp_path, monkeypatch):
    monkeypatch.setenv(ICON_CACHE_ENV, str(tmp_path))
    model = FakeModel()
    render_icons(model, "conv", DIRECTIONS, SETTINGS, cache=False)
    render_icons(model, "conv", DIRECTIONS, SETTINGS, cache=False)
    assert model.icon_calls == 2 and entries(tmp_path) == []


def test_the_folder_comes_from_the_argument_then_the_environment_then_the_user_cache(
    tmp_path, monkeypatch
):
    monkeypatch.setenv("NEURON_GROUPS_CACHE", str(tmp_path / "user"))
    monkeypatch.delenv(ICON_CACHE_ENV, raising=False)
    assert icon_cache_folder(True) == tmp_path / "user" / "icons"
    assert icon_cache_folder(str(tmp_path / "mine")) == tmp_path / "mine"
    monkeypatch.setenv(ICON_CACHE_ENV, str(tmp_path / "env"))
    assert icon_cache_folder(True) == tmp_path / "env"
    assert icon_cache_folder(tmp_path / "mine") == tmp_path / "mine"
    for off in ("off", "0", "OFF"):
        monkeypatch.setenv(ICON_CACHE_ENV, off)
        assert icon_cache_folder(True) is None
    assert icon_cache_folder(False) is None


def test_the_default_folder_is_used_and_the_environment_can_turn_it_off(tmp_path, monkeypatch):
    monkeypatch.setenv("NEURON_GROUPS_CACHE", str(tmp_path))
    monkeypatch.delenv(ICON_CACHE_ENV, raising=False)
    model = FakeModel()
    render_icons(model, "conv", DIRECTIONS, SETTINGS)
    assert len(entries(tmp_path / "icons")) == 1
    monkeypatch.setenv(ICON_CACHE_ENV, "off")
    render_icons(model, "conv", DIRECTIONS * 3, SETTINGS)
    assert model.icon_calls == 2 and len(entries(tmp_path / "icons")) == 1


def test_an_unwritable_folder_warns_and_still_returns_the_icons(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.warns(UserWarning, match="Could not cache"):
        icons = render_icons(FakeModel(), "conv", DIRECTIONS, SETTINGS, cache=blocker / "icons")
    assert icons.shape == (2, 6, 6, 3)


def test_icons_py_imports_no_framework():
    import subprocess
    import sys

    code = "import sys, neuron_groups.icons; print('tensorflow' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_bad_directions_are_refused(tmp_path):
    with pytest.raises(ValueError, match=r"\(n, C\)"):
        render_icons(FakeModel(), "conv", DIRECTIONS[0], SETTINGS, cache=tmp_path)
