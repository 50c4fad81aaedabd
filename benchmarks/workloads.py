"""The three workloads: their data, their shared initial parameters, and how they are scored.

Every contender trains the same network from the same ``[W1, b1, …]`` (PyTorch's layout,
``W: (n_out, n_in)``) on the same ``(X, Y)``; the harness then scores the parameters it
returns with one float64 loss, so a fast contender with a wrong answer shows it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from gradfit import datasets
from gradfit.engine import MLP, get_loss

Array = np.ndarray[Any, Any]


@dataclass(frozen=True)
class Workload:
    """One training problem, described so that every contender can run it.

    Attributes
    ----------
    key : str
        ``linear``, ``sine`` or ``large``.
    sizes : tuple of int
        ``(n_in, *hidden, n_out)``.
    optimizer : str
        ``sgd`` (plain full-batch gradient descent, no momentum) or ``adam`` (torch defaults
        but ``lr``).
    loss : str
        ``sse`` (sum of squared errors) or ``mse`` (mean squared error).
    epochs, batch_size : int, int or None
        ``None`` is full batch; minibatches are shuffled by ``np.random.default_rng(seed)``'s
        ``permutation`` every epoch, as gradfit's ``Trainer`` does.
    unit : str
        ``ms`` (whole run), ``us/step`` or ``s/epoch``: how the table reports the time.
    isolated : bool
        Run each contender in a fresh process, so its peak memory is its own.
    """

    key: str
    title: str
    sizes: tuple[int, ...]
    activation: str
    optimizer: str
    lr: float
    loss: str
    epochs: int
    batch_size: int | None
    dtype: str
    n_rows: int
    unit: str
    seed: int = 0
    isolated: bool = False

    @property
    def steps_per_epoch(self) -> int:
        return 1 if self.batch_size is None else math.ceil(self.n_rows / self.batch_size)

    @property
    def steps(self) -> int:
        return self.epochs * self.steps_per_epoch

    def per_unit(self, seconds: float) -> float:
        """``seconds`` for the whole run in the table's unit."""
        if self.unit == "us/step":
            return seconds / self.steps * 1e6
        if self.unit == "s/epoch":
            return seconds / self.epochs
        return seconds * 1e3

    def matmul_flops(self) -> float:
        """Floating-point operations of the matrix products in one run.

        Per layer and row: ``2·n_in·n_out`` forward, the same for ``dW``, and the same for
        ``dL/dX`` except in the first layer, whose input needs no gradient.
        """
        pairs = list(zip(self.sizes[:-1], self.sizes[1:], strict=True))
        per_row = sum(2 * a * b * (2 if i == 0 else 3) for i, (a, b) in enumerate(pairs))
        return float(per_row) * self.n_rows * self.epochs


LINEAR = Workload(
    key="linear",
    title="linear: 1 layer, 200 full-batch gradient-descent steps, SSE, lr 1e-4 (float64)",
    sizes=(1, 1),
    activation="identity",
    optimizer="sgd",
    lr=1e-4,
    loss="sse",
    epochs=200,
    batch_size=None,
    dtype="float64",
    n_rows=50,
    unit="ms",
)
SINE = Workload(
    key="sine",
    title="sine: 100 points, 1-64-1 ReLU, 1000 full-batch Adam steps, lr 0.01 (float64)",
    sizes=(1, 64, 1),
    activation="relu",
    optimizer="adam",
    lr=0.01,
    loss="mse",
    epochs=1000,
    batch_size=None,
    dtype="float64",
    n_rows=100,
    unit="us/step",
)
LARGE = Workload(
    key="large",
    title="large: 1,000,000 rows, 8-256-256-1 ReLU, Adam lr 1e-3, minibatch 1024, "
    "one epoch (float32)",
    sizes=(8, 256, 256, 1),
    activation="relu",
    optimizer="adam",
    lr=1e-3,
    loss="mse",
    epochs=1,
    batch_size=1024,
    dtype="float32",
    n_rows=1_000_000,
    unit="s/epoch",
    isolated=True,
)
WORKLOADS = {w.key: w for w in (LINEAR, SINE, LARGE)}


