"""An ensemble's one-hidden-layer, one-output members stepped on the cores, compiled.

The members share nothing they write, so numba's ``prange`` can give each core some of them:
each computes what :func:`~gradfit.engine.kernel.rank_one.rank_one_step`'s loop over them
would, bit for bit (:class:`~gradfit.engine.kernel.stepper.EnsembleKernelStepper` chooses
between the two by the clock, :class:`~gradfit.engine.pace.Pace`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import prange

from gradfit.engine.kernel.cache import jit
from gradfit.engine.kernel.elements import SUMS
from gradfit.engine.kernel.rank_one import BLOCK, rank_one_member


@jit(fastmath=SUMS, parallel=True)
def rank_one_members(
    X: Any,
    Y: Any,
    rows: Any,
    flat: Any,
    grad: Any,
    sizes: Any,
    work: Any,
    code: int,
    divisor: int,
    losses: Any,
) -> None:  # pragma: no cover - compiled
    """:func:`~gradfit.engine.kernel.rank_one.rank_one_step`'s members on the cores: each
    member's step, :func:`~gradfit.engine.kernel.rank_one.rank_one_member`, in its own
    slice of ``work`` (``K`` times :func:`~gradfit.engine.kernel.rank_one.rank_one_work`),
    its loss into ``losses[m]``."""
    n_in, hidden = sizes[0], sizes[1]
    K = flat.size // (hidden * (n_in + 2) + 1)
    W1, b1, w2 = 0, K * hidden * n_in, K * hidden * (n_in + 1)
    b2 = K * hidden * (n_in + 2)
    size, own_work = hidden * n_in, (2 * n_in + BLOCK) * hidden
    for member in prange(K):
        m = np.int64(member)  # prange's index may be unsigned: min with a signed one is a float
        own = rows[min(m, rows.shape[0] - 1)]
        W, b, u, at = W1 + m * size, b1 + m * hidden, w2 + m * hidden, m * own_work
        losses[m] = rank_one_member(
            X, Y, own, flat[W : W + size], flat[b : b + hidden], flat[u : u + hidden],
            flat[b2 + m], grad[W : W + size], grad[b : b + hidden], grad[u : u + hidden],
            grad[b2 + m : b2 + m + 1], work[at : at + own_work], code, divisor,
        )  # fmt: skip
