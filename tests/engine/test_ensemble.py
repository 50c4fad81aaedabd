"""Stacked ensembles: the members are the MLPs they stand for, the batched step is each
member's own step, and the mixture's moments are worked by hand."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

from gradfit.engine import (
    MLP,
    Adam,
    Ensemble,
    EnsembleStepper,
    NumpyStepper,
    Trainer,
    get_loss,
    mixture,
)
from gradfit.engine.ensemble import out_of_bag


def test_mixture_moments_by_hand() -> None:
    # Two members at one point: N(1, 1) and N(3, 4). Mean 2; variance (1+4)/2 + ((1-2)²+(3-2)²)/2.
    mean, var = mixture(np.array([[[1.0]], [[3.0]]]), np.array([[[1.0]], [[4.0]]]))
    assert_allclose(mean, [[2.0]]) and assert_allclose(var, [[3.5]])
    # Mean-only heads: the spread of the means alone, E[μ²] - E[μ]².
    means = np.array([[[0.0, 1.0]], [[2.0, 1.0]], [[4.0, 1.0]]])
    mean, var = mixture(means)
    assert_allclose(mean, [[2.0, 1.0]]) and assert_allclose(var, [[8 / 3, 0.0]])


def test_members_are_the_mlps_drawn_one_after_another() -> None:
    ens = Ensemble([3, 7, 5, 2], "tanh", 4, rng=np.random.default_rng(5))
    rng = np.random.default_rng(5)
    X = np.random.default_rng(6).normal(size=(11, 3))
    Y_hat = ens.forward(X)
    assert Y_hat.shape == (4, 11, 2) and ens.n_parameters == 4 * (7 * 4 + 5 * 8 + 2 * 6)
    for k in range(4):
        own = MLP([3, 7, 5, 2], "tanh", rng=rng)
        assert_allclose(ens.member(k).flat, own.flat, rtol=0, atol=0)
        assert_allclose(Y_hat[k], own.forward(X), rtol=1e-14)
    assert_allclose(Ensemble.from_members([ens.member(k) for k in range(4)]).flat, ens.flat)


def test_without_a_generator_the_parameters_are_zeros_to_be_set() -> None:
    """``rng=None`` draws nothing (``from_parameters`` and ``copy`` build so): zeros, laid
    flat as a drawn network's, with the dtype asked for."""
    for net, dtype in [
        (MLP([3, 4, 2], rng=None, dtype="float32"), np.float32),
        (Ensemble([3, 4, 2], n_members=3, rng=None), np.float64),
    ]:
        assert not net.flat.any() and net.flat.size == net.n_parameters
        assert all(np.shares_memory(p, net.flat) for p in net.parameters())
        assert net.flat.dtype == dtype
    drawn = Ensemble([3, 4, 2], n_members=3, rng=np.random.default_rng(0))
    assert_allclose(drawn.copy().flat, drawn.flat, rtol=0, atol=0)


@pytest.mark.parametrize("loss", ["mse", "sse", "gaussian_nll"])
@pytest.mark.parametrize("sizes", [[2, 4], [2, 6, 4], [2, 5, 5, 2]], ids=["linear", "1h", "2h"])
def test_a_batched_step_is_every_members_own_step(loss: str, sizes: list[int]) -> None:
    """Each member steps as it would alone: the summed objective's gradient is its own."""
    rng = np.random.default_rng(0)
    n_targets = sizes[-1] // 2 if loss == "gaussian_nll" else sizes[-1]
    X, Y = rng.normal(size=(13, 2)), rng.normal(size=(13, n_targets))
    ens = Ensemble(sizes, "relu", 3, rng=rng)
    members = [ens.member(k) for k in range(3)]
    stepper = EnsembleStepper(ens, X, Y, get_loss(loss), Adam(ens.parameters(), lr=0.01))
    alone = [NumpyStepper(m, X, Y, get_loss(loss), Adam(m.parameters(), lr=0.01)) for m in members]
    rows = np.array([4, 0, 9, 2, 11])
    for _ in range(5):
        value = stepper.step(rows)
        values = [s.step(rows) for s in alone]
        assert value == pytest.approx(np.mean(values), rel=1e-13)
    for k, m in enumerate(members):
        assert_allclose(ens.member(k).flat, m.flat, rtol=1e-12, atol=1e-14)
    assert stepper.evaluate(X, Y) == pytest.approx(
        np.mean([s.evaluate(X, Y) for s in alone]), rel=1e-13
    )