def quick(w: Workload) -> Workload:
    """A small version of ``w`` for the smoke test: same code paths, a fraction of the work."""
    if w.key == "large":
        return replace(w, n_rows=4096, title=w.title.replace("1,000,000", "4,096"))
    if w.key == "sine":
        return replace(w, epochs=50, title=w.title.replace("1000", "50"))
    return w


def data(w: Workload) -> tuple[Array, Array]:
    """``X: (n_rows, n_in)`` and ``Y: (n_rows, 1)`` of the workload's dtype."""
    rng = np.random.default_rng(w.seed)
    if w.key == "linear":
        # The walk-through: the 50 sampled points of the line, both standardised.
        d = datasets.linear(rng=rng)
        x, _ = datasets.scale(d.x_train)
        y, _ = datasets.scale(d.y_train)
    elif w.key == "sine":
        d = datasets.sine(n=w.n_rows, n_train=w.n_rows, rng=rng)
        x, y = d.x, d.y
    else:
        # Drawn in float32 directly: no float64 copy of the data set ever exists.
        dtype = np.dtype(w.dtype)
        X = rng.standard_normal((w.n_rows, w.sizes[0]), dtype=dtype)
        a = rng.standard_normal(w.sizes[0], dtype=dtype) / np.sqrt(w.sizes[0], dtype=dtype)
        Y = np.sin(2 * (X @ a)) + np.abs(X[:, 0]) - 0.8
        return X, Y.reshape(-1, 1).astype(dtype, copy=False)
    dtype = np.dtype(w.dtype)
    return x.reshape(-1, 1).astype(dtype), y.reshape(-1, 1).astype(dtype)


def initial_parameters(w: Workload) -> list[Array]:
    """``[W1, b1, …]`` every contender starts from.

    The linear workload starts at the walk-through's weights ``(1, 1)``; the others at
    PyTorch's default initialisation, drawn by gradfit's ``MLP`` from the workload's seed.
    """
    dtype = np.dtype(w.dtype)
    if w.key == "linear":
        return [np.ones((1, 1), dtype=dtype), np.ones(1, dtype=dtype)]
    net = MLP(w.sizes, w.activation, rng=np.random.default_rng(w.seed + 1), dtype=dtype)
    return [p.copy() for p in net.parameters()]


def held_out(w: Workload) -> tuple[Array, Array] | None:
    """For the large workload, 100,000 rows more from the same distribution (another seed
    for ``X``, the same function), on which the trained models are scored."""
    if w.key != "large":
        return None
    dtype = np.dtype(w.dtype)
    X, _ = data(replace(w, seed=w.seed + 1, n_rows=100_000))
    rng = np.random.default_rng(w.seed)  # replayed to the training data's direction a
    rng.standard_normal((w.n_rows, w.sizes[0]), dtype=dtype)
    a = rng.standard_normal(w.sizes[0], dtype=dtype) / np.sqrt(w.sizes[0], dtype=dtype)
    Y = np.sin(2 * (X @ a)) + np.abs(X[:, 0]) - 0.8
    return X, Y.reshape(-1, 1).astype(dtype, copy=False)


def final_loss(
    w: Workload, params: list[Array], X: Array, Y: Array, *, mean: bool = False
) -> float:
    """The workload's loss at ``params`` on all of ``(X, Y)``, in float64, in chunks
    (with ``mean``, the mean squared error whatever the workload's loss)."""
    net = MLP.from_parameters(w.sizes, w.activation, [np.asarray(p, np.float64) for p in params])
    loss = get_loss("sse")
    total = 0.0
    for start in range(0, X.shape[0], 65_536):
        rows = slice(start, start + 65_536)
        total += loss.value(net.forward(X[rows].astype(np.float64)), Y[rows].astype(np.float64))
    return total / Y.size if w.loss == "mse" or mean else total
