"""The compiled kernel: the engine's gradients and updates, chosen where it covers the
model, and training runs that end where NumPy's do (torch parity is in
``tests/torch_backend/test_parity.py``)."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from gradfit import DivergenceError
from gradfit.engine import (
    MLP,
    MSE,
    SGD,
    SSE,
    Adam,
    Ensemble,
    EnsembleStepper,
    GaussianNLL,
    NumpyStepper,
    Trainer,
    get_loss,
    train,
)
from gradfit.engine import kernel as engine_kernel

numba = pytest.importorskip("numba")
from gradfit.engine.kernel.stepper import EnsembleKernelStepper, KernelStepper  # noqa: E402

SHAPES = [[1, 64, 1], [3, 5, 1], [2, 6, 2], [1, 7, 3, 1], [4, 3, 9, 2], [2, 2]]
"""Rank-one (one and several inputs) and layered networks; each product's loop order
(``n_in`` ≥ or < ``n_out``) occurs forward, for ``dW`` and for ``dL/dX``."""


def problem(sizes: list[int], n: int = 20, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.uniform(-2, 2, size=(n, sizes[0]))
    Y = np.sin(X @ rng.normal(size=(sizes[0], sizes[-1])))
    return X, Y


def quiet(_: str) -> None:
    pass


class OneAtATime:
    """A stepper without ``run_epochs``: the trainer steps it epoch by epoch."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def __getattr__(self, name: str) -> Any:
        if name == "run_epochs":
            raise AttributeError(name)
        return getattr(self.inner, name)


