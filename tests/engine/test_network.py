"""The MLP: backpropagation against finite differences at depths 1-3, and its parameter API."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from gradfit.engine import MLP, MSE, SSE, Loss

from .finite_differences import numerical_gradient, relative_error

ACTIVATIONS = ["identity", "relu", "tanh", "sigmoid"]
SIZES = {  # depth 1, 2 and 3: no, one and two hidden layers; several inputs and outputs
    "depth1": [3, 2],
    "depth2": [3, 5, 2],
    "depth3": [2, 4, 3, 1],
}


def pre_activations(net: MLP, X: np.ndarray) -> list[np.ndarray]:
    """``Z`` of every hidden layer (those an activation is applied to)."""
    Zs, A = [], X
    for dense, f in zip(net.dense[:-1], net.activations[:-1], strict=True):
        Zs.append(A @ dense.W.T + dense.b)
        A = f.forward(Zs[-1])
    return Zs


def away_from_kinks(sizes: list[int], activation: str, seed: int) -> tuple[MLP, np.ndarray]:
    """A network and inputs with every hidden ``|Z| > 1e-3``, so ReLU is smooth under FD."""
    rng = np.random.default_rng(seed)
    for _ in range(100):
        net = MLP(sizes, activation, rng=rng)
        X = rng.normal(size=(6, sizes[0]))
        if all(np.abs(Z).min() > 1e-3 for Z in pre_activations(net, X)):
            return net, X
    raise AssertionError("no draw kept its pre-activations away from 0")


@pytest.mark.parametrize("loss", [MSE(), SSE()], ids=["mse", "sse"])
@pytest.mark.parametrize("depth", sorted(SIZES))
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_backprop_matches_central_differences(activation: str, depth: str, loss: Loss) -> None:
    sizes = SIZES[depth]
    net, X = away_from_kinks(sizes, activation, seed=10)
    Y = np.random.default_rng(11).normal(size=(X.shape[0], sizes[-1]))

    def L() -> float:
        return loss.value(net.forward(X), Y)

    Y_hat = net.forward(X)
    dX = net.backward(loss.gradient(Y_hat, Y))
    assert dX.shape == X.shape
    for i, (p, g) in enumerate(zip(net.parameters(), net.gradients(), strict=True)):
        err = relative_error(g, numerical_gradient(L, p))
        assert err <= 1e-6, f"parameter {i}: relative error {err:.2e}"
    assert relative_error(dX, numerical_gradient(L, X)) <= 1e-6


def test_depth_two_by_hand() -> None:
    # 1-2-1 ReLU: hidden Z = (x, -x) + (0, 1); for x = 2: Z = (2, -1), A = (2, 0); ŷ = 3·2 + 0.5
    net = MLP([1, 2, 1], "relu", rng=np.random.default_rng(0))
    net.set_parameters([[[1.0], [-1.0]], [0.0, 1.0], [[3.0, 4.0]], [0.5]])
    assert_array_equal(net.forward(np.array([[2.0]])), [[6.5]])
    dX = net.backward(np.array([[1.0]]))
    dW1, db1, dW2, db2 = net.gradients()
    assert_array_equal(dW2, [[2.0, 0.0]])
    assert_array_equal(db2, [1.0])
    assert_array_equal(db1, [3.0, 0.0])  # the second unit is off
    assert_array_equal(dW1, [[6.0], [0.0]])
    assert_array_equal(dX, [[3.0]])


def test_parameters_are_the_live_arrays_in_torch_order() -> None:
    net = MLP([3, 4, 2], rng=np.random.default_rng(0))
    shapes = [p.shape for p in net.parameters()]
    assert shapes == [(4, 3), (4,), (2, 4), (2,)]
    assert [g.shape for g in net.gradients()] == shapes
    assert net.n_parameters == 12 + 4 + 8 + 2
    net.parameters()[0][0, 0] = 42.0
    assert net.dense[0].W[0, 0] == 42.0
    assert net.gradients()[3] is net.dense[1].db


def test_set_parameters_copy_and_from_parameters() -> None:
    net = MLP([2, 3, 1], "tanh", rng=np.random.default_rng(0))
    other = MLP([2, 3, 1], "tanh", rng=np.random.default_rng(1))
    other.set_parameters(net.parameters())
    X = np.random.default_rng(2).normal(size=(5, 2))
    assert_array_equal(other.forward(X), net.forward(X))

    twin = net.copy()
    twin.parameters()[0] += 1.0
    assert not np.array_equal(twin.parameters()[0], net.parameters()[0])

    rebuilt = MLP.from_parameters([2, 3, 1], "tanh", net.parameters())
    assert rebuilt.spec == {"sizes": [2, 3, 1], "activation": "tanh", "dtype": "float64"}
    assert_array_equal(rebuilt.forward(X), net.forward(X))

    with pytest.raises(ValueError, match="expected 4 parameter arrays, got 3"):
        net.set_parameters(net.parameters()[:3])
    with pytest.raises(ValueError, match=r"parameter 1: expected shape \(3,\), got \(2,\)"):
        net.set_parameters([net.parameters()[0], np.zeros(2), *net.parameters()[2:]])


@pytest.mark.parametrize("sizes", [[3], [2, 0, 1], []])
def test_bad_sizes_are_refused(sizes: list[int]) -> None:
    with pytest.raises(ValueError, match="sizes must be"):
        MLP(sizes, rng=np.random.default_rng(0))


@pytest.mark.parametrize(
    ("sizes", "message"),
    [
        # int() made these [2, 2, 1] and [2, 4, 1]: a network other than the one asked for.
        ([2, 2.5, 1], "sizes must be [n_in, *hidden, n_out], integers; got [2, 2.5, 1]"),
        ("241", "sizes must be [n_in, *hidden, n_out], integers; got '241'"),
        ([2, True, 1], "sizes must be [n_in, *hidden, n_out], integers; got [2, True, 1]"),
    ],
)
def test_sizes_that_are_not_integers_are_refused(sizes: object, message: str) -> None:
    with pytest.raises(ValueError) as info:
        MLP(sizes, rng=np.random.default_rng(0))  # type: ignore[arg-type]
    assert str(info.value) == message


def test_a_seed_given_for_the_generator_says_how_to_make_one() -> None:
    # Was "'int' object has no attribute 'uniform'" (AttributeError).
    with pytest.raises(TypeError) as info:
        MLP([1, 2, 1], rng=0)  # type: ignore[arg-type]
    assert str(info.value) == (
        "rng must be a numpy.random.Generator (numpy.random.default_rng(0)) or None; got int"
    )


def test_forward_refuses_x_of_another_width() -> None:
    # n_in + 1 columns passed for the data with a column of ones that Dense also takes:
    # net.forward gave numbers, the last column standing in for the bias's ones.
    net = MLP([2, 4, 1], rng=np.random.default_rng(0))
    for X in (np.zeros((3, 3)), np.zeros((3, 1))):
        with pytest.raises(ValueError) as info:
            net.forward(X)
        assert str(info.value) == (
            f"X has {X.shape[1]} column(s) (shape {X.shape}), but the network takes 2 "
            "input(s): give X of shape (n_samples, 2)"
        )
    assert_allclose(net.forward([[0.5, -1.0]]), net.forward(np.array([[0.5, -1.0]])))


def test_bad_dtype_is_refused() -> None:
    with pytest.raises(ValueError, match="float32 or float64"):
        MLP([1, 1], rng=np.random.default_rng(0), dtype=np.float16)


def test_same_generator_same_network() -> None:
    a = MLP([2, 8, 8, 1], rng=np.random.default_rng(3))
    b = MLP([2, 8, 8, 1], rng=np.random.default_rng(3))
    for p, q in zip(a.parameters(), b.parameters(), strict=True):
        assert_array_equal(p, q)


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_float32_forward_and_backward_stay_float32(activation: str) -> None:
    net = MLP([3, 5, 4, 2], activation, rng=np.random.default_rng(0), dtype="float32")
    X = np.random.default_rng(1).normal(size=(6, 3)).astype(np.float32)
    Y_hat = net.forward(X)
    dX = net.backward(MSE().gradient(Y_hat, np.zeros_like(Y_hat)))
    assert Y_hat.dtype == dX.dtype == np.float32
    assert {p.dtype for p in net.parameters() + net.gradients()} == {np.dtype("f4")}
    assert net.spec["dtype"] == "float32"

    # The same network in float64 gives the same numbers to float32's precision.
    wide_params = [p.astype(np.float64) for p in net.parameters()]
    wide = MLP.from_parameters(net.sizes, activation, wide_params)
    wide_hat = wide.forward(X.astype(np.float64))
    wide.backward(MSE().gradient(wide_hat, np.zeros_like(wide_hat)))
    assert_allclose(Y_hat, wide_hat, rtol=1e-5, atol=1e-6)
    for g32, g64 in zip(net.gradients(), wide.gradients(), strict=True):
        assert_allclose(g32, g64, rtol=1e-4, atol=1e-6)


def test_parameters_are_views_of_one_flat_buffer_even_after_pickling() -> None:
    import pickle

    from gradfit.engine.flat import flat_of

    net = MLP([2, 4, 3, 1], rng=np.random.default_rng(0))
    values = np.concatenate([p.ravel() for p in net.parameters()])
    for copy in (pickle.loads(pickle.dumps(net)), net.copy(), net):
        assert flat_of(copy.parameters()) is copy.flat
        assert flat_of(copy.gradients()) is copy.flat_grad
        assert_array_equal(copy.flat, values)
        copy.flat[0] = 42.0  # a write to the buffer is a write to W1
        assert copy.dense[0].W[0, 0] == 42.0
    assert flat_of([net.parameters()[1], net.parameters()[0]]) is None  # out of order
    assert flat_of([p.copy() for p in net.parameters()]) is None


def test_a_pickled_network_leaves_its_last_batch_behind() -> None:
    import pickle

    net = MLP([3, 16, 1], rng=np.random.default_rng(0))
    empty = len(pickle.dumps(net))
    X = np.random.default_rng(1).normal(size=(10_000, 3))
    net.backward(net.forward(X))  # keeps X, the ReLU mask and Z for backward
    again = pickle.loads(pickle.dumps(net))
    assert len(pickle.dumps(net)) == empty  # not the 10,000-row arrays
    assert_array_equal(again.forward(X), net.forward(X))
    again.backward(again.forward(X[:5]))  # and it still backpropagates
    net.backward(net.forward(X[:5]))
    for g, h in zip(again.gradients(), net.gradients(), strict=True):
        assert_array_equal(g, h)


@pytest.mark.parametrize(
    "sizes", [[1, 8, 1], [5, 2, 1], [3, 6, 5, 2]], ids=["1-8-1", "5-2-1", "3-6-5-2"]
)
def test_a_workspace_gives_the_same_numbers(sizes: list[int]) -> None:
    # The stepper's path: [X 1] into the first layer, every Z and gradient written into
    # the workspace, no dL/dX; against forward and backward that allocate. With one hidden
    # layer and one output, the first layer's gradient is formed from its factors.
    from gradfit.engine.workspace import Workspace

    rng = np.random.default_rng(8)
    net = MLP(sizes, "tanh", rng=rng)
    twin = net.copy()
    X, Y = rng.normal(size=(9, sizes[0])), rng.normal(size=(9, sizes[-1]))
    workspace = Workspace(net.sizes, net.dtype)
    for rows in (None, np.array([4, 0, 4, 7]), slice(1, 8)):  # grows, shrinks, refills
        X1, Z, G = workspace.batch(X, rows)
        factored = len(sizes) == 3 and sizes[-1] == 1
        assert (G[0] is not None) == factored
        batch = slice(None) if rows is None else rows
        assert_array_equal(X1, np.hstack([X[batch], np.ones((len(X1), 1))]))
        Y_hat = net.forward(X1, Z)
        assert Y_hat is Z[-1]
        assert_allclose(Y_hat, twin.forward(X[batch]), rtol=1e-13)
        dY = MSE().gradient(Y_hat, Y[batch])
        net.parameter_gradients(dY.copy(), G)
        twin.backward(dY)
        for g, h in zip(net.gradients(), twin.gradients(), strict=True):
            assert_allclose(g, h, rtol=1e-12, atol=1e-15)
