"""The Gaussian NLL head: its value by hand, its gradient by finite differences and
torch's ``GaussianNLLLoss``, and the errors it raises."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

from gradfit.engine import MLP, Adam, GaussianNLL, get_loss, train
from gradfit.engine.losses import head_width, softplus_with_slope
from gradfit.errors import DataError

from .finite_differences import numerical_gradient, relative_error


def test_value_worked_by_hand() -> None:
    # One target y = 1, mean 3, raw variance s = 0: v = log 2 + 1e-6.
    v = np.log(2) + 1e-6
    expected = 0.5 * (np.log(v) + 4 / v)
    assert GaussianNLL().value(np.array([[3.0, 0.0]]), np.array([[1.0]])) == pytest.approx(
        expected, rel=1e-14
    )


def test_softplus_and_its_slope() -> None:
    S = np.array([-800.0, -3.0, 0.0, 2.0, 20.0, 20.5, 800.0])
    value, slope = softplus_with_slope(S)
    assert_allclose(value[1:5], np.log1p(np.exp(S[1:5])), rtol=1e-15)
    assert value[0] == 0.0 and value[-1] == 800.0 and value[5] == 20.5  # torch's threshold
    assert_allclose(slope[1:5], 1 / (1 + np.exp(-S[1:5])), rtol=1e-15)
    assert slope[0] == 0.0 and slope[5] == 1.0 and slope[-1] == 1.0


def test_one_target_at_a_time_as_the_batch_computes_it() -> None:
    """``element``, the compiled kernel's form, gives each target's term and gradients as
    ``value_and_gradient`` over the batch: below and above softplus's threshold of 20, and
    on both sides of 0."""
    loss = GaussianNLL(min_variance=1e-3)
    mu = np.array([0.3, -1.2, 2.0, 0.0, 5.0])
    s = np.array([-3.0, 0.0, 0.7, 25.0, -40.0])
    y = np.array([0.1, 0.4, -2.0, 1.0, 5.5])
    value, G = loss.value_and_gradient(np.column_stack([mu, s]), y[:, None])
    N = len(y)
    terms = [loss.element(*args, N, 1e-3) for args in zip(mu, s, y, strict=True)]
    assert_allclose(0.5 * sum(t[0] for t in terms) / N, value, rtol=1e-14)
    assert_allclose([t[1] for t in terms], G[:, 0], rtol=1e-14)
    assert_allclose([t[2] for t in terms], G[:, 1], rtol=1e-14, atol=1e-300)


@pytest.mark.parametrize("shape", [(6, 2), (3, 6, 2)], ids=["one network", "three members"])
def test_gradient_against_finite_differences(shape: tuple[int, ...]) -> None:
    rng = np.random.default_rng(0)
    Y_hat = rng.normal(size=(*shape[:-1], 2 * shape[-1]))
    Y = rng.normal(size=shape)
    loss = GaussianNLL()
    G = loss.gradient(Y_hat, Y)
    numeric = numerical_gradient(lambda: loss.value(Y_hat, Y), Y_hat)
    assert relative_error(G, numeric) < 1e-8


def test_matches_torch_gaussian_nll_loss_with_softplus() -> None:
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    Y_hat, Y = rng.normal(scale=3, size=(9, 4)), rng.normal(size=(9, 2))
    Y_hat[0, 2], Y_hat[1, 3] = 25.0, -30.0  # either side of softplus's threshold
    value, G = GaussianNLL().value_and_gradient(Y_hat, Y)
    T = torch.tensor(Y_hat, requires_grad=True)
    var = torch.nn.functional.softplus(T[:, 2:]) + 1e-6
    expected = torch.nn.GaussianNLLLoss()(T[:, :2], torch.tensor(Y), var)
    expected.backward()
    assert value == pytest.approx(expected.item(), rel=1e-14)
    assert_allclose(G, T.grad.numpy(), rtol=1e-13, atol=1e-16)


def test_out_may_be_the_predictions_themselves() -> None:
    rng = np.random.default_rng(2)
    Y_hat, Y = rng.normal(size=(5, 2)), rng.normal(size=(5, 1))
    value, G = GaussianNLL().value_and_gradient(Y_hat.copy(), Y)
    into = Y_hat.copy()
    value_in, G_in = GaussianNLL().value_and_gradient(into, Y, out=into)
    assert G_in is into and value_in == value
    assert_allclose(G_in, G, rtol=0, atol=0)


def test_mean_and_variance_of_the_head() -> None:
    mu, var = GaussianNLL(min_variance=0.5).mean_and_variance(np.array([[2.0, -1.0, 0.0, 30.0]]))
    assert_allclose(mu, [[2.0, -1.0]])
    assert_allclose(var, [[np.log(2) + 0.5, 30.5]])


def test_an_odd_width_or_wrong_targets_are_one_clear_error() -> None:
    with pytest.raises(DataError, match="even number of columns; got 3"):
        GaussianNLL().value(np.zeros((4, 3)), np.zeros((4, 1)))
    with pytest.raises(DataError, match=r"mean predictions have shape \(4, 2\)"):
        GaussianNLL().value(np.zeros((4, 4)), np.zeros((4, 1)))


def test_head_width_and_lookup_by_name() -> None:
    assert isinstance(get_loss("gaussian_nll"), GaussianNLL)
    assert head_width(get_loss("gaussian_nll"), 3) == 6 and head_width(get_loss("mse"), 3) == 3
    with pytest.raises(ValueError, match="choose one of sse, mse, gaussian_nll, cross_entropy"):
        get_loss("nll")


def test_training_learns_the_noise_level() -> None:
    """y = 2x + N(0, 0.5²): the head's variance goes to 0.25 and its mean to 2x."""
    rng = np.random.default_rng(3)
    X = rng.uniform(-1, 1, size=(4000, 1))
    Y = 2 * X + rng.normal(0, 0.5, size=X.shape)
    net = MLP([1, 2], "identity", rng=rng)
    train(net, X, Y, optimizer=Adam(net.parameters(), lr=0.05), epochs=400,
          loss="gaussian_nll", log_every=None)  # fmt: skip
    mu, var = GaussianNLL().mean_and_variance(net.forward(np.array([[0.5]])))
    assert mu[0, 0] == pytest.approx(1.0, abs=0.03)
    assert var[0, 0] == pytest.approx(0.25, rel=0.08)


def test_train_refuses_a_network_without_room_for_the_variance() -> None:
    net = MLP([1, 1], "identity", rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="Y has 1 columns; a gaussian_nll head needs 2 per column"):
        train(net, np.zeros((3, 1)), np.zeros((3, 1)), optimizer=Adam(net.parameters()),
              epochs=1, loss="gaussian_nll")  # fmt: skip