@pytest.mark.parametrize("sizes", SHAPES)
@pytest.mark.parametrize("activation", ["relu", "identity"])
@pytest.mark.parametrize("loss", ["mse", "sse"])
def test_a_kernel_step_is_backprop_then_the_engines_update(
    sizes: list[int], activation: str, loss: str
) -> None:
    X, Y = problem(sizes)
    net = MLP(sizes, activation, rng=np.random.default_rng(1))
    reference = net.copy()
    for rows in (None, slice(3, 11), np.array([5, 0, 19, 7, 7])):
        ours = KernelStepper(net, X, Y, get_loss(loss), Adam(net.parameters(), lr=0.01))
        theirs = Adam(reference.parameters(), lr=0.01)
        Xb, Yb = (X, Y) if rows is None else (X[rows], Y[rows])
        value = ours.step(rows)
        Y_hat = reference.forward(Xb)
        assert_allclose(value, get_loss(loss).value(Y_hat, Yb), rtol=1e-13)
        reference.backward(get_loss(loss).gradient(Y_hat, Yb))
        assert_allclose(net.flat_grad, reference.flat_grad, rtol=1e-12, atol=1e-15)
        theirs.step(reference.gradients())
        assert_allclose(net.flat, reference.flat, rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("sizes", [[1, 9, 1], [3, 9, 1]], ids=["one-input", "three-inputs"])
def test_batches_of_every_size_round_the_four_row_blocks(sizes: list[int]) -> None:
    """The rank-one step takes rows four at a time: batches of 1 to 9 rows end a block at
    every place (and a row repeated in a batch counts twice), with NumPy's gradients."""
    X, Y = problem(sizes)
    for n in range(1, 10):
        rows = np.random.default_rng(n).integers(0, 20, size=n)
        net = MLP(sizes, "relu", rng=np.random.default_rng(n))
        reference = net.copy()
        value = KernelStepper(net, X, Y, MSE(), Adam(net.parameters(), lr=0.01)).step(rows)
        Y_hat = reference.forward(X[rows])
        assert_allclose(value, MSE().value(Y_hat, Y[rows]), rtol=1e-13)
        reference.backward(MSE().gradient(Y_hat, Y[rows]))
        assert_allclose(net.flat_grad, reference.flat_grad, rtol=1e-12, atol=1e-15)


def test_one_input_takes_loops_of_its_own_which_the_general_loops_agree_with() -> None:
    """A mean head on one input gets ``X`` as a vector, so numba compiles only the
    one-input loops for it (the choice is made from ``X``'s dimensions when it compiles);
    the general loops, given the same column as a matrix, take the same step to rounding,
    and several inputs, or a Gaussian head, keep the matrix."""
    from gradfit.engine.kernel import elements
    from gradfit.engine.kernel.rank_one import rank_one_step, rank_one_work

    X, Y = problem([1, 9, 1], n=11)
    net = MLP([1, 9, 1], "relu", rng=np.random.default_rng(2))
    assert KernelStepper(net, X, Y, MSE(), Adam(net.parameters()))._X.ndim == 1
    wide = MLP([3, 9, 1], rng=np.random.default_rng(2))
    assert KernelStepper(wide, *problem([3, 9, 1]), MSE(), Adam(wide.parameters()))._X.ndim == 2
    gauss = MLP([1, 9, 2], rng=np.random.default_rng(2))
    Y2 = np.c_[Y, Y]
    assert KernelStepper(gauss, X, Y2, GaussianNLL(), Adam(gauss.parameters()))._X.ndim == 2
    sizes, rows, work = np.array(net.sizes), np.arange(11)[None], np.empty(rank_one_work((1, 9, 1)))
    grads = np.empty((2, net.flat.size))
    values = [rank_one_step(x, Y, rows, net.flat, g, sizes, work, elements.RELU, 11)
              for x, g in [(np.ascontiguousarray(X[:, 0]), grads[0]), (X, grads[1])]]  # fmt: skip
    assert_allclose(values[0], values[1], rtol=1e-14)
    assert_allclose(grads[0], grads[1], rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize(
    "optimizer",
    [
        lambda p: SGD(p, lr=0.02),
        lambda p: SGD(p, lr=0.02, momentum=0.9, dampening=0.1, weight_decay=1e-3),
        lambda p: SGD(p, lr=0.02, momentum=0.9, nesterov=True),
        lambda p: Adam(p, lr=0.01, betas=(0.8, 0.99), eps=1e-7, weight_decay=1e-2),
    ],
    ids=["sgd", "momentum", "nesterov", "adam-decay"],
)
def test_updates_and_optimizer_state_match_numpys(optimizer: Any) -> None:
    X, Y = problem([2, 6, 2])
    nets = [MLP([2, 6, 2], "relu", rng=np.random.default_rng(2)) for _ in range(2)]
    opts = [optimizer(n.parameters()) for n in nets]
    for stepper in (NumpyStepper, KernelStepper):
        i = stepper is KernelStepper
        Trainer(stepper(nets[i], X, Y, MSE(), opts[i]), rng=np.random.default_rng(0)).fit(50)
    assert_allclose(nets[1].flat, nets[0].flat, rtol=1e-12, atol=1e-14)
    ours, theirs = opts[1].state_dict(), opts[0].state_dict()
    assert ours["t"] == theirs["t"] == 50
    for a, b in zip(ours["state"], theirs["state"], strict=True):
        for k in b:
            assert_allclose(a[k], b[k], rtol=1e-11, atol=1e-15)


def test_many_epochs_per_call_are_bit_for_bit_one_per_call() -> None:
    X, Y = problem([1, 64, 1], n=100)
    runs = []
    for wrap in (lambda s: s, OneAtATime):
        net = MLP([1, 64, 1], "relu", rng=np.random.default_rng(3))
        stepper = KernelStepper(net, X, Y, MSE(), Adam(net.parameters(), lr=0.01))
        trainer = Trainer(wrap(stepper), rng=np.random.default_rng(0), log_every=7, log=quiet)
        runs.append((trainer.fit(300).loss, net.flat.copy(), trainer.epoch))
    assert_array_equal(runs[0][0], runs[1][0])
    assert_array_equal(runs[0][1], runs[1][1])
    assert runs[0][2] == runs[1][2] == 300


def test_log_lines_and_a_resume_are_those_of_numpy() -> None:
    X, Y = problem([2, 6, 1])
    logs: dict[str, list[str]] = {"on": [], "off": []}
    flats = {}
    for kernel in logs:
        net = MLP([2, 6, 1], "relu", rng=np.random.default_rng(4))
        opt = Adam(net.parameters(), lr=0.01)
        train(net, X, Y, optimizer=opt, epochs=30, log_every=10, log=logs[kernel].append,
              kernel=kernel)  # fmt: skip
        train(net, X, Y, optimizer=opt, epochs=30, kernel=kernel)  # continues: t = 31…60
        flats[kernel] = net.flat.copy()
    assert [line[:20] for line in logs["on"]] == [line[:20] for line in logs["off"]]
    assert len(logs["on"]) == 3
    assert_allclose(flats["on"], flats["off"], rtol=1e-12)


@pytest.mark.parametrize("batch_size", [None, 3], ids=["full-batch", "minibatch"])
def test_divergence_is_reported_and_recovered_as_with_numpy(batch_size: int | None) -> None:
    X, Y = problem([2, 6, 2], n=10)
    outcome = {}
    for kernel in ("on", "off"):
        net = MLP([2, 6, 2], "relu", rng=np.random.default_rng(0))
        with pytest.raises(DivergenceError) as e:
            train(net, X, Y * 1e3, optimizer=SGD(net.parameters(), lr=1e4), epochs=200,
                  loss="sse", batch_size=batch_size, rng=np.random.default_rng(0), log=quiet,
                  kernel=kernel)  # fmt: skip
        outcome[kernel] = (str(e.value), e.value.epoch, net.flat.copy())
        assert np.isfinite(net.flat).all()
    assert outcome["on"][:2] == outcome["off"][:2]
    assert_allclose(outcome["on"][2], outcome["off"][2], rtol=1e-12)


@pytest.mark.parametrize("sizes", [[1, 16, 1], [3, 5, 1]], ids=["one-input", "three-inputs"])
@pytest.mark.parametrize("loss", ["mse", "sse"])
def test_an_ensembles_members_step_in_one_call_as_numpys_stacked_step(
    sizes: list[int], loss: str
) -> None:
    X, Y = problem(sizes)
    ens = Ensemble(sizes, "relu", 4, rng=np.random.default_rng(1))
    reference = ens.copy()
    ours = EnsembleKernelStepper(ens, X, Y, get_loss(loss), Adam(ens.parameters(), lr=0.01))
    theirs = EnsembleStepper(reference, X, Y, get_loss(loss), Adam(reference.parameters(), lr=0.01))
    for rows in (None, slice(3, 11), np.array([5, 0, 19, 7, 7])):
        assert_allclose(ours.step(rows), theirs.step(rows), rtol=1e-13)
        assert_allclose(ens.flat_grad, reference.flat_grad, rtol=1e-12, atol=1e-15)
        assert_allclose(ens.flat, reference.flat, rtol=1e-13, atol=1e-15)
    assert_allclose(ours.evaluate(X, Y), theirs.evaluate(X, Y), rtol=1e-13)


@pytest.mark.parametrize("sizes", [[1, 16, 2], [3, 7, 2]], ids=["one-input", "three-inputs"])
@pytest.mark.parametrize("activation", ["relu", "identity"])
def test_a_gaussian_head_steps_compiled_as_numpys_step(sizes: list[int], activation: str) -> None:
    """One hidden layer and a mean and variance (the paper's members), compiled: the loss,
    the gradient and the update of NumPy's step at every step, on full batches, minibatches
    whose rows do not fill the last block of four, and repeated rows."""
    X, Y = problem([sizes[0], 1], n=23)
    Y = Y + np.random.default_rng(3).normal(0, 0.3, Y.shape)
    loss = GaussianNLL(min_variance=1e-3)
    net = MLP(sizes, activation, rng=np.random.default_rng(1))
    reference = net.copy()
    ours = KernelStepper(net, X, Y, loss, Adam(net.parameters(), lr=0.01))
    theirs = NumpyStepper(reference, X, Y, loss, Adam(reference.parameters(), lr=0.01))
    assert engine_kernel.head(tuple(sizes), loss) == engine_kernel.GAUSSIAN
    for rows in [None, slice(3, 9), np.array([5, 0, 19, 7, 7]), slice(0, 22)] * 10:
        assert_allclose(ours.step(rows), theirs.step(rows), rtol=1e-12)
        assert_allclose(net.flat_grad, reference.flat_grad, rtol=1e-11, atol=1e-14)
    assert_allclose(net.flat, reference.flat, rtol=1e-11, atol=1e-14)
    assert_allclose(ours.evaluate(X, Y), theirs.evaluate(X, Y), rtol=1e-12)


def test_a_float32_gaussian_head_steps_compiled_as_numpys_step() -> None:
    """In float32 the kernel keeps the network's dtype, and agrees with NumPy's step to
    float32's rounding."""
    X, Y = problem([3, 1], n=23)
    net = MLP([3, 16, 2], "relu", rng=np.random.default_rng(1), dtype="float32")
    reference = net.copy()
    X32, Y32 = X.astype(np.float32), Y.astype(np.float32)
    ours = KernelStepper(net, X32, Y32, GaussianNLL(), Adam(net.parameters(), lr=0.01))
    theirs = NumpyStepper(reference, X32, Y32, GaussianNLL(),
                          Adam(reference.parameters(), lr=0.01))  # fmt: skip
    for rows in [None, slice(3, 9), np.array([5, 0, 19, 7, 7])] * 5:
        assert_allclose(ours.step(rows), theirs.step(rows), rtol=1e-4)
    assert net.flat.dtype == np.float32
    assert_allclose(net.flat, reference.flat, rtol=1e-3, atol=1e-5)


@pytest.mark.parametrize("parted", [False, True], ids=["whole", "in-parts"])
def test_gaussian_members_step_compiled_as_numpys_ensemble(
    parted: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An ensemble of Gaussian heads, each member on rows of its own: NumPy's ensemble step
    at every step, whether the members take their rows whole or in parts."""
    from gradfit.engine.kernel import stepper as kernel_stepper

    monkeypatch.setattr(kernel_stepper, "PARALLEL_WORK", 0 if parted else 10**18)
    X, Y = problem([2, 1], n=30)
    member_rows = np.stack([np.delete(np.arange(30), np.arange(k, 30, 3)) for k in range(3)])
    ens = Ensemble([2, 12, 2], "relu", 3, rng=np.random.default_rng(2))
    reference = ens.copy()
    ours = EnsembleKernelStepper(ens, X, Y, GaussianNLL(), Adam(ens.parameters(), lr=0.01),
                                 member_rows)  # fmt: skip
    theirs = EnsembleStepper(reference, X, Y, GaussianNLL(),
                             Adam(reference.parameters(), lr=0.01), member_rows)  # fmt: skip
    assert (len(ours._plan(7)[0]) == 4) == parted  # lanes: the middle member cut
    for rows in [None, slice(3, 10), np.array([5, 0, 19, 7])] * 10:
        assert_allclose(ours.step(rows), theirs.step(rows), rtol=1e-12)
    assert_allclose(ens.flat, reference.flat, rtol=1e-11, atol=1e-14)
    for k in range(3):  # each member where it would be trained alone
        assert_allclose(ens.member(k).flat, reference.member(k).flat, rtol=1e-11, atol=1e-14)


def test_the_kernel_fuses_a_gaussian_head_of_one_target_on_one_hidden_layer() -> None:
    """Which models the kernel steps with a Gaussian NLL: one hidden layer with a mean and a
    variance; not two targets' (four outputs) nor deeper networks, which NumPy steps."""
    X, Y = problem([2, 1])
    for sizes, compiled in [([2, 8, 2], True), ([2, 8, 4], False), ([2, 8, 8, 2], False)]:
        for net in (MLP(sizes, "relu", rng=np.random.default_rng(0)),
                    Ensemble(sizes, "relu", 2, rng=np.random.default_rng(0))):  # fmt: skip
            Yn = np.tile(Y, (1, sizes[-1] // 2))
            stepper = engine_kernel.make_stepper(
                net, X, Yn, GaussianNLL(), Adam(net.parameters()), batch_rows=8, kernel="on"
            )
            assert type(stepper).__name__.endswith("KernelStepper") == compiled, sizes


def test_members_on_rows_of_their_own_step_in_one_call_as_numpys_step() -> None:
    """Bagged members (``member_rows``): each gathers its own batch rows in the kernel."""
    X, Y = problem([2, 16, 1])
    member_rows = np.stack([np.delete(np.arange(20), np.arange(k, 20, 4)) for k in range(4)])
    ens = Ensemble([2, 16, 1], "relu", 4, rng=np.random.default_rng(2))
    reference = ens.copy()
    ours = EnsembleKernelStepper(ens, X, Y, MSE(), Adam(ens.parameters(), lr=0.01), member_rows)
    theirs = EnsembleStepper(reference, X, Y, MSE(), Adam(reference.parameters(), lr=0.01),
                             member_rows)  # fmt: skip
    assert ours.n_samples == theirs.n_samples == 15
    for rows in (None, slice(3, 11), np.array([5, 0, 14, 7, 7])):
        assert_allclose(ours.step(rows), theirs.step(rows), rtol=1e-13)
        assert_allclose(ens.flat, reference.flat, rtol=1e-13, atol=1e-15)
    stepper = engine_kernel.make_stepper(ens, X, Y, MSE(), Adam(ens.parameters()), batch_rows=8,
                                         kernel="on", member_rows=member_rows)  # fmt: skip
    assert type(stepper).__name__ == "EnsembleKernelStepper"


@pytest.mark.parametrize("own_rows", [False, True], ids=["shared", "own-rows"])
def test_members_on_the_cores_step_bit_for_bit_as_one_after_another(
    own_rows: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Large steps run each member in two parts of its rows, the tasks on the cores
    (``prange``) or one after another: bit for bit the same numbers (each task's
    arithmetic, the parts' gradients added and the tasks' losses summed in their order);
    against the members whole, only the rounding differs."""
    from gradfit.engine.kernel import stepper as kernel_stepper

    X, Y = problem([3, 24, 1], n=40)
    member_rows = np.stack([np.delete(np.arange(40), np.arange(k, 40, 5)) for k in range(5)])
    runs = []
    for parallel_work, way in [(0, kernel_stepper.PARALLEL), (0, kernel_stepper.SERIAL),
                               (10**18, kernel_stepper.PARALLEL)]:  # fmt: skip
        monkeypatch.setattr(kernel_stepper, "PARALLEL_WORK", parallel_work)
        monkeypatch.setattr(kernel_stepper.Pace, "choose", lambda self, way=way: way)
        ens = Ensemble([3, 24, 1], "relu", 5, rng=np.random.default_rng(4))
        stepper = EnsembleKernelStepper(ens, X, Y, MSE(), Adam(ens.parameters(), lr=0.01),
                                        member_rows if own_rows else None)  # fmt: skip
        assert (stepper._plan(8) is not None) == (parallel_work == 0)  # else the whole loop
        losses = [stepper.step(rows) for rows in (None, slice(3, 11), np.array([5, 0, 31, 7]))]
        runs.append((ens.flat.copy(), ens.flat_grad.copy(), losses))
    cores, in_turn, whole = runs
    for ours, theirs in zip(cores, in_turn, strict=True):
        assert_array_equal(ours, theirs)
    assert not np.array_equal(cores[1], whole[1])  # the parts' sums round differently
    for ours, theirs in zip(cores, whole, strict=True):
        assert_allclose(ours, theirs, rtol=1e-12, atol=1e-15)


def test_two_lanes_cut_an_odd_ensembles_middle_member_in_two() -> None:
    """Five members in two lanes of equal work: two and a half each, the middle member's
    rows cut in two (the first piece a row longer); an even K stays whole. The cut member's
    pieces add up to its gradient on all its rows, and the update follows the step."""
    from gradfit.engine.flat import split_flat
    from gradfit.engine.kernel import elements, members
    from gradfit.engine.kernel.rank_one import rank_one_step, rank_one_work

    assert members.tasks(5, 11, 2).tolist() == [
        [0, 0, 11, 0], [1, 0, 11, 0], [2, 0, 6, 0], [2, 6, 11, 1], [3, 0, 11, 0], [4, 0, 11, 0],
    ]  # fmt: skip
    assert members.tasks(4, 11, 2).tolist() == [[m, 0, 11, 0] for m in range(4)]
    assert members.tasks(5, 11, 1).tolist() == [[m, 0, 11, 0] for m in range(5)]
    X, Y = problem([3, 8, 1], n=11)
    ens = Ensemble([3, 8, 1], "relu", 3, rng=np.random.default_rng(1))
    sizes, rows = np.array(ens.sizes), np.arange(11)[None]
    table = members.tasks(3, 11, 2)
    work = np.empty(len(table) * rank_one_work((3, 8, 1)))
    grad, piece, losses = np.empty_like(ens.flat), np.zeros_like(ens.flat), np.empty(len(table))
    before, alone = ens.flat.copy(), ens.member(1)
    hyper, (m, v) = np.array([0.01, 0.9, 0.999, 1e-8, 0.0]), np.zeros((2, ens.flat.size))
    step = (1, elements.ADAM, hyper, m, v)
    members.members_in_turn(table, X, Y, rows, ens.flat, grad, piece, sizes, work,
                            elements.RELU, 11, (), losses, step)  # fmt: skip
    whole = np.empty_like(ens.flat)
    value = rank_one_step(X, Y, rows, before.copy(), whole, sizes, work, elements.RELU, 11)
    assert_allclose(losses.sum() / 3, value, rtol=1e-14)
    assert_allclose(grad, whole, rtol=1e-12, atol=1e-15)
    elements.update(before, grad, *np.zeros((2, ens.flat.size)), 1, elements.ADAM, hyper)
    assert_array_equal(ens.flat, before)  # each parameter updated once, as by one update
    cut = [p[1] for p in split_flat(piece, ens.parameters())]  # member 1's second piece
    alone.backward(MSE().gradient(alone.forward(X[6:]), Y[6:]) * (5 / 11))
    for ours, theirs in zip(cut, alone.gradients(), strict=True):
        assert_allclose(ours, theirs, rtol=1e-12, atol=1e-15)


def test_a_child_forked_after_the_cores_ran_steps_its_members_in_turn() -> None:
    """GNU OpenMP aborts a forked child that starts a parallel region after its parent
    did: there the members step one after another, to the same numbers."""
    if sys.platform != "linux":
        pytest.skip("fork is the question on Linux")
    script = """
import multiprocessing, numpy as np
from gradfit.engine import Adam, Ensemble, MSE
from gradfit.engine.kernel import stepper as ks
ks.PARALLEL_WORK = 0
ks.Pace.choose = lambda self: ks.PARALLEL
def run(_=None):
    rng = np.random.default_rng(0)
    X, Y = rng.normal(size=(40, 3)), rng.normal(size=(40, 1))
    ens = Ensemble([3, 24, 1], "relu", 5, rng=np.random.default_rng(4))
    st = ks.EnsembleKernelStepper(ens, X, Y, MSE(), Adam(ens.parameters(), lr=0.01))
    for _ in range(3):
        st.step(None)
    return ens.flat.tolist()
here = run()
with multiprocessing.get_context("fork").Pool(1) as workers:
    there = workers.map(run, [0])[0]
print(here == there)
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "True"


def test_each_member_of_an_ensemble_ends_where_it_would_trained_alone() -> None:
    """Many full-batch epochs per call, K members per call: each member's trajectory is
    its own network's, trained alone by the kernel."""
    X, Y = problem([1, 32, 1], n=60)
    ens = Ensemble([1, 32, 1], "relu", 3, rng=np.random.default_rng(6))
    alone = [ens.member(k) for k in range(3)]
    history = train(ens, X, Y, optimizer=Adam(ens.parameters(), lr=0.01), epochs=200,
                    kernel="on")  # fmt: skip
    losses = []
    for net in alone:
        losses.append(train(net, X, Y, optimizer=Adam(net.parameters(), lr=0.01), epochs=200,
                            kernel="on").loss)  # fmt: skip
    for k, net in enumerate(alone):
        assert_allclose(ens.member(k).flat, net.flat, rtol=1e-12, atol=1e-15)
    assert_allclose(history.loss, np.mean(losses, axis=0), rtol=1e-12)
    assert history.loss[-1] < 0.2 * history.loss[0]


def test_an_ensemble_is_compiled_only_with_one_hidden_layer_and_one_output() -> None:
    def chosen(sizes: list[int], kernel: str = "on") -> str:
        ens = Ensemble(sizes, "relu", 5, rng=np.random.default_rng(0))
        X, Y = problem(sizes)
        stepper = engine_kernel.make_stepper(
            ens, X, Y, MSE(), Adam(ens.parameters()), batch_rows=20, kernel=kernel
        )
        return type(stepper).__name__

    assert chosen([1, 64, 1]) == "EnsembleKernelStepper"
    assert chosen([1, 64, 1], kernel="auto") == "EnsembleKernelStepper"
    assert chosen([1, 64, 1], kernel="off") == "EnsembleStepper"
    assert chosen([2, 6, 2]) == "EnsembleStepper"
    assert chosen([1, 8, 8, 1]) == "EnsembleStepper"


def test_a_division_by_zero_gives_nan_as_in_numpy_not_an_exception() -> None:
    # A dead ReLU unit has zero gradients, so with eps = 0 Adam's first update divides
    # 0 by 0: NaN in NumPy, and in the kernel (numba's NumPy error model), not a
    # ZeroDivisionError; both stop at the first epoch and keep the initial parameters.
    X = np.linspace(-1, 1, 20).reshape(-1, 1)
    outcome = {}
    for kernel in ("on", "off"):
        net = MLP([1, 4, 1], "relu", rng=np.random.default_rng(0))
        net.parameters()[1][0] = -100.0
        start = net.flat.copy()
        with pytest.raises(DivergenceError) as e, np.errstate(invalid="ignore"):
            train(net, X, X**2, optimizer=Adam(net.parameters(), lr=0.01, eps=0.0), epochs=5,
                  log=quiet, kernel=kernel)  # fmt: skip
        assert_array_equal(net.flat, start)
        outcome[kernel] = (str(e.value), e.value.epoch)
    assert outcome["on"] == outcome["off"]
    assert "a parameter became NaN or infinite" in outcome["on"][0]


def test_float32_training_stays_float32_and_near_numpy() -> None:
    X, Y = (a.astype(np.float32) for a in problem([1, 16, 1], n=50))
    flats = []
    for kernel in ("on", "off"):
        net = MLP([1, 16, 1], "relu", rng=np.random.default_rng(5), dtype=np.float32)
        h = train(net, X, Y, optimizer=Adam(net.parameters(), lr=0.01), epochs=100,
                  kernel=kernel)  # fmt: skip
        assert net.flat.dtype == np.float32
        assert h.loss[-1] < 0.5 * h.loss[0]
        flats.append(net.flat.copy())
    assert_allclose(flats[0], flats[1], rtol=1e-4, atol=1e-5)


def test_mode_takes_the_argument_then_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(engine_kernel.KERNEL_ENV, raising=False)
    assert engine_kernel.mode() == "auto"
    monkeypatch.setenv(engine_kernel.KERNEL_ENV, " OFF ")
    assert engine_kernel.mode() == "off"
    assert engine_kernel.mode("on") == "on"
    monkeypatch.setenv(engine_kernel.KERNEL_ENV, "fast")
    with pytest.raises(ValueError, match="GRADFIT_KERNEL must be one of auto, on, off; got 'fast'"):
        engine_kernel.mode()


def test_the_stepper_is_chosen_by_mode_coverage_and_size(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(engine_kernel.KERNEL_ENV, raising=False)

    def chosen(sizes: list[int], activation: str = "relu", loss: Any = None, **kw: Any) -> str:
        net = MLP(sizes, activation, rng=np.random.default_rng(0))
        X, Y = problem(sizes)
        stepper = engine_kernel.make_stepper(
            net, X, Y, loss or MSE(), Adam(net.parameters()), batch_rows=kw.pop("rows", 20), **kw
        )
        return type(stepper).__name__

    assert chosen([1, 64, 1]) == "KernelStepper"
    assert chosen([1, 64, 1], kernel="off") == "NumpyStepper"
    assert chosen([1, 64, 1], "tanh", kernel="on") == "NumpyStepper"  # not covered
    assert chosen([8, 256, 256, 1], rows=1024) == "NumpyStepper"  # BLAS is faster
    assert chosen([8, 256, 256, 1], rows=1024, kernel="on") == "KernelStepper"
    monkeypatch.setenv(engine_kernel.KERNEL_ENV, "off")
    assert chosen([1, 64, 1]) == "NumpyStepper"

    class Huber(MSE):
        """A loss the kernel does not know (as a classifier's cross-entropy)."""

    monkeypatch.setenv(engine_kernel.KERNEL_ENV, "on")
    assert chosen([1, 64, 1], loss=Huber()) == "NumpyStepper"
    assert chosen([1, 64, 1], loss=SSE()) == "KernelStepper"


def test_the_engine_trains_without_numba() -> None:
    code = (
        "import sys; sys.modules['numba'] = None\n"
        "import numpy as np\n"
        "from gradfit.engine import MLP, Adam, train, kernel\n"
        "net = MLP([1, 8, 1], 'relu', rng=np.random.default_rng(0))\n"
        "X = np.linspace(-1, 1, 20).reshape(-1, 1)\n"
        "h = train(net, X, X**2, optimizer=Adam(net.parameters(), lr=0.01), epochs=50,"
        " kernel='on')\n"
        "assert not kernel.available() and h.loss[-1] < h.loss[0]\n"
        "print('ok')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "ok\n"


@pytest.mark.parametrize(
    ("sizes", "rows", "loss", "compiled"),
    [
        ([1, 64, 1], 20, "mse", True),  # the walk-through's sine
        ([24, 100, 1], 200, "mse", True),  # 500,000 multiply-adds: the limit for any inputs
        ([25, 100, 1], 200, "mse", False),
        ([1, 1024, 1], 4000, "mse", True),  # few inputs: compiled far beyond it
        ([12, 200, 2], 1000, "gaussian_nll", True),
        ([13, 200, 1], 1000, "mse", False),  # 2.8·10⁶ with 13 inputs: BLAS's
        ([1, 2048, 1], 5000, "mse", False),  # beyond the largest step measured
        ([2, 32, 32, 1], 20, "mse", True),  # layer by layer: 23,000
        ([2, 32, 32, 1], 100, "mse", False),
    ],
)
def test_auto_compiles_where_the_crossover_benchmark_found_the_kernel_faster(
    sizes: list[int], rows: int, loss: str, compiled: bool
) -> None:
    """``kernel="auto"``: every network up to its work limit; a fused one (one hidden
    layer, a mean or Gaussian head) with few inputs at any size measured, since there the
    crossover is a number of inputs (``benchmarks/kernel_crossover.py``)."""
    net = MLP(sizes, "relu", rng=np.random.default_rng(0))
    assert engine_kernel.faster(net, rows, get_loss(loss)) is compiled
