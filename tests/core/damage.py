"""Damaged copies of a saved file (truncated, bits flipped), and what every loader must do."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from neuron_groups.errors import NeuronGroupsError


def damaged_copies(raw: bytes, seed: int = 0, flips: int = 40) -> Iterator[tuple[str, bytes]]:
    """(what, bytes): ``raw`` cut at several lengths, and with one bit flipped at a time.

    The cuts include nothing, the first byte, the middle and the last byte missing; the
    flips hit the start (the first member's header), the end (the zip directory) and
    ``flips`` seeded random places (mostly array data).
    """
    rng = np.random.default_rng(seed)
    for cut in (0, 1, 30, len(raw) // 3, len(raw) // 2, len(raw) - 30, len(raw) - 1):
        yield f"cut at {cut} of {len(raw)} bytes", raw[:cut]
    ends = [0, 5, 8, 26, 40, len(raw) - 20, len(raw) - 10, len(raw) - 2]
    for offset in [*ends, *rng.integers(0, len(raw), flips)]:
        damaged = bytearray(raw)
        damaged[offset] ^= 1 << int(rng.integers(8))
        yield f"bit flipped at {offset}", bytes(damaged)


def assert_every_damage_is_refused(
    path: Path, load: Callable[[Path], object], same: Callable[[object], bool]
) -> int:
    """Damage ``path`` every way; each load raises the package's error naming the file.

    A flip that lands on a field no reader uses (a timestamp) may load: then the result must
    equal the original (``same``). Returns how many damaged copies were refused.
    """
    raw = path.read_bytes()
    refused = 0
    for what, damaged in damaged_copies(raw):
        path.write_bytes(damaged)
        try:
            loaded = load(path)
        except NeuronGroupsError as exc:
            message = str(exc)
            assert str(path) in message, (what, message)
            assert "truncated or corrupt" in message, (what, message)
            assert "delete it" in message.lower(), (what, message)
            refused += 1
        else:
            assert same(loaded), f"{what}: loaded something else"
    path.write_bytes(raw)
    return refused
