"""The estimator refuses what it cannot do honestly (issue 13, groups 5, 7 and 19)."""

from __future__ import annotations

import numpy as np
import pytest

from gradfit.errors import DataError
from gradfit.estimator import MLPRegressor

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def data(n: int = 30) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, 2))
    return X, X @ np.array([1.0, -2.0]) + 0.1 * rng.normal(size=n)


def fitted(**params: object) -> MLPRegressor:
    X, y = data()
    base = {"hidden_layer_sizes": (4,), "max_iter": 3, "random_state": 0, "warm_start": True}
    return MLPRegressor(**(base | params)).fit(X, y)


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"hidden_layer_sizes": (8,)}, "hidden_layer_sizes is [8] but the fitted network has [4]"),
        ({"activation": "tanh"}, "activation is 'tanh' but the fitted network has 'relu'"),
        ({"dtype": "float32"}, "dtype is 'float32' but the fitted network has 'float64'"),
        ({"solver": "sgd"}, "solver is 'sgd' but the fitted network has 'adam'"),
    ],
)
@pytest.mark.parametrize("how", ["fit", "partial_fit"])
def test_warm_start_refuses_a_network_its_parameters_no_longer_describe(
    change: dict[str, object], fragment: str, how: str
) -> None:
    model = fitted()
    before = [W.copy() for W in model.coefs_]
    model.set_params(**change)
    with pytest.raises(ValueError, match="cannot continue the fitted network") as info:
        getattr(model, how)(*data())
    assert fragment in str(info.value) and "warm_start=False" in str(info.value)
    for W, kept in zip(model.coefs_, before, strict=True):
        np.testing.assert_array_equal(W, kept)


def test_without_warm_start_a_changed_network_is_simply_rebuilt() -> None:
    model = fitted(warm_start=False)
    model.set_params(hidden_layer_sizes=(8,), activation="tanh")
    model.fit(*data())
    assert model.net_.spec["sizes"] == [2, 8, 1] and model.net_.spec["activation"] == "tanh"


def test_warm_start_continues_when_only_epochs_and_rate_change() -> None:
    model = fitted()
    model.set_params(max_iter=2, learning_rate_init=0.01, backend="numpy")
    model.fit(*data())
    assert model.n_iter_ == 5


@pytest.mark.parametrize(("column", "scale"), [("X", 1e160), ("y", 1e300)])
def test_values_whose_squares_overflow_are_refused_before_training(
    column: str, scale: float
) -> None:
    X, y = data()
    if column == "X":
        X = X * scale
    else:
        y = y * scale
    model = MLPRegressor(max_iter=2)
    with pytest.raises(DataError, match=f"{column} column 0 holds values too large to standardise"):
        model.fit(X, y)
    assert not hasattr(model, "net_")


def test_sparse_input_is_a_data_error() -> None:
    scipy_sparse = pytest.importorskip("scipy.sparse")
    X, y = data()
    with pytest.raises(DataError, match="Sparse data was passed"):
        MLPRegressor(max_iter=2).fit(scipy_sparse.csr_matrix(X), y)


def test_column_names_of_mixed_types_are_a_data_error() -> None:
    pd = pytest.importorskip("pandas")
    X, y = data()
    frame = pd.DataFrame(X, columns=["a", 0])
    with pytest.raises(DataError, match="Feature names are only supported if all input"):
        MLPRegressor(max_iter=2).fit(frame, y)


