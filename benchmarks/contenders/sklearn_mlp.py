"""scikit-learn's ``MLPRegressor``, started from the shared parameters.

scikit-learn draws its own initial weights, so a one-iteration ``fit`` on a few rows
builds the model, the shared parameters are written into ``coefs_``/``intercepts_``
(transposed: scikit-learn stores ``(n_in, n_out)``), and ``warm_start=True`` makes the
timed ``fit`` keep them while it builds a fresh optimizer. Its loss is
``½·mean((ŷ - y)²)``, so its gradient is the workload's scaled by ``1/(2n)`` (SSE) or
``½`` (MSE): plain gradient descent gets ``lr`` scaled up by as much, so it takes the
same steps, and Adam — blind to a gradient's scale except through ε — gets ε scaled
down, so it takes nearly the same ones (scikit-learn's bias correction also divides ε
by ``√(1 - β₂ᵗ)``). No shuffling (scikit-learn would draw its own order), no early
stopping, no L2 penalty.
"""

from __future__ import annotations

import importlib.util
import warnings
from collections.abc import Callable

from workloads import Array, Workload

LABEL = "scikit-learn MLPRegressor"


def missing() -> str | None:
    if importlib.util.find_spec("sklearn") is None:
        return "scikit-learn is not installed"
    return None


def prepare(w: Workload, X: Array, Y: Array, init: list[Array]) -> Callable[[], list[Array]]:
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPRegressor

    n = X.shape[0]
    gradient_scale = 2 * (n if w.loss == "sse" else 1)
    est = MLPRegressor(
        hidden_layer_sizes=w.sizes[1:-1],
        activation="relu" if w.activation == "relu" else "identity",
        solver=w.optimizer,
        alpha=0.0,
        batch_size=w.batch_size or n,
        learning_rate_init=w.lr * gradient_scale if w.optimizer == "sgd" else w.lr,
        epsilon=1e-8 / gradient_scale,
        momentum=0.0,
        nesterovs_momentum=False,
        max_iter=1,
        shuffle=False,
        tol=0.0,
        n_iter_no_change=w.epochs + 1,
        warm_start=True,
        random_state=0,
    )
    y = Y.ravel()
    few = min(n, w.batch_size or n, 64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(X[:few], y[:few])
    est.coefs_ = [W.T.copy() for W in init[0::2]]
    est.intercepts_ = [b.copy() for b in init[1::2]]
    est.set_params(max_iter=w.epochs)

    def run() -> list[Array]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            est.fit(X, y)
        return [p for W, b in zip(est.coefs_, est.intercepts_, strict=True) for p in (W.T, b)]

    return run
