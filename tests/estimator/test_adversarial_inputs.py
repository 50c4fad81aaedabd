"""Bad input to the classifier and the ensembles from Python (issues 16 and 17's
adversarial pass): each is refused at once, in one line that says what to do."""

from __future__ import annotations

import numpy as np
import pytest

from gradfit.errors import DataError
from gradfit.estimator import MLPClassifier, MLPRegressor

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def data(n: int = 30) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, 2))
    return X, (X[:, 0] > 0).astype(int) + (X[:, 1] > 0).astype(int)


@pytest.mark.parametrize("estimator", [MLPRegressor, MLPClassifier])
@pytest.mark.parametrize(
    ("params", "message"),
    [
        # Each asked, unchecked, for ~10 GB over minutes before NumPy gave up.
        (
            {"n_members": 10**9},
            "n_members (networks in the ensemble, 1 for one network, or 'auto') must be at "
            "most 1,000; got 1000000000",
        ),
        (
            {"hidden_layer_sizes": (10, 10**9)},
            "each of hidden_layer_sizes must be at most 100,000; got 1000000000",
        ),
    ],
)
def test_sizes_beyond_any_machine_are_refused_before_allocating(
    estimator: type, params: dict[str, object], message: str
) -> None:
    model = estimator(max_iter=1, **params)
    with pytest.raises(ValueError) as info:
        model.fit(*data())
    assert str(info.value) == message
    assert not hasattr(model, "net_")


SIZES = (
    "hidden_layer_sizes must be a positive integer or a sequence of them, such as 100 or (64, 64)"
)
SEEDS = "random_state must be None, a non-negative integer or a numpy Generator (or RandomState)"


@pytest.mark.parametrize("estimator", [MLPRegressor, MLPClassifier])
@pytest.mark.parametrize(
    ("params", "message"),
    [
        # Was "each of hidden_layer_sizes must be a positive integer; got '1'" (a string's letters).
        ({"hidden_layer_sizes": "10"}, f"{SIZES}; got '10'"),
        # These three were Python's TypeErrors ('NoneType' object is not iterable, …).
        ({"hidden_layer_sizes": None}, f"{SIZES}; got None"),
        ({"random_state": "a"}, f"{SEEDS}; got 'a'"),
        ({"random_state": 1.5}, f"{SEEDS}; got 1.5"),
        ({"random_state": -1}, f"{SEEDS}; got -1"),
        ({"verbose": "x"}, "verbose must be a number >= 0 (epochs between log lines); got 'x'"),
        ({"dtype": "foo"}, "dtype must be one of 'float32', 'float64'; got 'foo'"),
        # A truthy string was taken for True: shuffle="no" shuffled.
        ({"shuffle": "no"}, "shuffle must be True or False; got 'no'"),
        ({"standardize": "False"}, "standardize must be True or False; got 'False'"),
        ({"warm_start": 1}, "warm_start must be True or False; got 1"),
        # Trained, then 'training diverged in epoch 1 … Try a lower learning rate'.
        ({"alpha": float("inf")}, "alpha must be a number in [0, inf); got inf"),
        # These were "'>' not supported between instances of 'str' and 'int'" (TypeError).
        (
            {"learning_rate_init": "0.1"},
            "learning_rate_init must be a number in (0, inf); got '0.1'",
        ),
        ({"alpha": None}, "alpha must be a number in [0, inf); got None"),
        ({"tol": "1e-4"}, "tol must be a number in [0, inf]; got '1e-4'"),
        ({"momentum": [0.9]}, "momentum must be a number in [0, 1]; got [0.9]"),
    ],
)
def test_parameters_of_the_wrong_kind_are_one_clear_error(
    estimator: type, params: dict[str, object], message: str
) -> None:
    model = estimator(max_iter=1, **params)
    with pytest.raises(ValueError) as info:
        model.fit(*data())
    assert str(info.value) == message
    assert not hasattr(model, "net_")


def test_numpy_booleans_and_seeds_are_taken() -> None:
    model = MLPRegressor((3,), max_iter=1, shuffle=np.bool_(False),
                         random_state=np.random.RandomState(0))  # fmt: skip
    model.fit(*data())
    assert model.n_iter_ == 1


NAMES = np.array(["setosa", "versicolor", "virginica"])


