"""Bad input to the classifier and the ensembles from Python (issues 16 and 17's
adversarial pass): each is refused at once, in one line that says what to do."""

from __future__ import annotations

import numpy as np
import pytest

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
