"""An ensemble's step in parts of its rows on the cores: the numbers do not depend on the
cores (bit for bit), and are one pass's to rounding."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from gradfit.engine import Adam, Ensemble, EnsembleStepper, batch_parts, get_loss
from gradfit.engine import pace as pace_module
from gradfit.engine.batch_parts import BatchParts, n_parts
from gradfit.engine.pace import PARALLEL, SERIAL, Pace


def trained(
    loss: str, parts: int, member_rows: np.ndarray | None = None, steps: int = 12
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Parameters, gradients and losses after ``steps`` Adam steps of 3 members (1-16-…)
    on batches of 23 rows (parts of 12 and 11), and once on every row."""
    rng = np.random.default_rng(0)
    X, Y = rng.normal(size=(60, 4)), rng.normal(size=(60, 1))
    net = Ensemble([4, 16, 2 if loss == "gaussian_nll" else 1], "relu", 3,
                   rng=np.random.default_rng(1))  # fmt: skip
    stepper = EnsembleStepper(net, X, Y, get_loss(loss), Adam(net.parameters(), lr=0.01),
                              member_rows, parts=parts)  # fmt: skip
    batches = np.random.default_rng(2)
    losses = [stepper.step(batches.choice(stepper.n_samples, 23, replace=False))
              for _ in range(steps)]  # fmt: skip
    losses.append(stepper.step(None))
    return net.flat.copy(), net.flat_grad.copy(), np.array(losses)


OWN_ROWS = np.stack([np.delete(np.arange(60), np.arange(k, 60, 3)) for k in range(3)])


