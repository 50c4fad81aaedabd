"""The batch order: one chunk is ``rng.permutation(n)``; several keep each chunk together."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from gradfit.engine import MLP, SGD, NumpyStepper, Trainer, get_loss
from gradfit.engine.batches import count_rows, epoch_batches, pieces, share


def test_with_one_chunk_the_order_is_a_permutation_cut_into_batches() -> None:
    rng = np.random.default_rng(7)
    ours = [rows for _ in range(2) for rows in epoch_batches(np.array([0, 23]), 10, rng)]
    expected = np.random.default_rng(7)
    theirs = [
        p[i : i + 10] for p in (expected.permutation(23) for _ in range(2)) for i in (0, 10, 20)
    ]
    assert len(ours) == len(theirs) == 6
    for a, b in zip(ours, theirs, strict=True):
        assert_array_equal(a, b)


def test_the_trainer_draws_that_order() -> None:
    X = np.arange(46.0).reshape(23, 2)
    net = MLP([2, 1], rng=np.random.default_rng(0))
    stepper = NumpyStepper(net, X, X[:, :1], get_loss("mse"), SGD(net.parameters()))
    trainer = Trainer(stepper, batch_size=10, rng=np.random.default_rng(7))
    expected = np.random.default_rng(7).permutation(23)
    assert_array_equal(np.concatenate(list(trainer.batches())), expected)


def test_a_full_batch_is_none_and_unshuffled_batches_are_slices() -> None:
    rng = np.random.default_rng(0)
    assert list(epoch_batches(np.array([0, 5]), 5, rng)) == [None]
    assert list(epoch_batches(np.array([0, 5]), 9, rng)) == [None]
    got = list(epoch_batches(np.array([0, 3, 5]), 2, rng, shuffle=False))
    assert got == [slice(0, 2), slice(2, 4), slice(4, 6)]


def test_the_chunked_order_keeps_each_chunk_together() -> None:
    bounds = np.array([0, 7, 14, 21, 28])
    order = np.concatenate(list(epoch_batches(bounds, 5, np.random.default_rng(2))))
    assert sorted(order) == list(range(28))
    chunks = order // 7
    assert [len(set(chunks[i : i + 7])) for i in range(0, 28, 7)] == [1, 1, 1, 1]
    assert list(chunks) != sorted(chunks) or list(order) != sorted(order)


def test_bounds_must_cover_the_samples() -> None:
    X = np.zeros((4, 1))
    net = MLP([1, 1], rng=np.random.default_rng(0))
    stepper = NumpyStepper(net, X, X, get_loss("mse"), SGD(net.parameters()))
    with pytest.raises(ValueError, match="bounds must run from 0 to the 4 samples"):
        Trainer(stepper, rng=np.random.default_rng(0), bounds=np.array([0, 3]))


@pytest.mark.parametrize("rows", [None, slice(2, 9), np.array([4, 1, 7])])
def test_count_pieces_and_shares_cover_the_rows(rows: slice | np.ndarray | None) -> None:
    everything = np.arange(10)
    batch = everything if rows is None else everything[rows]
    assert count_rows(rows, 10) == len(batch)
    parts = [share(rows, 10, rank, 3) for rank in range(3)]
    assert_array_equal(np.concatenate([everything[p] for p in parts]), batch)
    whole = slice(0, 10) if rows is None else rows
    assert_array_equal(np.concatenate([everything[p] for p in pieces(whole, 2)]), batch)
