"""Central finite differences, the reference every analytic gradient is checked against."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def numerical_gradient(f: Callable[[], float], A: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """``dF/dA`` by central differences, perturbing ``A`` in place (and restoring it)."""
    grad = np.empty(A.shape)
    for i in np.ndindex(A.shape):
        old = A[i]
        A[i] = old + h
        up = f()
        A[i] = old - h
        down = f()
        A[i] = old
        grad[i] = (up - down) / (2 * h)
    return grad


def relative_error(analytic: np.ndarray, numeric: np.ndarray) -> float:
    """``max |a - n| / max(max |a|, max |n|)``: 0 when both are 0."""
    scale = max(np.abs(analytic).max(), np.abs(numeric).max())
    return 0.0 if scale == 0 else float(np.abs(analytic - numeric).max() / scale)