@pytest.mark.parametrize(("column", "scale"), [("X", 1e-300), ("y", 1e-170)])
def test_values_whose_squares_underflow_are_refused_before_training(
    column: str, scale: float
) -> None:
    """Values of 1e-300 differ, but their squared deviations are 0 in float64: the
    column was taken for a constant, only centred, and the fit predicted one value
    (targets of 1e-300 got predictions of 0.03, R² nan, exit 0 in the CLI)."""
    X, y = data()
    if column == "X":
        X = X * scale
    else:
        y = y * scale
    model = MLPRegressor(max_iter=2)
    with pytest.raises(DataError) as info:
        model.fit(X, y)
    assert str(info.value).startswith(
        f"{column} column 0 holds values too small to standardise (largest magnitude "
    )
    assert str(info.value).endswith(
        "their squares underflow float64 to 0, so the column would be taken for a constant; "
        "rescale the column (multiply it by a power of ten) before training"
    )
    assert not hasattr(model, "net_")


def test_a_column_too_large_to_standardise_is_named_by_its_feature_name() -> None:
    pd = pytest.importorskip("pandas")
    X, y = data()
    frame = pd.DataFrame({"rate": X[:, 0], "income": X[:, 0] * 1e200})
    with pytest.raises(DataError, match=r"^X column 'income' \(column 1\) holds values too large"):
        MLPRegressor(max_iter=2).fit(frame, y)
    constant = MLPRegressor(max_iter=2).fit(pd.DataFrame({"c": np.full(len(y), 1e-300)}), y)
    assert constant.x_scaler_ is not None and constant.x_scaler_.scale.tolist() == [1.0]


def test_text_in_X_names_its_column_and_row_and_what_to_do() -> None:
    """A category column said only "could not convert string to float: 'u'", with no
    word of which column or what to do (scikit-learn's first words are kept). Rows as the
    engine counts them: a DataFrame's by its index label, an array's from 0."""
    pd = pytest.importorskip("pandas")
    X, y = data()
    frame = pd.DataFrame({"rate": X[:, 0], "city": pd.Categorical(["Oslo", "Lima"] * 15)})
    advice = (
        "the estimator takes numbers: encode a text column first (one 0/1 column per "
        "category, e.g. pandas.get_dummies) or leave it out; the command gradfit fit "
        "encodes text columns itself"
    )
    with pytest.raises(DataError) as info:
        MLPRegressor(max_iter=2).fit(frame, y)
    assert str(info.value) == (
        f"could not convert string to float: 'Oslo' (X column 'city', row 0); {advice}"
    )
    cells = X.astype(object)
    cells[2, 0] = "a"
    with pytest.raises(DataError) as info:
        MLPRegressor(max_iter=2).fit(cells, y)
    assert (
        str(info.value) == f"could not convert string to float: 'a' (X column 0, row 2); {advice}"
    )


def test_pandas_na_none_and_no_columns_are_said_plainly() -> None:
    """pandas.NA in X said "float() argument must be a string or a real number, not
    'NAType'", in a classifier's labels "boolean value of NA is ambiguous"; X=None
    "Expected 2D array, got scalar array instead: array=nan"; a DataFrame of no columns
    "at least one array or dtype is required"."""
    pd = pytest.importorskip("pandas")
    from gradfit.estimator import MLPClassifier

    X, y = data()
    holed = pd.DataFrame({"a": pd.array([1.0, pd.NA] * 15, dtype=object)})
    with pytest.raises(DataError) as info:
        MLPRegressor(max_iter=2).fit(holed, y)
    assert str(info.value) == (
        "Input X contains pandas.NA (a missing value); fill those cells, or drop their rows, first"
    )
    labels = pd.array(["a", None] * 15, dtype="string")
    with pytest.raises(DataError, match=r"^Input y contains pandas.NA \(a missing value\)"):
        MLPClassifier(max_iter=2).fit(X, labels)
    with pytest.raises(TypeError) as type_info:
        MLPRegressor(max_iter=2).fit(None, y)
    assert str(type_info.value) == "X is None; pass the features as a 2-D array or a DataFrame"
    with pytest.raises(DataError) as info:
        MLPRegressor(max_iter=2).fit(pd.DataFrame(index=range(len(y))), y)
    assert str(info.value) == "X has no columns (shape (30, 0)); at least one feature is needed"
