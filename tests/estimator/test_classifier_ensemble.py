"""MLPClassifier as a deep ensemble: the members' mean probability, both backends, files,
and the cross-entropy over stacked members."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy.special import expit, softmax

from gradfit import load, save
from gradfit.engine import Ensemble
from gradfit.engine.losses import CrossEntropy
from gradfit.estimator import MLPClassifier

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def labelled(kind: str) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(90, 2))
    angle = np.arctan2(X[:, 1], X[:, 0]) + 0.4 * rng.normal(size=90)
    if kind == "multiclass":
        return X, np.array(["a", "b", "c"])[np.digitize(angle, [-1.2, 1.6])]
    if kind == "binary":
        return X, (angle > 0).astype(int)
    return X, np.column_stack([angle > 0, np.abs(angle) < 1.5]).astype(int)


def ensemble(**kw: object) -> MLPClassifier:
    base = {"hidden_layer_sizes": (8,), "n_members": 3, "random_state": 0, "max_iter": 25,
            "batch_size": 30, "learning_rate_init": 0.003}  # fmt: skip
    return MLPClassifier(**(base | kw))


def members(est: MLPClassifier, X: np.ndarray) -> np.ndarray:
    """Each member's logits by hand: ``(K, n, n_outputs)``."""
    Z = (X - est.x_scaler_.center) / est.x_scaler_.scale
    return np.array([est.net_.member(k).forward(Z) for k in range(est.n_members)])


@pytest.mark.parametrize("kind", ["multiclass", "binary", "multilabel"])
def test_the_prediction_is_the_members_mean_probability(kind: str) -> None:
    X, y = labelled(kind)
    est = ensemble().fit(X, y)
    assert isinstance(est.net_, Ensemble) and est.net_.n_members == 3
    Z = members(est, X)
    if kind == "multiclass":
        P = softmax(Z, axis=-1).mean(axis=0)
    elif kind == "binary":
        p = expit(Z[..., 0]).mean(axis=0)
        P = np.column_stack([1 - p, p])
    else:
        P = expit(Z).mean(axis=0)
    assert_allclose(est.predict_proba(X), P, rtol=1e-12)
    if kind == "multiclass":
        assert_array_equal(est.predict(X), est.classes_[P.argmax(axis=1)])
        assert_allclose(softmax(est.decision_function(X), axis=1), P, rtol=1e-12)
    elif kind == "binary":
        assert_array_equal(est.predict(X), (P[:, 1] > 0.5).astype(int))
        assert_allclose(expit(est.decision_function(X)), P[:, 1], rtol=1e-12)
    else:
        assert_array_equal(est.predict(X), (P > 0.5).astype(int))
    assert est.score(X, y) > 0.7


def test_the_accuracy_curve_scores_the_mean_probability() -> None:
    X, y = labelled("multiclass")
    est = ensemble(max_iter=10).fit(X, y)
    assert len(est.accuracy_curve_) == 10
    assert est.accuracy_curve_[-1] == pytest.approx(est.score(X, y))


def test_stacked_cross_entropy_is_the_members_mean() -> None:
    """Over ``(K, n, k)`` logits the loss is the members' mean, its gradient each member's
    own divided by ``K`` (:meth:`Loss.members_factor`)."""
    rng = np.random.default_rng(1)
    Z = rng.normal(size=(3, 7, 4))
    Y = np.eye(4)[rng.integers(0, 4, 7)]
    for loss in (CrossEntropy(), CrossEntropy([0.5, 2.0, 1.0, 1.5])):
        value, G = loss.value_and_gradient(Z.copy(), np.broadcast_to(Y, Z.shape))
        alone = [loss.value_and_gradient(Z[k].copy(), Y) for k in range(3)]
        assert value == pytest.approx(np.mean([v for v, _ in alone]), rel=1e-14)
        assert_allclose(G * loss.members_factor(3), [g for _, g in alone], rtol=1e-13)


@pytest.mark.parametrize("kind", ["multiclass", "binary"])
def test_both_backends_train_the_same_ensemble(kind: str) -> None:
    pytest.importorskip("torch")
    X, y = labelled(kind)
    ours = ensemble(max_iter=15).fit(X, y)
    theirs = ensemble(max_iter=15, backend="torch").fit(X, y)
    assert_allclose(theirs.loss_curve_, ours.loss_curve_, rtol=1e-10)
    assert_allclose(theirs.net_.flat, ours.net_.flat, rtol=1e-9, atol=1e-12)
    assert_allclose(theirs.predict_proba(X), ours.predict_proba(X), rtol=1e-9, atol=1e-12)


def test_an_ensemble_classifier_file_predicts_the_same(tmp_path) -> None:
    X, y = labelled("multiclass")
    est = ensemble().fit(X, y)
    save(est, tmp_path / "m.safetensors")
    back = load(tmp_path / "m.safetensors")
    assert back.n_members == 3 and isinstance(back.net_, Ensemble)
    assert_array_equal(back.predict_proba(X), est.predict_proba(X))
    assert_array_equal(back.predict(X), est.predict(X))


def test_a_member_count_below_one_is_one_clear_error() -> None:
    X, y = labelled("binary")
    with pytest.raises(ValueError, match="n_members"):
        ensemble(n_members=0).fit(X, y)
