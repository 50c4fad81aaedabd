"""SGD and Adam: steps worked by hand from torch.optim's documented algorithms, and state."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from gradfit.engine import MLP, SGD, Adam, Optimizer

G1 = np.array([0.5, 0.25])
G2 = np.array([-0.2, 0.4])


def start() -> np.ndarray:
    return np.array([1.0, -2.0])


def test_plain_sgd_is_the_walk_throughs_gradient_step() -> None:
    p = start()
    SGD([p], lr=0.1).step([G1])
    assert_allclose(p, [1 - 0.05, -2 - 0.025], rtol=1e-15)


def test_sgd_momentum_dampening_weight_decay_two_steps_by_hand() -> None:
    p = start()
    opt = SGD([p], lr=0.1, momentum=0.9, dampening=0.1, weight_decay=0.01)
    opt.step([G1])
    # g = G1 + 0.01 p = (0.51, 0.23); first step: b = g (no dampening); p -= 0.1 b
    assert_allclose(opt.state[0]["b"], [0.51, 0.23], rtol=1e-15)
    assert_allclose(p, [0.949, -2.023], rtol=1e-15)
    opt.step([G2])
    # g = G2 + 0.01 p = (-0.19051, 0.37977); b = 0.9 b + 0.9 g = (0.287541, 0.548793)
    assert_allclose(opt.state[0]["b"], [0.287541, 0.548793], rtol=1e-14)
    assert_allclose(p, [0.9202459, -2.0778793], rtol=1e-14)


def test_sgd_nesterov_two_steps_by_hand() -> None:
    p = start()
    opt = SGD([p], lr=0.1, momentum=0.9, nesterov=True)
    opt.step([G1])
    # b = G1; g = G1 + 0.9 b = (0.95, 0.475)
    assert_allclose(p, [0.905, -2.0475], rtol=1e-15)
    opt.step([G2])
    # b = 0.9 (0.5, 0.25) + G2 = (0.25, 0.625); g = G2 + 0.9 b = (0.025, 0.9625)
    assert_allclose(opt.state[0]["b"], [0.25, 0.625], rtol=1e-15)
    assert_allclose(p, [0.9025, -2.14375], rtol=1e-14)


def test_sgd_nesterov_needs_momentum_and_no_dampening() -> None:
    with pytest.raises(ValueError, match="nesterov"):
        SGD([start()], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="nesterov"):
        SGD([start()], lr=0.1, momentum=0.9, dampening=0.1, nesterov=True)


def test_adam_one_step_by_hand() -> None:
    p = start()
    opt = Adam([p], lr=0.1, betas=(0.9, 0.999), eps=1e-8)
    opt.step([np.array([0.5, -0.25])])
    # m = 0.1 g, v = 0.001 g²; step size 0.1 / (1 - 0.9) = 1; √v / √(1 - 0.999) = |g|
    assert_allclose(opt.state[0]["m"], [0.05, -0.025], rtol=1e-15)
    assert_allclose(opt.state[0]["v"], [0.00025, 0.0000625], rtol=1e-15)
    assert_allclose(p, [1 - 0.05 / (0.5 + 1e-8), -2 + 0.025 / (0.25 + 1e-8)], rtol=1e-15)


def test_adam_two_steps_by_hand() -> None:
    p = start()
    opt = Adam([p], lr=0.1, betas=(0.9, 0.999), eps=1e-8)
    opt.step([np.array([0.5, -0.25])])
    p1 = np.array([1 - 0.05 / (0.5 + 1e-8), -2 + 0.025 / (0.25 + 1e-8)])
    opt.step([np.array([0.1, 0.3])])
    # m = 0.9 (0.05, -0.025) + 0.1 (0.1, 0.3) = (0.055, 0.0075)
    # v = 0.999 (0.00025, 0.0000625) + 0.001 (0.01, 0.09) = (0.00025975, 0.0001524375)
    m = np.array([0.055, 0.0075])
    v = np.array([0.00025975, 0.0001524375])
    assert opt.t == 2
    assert_allclose(opt.state[0]["m"], m, rtol=1e-14)
    assert_allclose(opt.state[0]["v"], v, rtol=1e-14)
    # torch: p - lr / (1 - β₁²) · m / (√v / √(1 - β₂²) + ε); 1 - 0.9² = 0.19, 1 - 0.999² = 0.001999
    expected = p1 - 0.1 / 0.19 * m / (np.sqrt(v) / math.sqrt(0.001999) + 1e-8)
    assert_allclose(p, expected, rtol=1e-14)


def test_adam_weight_decay_one_step_by_hand() -> None:
    p = start()
    Adam([p], lr=0.1, weight_decay=0.1).step([np.array([0.5, -0.25])])
    # g = (0.5, -0.25) + 0.1 (1, -2) = (0.6, -0.45); the first step moves by lr · g / (|g| + ε)
    assert_allclose(p, [1 - 0.06 / (0.6 + 1e-8), -2 + 0.045 / (0.45 + 1e-8)], rtol=1e-15)


def test_adam_eps_is_added_after_the_bias_correction() -> None:
    # With g = 1e-6 the corrected √v is 1e-6 and the step is 0.1 · 1e-6 / (1e-6 + ε). An ε added
    # to √v before the correction would weigh 1/√(1 - 0.999) ≈ 32 times as much: 1e-6 + 3.2e-5.
    p = np.array([0.0])
    Adam([p], lr=0.1, eps=1e-6).step([np.array([1e-6])])
    assert_allclose(p, [-0.1 * 1e-6 / (1e-6 + 1e-6)], rtol=1e-12)


def test_adam_betas_are_checked() -> None:
    with pytest.raises(ValueError, match=r"^betas\[1\] must be \[0, 1\); got 1.0$"):
        Adam([start()], betas=(0.9, 1.0))


@pytest.mark.parametrize(
    ("make", "message"),
    [
        # Each was taken, and trained to nonsense (lr=-1 climbed the loss; lr=None, '0.1'
        # or NaN failed later, or diverged): torch.optim refuses them.
        (lambda p: SGD(p, lr=-1), "lr must be a finite number >= 0; got -1"),
        (lambda p: Adam(p, lr=float("nan")), "lr must be a finite number >= 0; got nan"),
        (lambda p: Adam(p, lr="0.1"), "lr must be a finite number >= 0; got '0.1'"),
        (lambda p: SGD(p, lr=None), "lr must be a finite number >= 0; got None"),
        (lambda p: SGD(p, lr=True), "lr must be a finite number >= 0; got True"),
        (lambda p: SGD(p, lr=0.1, momentum=-1), "momentum must be a finite number >= 0; got -1"),
        (lambda p: Adam(p, eps=-1e-8), "eps must be a finite number >= 0; got -1e-08"),
        (
            lambda p: Adam(p, weight_decay=float("inf")),
            "weight_decay must be a finite number >= 0; got inf",
        ),
        # Was "cannot unpack non-iterable float object" (TypeError).
        (
            lambda p: Adam(p, betas=0.9),
            "betas must be a pair (beta1, beta2), such as (0.9, 0.999); got 0.9",
        ),
    ],
)
def test_a_bad_hyperparameter_is_refused_naming_it(
    make: Callable[[list[np.ndarray]], Optimizer], message: str
) -> None:
    with pytest.raises(ValueError) as info:
        make([start()])
    assert str(info.value) == message


def test_a_network_given_for_its_parameters_says_to_pass_them() -> None:
    # Was "'MLP' object is not iterable".
    net = MLP([1, 2, 1], rng=np.random.default_rng(0))
    with pytest.raises(TypeError) as info:
        Adam(net)  # type: ignore[arg-type]
    assert str(info.value) == "params must be a list of arrays: pass MLP.parameters(), not the MLP"
    with pytest.raises(TypeError) as info:
        SGD(3.0)  # type: ignore[arg-type]
    assert str(info.value) == "params must be a list of arrays, such as net.parameters(); got float"


@pytest.mark.parametrize(
    "make",
    [
        lambda ps: SGD(ps, lr=0.1),
        lambda ps: SGD(ps, lr=0.1, momentum=0.9, dampening=0.2, weight_decay=0.01),
        lambda ps: Adam(ps, lr=0.05, weight_decay=0.01),
    ],
    ids=["sgd", "sgd-momentum", "adam"],
)
def test_state_dict_round_trip_continues_exactly(
    make: Callable[[list[np.ndarray]], Optimizer],
) -> None:
    rng = np.random.default_rng(8)
    grads = [[rng.normal(size=(3, 2)), rng.normal(size=3)] for _ in range(6)]
    params = [rng.normal(size=(3, 2)), rng.normal(size=3)]
    opt: Optimizer = make(params)
    for g in grads[:3]:
        opt.step(g)
    saved = opt.state_dict()
    snapshot = [p.copy() for p in params]
    for g in grads[3:]:
        opt.step(g)

    params2 = [p.copy() for p in snapshot]
    fresh: Optimizer = make(params2)
    fresh.load_state_dict(saved)
    assert fresh.t == 3
    for g in grads[3:]:
        fresh.step(g)
    for p, q in zip(params, params2, strict=True):
        assert_array_equal(p, q)


def test_state_dict_holds_copies() -> None:
    p = start()
    opt = Adam([p], lr=0.1)
    opt.step([G1])
    saved = opt.state_dict()
    m = saved["state"][0]["m"].copy()
    opt.step([G2])
    assert_array_equal(saved["state"][0]["m"], m)
    assert saved["t"] == 1


def test_float32_parameters_stay_float32() -> None:
    for opt_class, kwargs in ((SGD, {"momentum": 0.9, "weight_decay": 0.1}), (Adam, {})):
        p = np.ones(3, dtype=np.float32)
        opt = opt_class([p], lr=0.1, **kwargs)
        opt.step([np.full(3, 0.5, dtype=np.float32)])
        opt.step([np.full(3, 0.5, dtype=np.float32)])
        assert p.dtype == np.float32
        assert all(a.dtype == np.float32 for s in opt.state for a in s.values())


def test_parameters_must_share_a_dtype_and_gradients_match_them() -> None:
    with pytest.raises(ValueError, match="share one dtype"):
        SGD([np.ones(2), np.ones(2, dtype=np.float32)], lr=0.1)
    with pytest.raises(ValueError, match="expected 2 gradients, got 1"):
        Adam([np.ones(2), np.ones(3)]).step([np.ones(2)])


@pytest.mark.parametrize(
    "make",
    [
        lambda ps: SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.01, nesterov=True),
        lambda ps: Adam(ps, lr=0.1, weight_decay=0.01),
    ],
)
def test_a_networks_flat_parameters_update_in_place_as_separate_arrays_do(
    make: Callable[[list[np.ndarray]], Optimizer],
) -> None:
    # An MLP's parameters and gradients are views of one buffer each, which the optimizer
    # updates where they lie; separate arrays are gathered and written back. Same numbers.
    from gradfit.engine import MLP

    net = MLP([2, 3, 1], rng=np.random.default_rng(0))
    apart = [p.copy() for p in net.parameters()]
    start = net.flat.copy()
    flat_opt, apart_opt = make(net.parameters()), make(apart)
    rng = np.random.default_rng(1)
    for _ in range(3):
        for g in net.gradients():
            g[...] = rng.normal(size=g.shape)
        grads = [g.copy() for g in net.gradients()]
        flat_opt.step(net.gradients())
        apart_opt.step(grads)
        # weight decay adds λp to a copy: the network's gradients stay as backward left them
        assert_array_equal(np.concatenate([g.ravel() for g in grads]), net.flat_grad)
    for p, q in zip(net.parameters(), apart, strict=True):
        assert_array_equal(p, q)
    assert np.all(net.flat != start)  # every parameter moved


def test_pickling_an_optimizer_is_refused_with_what_to_do_instead() -> None:
    import copy
    import pickle

    from gradfit.engine import MLP

    net = MLP([1, 2, 1], rng=np.random.default_rng(0))
    opt = Adam(net.parameters())
    for clone in (pickle.dumps, copy.deepcopy):
        with pytest.raises(TypeError, match=r"cannot be pickled.*state_dict\(\)"):
            clone((net, opt))
