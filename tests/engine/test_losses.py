"""The sum and the mean of squared errors: values, gradients, and the shape trap."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from gradfit import DataError
from gradfit.engine import MSE, SSE, get_loss

from .finite_differences import numerical_gradient, relative_error

Y_HAT = np.array([[1.0, 0.5], [2.0, -1.0]])
Y = np.array([[0.0, 0.5], [4.0, 0.0]])
# residuals Ŷ - Y = [[1, 0], [-2, -1]]: squares 1 + 0 + 4 + 1 = 6 over N = 4 elements


def test_sse_by_hand() -> None:
    assert SSE().value(Y_HAT, Y) == 6.0
    assert_array_equal(SSE().gradient(Y_HAT, Y), [[2.0, 0.0], [-4.0, -2.0]])


def test_mse_averages_over_every_element() -> None:
    assert MSE().value(Y_HAT, Y) == 1.5
    assert_array_equal(MSE().gradient(Y_HAT, Y), [[0.5, 0.0], [-1.0, -0.5]])


@pytest.mark.parametrize("loss", [SSE(), MSE()], ids=["sse", "mse"])
def test_gradient_matches_finite_differences(loss: SSE | MSE) -> None:
    rng = np.random.default_rng(3)
    Y_hat, Y_ = rng.normal(size=(5, 3)), rng.normal(size=(5, 3))
    numeric = numerical_gradient(lambda: loss.value(Y_hat, Y_), Y_hat)
    assert relative_error(loss.gradient(Y_hat, Y_), numeric) <= 1e-8


@pytest.mark.parametrize("loss", [SSE(), MSE()], ids=["sse", "mse"])
@pytest.mark.parametrize("method", ["value", "gradient"])
def test_a_flat_target_against_a_column_of_predictions_is_refused(
    loss: SSE | MSE, method: str
) -> None:
    # (5,) against (5, 1) would broadcast to a (5, 5) matrix of wrong residuals.
    with pytest.raises(DataError, match=r"shape \(5, 1\).*shape \(5,\).*reshape"):
        getattr(loss, method)(np.zeros((5, 1)), np.zeros(5))


def test_float32_gradient_stays_float32() -> None:
    Y_hat = np.ones((4, 1), dtype=np.float32)
    assert MSE().gradient(Y_hat, np.zeros_like(Y_hat)).dtype == np.float32
    assert SSE().gradient(Y_hat, np.zeros_like(Y_hat)).dtype == np.float32


def test_losses_by_name() -> None:
    assert isinstance(get_loss("mse"), MSE)
    assert isinstance(get_loss("sse"), SSE)
    sse = SSE()
    assert get_loss(sse) is sse
    with pytest.raises(ValueError, match="unknown loss 'mae'"):
        get_loss("mae")


@pytest.mark.parametrize("loss", [SSE(), MSE()], ids=["sse", "mse"])
def test_value_and_gradient_together_equal_each_alone(loss: SSE | MSE) -> None:
    rng = np.random.default_rng(4)
    Y_hat, Y_ = rng.normal(size=(6, 2)), rng.normal(size=(6, 2))
    value, G = loss.value_and_gradient(Y_hat, Y_)
    assert value == loss.value(Y_hat, Y_)
    assert_array_equal(G, loss.gradient(Y_hat, Y_))
    with pytest.raises(DataError, match="reshape"):
        loss.value_and_gradient(np.zeros((5, 1)), np.zeros(5))