@pytest.mark.parametrize(
    ("class_weight", "message"),
    [
        # A misspelt class was silently weighed 1 while the typo's weight went nowhere.
        (
            {"setosa": 2.0, "versicolor": 1.0, "virginica": 1.0, "versicolour": 3.0},
            "class_weight names label(s) 'versicolour' that are not among the classes "
            "['setosa', 'versicolor', 'virginica']; weigh those classes only (one left out "
            "weighs 1)",
        ),
        (
            {5: 1.0},
            "class_weight names label(s) 5 that are not among the classes ['setosa', "
            "'versicolor', 'virginica']; weigh those classes only (one left out weighs 1)",
        ),
        (
            {"setosa": -1.0},
            "class_weight of label 'setosa' must be a finite number >= 0; got -1.0",
        ),
        (
            {"virginica": float("nan")},
            "class_weight of label 'virginica' must be a finite number >= 0; got nan",
        ),
        # Every weight 0: a fit that learnt nothing, without a word.
        (
            {"setosa": 0, "versicolor": 0, "virginica": 0},
            "class_weight weighs every class by 0, which leaves nothing to learn; give at "
            "least one of them a positive weight",
        ),
        # scikit-learn's message named its private helper compute_class_weight.
        (
            "bogus",
            "class_weight must be None, 'balanced' or a dict {label: weight}; got 'bogus'",
        ),
        (
            [1, 2, 3],
            "class_weight must be None, 'balanced' or a dict {label: weight}; got [1, 2, 3]",
        ),
    ],
)
def test_class_weight_is_checked_against_the_classes(class_weight: object, message: str) -> None:
    X, y = data()
    model = MLPClassifier(class_weight=class_weight, max_iter=1)
    with pytest.raises(ValueError) as info:
        model.fit(X, NAMES[y])
    assert str(info.value) == message


def test_a_class_left_out_of_class_weight_weighs_one() -> None:
    X, y = data()
    model = MLPClassifier(class_weight={"virginica": 3.0}, max_iter=1).fit(X, NAMES[y])
    assert model._labels.loss(model.class_weight, NAMES[y]).weight == (1.0, 1.0, 3.0)


@pytest.mark.parametrize(
    ("labels", "types"),
    [
        (["a", None, "b"], "text: 'a', missing: None"),
        (["a", 1.5, "b"], "text: 'a', number: 1.5"),
        (["a", b"b", "a"], "text: 'a', bytes: b'b'"),
    ],
)
def test_labels_of_mixed_types_are_one_clear_error(labels: list[object], types: str) -> None:
    # Each was a TypeError from sorting them: '<' not supported between 'NoneType' and 'str'.
    X, _ = data(6)
    y = np.array(labels * 2, dtype=object)
    with pytest.raises(DataError) as info:
        MLPClassifier(max_iter=1).fit(X, y)
    assert str(info.value) == (
        f"y mixes labels of several types ({types}); give every label as text or every label "
        "as a number, and drop the rows whose label is missing (None or NaN)"
    )


@pytest.mark.parametrize("estimator", [MLPRegressor, MLPClassifier])
def test_nan_in_x_is_one_line_that_says_what_to_do(estimator: type) -> None:
    # scikit-learn's message runs to four lines and recommends HistGradientBoosting.
    X, y = data()
    X[3, 1] = np.nan
    with pytest.raises(DataError) as info:
        estimator(max_iter=1).fit(X, y)
    assert str(info.value) == "Input X contains NaN; fill those cells, or drop their rows, first"


def test_a_one_dimensional_x_is_one_line_without_the_array() -> None:
    X, y = data()
    with pytest.raises(DataError) as info:
        MLPClassifier(max_iter=1).fit(X[:, 0], y)
    assert str(info.value) == (
        "Expected 2D array, got 1D array instead: Reshape your data either using "
        "array.reshape(-1, 1) if your data has a single feature or array.reshape(1, -1) if "
        "it contains a single sample."
    )


@pytest.mark.parametrize("estimator", [MLPRegressor, MLPClassifier])
def test_complex_numbers_are_one_line_without_the_array(estimator: type) -> None:
    """scikit-learn's message went on to print every row of X; its first words stay (its
    own conformance check, check_complex_data, looks for them)."""
    X, y = data()
    expected = (
        "Complex data not supported: gradfit works on real numbers; give their real parts "
        "or magnitudes (numpy.real, numpy.abs) instead"
    )
    with pytest.raises(DataError) as info:
        estimator(max_iter=1).fit(X.astype(complex), y)
    assert str(info.value) == expected
    model = estimator((3,), max_iter=1).fit(X, y)
    with pytest.raises(DataError) as info:
        model.predict(X.astype(complex))
    assert str(info.value) == expected


