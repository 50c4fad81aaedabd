"""The dense layer: PyTorch's storage and init, ``X @ W.T + b``, and its own chain rule."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from gradfit.engine import Dense

from .finite_differences import numerical_gradient, relative_error


def test_stored_as_torch_stores_nn_linear() -> None:
    layer = Dense(3, 5, rng=np.random.default_rng(0))
    assert layer.W.shape == (5, 3)
    assert layer.b.shape == (5,)
    assert layer.W.dtype == layer.b.dtype == np.float64
    assert layer.dW.shape == (5, 3)
    assert layer.db.shape == (5,)


def test_init_is_uniform_within_one_over_root_fan_in() -> None:
    layer = Dense(16, 400, rng=np.random.default_rng(0))
    bound = 1 / 4  # 1/√16
    for p in (layer.W, layer.b):
        assert np.abs(p).max() <= bound
        # 6400 (or 400) uniform draws reach close to both ends and average near 0
        assert p.min() < -0.95 * bound
        assert p.max() > 0.95 * bound
    assert abs(layer.W.mean()) < 0.01
    assert abs(layer.W.std() - bound / np.sqrt(3)) < 0.005


def test_init_is_reproducible_from_the_generator_W_then_b() -> None:
    layer = Dense(2, 3, rng=np.random.default_rng(7))
    draws = np.random.default_rng(7).uniform(-1 / np.sqrt(2), 1 / np.sqrt(2), size=9)
    assert_array_equal(layer.W, draws[:6].reshape(3, 2))
    assert_array_equal(layer.b, draws[6:])


def test_forward_by_hand() -> None:
    layer = Dense(2, 2, rng=np.random.default_rng(0))
    layer.W[:] = [[1.0, 2.0], [-1.0, 0.5]]
    layer.b[:] = [0.5, -1.0]
    X = np.array([[1.0, 1.0], [2.0, -2.0], [0.0, 4.0]])
    assert_array_equal(layer.forward(X), [[3.5, -1.5], [-1.5, -4.0], [8.5, 1.0]])


def test_backward_by_hand() -> None:
    layer = Dense(2, 2, rng=np.random.default_rng(0))
    layer.W[:] = [[1.0, 2.0], [-1.0, 0.5]]
    X = np.array([[1.0, 1.0], [2.0, -2.0], [0.0, 4.0]])
    G = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, -1.0]])
    layer.forward(X)
    dX = layer.backward(G)
    assert_array_equal(layer.dW, [[1.0, 5.0], [2.0, -6.0]])  # Gᵀ X
    assert_array_equal(layer.db, [2.0, 0.0])  # column sums of G
    assert_array_equal(dX, [[1.0, 2.0], [-1.0, 0.5], [2.0, 1.5]])  # G W


@pytest.mark.parametrize("n_samples", [1, 9])
def test_backward_matches_finite_differences(n_samples: int) -> None:
    rng = np.random.default_rng(4)
    layer = Dense(4, 3, rng=rng)
    X = rng.normal(size=(n_samples, 4))
    G = rng.normal(size=(n_samples, 3))  # L = Σ G ⊙ Z

    def loss() -> float:
        return float(np.sum(G * layer.forward(X)))

    layer.forward(X)
    dX = layer.backward(G)
    for analytic, wrt in ((layer.dW, layer.W), (layer.db, layer.b), (dX, X)):
        assert relative_error(analytic, numerical_gradient(loss, wrt)) <= 1e-8


def test_backward_overwrites_rather_than_accumulates() -> None:
    rng = np.random.default_rng(5)
    layer = Dense(3, 2, rng=rng)
    X, G = rng.normal(size=(4, 3)), rng.normal(size=(4, 2))
    layer.forward(X)
    layer.backward(G)
    first = layer.dW.copy(), layer.db.copy()
    layer.backward(G)
    assert_allclose(layer.dW, first[0], rtol=0)
    assert_allclose(layer.db, first[1], rtol=0)


def test_float32_layer() -> None:
    layer = Dense(3, 2, rng=np.random.default_rng(0), dtype=np.float32)
    X = np.ones((4, 3), dtype=np.float32)
    Z = layer.forward(X)
    dX = layer.backward(np.ones_like(Z))
    assert {a.dtype for a in (layer.W, layer.b, Z, dX, layer.dW, layer.db)} == {np.dtype("f4")}


@pytest.mark.parametrize("n_in", [1, 3], ids=["one input: views", "three inputs: copies"])
def test_an_input_with_a_column_of_ones_folds_the_bias_in(n_in: int) -> None:
    # Z = [X 1][W b]ᵀ and [dW db] = Gᵀ[X 1]: the numbers of X Wᵀ + b, Gᵀ X and Gᵀ 1.
    from gradfit.engine import MLP

    rng = np.random.default_rng(5)
    net = MLP([n_in, 4, 2], "identity", rng=rng)  # W₁ and b₁ end to end in net.flat
    layer, twin = net.dense[0], Dense(n_in, 4, rng=rng)
    twin.W[...], twin.b[...] = layer.W, layer.b
    X, G = rng.normal(size=(7, n_in)), rng.normal(size=(7, 4))
    X1 = np.hstack([X, np.ones((7, 1))])
    assert_allclose(layer.forward(X1), twin.forward(X), rtol=1e-14)
    layer.parameter_gradients(G)
    twin.parameter_gradients(G)
    assert_allclose(layer.dW, twin.dW, rtol=1e-14)
    assert_allclose(layer.db, twin.db, rtol=1e-14)
    WbT, dWbT, copies = layer.joint()
    assert copies == (n_in != 1)
    assert np.shares_memory(WbT, net.flat) == np.shares_memory(dWbT, net.flat_grad) == (n_in == 1)
    layer.W += 1.0  # a copy is refilled at the next forward
    twin.W += 1.0
    assert_allclose(layer.forward(X1), twin.forward(X), rtol=1e-14)


def test_products_into_an_array_numpy_dot_cannot_write_still_land() -> None:
    from gradfit.engine.layers import matmul

    rng = np.random.default_rng(6)
    A, B = rng.normal(size=(5, 1)), rng.normal(size=(1, 3))
    out = np.empty((3, 5)).T  # Fortran order
    assert matmul(A, B, out) is out
    assert_array_equal(out, A * B)
    stack, C = rng.normal(size=(2, 5, 3)), rng.normal(size=(3, 4))
    assert_allclose(matmul(stack, C), np.matmul(stack, C), rtol=1e-14)
