"""Each activation's forward against its formula and its backward against finite differences."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from gradfit.engine import ACTIVATIONS, Identity, ReLU, Sigmoid, Tanh
from gradfit.engine.activations import get_activation

from .finite_differences import numerical_gradient, relative_error

FORMULAS = {
    "identity": lambda z: z,
    "relu": lambda z: np.maximum(z, 0),
    "tanh": np.tanh,
    "sigmoid": lambda z: 1 / (1 + np.exp(-z)),
}


def test_the_four_activations_are_registered_by_name() -> None:
    assert {"identity": Identity, "relu": ReLU, "tanh": Tanh, "sigmoid": Sigmoid} == ACTIVATIONS
    assert isinstance(get_activation("tanh"), Tanh)
    with pytest.raises(ValueError, match=r"unknown activation 'softplus'.*identity, relu"):
        get_activation("softplus")


@pytest.mark.parametrize("name", sorted(FORMULAS))
def test_forward_matches_the_formula(name: str) -> None:
    Z = np.random.default_rng(1).normal(0, 3, size=(7, 4))
    assert_allclose(get_activation(name).forward(Z), FORMULAS[name](Z), rtol=1e-15)


@pytest.mark.parametrize("name", sorted(FORMULAS))
def test_backward_matches_finite_differences(name: str) -> None:
    rng = np.random.default_rng(2)
    Z = rng.normal(0, 2, size=(6, 3))
    Z[np.abs(Z) < 1e-3] = 0.5  # keep ReLU's kink out of reach of the perturbation
    G = rng.normal(size=Z.shape)  # dL/dA, so L = Σ G ⊙ f(Z)
    f = get_activation(name)
    f.forward(Z)
    analytic = f.backward(G)
    numeric = numerical_gradient(lambda: float(np.sum(G * FORMULAS[name](Z))), Z)
    assert relative_error(analytic, numeric) <= 1e-8


def test_relu_derivative_at_zero_is_zero_as_torch() -> None:
    f = ReLU()
    f.forward(np.array([[-1.0, 0.0, 2.0]]))
    assert_array_equal(f.backward(np.ones((1, 3))), [[0.0, 0.0, 1.0]])


def test_sigmoid_saturates_without_overflow() -> None:
    f = Sigmoid()
    with np.errstate(over="raise"):
        A = f.forward(np.array([[-1000.0, -40.0, 0.0, 40.0, 1000.0]]))
    assert_allclose(A, [[0.0, np.exp(-40.0) / (1 + np.exp(-40.0)), 0.5, 1.0, 1.0]], rtol=1e-15)
    assert_array_equal(f.backward(np.ones((1, 5)))[0, [0, 4]], [0.0, 0.0])


@pytest.mark.parametrize("name", sorted(FORMULAS))
def test_float32_stays_float32(name: str) -> None:
    Z = np.linspace(-3, 3, 12, dtype=np.float32).reshape(4, 3)
    f = get_activation(name)
    assert f.forward(Z).dtype == np.float32
    assert f.backward(np.ones_like(Z)).dtype == np.float32


@pytest.mark.parametrize("cls", [Identity, ReLU], ids=["identity", "relu"])
def test_the_element_forms_the_kernel_compiles_are_forward_and_derivative(
    cls: type[Identity | ReLU],
) -> None:
    Z = np.array([[-2.0, -0.0, 0.0, 1e-300, 3.5, -np.inf, np.inf, np.nan]])
    f = cls()
    with np.errstate(invalid="ignore"):
        A = f.forward(Z.copy())
        by_element = np.array([[cls.element(float(z)) for z in Z[0]]])
    np.testing.assert_array_equal(by_element, A)
    finite = np.isfinite(Z[0])
    slopes = np.array([cls.element_slope(float(a)) for a in A[0]])
    np.testing.assert_array_equal(slopes[finite], f.derivative()[0][finite])
