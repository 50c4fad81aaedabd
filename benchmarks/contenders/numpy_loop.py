"""A minimal hand-written NumPy loop: what a reader of the walk-through would write.

Forward, backward and the textbook Adam (or ``p -= lr * g``), one expression per line,
with the loss of every step kept as the walk-through's loop keeps it.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from workloads import Array, Workload

LABEL = "hand-written NumPy"


def missing() -> str | None:
    return None


def prepare(w: Workload, X: Array, Y: Array, init: list[Array]) -> Callable[[], list[Array]]:
    Ws, bs = [p.copy() for p in init[0::2]], [p.copy() for p in init[1::2]]
    params = [p for pair in zip(Ws, bs, strict=True) for p in pair]
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    n, B = X.shape[0], w.batch_size or X.shape[0]
    relu = w.activation == "relu"
    beta1, beta2, eps = 0.9, 0.999, 1e-8

    def step(Xb: Array, Yb: Array, t: int) -> float:
        As = [Xb]
        for i, (W, b) in enumerate(zip(Ws, bs, strict=True)):
            Z = As[-1] @ W.T + b
            As.append(np.maximum(Z, 0) if relu and i < len(Ws) - 1 else Z)
        R = As[-1] - Yb
        loss = float(np.sum(R * R))
        G = 2 * R
        if w.loss == "mse":
            loss, G = loss / R.size, G / R.size
        grads = []
        for i in reversed(range(len(Ws))):
            grads = [G.T @ As[i], G.sum(axis=0), *grads]
            if i > 0:
                G = G @ Ws[i]
                if relu:
                    G = G * (As[i] > 0)
        for j, (p, g) in enumerate(zip(params, grads, strict=True)):
            if w.optimizer == "sgd":
                p -= w.lr * g
                continue
            m[j] = beta1 * m[j] + (1 - beta1) * g
            v[j] = beta2 * v[j] + (1 - beta2) * g * g
            m_hat = m[j] / (1 - beta1**t)
            v_hat = v[j] / (1 - beta2**t)
            p -= w.lr * m_hat / (np.sqrt(v_hat) + eps)
        return loss

    def run() -> list[Array]:
        rng = np.random.default_rng(w.seed)
        losses, t = [], 0
        for _ in range(w.epochs):
            order = rng.permutation(n) if n > B else None
            for start in range(0, n, B):
                t += 1
                if order is None:
                    losses.append(step(X, Y, t))
                else:
                    rows = order[start : start + B]
                    losses.append(step(X[rows], Y[rows], t))
        return params

    return run