@pytest.mark.parametrize("loss", ["mse", "sse", "gaussian_nll"])
@pytest.mark.parametrize("member_rows", [None, OWN_ROWS], ids=["shared", "own-rows"])
def test_parts_on_the_cores_are_bit_for_bit_parts_one_after_another(
    loss: str, member_rows: np.ndarray | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    if batch_parts.pool() is None:
        pytest.skip("one core: the parts run one after another anyway")
    monkeypatch.setattr(Pace, "choose", lambda self: PARALLEL)
    at_once = trained(loss, 2, member_rows)
    monkeypatch.setattr(batch_parts, "pool", lambda: None)
    in_turn = trained(loss, 2, member_rows)
    for ours, theirs in zip(at_once, in_turn, strict=True):
        assert_array_equal(ours, theirs)


@pytest.mark.parametrize("loss", ["mse", "sse", "gaussian_nll"])
@pytest.mark.parametrize("member_rows", [None, OWN_ROWS], ids=["shared", "own-rows"])
def test_a_step_in_parts_is_one_pass_to_rounding(loss: str, member_rows: np.ndarray | None) -> None:
    """The parts sum their rows' gradients, then each other's: one pass's numbers, to the
    rounding of that order (13 steps of Adam, whose first steps amplify it the most)."""
    parted, whole = trained(loss, 2, member_rows), trained(loss, 1, member_rows)
    assert_allclose(parted[0], whole[0], rtol=1e-12, atol=1e-14)
    assert_allclose(parted[1], whole[1], rtol=1e-10, atol=1e-14)
    assert_allclose(parted[2], whole[2], rtol=1e-13)


def test_the_parts_tile_the_batch_and_their_gradient_adds_up() -> None:
    """Three parts of 10 rows (4, 3, 3): the gradient is the sum of the parts' gradients of
    the members' summed loss, each part weighted as its share of the batch's mean."""
    rng = np.random.default_rng(3)
    X, Y = rng.normal(size=(10, 2)), rng.normal(size=(10, 1))
    net = Ensemble([2, 5, 1], "tanh", 2, rng=rng)
    parts = BatchParts(net, get_loss("mse"), 10, 3)
    assert parts.bounds == [(0, 4), (4, 7), (7, 10)]
    value = parts.step(X, np.broadcast_to(Y, (2, 10, 1)))
    whole = net.copy()
    A = whole.forward(X)
    whole.parameter_gradients(2 * (A - Y) / 10)  # each member's own MSE's gradient
    assert value == pytest.approx(np.mean((A - Y) ** 2), rel=1e-14)
    assert_allclose(net.flat_grad, whole.flat_grad, rtol=1e-13, atol=1e-16)


def test_steps_run_in_parts_where_their_arithmetic_pays() -> None:
    large = Ensemble([16, 128, 2], "relu", 5, rng=np.random.default_rng(0))
    assert n_parts(large, 200) == 2  # 5 × 200 × 2304 multiply-adds
    assert n_parts(large, 20) == 1  # the hand-off would cost more than it saves
    assert n_parts(large, 200_000) == 1  # BLAS runs on every core itself
    one = Ensemble([16, 128, 2], "relu", 1, rng=np.random.default_rng(0))
    assert n_parts(one, 2000) == 1


def test_the_pace_runs_the_way_faster_lately_and_tries_the_other_ever_less_often(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(pace_module, "crowded", lambda: False)
    pace = Pace(every=8, tries=2, window=2, longest=16)
    chosen = []
    for _ in range(64):
        way = pace.choose()
        chosen.append(way)
        # The cores' first call is slow (threads start); then they take 1 s, one thread 3 s.
        pace.record(way, 50.0 if len(chosen) == 1 else (1.0 if way == PARALLEL else 3.0))
    # The cores (warming up, then timed), one thread (warming up, then timed), then the
    # cores, but for tries of one thread after 8 steps, then 16 (the longest wait).
    assert chosen[:4] == [PARALLEL, PARALLEL, SERIAL, SERIAL]
    serial = [i for i, way in enumerate(chosen) if way == SERIAL]
    assert serial == [2, 3, 12, 13, 30, 31, 48, 49]
    assert pace.pace(PARALLEL) == 1.0 and pace.pace(SERIAL) == 3.0
    # Once the cores are taken (each step 5 s on two threads), one thread takes over.
    for _ in range(2):
        way = pace.choose()
        pace.record(way, 5.0 if way == PARALLEL else 3.0)
    assert pace.choose() == SERIAL


def test_the_cores_are_not_tried_while_other_processes_fill_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(pace_module, "crowded", lambda: True)
    pace = Pace(every=4, tries=1)
    for _ in range(20):
        way = pace.choose()
        assert way == SERIAL
        pace.record(way, 1.0)
    monkeypatch.setattr(pace_module, "crowded", lambda: False)  # the load has gone
    assert pace.choose() == PARALLEL
    # Once the cores are the faster, they stay so whatever the load, until measured slower.
    for _ in range(3):
        pace.record(PARALLEL, 0.5)
    monkeypatch.setattr(pace_module, "crowded", lambda: True)
    assert pace.choose() == PARALLEL


def test_a_forked_child_runs_its_parts_on_threads_of_its_own() -> None:
    """The parent's threads do not survive a fork: the child starts a pool of its own
    (with the parent's, its parts would wait forever)."""
    if sys.platform != "linux" or batch_parts.pool() is None:
        pytest.skip("fork on Linux, with a second core")
    script = """
import multiprocessing, numpy as np
from gradfit.engine import Adam, Ensemble, EnsembleStepper, MSE, pace
pace.Pace.choose = lambda self: pace.PARALLEL
def run(_=None):
    rng = np.random.default_rng(0)
    X, Y = rng.normal(size=(40, 3)), rng.normal(size=(40, 1))
    ens = Ensemble([3, 8, 1], "relu", 3, rng=np.random.default_rng(4))
    st = EnsembleStepper(ens, X, Y, MSE(), Adam(ens.parameters(), lr=0.01), parts=2)
    for _ in range(3):
        st.step(None)
    return ens.flat.tolist()
here = run()
with multiprocessing.get_context("fork").Pool(1) as workers:
    there = workers.map(run, [0])[0]
print(here == there)
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "True"


def test_one_blas_thread_holds_numpys_blas_to_one_thread_and_gives_it_back() -> None:
    """The estimator's small steps and the spread's calibration run BLAS on one thread:
    inside the context every BLAS library loaded reports one thread, after it its own
    number again; the libraries are found once per process, not at every fit."""
    threadpoolctl = pytest.importorskip("threadpoolctl")

    def blas_threads() -> list[int]:
        return [i["num_threads"] for i in threadpoolctl.threadpool_info()
                if i["user_api"] == "blas"]  # fmt: skip

    with threadpoolctl.threadpool_limits(limits=2, user_api="blas"):  # whatever the env says
        before = blas_threads()
        assert before and all(n == 2 for n in before)
        with pace_module.one_blas_thread():
            assert blas_threads() == [1] * len(before)
        assert blas_threads() == before
    assert pace_module._blas_controller() is pace_module._blas_controller()


def test_one_step_that_waited_for_a_thread_does_not_keep_the_cores_untried(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A parallel step that waited once (4.5 s here against 0.6) loses the first
    comparison; the next try of the cores, fast again, wins it back (with the mean over the
    window, 1.9 s against one thread's 1.1, one thread kept the fit)."""
    monkeypatch.setattr(pace_module, "crowded", lambda: False)
    pace = Pace(every=4, tries=2, window=4)
    seconds = {PARALLEL: [50.0, 4.5] + [0.6] * 20, SERIAL: [1.1] * 20}
    chosen = []
    for _ in range(12):
        way = pace.choose()
        chosen.append(way)
        pace.record(way, seconds[way].pop(0))
    # Warm-ups, then one each; one thread until the cores are tried again; then the cores.
    assert chosen == [PARALLEL, PARALLEL, SERIAL, SERIAL] + [SERIAL] * 4 + [PARALLEL] * 4
    assert pace.pace(PARALLEL) == 0.6
