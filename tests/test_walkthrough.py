"""The walk-through's from-scratch functions: by hand, against finite differences and lstsq."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

import gradfit
from gradfit import (
    DataError,
    add_intercept,
    datasets,
    engine,
    gradient_step,
    layer,
    linear_gradient,
    squared_loss,
    training_loop,
)


def standardised_sample(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The post's training data: 50 of the 100 linear points, x and y scaled like R's scale()."""
    data = datasets.linear(rng=seed)
    x, _ = datasets.scale(data.x_train)
    y, _ = datasets.scale(data.y_train)
    return x, y


def test_add_intercept_puts_a_column_of_ones_first() -> None:
    assert_array_equal(add_intercept(np.array([2.0, -1.0])), [[1.0, 2.0], [1.0, -1.0]])
    assert_array_equal(add_intercept(np.array([[2.0, 3.0]])), [[1.0, 2.0, 3.0]])


def test_layer_is_activation_of_X_times_w() -> None:
    X = np.array([[1.0, 2.0], [1.0, -3.0]])
    assert_array_equal(layer(X, np.array([0.5, 1.0])), [2.5, -2.5])
    assert_array_equal(layer(X, np.array([0.5, 1.0]), lambda Z: np.maximum(Z, 0)), [2.5, 0.0])
    with pytest.raises(DataError, match=r"X of shape \(2, 2\) cannot be multiplied by w"):
        layer(X, np.ones(3))


def test_squared_loss_is_the_sum_of_squared_errors() -> None:
    assert squared_loss(np.array([1.0, 2.0, 3.0]), np.array([1.5, 0.0, 3.0])) == 0.25 + 4.0


def test_gradient_step_by_hand() -> None:
    assert_allclose(gradient_step(0.1, np.array([1.0, 1.0]), np.array([2.0, -4.0])), [0.8, 1.4])


def test_linear_gradient_by_hand_and_by_finite_differences() -> None:
    X = add_intercept(np.array([0.0, 1.0, 2.0]))
    y, w = np.array([1.0, 2.0, 5.0]), np.array([1.0, 1.0])
    # residuals y - Xw = (0, 0, 2): -2 Xᵀ r = -2 (2, 4)
    assert_array_equal(linear_gradient(X, y, w), [-4.0, -8.0])

    rng = np.random.default_rng(0)
    X, y, w = add_intercept(rng.normal(size=8)), rng.normal(size=8), rng.normal(size=2)
    h = 1e-6
    numeric = [
        (squared_loss(layer(X, w + h * e), y) - squared_loss(layer(X, w - h * e), y)) / (2 * h)
        for e in np.eye(2)
    ]
    assert_allclose(linear_gradient(X, y, w), numeric, rtol=1e-8)


def test_the_walk_throughs_first_loss() -> None:
    # Weights (1, 1) on all 100 points: the post printed about 4476 from its unseeded noise.
    data = datasets.linear(rng=0)
    loss = squared_loss(layer(add_intercept(data.x), np.array([1.0, 1.0])), data.y)
    assert_allclose(loss, np.sum((data.y - 1 - data.x) ** 2), rtol=1e-14)
    # Its expectation is Σ (x + 2)² + 100 σ² ≈ 3800 + 400, with a standard deviation near 250.
    assert 4200 - 1000 < loss < 4200 + 1000


def test_training_loop_records_epochs_plus_one_weights_and_epochs_losses() -> None:
    x, y = standardised_sample()
    trajectory = training_loop(x, y, np.array([1.0, 1.0]), epochs=500, learning_rate=1e-4)
    assert trajectory.weights.shape == (501, 2)
    assert trajectory.losses.shape == (500,)
    assert_array_equal(trajectory.weights[0], [1.0, 1.0])
    assert_array_equal(trajectory.final_weights, trajectory.weights[-1])
    X = add_intercept(x)
    for i in (0, 1, 250, 499):
        w = trajectory.weights[i]
        assert trajectory.losses[i] == squared_loss(layer(X, w), y)  # loss i is at weights i
        assert_allclose(trajectory.weights[i + 1], w - 1e-4 * linear_gradient(X, y, w), rtol=1e-15)
    # The post's curve falls from about 52 to about 2.
    assert 30 < trajectory.losses[0] < 80
    assert trajectory.losses[-1] < 3