@pytest.mark.parametrize("how", ["fit", "partial_fit"])
@pytest.mark.parametrize(
    ("first", "then", "change"),
    [
        # The fit went on with the two fitted members while n_members said 3.
        ({"n_members": 2}, {"n_members": 3}, "n_members is 3 but the fitted network has 2"),
        # A DataError from inside the network: "a Gaussian head outputs a mean and a
        # variance per target, an even number of columns; got 1".
        (
            {"n_members": 2},
            {"loss": "gaussian_nll"},
            "loss is 'gaussian_nll' but the fitted network has a mean-only head",
        ),
        (
            {"loss": "gaussian_nll"},
            {"loss": "mse"},
            "loss is 'mse' but the fitted network has a mean and a variance head",
        ),
    ],
)
def test_warm_start_refuses_another_ensemble_or_head(
    how: str, first: dict[str, object], then: dict[str, object], change: str
) -> None:
    X, y = data()
    model = MLPRegressor(warm_start=True, max_iter=2, hidden_layer_sizes=(4,), **first)
    getattr(model, how)(X, y.astype(float))
    model.set_params(**then)
    with pytest.raises(ValueError) as info:
        getattr(model, how)(X, y.astype(float))
    assert str(info.value) == (
        f"cannot continue the fitted network: {change}. Set warm_start=False (or call fit) "
        "to train a new network with these parameters"
    )


def test_warm_start_on_a_new_label_says_how_to_learn_it() -> None:
    # It advised partial_fit's classes=… alone, to a user who had called fit.
    X, y = data()
    model = MLPClassifier(warm_start=True, max_iter=1).fit(X, y)
    with pytest.raises(DataError) as info:
        model.fit(X, np.where(y == 2, 3, y))
    assert str(info.value) == (
        "y holds label(s) 3 not among the classes [0, 1, 2], which a partial_fit or "
        "warm_start fit keeps; name every class in the first partial_fit (classes=…), or fit "
        "with warm_start=False to learn a new label set"
    )


@pytest.mark.parametrize(
    ("params", "n", "fraction", "missing"),
    [
        # One training row of three classes: it trained on one class, predicted it
        # everywhere, and said nothing.
        ({"validation_fraction": 0.99}, 30, "0.99", "2 of the 3"),
        # One row per class: the held-out one's class was never learnt.
        ({}, 3, "0.2", "1 of the 3"),
        ({"n_members": 3}, 3, "0.2", "1 of the 3"),
    ],
)
def test_a_split_that_holds_out_a_whole_class_is_refused(
    params: dict[str, object], n: int, fraction: str, missing: str
) -> None:
    X, y = data(30)
    if n == 3:
        X, y = X[[np.flatnonzero(y == k)[0] for k in range(3)]], np.arange(3)
    model = MLPClassifier(early_stopping=True, max_iter=1, **params)
    with pytest.raises(DataError) as info:
        model.fit(X, y)
    assert str(info.value) == (
        f"the validation split (validation_fraction={fraction} of {n} rows) holds out every "
        f"row of {missing} classes, which the network would then never learn; hold out a "
        "smaller share, or none (early_stopping=False and validation_fraction=None; on the "
        "command line --no-early-stopping without --validation-fraction)"
    )


@pytest.mark.parametrize("how", ["fit", "partial_fit"])
@pytest.mark.parametrize(
    ("callbacks", "message"),
    [
        # Was "'int' object is not callable" from inside the first epoch, the network built.
        ([1], "each of callbacks must be a callable callback(trainer); got 1"),
        # Was "Value after * must be an iterable, not builtin_function_or_method".
        (print, "callbacks must be a sequence of callables callback(trainer), such as "
         "[print_loss]; got <built-in function print>"),
        ("abc", "callbacks must be a sequence of callables callback(trainer), such as "
         "[print_loss]; got 'abc'"),
    ],
)  # fmt: skip
def test_callbacks_that_cannot_be_called_are_refused_before_training(
    how: str, callbacks: object, message: str
) -> None:
    model = MLPClassifier((3,), max_iter=2)
    X, y = data()
    extra = {"classes": [0, 1, 2]} if how == "partial_fit" else {}
    with pytest.raises(TypeError) as info:
        getattr(model, how)(X, y, callbacks=callbacks, **extra)
    assert str(info.value) == message
    assert not hasattr(model, "net_")


def test_no_callbacks_may_be_given_as_none() -> None:
    seen: list[int] = []
    model = MLPRegressor((3,), max_iter=2).fit(*data(), callbacks=None)
    model.fit(*data(), callbacks=(lambda trainer: seen.append(1) for _ in range(2)))
    assert model.n_iter_ == 2 and seen == [1, 1, 1, 1]


def test_partial_fit_with_one_class_named_says_so_not_that_y_has_one() -> None:
    X, y = data()
    model = MLPClassifier((3,), max_iter=1)
    with pytest.raises(DataError) as info:
        model.partial_fit(X, y, classes=[0])
    assert str(info.value) == (
        "classes=[0] names one class; a classifier needs at least two: name every class any "
        "call will see (e.g. classes=np.unique(y_all))"
    )
    assert not hasattr(model, "net_")
