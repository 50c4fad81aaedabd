"""to_torch / from_torch: same values, same dtype, same function, and clear refusals."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from gradfit.engine import MLP
from gradfit.errors import MissingDependencyError

torch = pytest.importorskip("torch")
from gradfit.torch_backend import from_torch, resolve_device, to_torch  # noqa: E402


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("sizes", "activation"), [([3, 2], "identity"), ([2, 5, 4, 1], "sigmoid")])
def test_round_trip_keeps_values_dtype_and_function(
    sizes: list[int], activation: str, dtype: type
) -> None:
    net = MLP(sizes, activation, rng=np.random.default_rng(0), dtype=dtype)
    module = to_torch(net)
    assert [p.dtype for p in module.parameters()] == [
        torch.float32 if dtype is np.float32 else torch.float64
    ] * (2 * len(net.dense))
    for p, q in zip(net.parameters(), module.parameters(), strict=True):
        assert_array_equal(q.detach().numpy(), p)
    X = np.random.default_rng(1).normal(size=(7, sizes[0])).astype(dtype)
    with torch.no_grad():
        out = module(torch.from_numpy(X)).numpy()
    np.testing.assert_allclose(out, net.forward(X), rtol=1e-5 if dtype is np.float32 else 1e-13)

    back = from_torch(module)
    assert back.spec == net.spec
    for p, q in zip(net.parameters(), back.parameters(), strict=True):
        assert q.dtype == p.dtype
        assert_array_equal(q, p)


def test_the_structure_is_linear_activation_linear() -> None:
    module = to_torch(MLP([1, 64, 1], "relu", rng=np.random.default_rng(0)))
    kinds = [type(m).__name__ for m in module]
    assert kinds == ["Linear", "ReLU", "Linear"]
    assert (module[0].in_features, module[0].out_features) == (1, 64)


def test_to_torch_leaves_torchs_random_state_alone() -> None:
    torch.manual_seed(5)
    expected = torch.rand(3)
    torch.manual_seed(5)
    to_torch(MLP([4, 8, 2], "tanh", rng=np.random.default_rng(0)))
    assert torch.equal(torch.rand(3), expected)


def test_from_torch_takes_a_bare_linear_layer() -> None:
    layer = torch.nn.Linear(3, 2, dtype=torch.float64)
    net = from_torch(layer)
    assert net.sizes == [3, 2]
    assert_array_equal(net.dense[0].W, layer.weight.detach().numpy())
    assert_array_equal(net.dense[0].b, layer.bias.detach().numpy())


@pytest.mark.parametrize(
    ("module", "message"),
    [
        (
            lambda: torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU()),
            "ending in nn.Linear",
        ),
        (
            lambda: torch.nn.Sequential(
                torch.nn.Linear(2, 3),
                torch.nn.ReLU(),
                torch.nn.Linear(3, 3),
                torch.nn.Tanh(),
                torch.nn.Linear(3, 1),
            ),
            "one kind of activation",
        ),
        (
            lambda: torch.nn.Sequential(
                torch.nn.Linear(2, 3), torch.nn.GELU(), torch.nn.Linear(3, 1)
            ),
            "GELU",
        ),
        (lambda: torch.nn.Linear(2, 1, bias=False), "no bias"),
        (lambda: torch.nn.Linear(2, 1, dtype=torch.float16), "float32 or float64"),
        (lambda: torch.nn.Conv1d(1, 1, 3), "nn.Linear"),
    ],
)
def test_from_torch_refuses_what_an_mlp_cannot_hold(module, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match=message):
        from_torch(module())


def test_cuda_without_a_gpu_says_so() -> None:
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    net = MLP([1, 1], "identity", rng=np.random.default_rng(0))
    with pytest.raises(MissingDependencyError, match="no CUDA GPU; use device='cpu'"):
        to_torch(net, device="cuda")
    assert resolve_device(None) == torch.device("cpu")


def test_cuda_when_there_is_a_gpu() -> None:
    if not torch.cuda.is_available():
        pytest.skip("no GPU")
    net = MLP([2, 8, 1], "tanh", rng=np.random.default_rng(0))
    module = to_torch(net, device="cuda")
    assert all(p.is_cuda for p in module.parameters())
    for p, q in zip(net.parameters(), from_torch(module).parameters(), strict=True):
        assert_array_equal(q, p)