@pytest.mark.parametrize("loss", ["mse", "gaussian_nll"])
def test_members_on_rows_of_their_own_step_as_each_alone_on_its_rows(loss: str) -> None:
    """With ``member_rows``, member ``k`` steps as a network trained alone on
    ``X[member_rows[k]]``: batch positions ``r`` are its rows ``member_rows[k, r]``."""
    rng = np.random.default_rng(3)
    X, Y = rng.normal(size=(20, 2)), rng.normal(size=(20, 1))
    sizes = [2, 6, 2 if loss == "gaussian_nll" else 1]
    ens = Ensemble(sizes, "relu", 3, rng=rng)
    member_rows = np.stack([np.delete(np.arange(20), np.arange(k, 20, 3)[:5]) for k in range(3)])
    members = [ens.member(k) for k in range(3)]
    stepper = EnsembleStepper(ens, X, Y, get_loss(loss), Adam(ens.parameters(), lr=0.01),
                              member_rows)  # fmt: skip
    assert stepper.n_samples == 15
    alone = [NumpyStepper(m, X[r], Y[r], get_loss(loss), Adam(m.parameters(), lr=0.01))
             for m, r in zip(members, member_rows, strict=True)]  # fmt: skip
    for rows in (np.array([4, 0, 9, 2, 11]), None, slice(3, 12)):
        value = stepper.step(rows)
        assert value == pytest.approx(np.mean([s.step(rows) for s in alone]), rel=1e-13)
    for k, m in enumerate(members):
        assert_allclose(ens.member(k).flat, m.flat, rtol=1e-12, atol=1e-14)
    # Each member scored on its own rows: (K, n, n_in) and (K, n, n_out).
    held = np.stack([np.arange(k, 20, 3)[:5] for k in range(3)])
    own = [s.evaluate(X[h], Y[h]) for s, h in zip(alone, held, strict=True)]
    assert stepper.evaluate(X[held], Y[held]) == pytest.approx(np.mean(own), rel=1e-13)


def test_out_of_bag_means_by_hand() -> None:
    # Row 0 held out by members 0 and 1, row 2 by member 1 alone, row 1 by none.
    values = np.array([[[1.0], [5.0]], [[3.0], [7.0]]])  # (K=2, n_held=2, 1)
    held = np.array([[0, 3], [0, 2]])
    out = out_of_bag(values, held, 4)
    assert_allclose(out[[0, 2, 3]], [[2.0], [7.0], [5.0]]) and np.isnan(out[1, 0])


def test_an_ensemble_trains_and_resumes_through_the_trainer() -> None:
    rng = np.random.default_rng(1)
    X = rng.uniform(-2, 2, size=(40, 1))
    Y = np.sin(X) + rng.normal(0, 0.1, size=X.shape)

    def trainer() -> Trainer:
        ens = Ensemble([1, 16, 2], "tanh", 3, rng=np.random.default_rng(2))
        stepper = EnsembleStepper(
            ens, X, Y, get_loss("gaussian_nll"), Adam(ens.parameters(), lr=0.01)
        )
        return Trainer(stepper, batch_size=16, rng=np.random.default_rng(3))

    whole = trainer()
    whole.fit(30)
    first = trainer()
    first.fit(12)
    state = first.state_dict()
    second = trainer()
    second.load_state_dict(state)
    second.fit(18)
    assert_allclose(second.stepper.net.flat, whole.stepper.net.flat, rtol=0, atol=0)
    assert whole.history.loss[-1] < whole.history.loss[0] - 0.5


def test_bad_member_counts_are_refused() -> None:
    for bad in (0, -2, 2.5, True):
        with pytest.raises(ValueError, match="n_members must be"):
            Ensemble([1, 2], n_members=bad, rng=np.random.default_rng(0))  # type: ignore[arg-type]
