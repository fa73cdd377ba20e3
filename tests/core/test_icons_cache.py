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
    import os

    written = []

    def crash_before_the_rename(source, target):
        written.append(os.path.getsize(source))  # the temporary file was written whole
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", crash_before_the_rename)
    with pytest.raises(KeyboardInterrupt):
        render_icons(FakeModel(), "conv", DIRECTIONS, SETTINGS, cache=tmp_path)
    assert written and written[0] > 2 * 6 * 6 * 3 * 4
    assert entries(tmp_path) == []  # no entry, no temporary file, no lock file


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


# -- damaged entries -----------------------------------------------------------------------------


def damaged_copies(raw: bytes, seed: int = 0):
    """(what, bytes): the entry cut at several lengths, and with single bytes flipped."""
    rng = np.random.default_rng(seed)
    for cut in (0, 1, 60, 128, len(raw) // 2, len(raw) - 13, len(raw) - 1):
        yield f"cut at {cut}", raw[:cut]
    offsets = [0, 10, 70, 200, len(raw) - 5, *rng.integers(0, len(raw), 20)]
    for offset in offsets:
        damaged = bytearray(raw)
        damaged[offset] ^= 1 << int(rng.integers(8))
        yield f"bit flipped at {offset}", bytes(damaged)


def test_a_truncated_or_flipped_entry_is_a_miss_rendered_and_written_again(tmp_path):
    model = FakeModel()
    good = render_icons(model, "conv", DIRECTIONS, SETTINGS, cache=tmp_path)
    (entry,) = tmp_path.iterdir()
    raw = entry.read_bytes()
    cases = list(damaged_copies(raw))
    for n, (what, damaged) in enumerate(cases, start=2):
        entry.write_bytes(damaged)
        assert cached_icons(model, "conv", DIRECTIONS, SETTINGS, cache=tmp_path) is None, what
        again = render_icons(model, "conv", DIRECTIONS, SETTINGS, cache=tmp_path)
        assert model.icon_calls == n, what  # rendered again, not read from the damaged file
        np.testing.assert_array_equal(again, good)
        assert entry.read_bytes() == raw, what  # and written again, whole
    assert len(cases) == 32 and entries(tmp_path) == [entry.name]


def test_an_entry_without_its_checksum_is_a_miss(tmp_path):
    model = FakeModel()
    good = render_icons(model, "conv", DIRECTIONS, SETTINGS, cache=tmp_path)
    (entry,) = tmp_path.iterdir()
    np.save(entry, good)  # the right icons, as an older version wrote them: no CRC footer
    assert cached_icons(model, "conv", DIRECTIONS, SETTINGS, cache=tmp_path) is None


# -- several writers -----------------------------------------------------------------------------

WRITER = """
import sys, time
from pathlib import Path

import numpy as np

from neuron_groups.backends.base import IconHooks, IconSettings
from neuron_groups.icons import render_icons
from tests.fakes import FakeModel

folder, log, go = (Path(arg) for arg in sys.argv[1:4])


def note(word):
    with log.open("a") as f:
        f.write(word + "\\n")


class SlowModel(FakeModel):
    def render_icons(self, *args, **kwargs):
        note("render")
        deadline = time.monotonic() + 120
        while not go.exists() and time.monotonic() < deadline:  # held until the test says
            time.sleep(0.05)
        return super().render_icons(*args, **kwargs)


def asked_to_stop():
    note("asked")
    return False


directions = np.arange(16, dtype=np.float32).reshape(2, 8) / 16
icons = render_icons(
    SlowModel(), "conv", directions, IconSettings(size=6, steps=3), cache=folder,
    hooks=IconHooks(should_stop=asked_to_stop),
)
np.save(log.with_suffix(".npy"), icons)
note("done")
"""


def wait_for(path, words, seconds: float = 120.0) -> str:
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        text = path.read_text() if path.exists() else ""
        if any(word in text.split() for word in words):
            return text
        time.sleep(0.05)
    raise AssertionError(f"{path} never said any of {words}")


def test_two_processes_asking_for_the_same_icons_render_them_once(tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    import neuron_groups

    repo = Path(__file__).resolve().parents[2]
    package_root = Path(neuron_groups.__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(package_root), str(repo)])}
    folder, go = tmp_path / "cache", tmp_path / "go"
    logs = [tmp_path / "first.log", tmp_path / "second.log"]

    def start(log):
        args = [sys.executable, "-c", WRITER, str(folder), str(log), str(go)]
        return subprocess.Popen(args, env=env, cwd=repo, stderr=subprocess.PIPE, text=True)

    first = start(logs[0])
    try:
        wait_for(logs[0], ["render"])  # the first holds the entry's lock, rendering
        second = start(logs[1])
        try:
            # The second waits on the lock (asking whether to stop), or renders (no lock).
            wait_for(logs[1], ["asked", "render"])
            go.touch()
            for process in (first, second):
                assert process.wait(timeout=120) == 0, process.stderr.read()
        finally:
            second.kill()
    finally:
        first.kill()
    assert "render" in logs[0].read_text().split()
    assert "render" not in logs[1].read_text().split()  # it read the first one's entry
    icons = [np.load(log.with_suffix(".npy")) for log in logs]
    np.testing.assert_array_equal(icons[0], icons[1])
    assert entries(folder) == [f"{cache_key(FakeModel(), 'conv', DIRECTIONS, SETTINGS)}.npy"]
    np.testing.assert_array_equal(
        cached_icons(FakeModel(), "conv", DIRECTIONS, SETTINGS, cache=folder), icons[0]
    )


def test_two_threads_asking_for_the_same_icons_both_finish_with_one_render(tmp_path):
    import threading

    model = FakeModel(step_delay=0.05)
    settings = IconSettings(size=6, steps=20)
    results = {}

    def run(name):
        results[name] = render_icons(model, "conv", DIRECTIONS, settings, cache=tmp_path)

    threads = [threading.Thread(target=run, args=(name,)) for name in ("a", "b")]
    threads[0].start()
    assert model.started.wait(30)  # the first is rendering (and holds the lock)
    threads[1].start()
    for thread in threads:
        thread.join(60)
    assert sorted(results) == ["a", "b"] and model.icon_calls == 1
    np.testing.assert_array_equal(results["a"], results["b"])


def test_waiting_for_another_writer_can_be_cancelled(tmp_path):
    from filelock import FileLock

    model = FakeModel()
    key = cache_key(model, "conv", DIRECTIONS, SETTINGS)
    asked = []

    def stop():
        asked.append(1)
        return len(asked) >= 2

    hooks = IconHooks(should_stop=stop)
    another_writer = FileLock(str(tmp_path / f"{key}.npy.lock"))
    with another_writer, pytest.raises(Cancelled, match="waiting for another process"):
        render_icons(model, "conv", DIRECTIONS, SETTINGS, cache=tmp_path, hooks=hooks)
    assert model.icon_calls == 0
