"""The sum and the mean of squared errors: values, gradients, and the shape trap."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from gradfit import DataError
from gradfit.engine import MSE, SSE, get_loss
from gradfit.engine.losses import BinaryCrossEntropy, CrossEntropy, Loss

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


LOSS_NAMES = ["mse", "sse", "gaussian_nll", "cross_entropy", "binary_cross_entropy"]


def _pair(name: str, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Outputs and targets of ``n`` rows that the loss ``name`` takes."""
    if name == "gaussian_nll":
        return rng.normal(size=(n, 4)), rng.normal(size=(n, 2))
    if name == "cross_entropy":
        return rng.normal(size=(n, 3)), np.eye(3)[rng.integers(0, 3, n)]
    if name == "binary_cross_entropy":
        return rng.normal(size=(n, 2)), rng.integers(0, 2, (n, 2)).astype(float)
    return rng.normal(size=(n, 2)), rng.normal(size=(n, 2))


@pytest.mark.parametrize("name", LOSS_NAMES)
def test_batch_weights_add_the_batches_up_to_the_epochs_loss(name: str) -> None:
    loss, rng = get_loss(name), np.random.default_rng(0)
    Y_hat, Y = _pair(name, 10, rng)
    parts = [slice(0, 4), slice(4, 7), slice(7, 10)]
    combined = sum(
        loss.value(Y_hat[p], Y[p]) * loss.batch_weight(p.stop - p.start, 10) for p in parts
    )
    assert combined == pytest.approx(loss.value(Y_hat, Y), rel=1e-14)


PIECEWISE = [
    MSE(),
    SSE(),
    CrossEntropy(),
    CrossEntropy([1.0, 2.5, 0.5]),
    BinaryCrossEntropy(),
    BinaryCrossEntropy([1.0, 3.0]),
]


@pytest.mark.parametrize("loss", PIECEWISE, ids=repr)
def test_pieces_summed_then_reduced_are_the_batchs_loss_and_gradient(loss: Loss) -> None:
    rng = np.random.default_rng(1)
    Y_hat, Y = _pair(loss.name, 9, rng)
    summed = loss.summed()
    assert summed.reduction == "sum" and summed.summed() is summed
    # The sum of the rows' terms: the mean times the rows (times the labels for BCE).
    assert summed.value(Y_hat, Y) == pytest.approx(loss.total(loss.value(Y_hat, Y), Y.shape))
    total, grads = 0.0, []
    for p in (slice(0, 5), slice(5, 9)):
        value, G = summed.value_and_gradient(Y_hat[p], Y[p])
        total += value
        grads.append(G * loss.gradient_scale(Y.shape))
    assert loss.reduce(total, Y.shape) == pytest.approx(loss.value(Y_hat, Y), rel=1e-14)
    np.testing.assert_allclose(np.vstack(grads), loss.gradient(Y_hat, Y), rtol=1e-14)


def test_reduction_constants_by_hand() -> None:
    mse, sse = MSE(), SSE()
    assert (mse.reduce(6.0, (2, 2)), sse.reduce(6.0, (2, 2))) == (1.5, 6.0)
    assert (mse.gradient_scale((2, 2)), sse.gradient_scale((2, 2))) == (0.25, 1.0)
    assert (mse.batch_weight(3, 12), sse.batch_weight(3, 12)) == (0.25, 1.0)
    assert (mse.divisor((2, 2)), sse.divisor((2, 2))) == (4, 1)
    assert (mse.total(1.5, (2, 2)), sse.total(6.0, (2, 2))) == (6.0, 6.0)
    # A cross-entropy averages over rows, not over classes.
    assert get_loss("cross_entropy").gradient_scale((4, 3)) == 0.25


@pytest.mark.parametrize("name", LOSS_NAMES[:2])
def test_members_factor_turns_the_stacked_loss_into_the_sum_over_members(name: str) -> None:
    loss, rng, K = get_loss(name), np.random.default_rng(2), 3
    Y_hat = rng.normal(size=(K, 5, 2))
    Y = rng.normal(size=(5, 2))
    stacked = loss.value(Y_hat, np.broadcast_to(Y, Y_hat.shape))
    each = [loss.value(Y_hat[k], Y) for k in range(K)]
    assert stacked * loss.members_factor(K) == pytest.approx(sum(each), rel=1e-14)
    assert loss.members_mean(stacked, K) == pytest.approx(np.mean(each), rel=1e-14)
    G = loss.gradient(Y_hat, np.broadcast_to(Y, Y_hat.shape)) * loss.members_factor(K)
    np.testing.assert_allclose(G[1], loss.gradient(Y_hat[1], Y), rtol=1e-14)
