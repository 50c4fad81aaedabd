"""Accuracy per epoch, on the training rows and the validation rows: a trainer callback."""

from __future__ import annotations

from typing import Any

import numpy as np

from gradfit.engine.batches import pieces, share
from gradfit.engine.network import MLP
from gradfit.engine.training import Trainer
from gradfit.engine.types import Array
from gradfit.estimator._labels import Labels, n_right
from gradfit.io.arrays import CHUNK_ROWS, RowSource
from gradfit.io.streaming import Alone, Group

Rows = tuple[Array, Array] | RowSource
"""Rows to score: ``(X, Y)`` in memory, or a source read in pieces."""


class AccuracyCurve:
    """After every epoch, the accuracy of the trained model on the training rows and on
    the validation rows, at the parameters that epoch ended with.

    Parameters
    ----------
    net : MLP or Ensemble
        A network of the trained one's shape, used to predict (its values are
        overwritten); an ensemble's members vote with their mean probability.
    train : (X, Y) or RowSource
        The training rows as the network sees them (scaled), ``X: (n_samples, n_in)``,
        with their targets ``Y: (n_samples, n_outputs)``; or a source of them, of which
        each process of ``group`` scores its share, in pieces of ``chunk_rows``, and
        the processes add up their counts (so every process gets the same curve).
    validation : (X_val, Y_val), RowSource or None
    labels : Labels
    group : Group
        The processes training together (by default this one alone).
    accuracy, val_accuracy : list of float
        The curves so far (a warm start continues them).
    """

    def __init__(
        self,
        net: MLP,
        train: Rows,
        validation: Rows | None,
        labels: Labels,
        group: Group | None = None,
        *,
        accuracy: list[float],
        val_accuracy: list[float],
        chunk_rows: int = CHUNK_ROWS,
    ) -> None:
        self.net, self.train, self.validation, self.labels = net, train, validation, labels
        self.group, self.chunk_rows = group or Alone(), chunk_rows
        self.accuracy, self.val_accuracy = accuracy, val_accuracy

    def __call__(self, trainer: Trainer) -> None:
        self.net.set_parameters(trainer.stepper.get_parameters())
        self.accuracy.append(self._accuracy(self.train))
        if self.validation is not None:
            self.val_accuracy.append(self._accuracy(self.validation))

    def _accuracy(self, rows: Rows) -> float:
        if isinstance(rows, tuple):
            X, Y = rows
            return self._right(X, Y) / X.shape[-2]
        n, rank, world = rows.n_rows, self.group.rank, self.group.world
        right = 0.0
        for piece in pieces(share(slice(0, n), n, rank, world), self.chunk_rows):
            right += self._right(*rows.take(piece, self.net.dtype))
        return float(self.group.all_sum(np.array([float(right)]))[0]) / n

    def _right(self, X: Array, Y: Array) -> float:
        """Rows predicted right; for members' own rows, ``X: (K, n, n_in)``, the members'
        mean count of the rows each predicts right alone."""
        if X.ndim == 2:
            return n_right(self.labels.logits(self.net.forward(X)), Y, self.labels)
        outputs = self.net.forward(X)  # member k on its own rows X[k]
        labels = self.labels
        right = sum(n_right(labels.logits(o), y, labels) for o, y in zip(outputs, Y, strict=True))
        return right / X.shape[0]

    def state_dict(self) -> dict[str, Any]:
        """The curves (copies), for checkpoints."""
        return {"accuracy": list(self.accuracy), "val_accuracy": list(self.val_accuracy)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned."""
        self.accuracy[:] = [float(v) for v in state["accuracy"]]
        self.val_accuracy[:] = [float(v) for v in state["val_accuracy"]]
