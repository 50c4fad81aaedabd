"""The defaults (gradfit.defaults): when early stopping switches, what it restores, and
how predictions are held inside the training range."""

from __future__ import annotations

import inspect
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import ConvergenceWarning

from gradfit.defaults import (
    AUTO_MEMBERS,
    AUTO_MEMBERS_MAX_WORK,
    CLASSIFIER_DEFAULTS,
    DEFAULTS,
    HOLD_OUT,
    MIN_VALIDATION_ROWS,
    holds_out,
    members,
)
from gradfit.estimator import MLPClassifier, MLPRegressor


def noisy_line(n: int, noise: float = 0.3, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, (n, 2))
    return X, X @ [1.0, -2.0] + rng.normal(0, noise, n)


def test_the_signature_takes_every_default_from_the_one_home() -> None:
    signature = inspect.signature(MLPRegressor)
    for name, value in vars(DEFAULTS).items():
        assert signature.parameters[name].default == value, name


def test_the_classifier_takes_its_defaults_from_the_same_home() -> None:
    signature = inspect.signature(MLPClassifier)
    for name, value in vars(CLASSIFIER_DEFAULTS).items():
        if name != "loss":  # a classifier's loss follows from its labels
            assert signature.parameters[name].default == value, name
    differ = {k for k, v in vars(CLASSIFIER_DEFAULTS).items() if getattr(DEFAULTS, k) != v}
    assert differ == {
        "early_stopping",
        "learning_rate_init",
        "n_iter_no_change",
        "clip_inputs",
        "n_members",
    }
    # With early stopping on, the classifier is still one network (the regressor: five).
    X, y = noisy_line(200)
    labels = (y > 0).astype(int)
    fitted = MLPClassifier(early_stopping=True, max_iter=2).fit(X, labels)
    assert type(fitted.net_).__name__ == "MLP"
    assert "loss" not in signature.parameters


@pytest.mark.parametrize(
    ("setting", "n", "expected"),
    [("auto", 149, False), ("auto", 150, True), (True, 10, True), (False, 10_000, False)],
)
def test_auto_holds_out_from_thirty_validation_rows(setting, n, expected) -> None:
    assert MIN_VALIDATION_ROWS == 30 and HOLD_OUT == 0.2
    assert holds_out(setting, n, None) is expected


def test_auto_below_the_threshold_trains_on_every_row_and_stops_on_the_training_loss() -> None:
    X, y = noisy_line(149)
    est = MLPRegressor(hidden_layer_sizes=(8,), tol=1, n_iter_no_change=2, random_state=0)
    est.fit(X, y)
    assert est.early_stopping_ is False
    assert est.stop_reason_ == "no_improvement" and est.n_iter_ == 4
    assert est.validation_rows_ is None and est.validation_loss_curve_ == []
    assert est.best_epoch_ is None


def test_auto_from_the_threshold_holds_out_a_fifth_and_restores_the_best_epoch() -> None:
    X, y = noisy_line(150, noise=1.0)
    est = MLPRegressor(learning_rate_init=0.01, random_state=0).fit(X, y)
    assert est.early_stopping_ is True
    # Five members, each holding out one fold of 30 rows: every row is held out once.
    assert est.net_.n_members == 5 and est.validation_rows_.shape == (5, 30)
    assert_array_equal(np.sort(est.validation_rows_.ravel()), np.arange(150))
    best = int(np.argmin(est.validation_loss_curve_)) + 1
    assert est.best_epoch_ == best
    # The parameters held are the best epoch's: the members' mean loss on their own
    # held-out folds is the minimum.
    outputs, scaled = est._outputs(X), est.y_scaler_.transform(y[:, None])
    loss = np.mean([np.mean((outputs[k, rows] - scaled[rows]) ** 2)
                    for k, rows in enumerate(est.validation_rows_)])  # fmt: skip
    assert loss == pytest.approx(min(est.validation_loss_curve_), rel=1e-10)
    # Out of bag, each row is predicted by the member that held it out.
    own = np.empty(150)
    for k, rows in enumerate(est.validation_rows_):
        own[rows] = outputs[k, rows, 0]
    assert_allclose(est.oob_prediction_, est.y_scaler_.inverse_transform(own[:, None])[:, 0],
                    rtol=1e-12)  # fmt: skip
    assert est.stop_reason_ == "early_stopping"
    assert est.n_iter_ - est.best_epoch_ > est.n_iter_no_change


