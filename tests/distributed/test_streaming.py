"""The NumPy engine stepped on a file in pieces equals the engine trained in memory."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_allclose

from gradfit.engine import MLP, SGD, Adam, Trainer, train
from gradfit.engine.losses import get_loss
from gradfit.io.arrays import NpyRows
from gradfit.io.streaming import SourceStepper


@pytest.mark.parametrize(("batch_size", "loss"), [(16, "mse"), (None, "sse")])
def test_engine_from_a_npy_file_in_pieces_equals_the_engine_in_memory(
    tmp_path: Path, batch_size: int | None, loss: str
) -> None:
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, size=(50, 2))
    Y = np.hstack([np.sin(3 * X[:, :1]), X[:, 1:] ** 2])
    np.save(tmp_path / "d.npy", np.hstack([X, Y]))
    # One chunk for the order (so it is the Trainer's), pieces of 5 rows per read.
    source = NpyRows(tmp_path / "d.npy", target=["2", "3"], chunk_rows=50)
    ours = MLP([2, 6, 2], "tanh", rng=np.random.default_rng(1))
    theirs = ours.copy()
    lr = 0.05 if loss == "mse" else 1e-3
    make = Adam if batch_size else SGD
    stepper = SourceStepper(
        ours, source, get_loss(loss), make(ours.parameters(), lr=lr), chunk_rows=5
    )
    trainer = Trainer(
        stepper, bounds=source.bounds, batch_size=batch_size, rng=np.random.default_rng(2)
    )
    h_ours = trainer.fit(4)
    h_theirs = train(
        theirs,
        X,
        Y,
        optimizer=make(theirs.parameters(), lr=lr),
        epochs=4,
        loss=loss,
        batch_size=batch_size,
        rng=np.random.default_rng(2),
    )
    assert_allclose(h_ours.loss, h_theirs.loss, rtol=1e-12)
    for p, q in zip(ours.parameters(), theirs.parameters(), strict=True):
        assert_allclose(p, q, rtol=1e-10, atol=1e-14)
    assert h_ours.loss[-1] < h_ours.loss[0]
    # The validation loss of a source, read in pieces, is the loss of its arrays.
    assert_allclose(stepper.evaluate(source), stepper.evaluate(X, Y), rtol=1e-12)
