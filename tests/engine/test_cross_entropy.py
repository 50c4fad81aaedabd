"""Softmax and sigmoid cross-entropy on logits: by hand, against finite differences,
against scikit-learn's log loss, and at logits that would overflow a naive formula."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from gradfit import DataError
from gradfit.engine import MLP, SGD, NumpyStepper, Trainer
from gradfit.engine.losses import BinaryCrossEntropy, CrossEntropy, Loss, get_loss

from .finite_differences import numerical_gradient, relative_error

LOSSES = [
    CrossEntropy(),
    CrossEntropy([0.5, 2.0, 1.0]),
    BinaryCrossEntropy(),
    BinaryCrossEntropy([0.25, 3.0]),
]
IDS = ["softmax", "softmax-weighted", "sigmoid", "sigmoid-weighted"]


def targets(loss: Loss, rng: np.random.Generator, n: int, k: int) -> np.ndarray:
    if isinstance(loss, CrossEntropy):
        return np.eye(k)[rng.integers(0, k, size=n)]
    return rng.integers(0, 2, size=(n, k)).astype(np.float64)


def test_softmax_cross_entropy_by_hand() -> None:
    # softmax([0, ln 3]) = [1/4, 3/4]; two samples of classes 1 and 0.
    Z = np.array([[0.0, np.log(3)], [0.0, np.log(3)]])
    Y = np.array([[0.0, 1.0], [1.0, 0.0]])
    value, G = CrossEntropy().value_and_gradient(Z, Y)
    assert_allclose(value, -(np.log(3 / 4) + np.log(1 / 4)) / 2, rtol=1e-15)
    # (P - Y) / n
    assert_allclose(G, [[0.125, -0.125], [-0.375, 0.375]], rtol=1e-15)


def test_class_weights_scale_each_samples_term() -> None:
    Z = np.array([[0.0, np.log(3)], [0.0, np.log(3)]])
    Y = np.array([[0.0, 1.0], [1.0, 0.0]])
    value, G = CrossEntropy([2.0, 5.0]).value_and_gradient(Z, Y)
    assert_allclose(value, -(5 * np.log(3 / 4) + 2 * np.log(1 / 4)) / 2, rtol=1e-15)
    # (P ⊙ s - Y ⊙ w) / n with s = 5 and 2
    assert_allclose(G, [[5 / 8, 5 * 3 / 8 - 5 / 2], [2 / 8 - 1, 2 * 3 / 8]], rtol=1e-15)


def test_binary_cross_entropy_by_hand() -> None:
    # z = 0: σ = 1/2, each term log 2; z = ln 3: σ = 3/4.
    Z, Y = np.array([[0.0], [np.log(3)]]), np.array([[1.0], [0.0]])
    value, G = BinaryCrossEntropy().value_and_gradient(Z, Y)
    assert_allclose(value, (np.log(2) - np.log(1 / 4)) / 2, rtol=1e-15)
    assert_allclose(G, [[(0.5 - 1) / 2], [0.75 / 2]], rtol=1e-15)
    value_w = BinaryCrossEntropy([3.0, 2.0]).value(Z, Y)
    assert_allclose(value_w, (2 * np.log(2) - 3 * np.log(1 / 4)) / 2, rtol=1e-15)


def test_the_mean_is_scikit_learns_log_loss() -> None:
    from sklearn.metrics import log_loss

    rng = np.random.default_rng(0)
    Z, labels = rng.normal(size=(20, 3)) * 2, rng.integers(0, 3, size=20)
    P = np.exp(Z) / np.exp(Z).sum(axis=1, keepdims=True)
    expected = log_loss(labels, P, labels=[0, 1, 2])
    assert_allclose(CrossEntropy().value(Z, np.eye(3)[labels]), expected, rtol=1e-12)
    z, y = Z[:, :1], (labels == 1).astype(float)
    expected = log_loss(y, 1 / (1 + np.exp(-z[:, 0])), labels=[0, 1])
    assert_allclose(BinaryCrossEntropy().value(z, y[:, None]), expected, rtol=1e-12)


@pytest.mark.parametrize("loss", LOSSES, ids=IDS)
def test_gradient_matches_finite_differences(loss: Loss) -> None:
    rng = np.random.default_rng(3)
    Z = rng.normal(size=(5, 3)) * 3
    Y = targets(loss, rng, 5, 3)
    numeric = numerical_gradient(lambda: loss.value(Z, Y), Z)
    assert relative_error(loss.gradient(Z, Y), numeric) <= 1e-8


@pytest.mark.parametrize("loss", LOSSES, ids=IDS)
def test_value_and_gradient_together_equal_each_alone_and_write_into_out(loss: Loss) -> None:
    rng = np.random.default_rng(4)
    Z = rng.normal(size=(6, 3))
    Y = targets(loss, rng, 6, 3)
    value, G = loss.value_and_gradient(Z.copy(), Y)
    assert value == loss.value(Z, Y)
    assert_array_equal(G, loss.gradient(Z, Y))
    out = Z.copy()
    value_out, G_out = loss.value_and_gradient(out, Y, out=out)
    assert G_out is out and value_out == value
    assert_array_equal(G_out, G)


def test_huge_logits_give_the_limits_not_nan() -> None:
    """A naive exp(1000) overflows; log-sum-exp and exp(-|z|) do not."""
    Z = np.array([[1000.0, -1000.0], [1000.0, 999.0]])
    Y = np.array([[0.0, 1.0], [1.0, 0.0]])
    value, G = CrossEntropy().value_and_gradient(Z, Y)
    assert_allclose(value, (2000 + np.log1p(np.exp(-1))) / 2, rtol=1e-15)
    assert np.isfinite(G).all()
    assert_allclose(G[0], [0.5, -0.5])
    z, y = np.array([[1000.0], [-1000.0], [-800.0]]), np.array([[0.0], [1.0], [0.0]])
    value, G = BinaryCrossEntropy().value_and_gradient(z, y)
    assert_allclose(value, 2000 / 3, rtol=1e-15)
    assert_allclose(G, [[1 / 3], [-1 / 3], [0.0]], atol=1e-300)


@pytest.mark.parametrize("loss", LOSSES, ids=IDS)
def test_float32_stays_float32(loss: Loss) -> None:
    rng = np.random.default_rng(5)
    Z = rng.normal(size=(4, 3)).astype(np.float32)
    Y = targets(loss, rng, 4, 3).astype(np.float32)
    assert loss.gradient(Z, Y).dtype == np.float32
    assert_allclose(loss.value(Z, Y), loss.value(Z.astype(float), Y.astype(float)), rtol=1e-6)


@pytest.mark.parametrize("loss", LOSSES, ids=IDS)
def test_a_flat_target_is_refused(loss: Loss) -> None:
    with pytest.raises(DataError, match=r"shape \(5, 1\).*shape \(5,\).*reshape"):
        loss.value_and_gradient(np.zeros((5, 1)), np.zeros(5))


def test_weights_of_the_wrong_length_are_refused() -> None:
    with pytest.raises(ValueError, match=r"3 non-negative numbers \(one per class\)"):
        CrossEntropy([1.0, 2.0]).value(np.zeros((2, 3)), np.eye(3)[:2])
    with pytest.raises(ValueError, match=r"2 non-negative numbers \(negative, positive\)"):
        BinaryCrossEntropy([1.0, -2.0]).value(np.zeros((2, 1)), np.ones((2, 1)))


def test_losses_by_name() -> None:
    assert isinstance(get_loss("cross_entropy"), CrossEntropy)
    assert isinstance(get_loss("binary_cross_entropy"), BinaryCrossEntropy)
    assert (CrossEntropy.reduction, BinaryCrossEntropy.reduction) == ("mean", "mean")
    assert repr(CrossEntropy([1, 2])) == "CrossEntropy(weight=(1.0, 2.0))"


def test_minibatch_losses_combine_into_the_mean_over_the_data() -> None:
    """With SGD at lr 0 the parameters stay put, so the epoch's loss (batch losses
    weighted by batch size) must equal the loss on all rows at once."""
    rng = np.random.default_rng(6)
    X, labels = rng.normal(size=(10, 2)), rng.integers(0, 3, size=10)
    Y = np.eye(3)[labels]
    net = MLP([2, 4, 3], "tanh", rng=rng)
    stepper = NumpyStepper(net, X, Y, CrossEntropy(), SGD(net.parameters(), lr=0.0))
    history = Trainer(stepper, batch_size=4, rng=np.random.default_rng(0)).fit(1)
    assert_allclose(history.loss[0], CrossEntropy().value(net.forward(X), Y), rtol=1e-14)
    assert history.loss_name == "cross_entropy"
