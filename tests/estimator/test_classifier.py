"""MLPClassifier: labels in and out, the loss it trains, both backends, files and resume."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.utils.class_weight import compute_class_weight

import gradfit
from gradfit import DataError, DivergenceError
from gradfit.engine.losses import BinaryCrossEntropy, CrossEntropy
from gradfit.estimator import MLPClassifier

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture
def data():
    """Three noisy classes in the plane, named by strings, of unequal sizes."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(90, 2))
    noisy = X + 0.4 * rng.normal(size=X.shape)
    codes = np.digitize(np.arctan2(noisy[:, 1], noisy[:, 0]), [-1.2, 1.6])
    return X, np.array(["cat", "dog", "eel"])[codes]


def small(**kw):
    # A learning rate above the default's 0.001, for short runs that still learn.
    base = {"hidden_layer_sizes": (8,), "random_state": 0, "learning_rate_init": 0.003}
    return MLPClassifier(**(base | kw))


def test_the_loss_is_the_cross_entropy_of_the_initial_network(data):
    """Full batch: loss_curve_[0] is the softmax cross-entropy at the initial parameters,
    with the class weights scikit-learn's 'balanced' gives."""
    X, y = data
    est = small(max_iter=1, batch_size=None, class_weight="balanced", standardize=False)
    init = small(max_iter=1, learning_rate_init=1e-300, standardize=False).fit(X, y)
    est.fit(X, y)
    classes = np.unique(y)
    weights = compute_class_weight("balanced", classes=classes, y=y)
    Z = init.net_.forward(X)
    log_P = Z - np.log(np.exp(Z).sum(axis=1, keepdims=True))
    codes = np.searchsorted(classes, y)
    expected = -np.mean(weights[codes] * log_P[np.arange(len(y)), codes])
    assert_allclose(est.loss_curve_[0], expected, rtol=1e-12)
    assert est.history_.loss_name == "cross_entropy"
    assert est._fit_loss.weight == pytest.approx(tuple(weights))


def test_labels_probabilities_and_their_logs(data):
    X, y = data
    est = small(max_iter=200).fit(X, y)
    assert_array_equal(est.classes_, ["cat", "dog", "eel"])
    assert est.n_outputs_ == 3
    P = est.predict_proba(X)
    assert P.shape == (90, 3) and P.dtype == np.float64
    assert_allclose(P.sum(axis=1), 1.0, rtol=1e-12)
    assert_allclose(est.predict_log_proba(X), np.log(P), rtol=1e-10)
    assert_array_equal(est.predict(X), est.classes_[P.argmax(axis=1)])
    assert est.score(X, y) > 0.85  # the noise leaves about 10% ambiguous
    assert est.accuracy_curve_[-1] == pytest.approx(est.score(X, y))


@pytest.mark.parametrize("labels", [[False, True], [-1, 1], ["no", "yes"]])
def test_binary_has_one_sigmoid_output(data, labels):
    X, y = data
    y2 = np.asarray(labels)[(y == "dog").astype(int)]
    est = small(max_iter=100).fit(X, y2)
    assert est.n_outputs_ == 1 and est.history_.loss_name == "binary_cross_entropy"
    assert_array_equal(est.classes_, labels)
    P = est.predict_proba(X)
    z = est.decision_function(X)
    assert_allclose(P[:, 1], 1 / (1 + np.exp(-z)), rtol=1e-12)
    assert_allclose(P.sum(axis=1), 1.0, rtol=1e-12)
    assert_array_equal(est.predict(X), np.asarray(labels)[(z > 0).astype(int)])
    assert est.score(X, y2) > 0.8


def test_multilabel_targets_get_one_sigmoid_per_label(data):
    X, _ = data
    Y = np.column_stack([X[:, 0] > 0, X[:, 1] > 0, X.sum(axis=1) > 1]).astype(int)
    est = small(max_iter=300, hidden_layer_sizes=(16,)).fit(X, Y)
    assert_array_equal(est.classes_, [0, 1, 2])
    assert est.predict(X).shape == (90, 3)
    assert_array_equal(est.predict(X), (est.predict_proba(X) > 0.5).astype(int))
    assert est.score(X, Y) > 0.85  # every label of a row right
    with pytest.raises(ValueError, match="class_weight is not supported for multilabel"):
        small(class_weight="balanced").fit(X, Y)


@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_numpy_and_torch_give_the_same_curves(data, solver):
    pytest.importorskip("torch")
    X, y = data
    kw = {"solver": solver, "batch_size": None, "max_iter": 30, "validation_fraction": 0.2}
    a = small(**kw).fit(X, y)
    b = small(backend="torch", **kw).fit(X, y)
    assert_allclose(b.loss_curve_, a.loss_curve_, rtol=1e-9)
    assert_allclose(b.validation_loss_curve_, a.validation_loss_curve_, rtol=1e-9)
    assert b.accuracy_curve_ == a.accuracy_curve_
    assert_allclose(b.predict_proba(X), a.predict_proba(X), rtol=1e-8)


