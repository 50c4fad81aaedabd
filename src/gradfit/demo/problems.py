"""The walk-through's two data sets and initial parameters, all drawn from one seed.

``SeedSequence(seed)`` is split into independent streams, one per random source, so
that each part of the demo sees the same data whether it runs alone or after another.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gradfit import datasets
from gradfit.datasets import Dataset

STREAMS = ("linear data", "sine data", "linear layer init", "network init")


def generators(seed: int) -> dict[str, np.random.Generator]:
    """One independent ``numpy.random.Generator`` per entry of :data:`STREAMS`."""
    children = np.random.SeedSequence(seed).spawn(len(STREAMS))
    return {name: np.random.default_rng(s) for name, s in zip(STREAMS, children, strict=True)}


@dataclass(frozen=True)
class Problems:
    """The linear problem (100 points, 50 sampled) and the sine problem (100, 20 sampled)."""

    linear: Dataset
    sine: Dataset


def problems(seed: int) -> Problems:
    """Both data sets with the walk-through's settings, drawn from ``seed``."""
    rngs = generators(seed)
    return Problems(
        linear=datasets.linear(rng=rngs["linear data"]),
        sine=datasets.sine(rng=rngs["sine data"]),
    )
