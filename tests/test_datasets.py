"""The walk-through's two problems and R-style standardisation."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from gradfit import datasets


def test_linear_defaults_are_the_posts() -> None:
    data = datasets.linear(rng=0)
    assert data.x.shape == data.y.shape == data.truth.shape == (100,)
    assert_allclose(data.x, np.linspace(-10, 10, 100), rtol=0, atol=0)
    assert_allclose(data.truth, 2 * data.x + 3, rtol=1e-15)
    noise = data.y - data.truth
    assert 1.6 < noise.std(ddof=1) < 2.4  # N(0, 2)
    assert abs(noise.mean()) < 0.6
    assert data.train.shape == (50,)
    assert np.unique(data.train).size == 50
    assert_array_equal(data.train, np.sort(data.train))
    assert data.train.min() >= 0 and data.train.max() < 100
    assert_array_equal(data.x_train, data.x[data.train])
    assert_array_equal(data.y_train, data.y[data.train])


def test_sine_defaults_are_the_posts() -> None:
    data = datasets.sine(rng=0)
    assert data.x.shape == data.y.shape == (100,)
    assert data.x[0] == -5.0 and data.x[-1] == 5.0
    assert_allclose(data.truth, 4 * np.sin(data.x), rtol=1e-15)
    assert 0.75 < (data.y - data.truth).std(ddof=1) < 1.25  # N(0, 1)
    assert data.train.shape == (20,)
    assert np.unique(data.train).size == 20


def test_options_are_honoured() -> None:
    data = datasets.linear(30, 10, slope=-1.0, intercept=0.5, noise_sd=0.0, low=0, high=3, rng=0)
    assert_allclose(data.x, np.linspace(0, 3, 30))
    assert_allclose(data.y, 0.5 - data.x, rtol=1e-15)
    assert data.train.size == 10
    data = datasets.sine(n=7, n_train=7, amplitude=2.0, noise_sd=0.0, rng=0)
    assert_allclose(data.y, 2 * np.sin(np.linspace(-5, 5, 7)), rtol=1e-15)
    assert_array_equal(data.train, np.arange(7))


@pytest.mark.parametrize("make", [datasets.linear, datasets.sine])
def test_reproducible_from_a_seed_or_generator(make: Callable[..., datasets.Dataset]) -> None:
    a, b, c = make(rng=3), make(rng=np.random.default_rng(3)), make(rng=4)
    assert_array_equal(a.y, b.y)
    assert_array_equal(a.train, b.train)
    assert not np.array_equal(a.y, c.y)
    assert not np.array_equal(a.train, c.train)
    # A generator passed in is drawn from, so two calls with it give two different samples.
    gen = np.random.default_rng(3)
    assert not np.array_equal(make(rng=gen).y, make(rng=gen).y)


def test_scale_matches_r() -> None:
    # R: scale(c(1, 2, 3, 4)) gives -1.1618950 -0.3872983 0.3872983 1.1618950,
    # attr "scaled:center" 2.5, "scaled:scale" 1.290994 (the sample sd)
    z, s = datasets.scale(np.array([1.0, 2.0, 3.0, 4.0]))
    assert_allclose(z, [-1.1618950, -0.3872983, 0.3872983, 1.1618950], atol=5e-8)
    assert s.center == 2.5
    assert_allclose(s.scale, np.sqrt(5 / 3), rtol=1e-15)


def test_scale_per_column_and_its_inverse() -> None:
    a = np.random.default_rng(0).normal(5, 3, size=(40, 3))
    z, s = datasets.scale(a)
    assert_allclose(z.mean(axis=0), 0, atol=1e-15)
    assert_allclose(z.std(axis=0, ddof=1), 1, rtol=1e-14)
    assert_allclose(z, (a - a.mean(axis=0)) / a.std(axis=0, ddof=1), rtol=1e-15)
    assert_allclose(s.inverse_transform(z), a, rtol=1e-15, atol=1e-14)
    assert_allclose(s.transform(a[:5]), z[:5], rtol=0, atol=0)


def test_a_constant_column_is_centred_not_divided_by_zero() -> None:
    z, s = datasets.scale(np.array([[1.0, 7.0], [2.0, 7.0], [3.0, 7.0]]))
    assert_array_equal(z[:, 1], [0.0, 0.0, 0.0])
    assert_array_equal(s.inverse_transform(z)[:, 1], [7.0, 7.0, 7.0])
