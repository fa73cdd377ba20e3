"""The icon-cache identity of a model comes from its weights unless a backend says otherwise."""

from __future__ import annotations

import numpy as np

from tests.fakes import FakeModel


class PlainModel(FakeModel):
    """A VisionModel that does not override ``identity``: it gets the base class's."""

    name = "plain"


def test_equal_weights_share_an_identity_and_different_weights_do_not():
    first, second = PlainModel(), PlainModel()
    assert "identity" not in vars(PlainModel) and "identity" not in vars(FakeModel)
    assert first.identity == second.identity
    assert first.identity.startswith("plain-")
    changed = PlainModel()
    changed.head = changed.head.copy()
    changed.head[0, 0] += 1e-3
    assert changed.identity != first.identity


def test_the_shape_and_dtype_of_the_weights_count_too():
    first, reshaped, wider = PlainModel(), PlainModel(), PlainModel()
    reshaped.head = first.head.reshape(8, -1)  # the same bytes, another shape
    wider.head = first.head.astype(np.float64)
    assert len({first.identity, reshaped.identity, wider.identity}) == 3


def test_the_identity_is_computed_once_and_weights_identity_anew():
    model = PlainModel()
    before = model.identity
    model.head = model.head + 1
    assert model.identity == before  # kept: the weights of a built model are fixed
    assert model.weights_identity() != before
