"""MLPRegressor as a deep ensemble: the mixture it predicts, its intervals and their
coverage, both backends, files and resumption, and the errors of misuse."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from gradfit import load, save
from gradfit.engine import Ensemble, GaussianNLL
from gradfit.estimator import MLPRegressor

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture
def data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.uniform(-3, 3, size=(80, 2))
    y = np.sin(X[:, 0]) + 0.3 * X[:, 1] + rng.normal(0, 0.1 + 0.1 * np.abs(X[:, 0]))
    return X, y


def ensemble(**kw: object) -> MLPRegressor:
    base = {"hidden_layer_sizes": (16,), "n_members": 3, "loss": "gaussian_nll",
            "random_state": 0, "max_iter": 40, "batch_size": 32}  # fmt: skip
    return MLPRegressor(**(base | kw))


def test_the_prediction_is_the_mixture_of_the_members_by_hand(data) -> None:
    X, y = data
    est = ensemble().fit(X, y)
    assert isinstance(est.net_, Ensemble) and est.net_.n_members == 3
    Z = (X - est.x_scaler_.center) / est.x_scaler_.scale
    c, s = est.y_scaler_.center[0], est.y_scaler_.scale[0]
    mus, variances = [], []
    for k in range(3):
        out = est.net_.member(k).forward(Z)
        mus.append(out[:, 0] * s + c)
        variances.append((np.log1p(np.exp(out[:, 1])) + 1e-6) * s**2)
    mu, var = np.array(mus), np.array(variances)
    mean, std = est.predict(X, return_std=True)
    assert_allclose(mean, mu.mean(axis=0), rtol=1e-12)
    assert_allclose(std**2, (var + mu**2).mean(axis=0) - mean**2, rtol=1e-9)
    assert_allclose(est.predict(X), mean, rtol=0, atol=0)
    assert est.coefs_[0].shape == (3, 2, 16) and est.intercepts_[1].shape == (3, 2)


def test_mean_only_members_spread_by_their_means(data) -> None:
    X, y = data
    est = ensemble(loss="mse").fit(X, y)
    Z = est.x_scaler_.transform(X)
    members = np.array([est.net_.member(k).forward(Z)[:, 0] for k in range(3)])
    members = members * est.y_scaler_.scale[0] + est.y_scaler_.center[0]
    mean, std = est.predict(X, return_std=True)
    assert_allclose(mean, members.mean(axis=0), rtol=1e-12)
    assert_allclose(std, members.std(axis=0), rtol=1e-9)


def test_one_network_with_a_gaussian_head_has_its_own_spread(data) -> None:
    X, y = data
    est = ensemble(n_members=1).fit(X, y)
    assert not isinstance(est.net_, Ensemble) and est.net_.sizes[-1] == 2
    out = est.net_.forward(est.x_scaler_.transform(X))
    _, var = GaussianNLL().mean_and_variance(out)
    assert_allclose(est.predict(X, return_std=True)[1], np.sqrt(var[:, 0]) * est.y_scaler_.scale[0])


def test_interval_is_mean_plus_minus_z_sigma(data) -> None:
    X, y = data
    est = ensemble().fit(X, y)
    mean, std = est.predict(X, return_std=True)
    lower, upper = est.predict_interval(X, coverage=0.9)
    assert_allclose(upper - mean, 1.6448536269514722 * std, rtol=1e-12)
    assert_allclose(mean - lower, 1.6448536269514722 * std, rtol=1e-12)
    wide = est.predict_interval(X, coverage=0.99)
    assert (wide[1] - wide[0] > upper - lower).all()


def test_two_outputs_keep_their_columns(data) -> None:
    X, y = data
    Y = np.column_stack([y, 10 * y + 5])
    est = ensemble().fit(X, Y)
    mean, std = est.predict(X, return_std=True)
    assert mean.shape == std.shape == (80, 2)
    lower, upper = est.predict_interval(X)
    assert lower.shape == (80, 2) and (lower < upper).all()
    assert std[:, 1].mean() > 5 * std[:, 0].mean()  # in each target's own units


def test_ninety_percent_intervals_cover_ninety_percent_of_a_known_gaussian() -> None:
    """y = x/2 + N(0, (0.2 + 0.3|x|)²): a calibrated model covers 90% of new points,
    and its width follows the noise."""
    rng = np.random.default_rng(1)

    def draw(n: int) -> tuple[np.ndarray, np.ndarray]:
        x = rng.uniform(-2, 2, size=(n, 1))
        return x, x[:, 0] / 2 + rng.normal(0, 0.2 + 0.3 * np.abs(x[:, 0]))

    X, y = draw(2000)
    X_new, y_new = draw(4000)
    # The settings the test was written with (before early stopping became the default).
    est = ensemble(hidden_layer_sizes=(32,), n_members=5, max_iter=60, batch_size=100,
                   learning_rate_init=0.01, early_stopping=False,
                   n_iter_no_change=30).fit(X, y)  # fmt: skip
    lower, upper = est.predict_interval(X_new, coverage=0.9)
    covered = np.mean((lower <= y_new) & (y_new <= upper))
    assert 0.87 <= covered <= 0.93, covered
    _, std = est.predict(np.array([[0.0], [1.8]]), return_std=True)
    assert std[0] == pytest.approx(0.2, rel=0.25) and std[1] == pytest.approx(0.74, rel=0.2)


@pytest.mark.parametrize("loss", ["gaussian_nll", "mse"])
def test_both_backends_train_the_same_ensemble(data, loss: str) -> None:
    pytest.importorskip("torch")
    X, y = data
    ours = ensemble(loss=loss, max_iter=15).fit(X, y)
    theirs = ensemble(loss=loss, max_iter=15, backend="torch").fit(X, y)
    assert_allclose(theirs.loss_curve_, ours.loss_curve_, rtol=1e-10)
    for a, b in zip(
        ours.predict(X, return_std=True), theirs.predict(X, return_std=True), strict=True
    ):
        assert_allclose(b, a, rtol=1e-9, atol=1e-12)


def test_an_ensemble_file_predicts_the_same(data, tmp_path) -> None:
    X, y = data
    est = ensemble().fit(X, y)
    save(est, tmp_path / "m.safetensors")
    again = load(tmp_path / "m.safetensors")
    assert isinstance(again.net_, Ensemble) and again.n_members == 3
    for a, b in zip(
        est.predict(X, return_std=True), again.predict(X, return_std=True), strict=True
    ):
        assert_array_equal(b, a)
    assert_array_equal(again.predict_interval(X)[0], est.predict_interval(X)[0])


def test_a_bare_ensemble_file_declares_its_member_axis(tmp_path) -> None:
    from gradfit.errors import ModelFileError
    from gradfit.io import safetensors_file

    net = Ensemble([2, 4, 2], "tanh", 3, rng=np.random.default_rng(0))
    save(net, tmp_path / "e.safetensors")
    again = load(tmp_path / "e.safetensors")
    assert isinstance(again, Ensemble) and again.n_members == 3
    assert_array_equal(again.flat, net.flat)
    doc, tensors = safetensors_file.read(tmp_path / "e.safetensors", what="model")
    doc["network"]["n_members"] = 2
    safetensors_file.write(tmp_path / "bad.safetensors", doc, tensors)
    with pytest.raises(ModelFileError, match=r"tensor '0.weight' has shape \(3, 4, 2\)"):
        load(tmp_path / "bad.safetensors")


def test_an_ensemble_resumes_bit_for_bit(data) -> None:
    X, y = data
    kw = {"max_iter": 12, "validation_fraction": 0.2, "early_stopping": True}
    whole = ensemble(**kw).fit(X, y)
    saved: dict = {}

    def interrupt(trainer) -> None:
        if trainer.epoch == 5:
            saved.update(trainer.state_dict())
            trainer.stop = True

    ensemble(**kw).fit(X, y, callbacks=[interrupt])
    resumed = ensemble(**kw).fit(X, y, resume_from=saved)
    assert_array_equal(resumed.loss_curve_, whole.loss_curve_)
    assert_array_equal(resumed.net_.flat, whole.net_.flat)


def test_warm_start_continues_the_same_members(data) -> None:
    X, y = data
    once = ensemble(max_iter=10).fit(X, y)
    twice = ensemble(max_iter=5, warm_start=True).fit(X, y)
    twice.fit(X, y)
    assert_allclose(twice.net_.flat, once.net_.flat, rtol=1e-12)


@pytest.mark.parametrize("bad", [0, -1, 2.5, "5", True])
def test_a_member_count_below_one_is_one_clear_error(data, bad) -> None:
    X, y = data
    with pytest.raises(
        ValueError, match=r"^n_members \(networks in the ensemble.*positive integer"
    ):
        ensemble(n_members=bad).fit(X, y)


@pytest.mark.parametrize("bad", [0, 1, -0.5, 1.5, 90, "0.9", None])
def test_a_coverage_outside_zero_one_is_one_clear_error(data, bad) -> None:
    X, y = data
    est = ensemble(max_iter=2).fit(X, y)
    with pytest.raises(ValueError, match="coverage must"):
        est.predict_interval(X, coverage=bad)


def test_return_std_without_spread_is_one_clear_error(data) -> None:
    X, y = data
    est = MLPRegressor(hidden_layer_sizes=(4,), max_iter=2, random_state=0).fit(X, y)
    for call in (lambda: est.predict(X, return_std=True), lambda: est.predict_interval(X)):
        with pytest.raises(ValueError, match=r"no spread to report.*n_members >= 2.*gaussian_nll"):
            call()
    assert est.predict(X).shape == (80,)


@pytest.mark.parametrize("loss", ["gaussian_nll", "mse"])
def test_the_variance_is_calibrated_to_the_held_out_rows(data, loss: str) -> None:
    """With a fold held out by each member, the variance is ``v = (a σ² + c) exp(z·w)``
    (``z`` the standardised inputs) with ``a, c, w`` the most likely on the held-out rows
    under the slopes' prior, each row's members first moved as if none had trained on it
    (a trained member's residual times ``√(MSE held out / MSE trained)``), the spread that
    of the members that trained on the row, and the residual the moved ensemble's. Worked
    here by hand: the likelihood's gradient vanishes there (``c`` may sit at its floor)."""
    X, y = data
    Y = np.column_stack([y, 10 * y + 5])
    est = ensemble(loss=loss, early_stopping=True).fit(X, Y)
    folds = est.validation_rows_
    held = np.unique(folds)
    assert folds.shape == (3, 16) and held.size > 16
    assert est.variance_calibration_.shape == (2, 2) and (est.variance_calibration_ > 0).all()
    assert est.variance_slopes_.shape == (2, 2)
    assert np.isnan(est.oob_prediction_).any(axis=1).sum() == 80 - held.size
    _, std = est.predict(X[held], return_std=True)
    (a, c), w = est.variance_calibration_, est.variance_slopes_
    est.variance_calibration_ = est.variance_slopes_ = None
    _, raw = est.predict(X[held], return_std=True)
    scale2, Z = np.square(est.y_scaler_.scale), est.x_scaler_.transform(X[held])
    assert_allclose(np.square(std), (a * np.square(raw) + c * scale2) * np.exp(Z @ w), rtol=1e-12)

    out = est.net_.forward(Z)
    gaussian = loss == "gaussian_nll"
    M, member_var = GaussianNLL().mean_and_variance(out) if gaussian else (out, 0 * out)
    T = np.stack([~np.isin(held, f) for f in folds])[..., None]  # member k trained on row i
    Ys = est.y_scaler_.transform(Y[held])
    E2 = np.square(M - Ys)
    ratio = np.sqrt((E2 * ~T).sum((0, 1)) / (~T).sum() / ((E2 * T).sum((0, 1)) / T.sum()))
    moved = np.where(T, Ys + (M - Ys) * ratio, M)
    centre = (moved * T).sum(0) / T.sum(0)
    s2 = (np.square(moved - centre) * T).sum(0) / (T.sum(0) - 1) * 2 / 3 + np.mean(member_var, 0)
    u = a * s2 + c
    v, r2 = u * np.exp(Z @ w), np.square(Ys - moved.mean(0))
    dlog = (1 - r2 / v) / 2  # ∂(-log-likelihood)/∂log v per row
    n = len(held)
    assert_allclose(np.sum(dlog * a * s2 / u, 0) / n, 0, atol=1e-7)
    assert_allclose((Z.T @ dlog + 100.0 * w) / n, 0, atol=1e-7)
    floor = c <= 1e-10 * np.mean(r2, 0)
    assert_allclose((np.sum(dlog * c / u, 0) / n)[~floor], 0, atol=1e-7)


def test_the_calibration_is_the_grids_best() -> None:
    """On data drawn as ``N(0, 2 σ² + 0.5)``, the fitted ``(a, c)`` beats every point of a
    grid around it and lies near the truth."""
    from gradfit.uncertainty import fit_variance_calibration

    rng = np.random.default_rng(3)
    var = rng.uniform(0.1, 3, size=(20_000, 1))
    y = rng.normal(0, np.sqrt(2 * var + 0.5))
    (a,), (c,) = fit_variance_calibration(y, np.zeros_like(y), var)
    assert a == pytest.approx(2, rel=0.05) and c == pytest.approx(0.5, rel=0.15)

    def nll(a: float, c: float) -> float:
        v = a * var + c
        return float(np.mean(np.log(v) + np.square(y) / v))

    best = nll(a, c)
    for da in (-0.01, 0, 0.01):
        for dc in (-0.01, 0, 0.01):
            assert nll(a + da, c + dc) >= best - 1e-12


def test_the_calibration_finds_a_noise_that_grows_along_an_input() -> None:
    """On data drawn as ``N(0, (2 σ² + 0.5) exp(0.3 z₁))``, the fitted ``a, c`` and slopes lie
    near the truth (the prior's pull on the slopes is negligible on 20 000 rows)."""
    from gradfit.uncertainty import fit_variance_calibration

    rng = np.random.default_rng(4)
    var = rng.uniform(0.1, 3, size=(20_000, 1))
    Z = rng.normal(size=(20_000, 2))
    y = rng.normal(0, np.sqrt((2 * var + 0.5) * np.exp(0.3 * Z[:, :1])))
    (a,), (c,), (w1,), (w2,) = fit_variance_calibration(y, np.zeros_like(y), var, Z)
    assert a == pytest.approx(2, rel=0.05) and c == pytest.approx(0.5, rel=0.2)
    assert w1 == pytest.approx(0.3, abs=0.03) and w2 == pytest.approx(0, abs=0.03)


def test_without_a_held_out_split_the_variance_is_the_networks(data) -> None:
    X, y = data
    est = ensemble().fit(X, y)  # 80 rows: early_stopping="auto" holds nothing out
    assert est.validation_rows_ is None and est.variance_calibration_ is None
    assert ensemble(n_members=1, loss="mse").fit(X, y).variance_calibration_ is None


def test_a_calibrated_ensemble_file_keeps_its_calibration(data, tmp_path) -> None:
    X, y = data
    est = ensemble(early_stopping=True).fit(X, y)
    save(est, tmp_path / "m.safetensors")
    back = load(tmp_path / "m.safetensors")
    assert_array_equal(back.variance_calibration_, est.variance_calibration_)
    assert_array_equal(back.variance_slopes_, est.variance_slopes_)
    assert_array_equal(back.predict(X, return_std=True)[1], est.predict(X, return_std=True)[1])


def test_mean_only_members_fit_in_the_compiled_kernel_as_in_numpy(
    data, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("numba")
    X, y = data
    fits = {}
    for kernel in ("on", "off"):
        monkeypatch.setenv("GRADFIT_KERNEL", kernel)
        est = ensemble(loss="mse").fit(X, y)
        fits[kernel] = (est.net_.flat.copy(), est.loss_curve_, est.n_iter_)
    assert fits["on"][2] == fits["off"][2] == 40
    assert_allclose(fits["on"][1], fits["off"][1], rtol=1e-10)
    assert_allclose(fits["on"][0], fits["off"][0], rtol=1e-9, atol=1e-12)
