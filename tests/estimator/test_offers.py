"""Each estimator answers a call to the other kind's methods and keywords with what it
offers instead (``gradfit.estimator._offers``), not with Python's bare error."""

from __future__ import annotations

import numpy as np
import pytest

from gradfit import MLPClassifier, MLPRegressor
from gradfit.errors import GradfitError, NotOfferedError

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

X = np.random.default_rng(0).normal(size=(40, 2))
SPREAD = (
    "it is a regressor's; a classifier's uncertainty is its probabilities: "
    "predict_proba(X) gives P(class) for each class in classes_"
)
NUMBERS = (
    "it is a classifier's; a regressor predicts numbers, not classes: predict(X); for how "
    "far off each may be, predict(X, return_std=True) or predict_interval(X) on a model "
    "fitted with n_members >= 2 or loss='gaussian_nll'. For labels, use MLPClassifier"
)


@pytest.fixture(scope="module")
def classifier() -> MLPClassifier:
    model = MLPClassifier(hidden_layer_sizes=(3,), max_iter=3, random_state=0)
    return model.fit(X, X[:, 0] > 0)


@pytest.fixture(scope="module")
def regressor() -> MLPRegressor:
    model = MLPRegressor(hidden_layer_sizes=(3,), max_iter=3, random_state=0)
    return model.fit(X, X[:, 0])


def test_return_std_on_a_classifier_names_predict_proba(classifier: MLPClassifier) -> None:
    for value in (True, False):
        with pytest.raises(NotOfferedError) as info:
            classifier.predict(X, return_std=value)
        assert str(info.value) == f"MLPClassifier.predict() takes no return_std: {SPREAD}"
    # Still what Python raises for a keyword, so that `except TypeError` holds.
    assert isinstance(info.value, TypeError) and isinstance(info.value, GradfitError)


@pytest.mark.parametrize(
    ("name", "instead"),
    [
        ("predict_interval", SPREAD),
        ("variance_calibration_", SPREAD),
        ("variance_slopes_", SPREAD),
        ("oob_prediction_", "it is a regressor's; its out-of-bag probabilities are "
         "oob_decision_function_"),
        ("loss", "it is a regressor's; a classifier always trains on cross-entropy "
         "(weighted by class_weight)"),
        ("y_scaler_", "it is a regressor's; a classifier's targets are labels, which "
         "are not scaled"),
    ],
)  # fmt: skip
def test_the_regressors_methods_and_attributes_on_a_classifier(
    classifier: MLPClassifier, name: str, instead: str
) -> None:
    with pytest.raises(NotOfferedError) as info:
        getattr(classifier, name)
    assert str(info.value) == f"MLPClassifier has no {name}: {instead}"
    assert not hasattr(classifier, name)  # an AttributeError, as before


@pytest.mark.parametrize(
    ("name", "instead"),
    [
        ("predict_proba", NUMBERS),
        ("predict_log_proba", NUMBERS),
        ("decision_function", NUMBERS),
        ("classes_", "it is a classifier's; a regressor has no classes; its outputs are "
         "n_outputs_ numbers"),
        ("oob_decision_function_", "it is a classifier's; its out-of-bag predictions "
         "are oob_prediction_"),
        ("accuracy_curve_", "it is a classifier's; a regressor's training curve is "
         "loss_curve_"),
    ],
)  # fmt: skip
def test_the_classifiers_methods_and_attributes_on_a_regressor(
    regressor: MLPRegressor, name: str, instead: str
) -> None:
    with pytest.raises(NotOfferedError) as info:
        getattr(regressor, name)
    assert str(info.value) == f"MLPRegressor has no {name}: {instead}"
    assert not hasattr(regressor, name)


def test_classes_on_a_regressors_partial_fit_is_refused_before_training() -> None:
    model = MLPRegressor(hidden_layer_sizes=(3,), random_state=0)
    with pytest.raises(NotOfferedError, match=r"^MLPRegressor.partial_fit\(\) takes no classes: "
                       "it is a classifier's; a regressor has no classes to declare"):  # fmt: skip
        model.partial_fit(X, X[:, 0], classes=[0, 1])
    assert not hasattr(model, "net_")


def test_names_of_neither_kind_get_pythons_own_errors(
    classifier: MLPClassifier, regressor: MLPRegressor
) -> None:
    with pytest.raises(AttributeError) as info:
        classifier.predict_probability  # noqa: B018
    assert type(info.value) is AttributeError
    assert str(info.value) == "'MLPClassifier' object has no attribute 'predict_probability'"
    with pytest.raises(TypeError) as raised:
        classifier.predict(X, retrun_std=True)
    assert type(raised.value) is TypeError
    assert (
        str(raised.value)
        == "MLPClassifier.predict() got an unexpected keyword argument 'retrun_std'"
    )
    assert getattr(regressor, "nothing", 7) == 7


def test_an_unfitted_classifier_says_so_too() -> None:
    with pytest.raises(NotOfferedError, match=r"^MLPClassifier has no predict_interval"):
        MLPClassifier().predict_interval(X)


@pytest.mark.parametrize(
    ("model", "method", "args"),
    [
        (MLPRegressor(), "fit", (X, X[:, 0])),
        (MLPClassifier(), "fit", (X, X[:, 0] > 0)),
        (MLPClassifier(), "partial_fit", (X, X[:, 0] > 0, [False, True])),
        (MLPRegressor(), "partial_fit", (X, X[:, 0])),
    ],
)
def test_sample_weight_which_neither_takes_says_what_to_do_instead(
    model: MLPRegressor | MLPClassifier, method: str, args: tuple[object, ...]
) -> None:
    """scikit-learn's MLPs take sample_weight; gradfit's said only 'unexpected keyword'."""
    with pytest.raises(NotOfferedError) as info:
        getattr(model, method)(*args, sample_weight=np.ones(40))
    assert str(info.value) == (
        f"{type(model).__name__}.{method}() takes no sample_weight: gradfit weighs every row "
        "alike (scikit-learn's MLP takes sample_weight); repeat a row to weigh it more, or "
        "weigh a classifier's classes with class_weight"
    )
    assert not hasattr(model, "net_")
