"""The walk-through's two problems, and standardisation like R's ``scale()``.

Every random draw comes from the ``rng`` the caller passes (a
``numpy.random.Generator`` or an integer seed).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gradfit.engine.types import Array

Seed = np.random.Generator | int | None


def as_generator(rng: Seed) -> np.random.Generator:
    """``rng`` itself, or a new Generator seeded with it."""
    return rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)


@dataclass(frozen=True)
class Dataset:
    """A one-input regression problem.

    Attributes
    ----------
    x, y : (n,) arrays
        Inputs on an even grid and noisy observations.
    truth : (n,) array
        The noise-free function at ``x``.
    train : (n_train,) int array
        The rows sampled (without replacement) as the training set.
    """

    x: Array
    y: Array
    truth: Array
    train: Array

    @property
    def x_train(self) -> Array:
        return self.x[self.train]

    @property
    def y_train(self) -> Array:
        return self.y[self.train]


def linear(
    n: int = 100,
    n_train: int = 50,
    *,
    slope: float = 2.0,
    intercept: float = 3.0,
    noise_sd: float = 2.0,
    low: float = -10.0,
    high: float = 10.0,
    rng: Seed = None,
) -> Dataset:
    """``x`` evenly on ``[low, high]``, ``y ~ N(slope x + intercept, noise_sd)``, as the post."""
    gen = as_generator(rng)
    x = np.linspace(low, high, n)
    truth = slope * x + intercept
    y = truth + gen.normal(0.0, noise_sd, size=n)
    return Dataset(x, y, truth, np.sort(gen.choice(n, size=n_train, replace=False)))


def sine(
    n: int = 100,
    n_train: int = 20,
    *,
    amplitude: float = 4.0,
    noise_sd: float = 1.0,
    low: float = -5.0,
    high: float = 5.0,
    rng: Seed = None,
) -> Dataset:
    """``x`` evenly on ``[low, high]``, ``y ~ N(amplitude sin x, noise_sd)``, as the post."""
    gen = as_generator(rng)
    x = np.linspace(low, high, n)
    truth = amplitude * np.sin(x)
    y = truth + gen.normal(0.0, noise_sd, size=n)
    return Dataset(x, y, truth, np.sort(gen.choice(n, size=n_train, replace=False)))


@dataclass(frozen=True)
class Standardizer:
    """``z = (a - center) / scale`` per column, as R's ``scale()`` (sample sd, ``ddof=1``).

    Attributes
    ----------
    center, scale : arrays broadcastable against the data
    """

    center: Array
    scale: Array

    @classmethod
    def fit(cls, a: Array) -> Standardizer:
        """Column means and sample standard deviations of ``a: (n,)`` or ``(n, k)``."""
        a = np.asarray(a, dtype=np.float64)
        sd = a.std(axis=0, ddof=1)
        # A constant column has sd 0; leave it centred rather than divide by zero.
        return cls(center=a.mean(axis=0), scale=np.where(sd > 0, sd, 1.0))

    def transform(self, a: Array) -> Array:
        return (np.asarray(a, dtype=np.float64) - self.center) / self.scale

    def inverse_transform(self, z: Array) -> Array:
        return np.asarray(z, dtype=np.float64) * self.scale + self.center


def scale(a: Array) -> tuple[Array, Standardizer]:
    """Standardise ``a`` like R's ``scale(a)``; returns ``(z, standardizer)`` to invert it."""
    s = Standardizer.fit(a)
    return s.transform(a), s