def test_k_partial_fits_equal_fit_with_max_iter_k(data):
    X, y = data
    fitted = small(max_iter=4, n_iter_no_change=100).fit(X, y)
    step = small()
    for _ in range(4):
        step.partial_fit(X, y, classes=["cat", "dog", "eel"])
    assert_array_equal(step.loss_curve_, fitted.loss_curve_)
    assert_array_equal(step.predict_proba(X), fitted.predict_proba(X))


def test_partial_fit_needs_the_classes_first_and_then_keeps_them(data):
    X, y = data
    with pytest.raises(DataError, match=r"first partial_fit needs classes="):
        small().partial_fit(X, y)
    est = small().partial_fit(X[y != "eel"], y[y != "eel"], classes=["cat", "dog", "eel"])
    assert est.n_outputs_ == 3  # softmax over all three, though eel was not seen yet
    est.partial_fit(X, y)
    with pytest.raises(DataError, match=r"label\(s\) 'fox' not among the classes"):
        est.partial_fit(X[:3], ["cat", "fox", "dog"])
    with pytest.raises(DataError, match="differs from the first partial_fit"):
        est.partial_fit(X, y, classes=["cat", "dog"])


@pytest.mark.parametrize(
    ("y", "message"),
    [
        (np.zeros(90), r"only one class \(0\.0\)"),
        (np.linspace(0, 1, 90), "Unknown label type: continuous"),
    ],
)
def test_targets_a_classifier_cannot_learn_are_refused(data, y, message):
    with pytest.raises(DataError, match=message):
        small().fit(data[0], y)


def test_early_stopping_holds_out_every_class_in_proportion(data):
    X, y = data
    est = small(early_stopping=True, validation_fraction=0.2, max_iter=40).fit(X, y)
    held = np.asarray(est.history_.val_loss)
    assert len(held) == est.n_iter_ == len(est.validation_accuracy_curve_)
    from gradfit.estimator._data import split_validation

    codes = np.searchsorted(est.classes_, y)
    _, rows = split_validation(90, 0.2, np.random.default_rng(0), strata=codes)
    assert len(rows) == 18
    counts, held_counts = np.bincount(codes), np.bincount(codes[rows], minlength=3)
    assert np.abs(held_counts - 0.2 * counts).max() <= 1


def test_resume_from_a_state_continues_bit_for_bit(data):
    X, y = data
    kw = {"batch_size": 16, "validation_fraction": 0.25, "early_stopping": True, "max_iter": 12}
    whole = small(**kw).fit(X, y)
    saved = {}

    def interrupt(trainer):
        if trainer.epoch == 5:
            saved.update(trainer.state_dict())
            trainer.stop = True

    small(**kw).fit(X, y, callbacks=[interrupt])
    assert [c["type"] for c in saved["callbacks"]] == ["EarlyStopping", "AccuracyCurve"]
    resumed = small(**kw).fit(X, y, resume_from=saved)
    assert resumed.n_iter_ == 12
    assert_array_equal(resumed.loss_curve_, whole.loss_curve_)
    assert resumed.accuracy_curve_ == whole.accuracy_curve_
    assert resumed.validation_accuracy_curve_ == whole.validation_accuracy_curve_
    assert_array_equal(resumed.predict_proba(X), whole.predict_proba(X))


@pytest.mark.parametrize("kind", ["multiclass", "binary", "multilabel"])
def test_a_saved_classifier_keeps_its_label_set(data, kind, tmp_path):
    import pandas as pd
    import safetensors

    X, y = data
    target = {
        "multiclass": y,
        "binary": np.where(y == "dog", 7, 3),
        "multilabel": np.column_stack([y == "dog", y == "cat"]).astype(int),
    }[kind]
    frame = pd.DataFrame(X, columns=["a", "b"])
    est = small(max_iter=20, dtype="float32").fit(frame, target)
    path = tmp_path / "clf.safetensors"
    gradfit.save(est, path)
    with safetensors.safe_open(str(path), "np") as f:
        assert '"kind":"classifier"' in f.metadata()["gradfit"]
    back = gradfit.load(path)
    assert type(back) is MLPClassifier
    assert_array_equal(back.classes_, est.classes_)
    assert back.classes_.dtype.kind == est.classes_.dtype.kind
    assert_array_equal(back.predict(frame), est.predict(frame))
    assert_array_equal(back.predict_proba(frame), est.predict_proba(frame))
    assert back.accuracy_curve_ == est.accuracy_curve_


def test_divergence_raises_and_keeps_the_last_finite_parameters(data):
    X, y = data
    est = small(solver="sgd", learning_rate_init=1e6, momentum=0.9, max_iter=50, batch_size=8)
    with pytest.raises(DivergenceError):
        est.fit(X * 1e3, y)
    assert all(np.isfinite(p).all() for p in est.net_.parameters())


def test_the_losses_are_the_engines():
    X = np.random.default_rng(1).normal(size=(10, 2))
    assert isinstance(small(max_iter=1).fit(X, np.arange(10) % 3)._fit_loss, CrossEntropy)
    assert isinstance(small(max_iter=1).fit(X, np.arange(10) % 2)._fit_loss, BinaryCrossEntropy)