def test_training_loop_converges_to_least_squares() -> None:
    x, y = standardised_sample()
    w_star = np.linalg.lstsq(add_intercept(x), y, rcond=None)[0]
    # The Hessian of the sum of squares is 2 XᵀX = diag(2n, 2(n - 1)) ≈ 100 I on standardised
    # data, so lr = 0.005 halves the error every epoch.
    trajectory = training_loop(x, y, np.array([1.0, 1.0]), epochs=60, learning_rate=0.005)
    assert_allclose(trajectory.final_weights, w_star, rtol=0, atol=1e-6)
    assert np.abs(trajectory.weights[1] - w_star).max() > 1e-2  # it did have to travel


@pytest.mark.parametrize(
    ("problem", "standardise", "epochs"),
    [("linear", True, 500), ("sine", False, 200)],  # the post's two runs, lr 1e-4
)
def test_mlp_without_hidden_layer_reproduces_training_loop(
    problem: str, standardise: bool, epochs: int
) -> None:
    data = getattr(datasets, problem)(rng=1)
    x, y = data.x_train, data.y_train
    if standardise:
        x, y = datasets.scale(x)[0], datasets.scale(y)[0]
    init_w = np.array([0.3, -0.7])
    trajectory = training_loop(x, y, init_w, epochs=epochs, learning_rate=1e-4)

    net = engine.MLP([1, 1], rng=np.random.default_rng(0))
    net.set_parameters([[[init_w[1]]], [init_w[0]]])  # W = slope, b = intercept
    history = engine.train(
        net, x.reshape(-1, 1), y.reshape(-1, 1), optimizer=engine.SGD(net.parameters(), lr=1e-4),
        epochs=epochs, loss="sse", record_parameters=True, log=lambda _: None,
    )  # fmt: skip
    assert history.parameters is not None
    assert_allclose(history.loss, trajectory.losses, rtol=1e-12)
    intercepts = [b[0] for _, b in history.parameters]
    slopes = [W[0, 0] for W, _ in history.parameters]
    assert_allclose(intercepts, trajectory.weights[:, 0], rtol=1e-12, atol=1e-15)
    assert_allclose(slopes, trajectory.weights[:, 1], rtol=1e-12, atol=1e-15)


def test_a_flat_target_never_broadcasts_against_a_column() -> None:
    n = 6
    X = add_intercept(np.arange(n, dtype=float))
    column, flat = np.zeros((n, 1)), np.zeros(n)
    with pytest.raises(DataError, match=r"\(6, 1\).*\(6,\); make y a column.*reshape"):
        squared_loss(column, flat)
    with pytest.raises(DataError, match=r"\(6,\).*\(6, 1\); make y flat.*ravel"):
        linear_gradient(X, column, np.ones(2))  # predictions (6,), target (6, 1)
    with pytest.raises(DataError, match=r"\(6, 1\).*\(6,\)"):
        linear_gradient(X, flat, np.ones((2, 1)))  # predictions (6, 1), target (6,)
    with pytest.raises(DataError, match=r"grads have shape \(2, 1\) but params have shape \(2,\)"):
        gradient_step(0.1, np.ones(2), np.ones((2, 1)))
    with pytest.raises(DataError, match=r"y must have shape \(6,\) like x, got \(6, 1\)"):
        training_loop(np.arange(n, dtype=float), column, np.ones(2), 3, 0.1)
    with pytest.raises(DataError, match=r"init_w must have shape \(2,\), got \(3,\)"):
        training_loop(np.arange(n, dtype=float), flat, np.ones(3), 3, 0.1)


def test_exported_from_gradfit() -> None:
    for name in ("add_intercept", "layer", "squared_loss", "gradient_step", "linear_gradient",
                 "training_loop", "Trajectory"):  # fmt: skip
        assert name in gradfit.__all__