def test_a_rising_validation_loss_at_max_iter_gives_no_advice_to_train_longer() -> None:
    # Pure noise: the validation loss rises once the network starts to learn the noise.
    rng = np.random.default_rng(3)
    X, y = rng.normal(size=(300, 5)), rng.normal(size=300)
    est = MLPRegressor(max_iter=80, n_iter_no_change=1000, learning_rate_init=0.01, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        est.fit(X, y)
    assert est.stop_reason_ == "max_iter"
    assert est.best_epoch_ < 40


def test_a_still_falling_loss_at_max_iter_warns_to_train_longer() -> None:
    X, y = noisy_line(300)
    with pytest.warns(ConvergenceWarning, match="validation loss was still falling"):
        MLPRegressor(max_iter=3, learning_rate_init=1e-4, random_state=0).fit(X, y)


def test_early_stopping_must_be_a_bool_or_auto() -> None:
    with pytest.raises(ValueError, match="early_stopping must be True, False or 'auto'"):
        MLPRegressor(early_stopping="yes").fit(*noisy_line(20))


def test_predict_holds_inputs_at_the_edge_of_the_training_range() -> None:
    X, y = noisy_line(60)
    est = MLPRegressor(hidden_layer_sizes=(8,), max_iter=20, random_state=0).fit(X, y)
    assert_array_equal(est.x_min_, X.min(axis=0))
    assert_array_equal(est.x_max_, X.max(axis=0))
    far = np.array([[5.0, -7.0], [0.1, 0.2]])
    edge = np.array([[X[:, 0].max(), X[:, 1].min()], [0.1, 0.2]])
    assert_allclose(est.predict(far), est.predict(edge), rtol=0, atol=0)
    est.set_params(clip_inputs=False)
    assert est.predict(far)[0] != est.predict(edge)[0]


def test_partial_fit_widens_the_range() -> None:
    X, y = noisy_line(40)
    est = MLPRegressor(hidden_layer_sizes=(4,), random_state=0)
    est.partial_fit(X[:20], y[:20]).partial_fit(X[20:] * 3, y[20:])
    assert_array_equal(est.x_max_, np.maximum(X[:20].max(axis=0), 3 * X[20:].max(axis=0)))
    assert_array_equal(est.x_min_, np.minimum(X[:20].min(axis=0), 3 * X[20:].min(axis=0)))


def test_auto_members_are_five_where_rows_are_held_out_from_a_small_table() -> None:
    assert members(None, True, True, AUTO_MEMBERS_MAX_WORK) == AUTO_MEMBERS == 5
    assert members(None, True, True, AUTO_MEMBERS_MAX_WORK + 1) == 1  # a large table
    assert members(None, False, True, 10) == 1  # nothing held out (under 150 rows)
    assert members(None, True, False, 10) == 1  # rows read from a source
    assert members(3, False, False, 10**12) == 3  # as given
    # One network's epoch on 160 training rows of 2 inputs: 160 · (2·100 + 100·1).
    X, y = noisy_line(200)
    assert MLPRegressor(max_iter=2, random_state=0).fit(X, y).net_.n_members == 5
    wide = np.random.default_rng(0).normal(size=(2000, 130))  # 1600 · 13,100 > 2·10⁷
    fitted = MLPRegressor(max_iter=2, random_state=0).fit(wide, wide[:, 0])
    assert type(fitted.net_).__name__ == "MLP" and fitted.validation_rows_.shape == (400,)
