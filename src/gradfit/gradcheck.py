"""Gradient checking: the engine's hand-derived gradient against autograd and finite differences.

Three ways to get ``dL/dθ`` for every parameter ``θ`` of a network, all in float64:

- ``engine``: :meth:`MLP.backward`, the chain rule written out by hand;
- ``autograd``: PyTorch's reverse mode on the same network (:func:`to_torch`);
- ``finite differences``: ``(L(θ + h) - L(θ - h)) / 2h`` for each element, ``h = 1e-6``.

The walk-through checks its one-layer gradient ``-2 Xᵀ (y - X w)`` against torch this
way; :func:`walkthrough_check` reproduces that check, :func:`random_check` runs it on
a random network (``gradfit gradcheck``).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from gradfit.engine.losses import Loss, get_loss
from gradfit.engine.network import MLP
from gradfit.engine.types import Array
from gradfit.engine.validation import check_training_data

METHODS = ("engine", "autograd", "finite differences")
FD_STEP = 1e-6


@dataclass(frozen=True)
class GradientReport:
    """The gradients of one network by each method, and how far apart they are.

    Attributes
    ----------
    names : list of str
        ``["W1", "b1", "W2", …]``, in :meth:`MLP.parameters` order.
    gradients : dict
        ``{method: [dL/dW1, dL/db1, …]}`` for each of :data:`METHODS`.
    loss : float
        The loss at the network's parameters.
    rtol : float
        The largest relative error that counts as agreement.
    description : str
        What was checked (network, loss, samples), for the table's title.
    """

    names: list[str]
    gradients: dict[str, list[Array]]
    loss: float
    rtol: float = 1e-5
    description: str = ""

    def errors(self, a: str, b: str) -> list[tuple[float, float]]:
        """``(largest absolute error, relative error)`` between methods ``a`` and ``b``.

        The relative error of a parameter is its largest absolute error divided by the
        largest gradient component of that parameter (by either method) — or by
        ``1e-8`` of the network's largest component, if that is larger, so that a
        parameter whose gradient is zero up to rounding is not divided by nothing.
        """
        floor = 1e-8 * max(
            (float(np.abs(g).max()) for grads in self.gradients.values() for g in grads),
            default=0.0,
        )
        out = []
        for ga, gb in zip(self.gradients[a], self.gradients[b], strict=True):
            err = float(np.abs(ga - gb).max())
            scale = max(float(np.abs(ga).max()), float(np.abs(gb).max()), floor)
            out.append((err, err / scale if scale > 0 else 0.0))
        return out

    def mismatches(self) -> list[tuple[str, str, str]]:
        """``(parameter, method a, method b)`` for every relative error above ``rtol``."""
        return [
            (name, a, b)
            for a, b in itertools.combinations(METHODS, 2)
            for name, (_, rel) in zip(self.names, self.errors(a, b), strict=True)
            if not rel <= self.rtol
        ]

    @property
    def ok(self) -> bool:
        """Whether every pair of methods agrees on every parameter within ``rtol``."""
        return not self.mismatches()

    def __str__(self) -> str:
        pairs = list(itertools.combinations(METHODS, 2))
        shapes = [str(tuple(g.shape)) for g in self.gradients["engine"]]
        width = max(5, *(len(s) for s in shapes))
        head = "".join(f"  {_SHORT[a] + ' vs ' + _SHORT[b]:^24}" for a, b in pairs)
        lines = [
            f"{'':9} {'':{width}}{head}",
            f"{'parameter':9} {'shape':{width}}" + f"  {'abs':>12}{'rel':>12}" * len(pairs),
        ]
        columns = [self.errors(a, b) for a, b in pairs]
        for i, (name, shape) in enumerate(zip(self.names, shapes, strict=True)):
            cells = "".join(f"  {col[i][0]:12.2e}{col[i][1]:12.2e}" for col in columns)
            lines.append(f"{name:9} {shape:{width}}{cells}")
        if self.ok:
            verdict = f"OK: all three agree on every parameter (relative error <= {self.rtol:g})"
        else:
            bad = ", ".join(f"{n} ({a} vs {b})" for n, a, b in self.mismatches())
            verdict = f"MISMATCH (relative error > {self.rtol:g}): {bad}"
        title = f"Gradient check of {self.description}; loss {self.loss:.6g}"
        return "\n".join([title, *lines, verdict])


_SHORT = {"engine": "engine", "autograd": "autograd", "finite differences": "finite diff."}


def check_gradients(
    net: MLP, X: Array, y: Array, loss: str | Loss = "mse", *, rtol: float = 1e-5
) -> GradientReport:
    """Compare the engine's, autograd's and finite differences' gradients of ``net``.

    Parameters
    ----------
    net : MLP
        Checked at its current parameters, on a float64 copy (``net`` is not changed).
    X : (n_samples, n_in) array
    y : (n_samples,) or (n_samples, n_out) array
    loss : {"mse", "sse", "cross_entropy", "binary_cross_entropy"} or Loss
    rtol : float
        Relative error (see :meth:`GradientReport.errors`) up to which methods agree.

    Returns
    -------
    GradientReport
        ``report.ok`` says whether all agree; ``print(report)`` shows the table.

    Raises
    ------
    MissingDependencyError
        When PyTorch is not installed.

    Notes
    -----
    Finite differences step over ReLU's kink when an input to a ReLU unit lies within
    ``h = 1e-6`` of zero; such a (rare) unit disagrees for that reason alone.
    """
    from gradfit.errors import require

    require("torch", "torch")
    net = MLP.from_parameters(
        net.sizes, net.activation, [p.astype(np.float64) for p in net.parameters()]
    )
    X, Y = check_training_data(X, y, n_features=net.sizes[0])
    fn = get_loss(loss)
    Y_hat = net.forward(X)
    value = fn.value(Y_hat, Y)
    net.backward(fn.gradient(Y_hat, Y))
    gradients = {
        "engine": [g.copy() for g in net.gradients()],
        "autograd": _autograd(net, X, Y, fn),
        "finite differences": _finite_differences(net, X, Y, fn),
    }
    names = [f"{kind}{i}" for i in range(1, len(net.dense) + 1) for kind in ("W", "b")]
    n = X.shape[0]
    description = f"{net}, {fn.name} over {n} sample{'s' * (n != 1)}"
    return GradientReport(names, gradients, value, rtol=rtol, description=description)


def _autograd(net: MLP, X: Array, Y: Array, loss: Loss) -> list[Array]:
    import torch

    from gradfit.torch_backend.convert import to_torch
    from gradfit.torch_backend.losses import torch_loss

    module = to_torch(net)
    Y_hat = module(torch.from_numpy(X))
    fn = torch_loss(loss, dtype=torch.float64, device=torch.device("cpu"))
    value = fn(Y_hat, torch.from_numpy(Y))
    value.backward()  # type: ignore[no-untyped-call]
    return [p.grad.numpy().copy() for p in module.parameters() if p.grad is not None]


def _finite_differences(net: MLP, X: Array, Y: Array, loss: Loss) -> list[Array]:
    """Central differences, one parameter element at a time (``2 · n_parameters`` passes)."""
    grads = []
    for p in net.parameters():
        g = np.empty_like(p)
        for i in np.ndindex(p.shape):
            kept = p[i]
            p[i] = kept + FD_STEP
            up = loss.value(net.forward(X), Y)
            p[i] = kept - FD_STEP
            down = loss.value(net.forward(X), Y)
            p[i] = kept
            g[i] = (up - down) / (2 * FD_STEP)
        grads.append(g)
    return grads


def walkthrough_check(seed: int | None = 0) -> GradientReport:
    """The walk-through's check: one linear layer, a random 2-vector input, weights and target.

    The post draws ``x``, ``w`` (2-vectors) and ``y`` (a scalar) from ``N(0, 1)`` and
    compares ``-2 xᵀ (y - xᵀ w)`` with torch's gradient of ``(y - xᵀ w)²``. Here the
    layer is ``MLP([2, 1], "identity")`` with ``W = wᵀ`` and a zero bias (the post's
    layer has none; its gradient is checked too), and the loss is ``sse``.
    """
    rng = np.random.default_rng(seed)
    x, w, y = rng.normal(size=(1, 2)), rng.normal(size=(1, 2)), rng.normal(size=(1, 1))
    net = MLP.from_parameters([2, 1], "identity", [w, np.zeros(1)])
    return check_gradients(net, x, y, loss="sse")


def random_check(
    sizes: Sequence[int],
    activation: str = "tanh",
    seed: int | None = 0,
    *,
    n_samples: int = 8,
    loss: str = "mse",
) -> GradientReport:
    """Check a random ``MLP(sizes, activation)`` on random ``N(0, 1)`` inputs and targets.

    The targets fit the loss: ``N(0, 1)`` for ``mse``/``sse`` (half as many columns
    as outputs for ``gaussian_nll``), one-hot rows of random
    classes for ``cross_entropy``, random 0/1 labels for ``binary_cross_entropy``.
    Everything is drawn from ``numpy.random.default_rng(seed)``.
    """
    rng = np.random.default_rng(seed)
    net = MLP(sizes, activation, rng=rng)
    X = rng.normal(size=(n_samples, net.sizes[0]))
    n_out = net.sizes[-1]
    if loss == "cross_entropy":
        Y = np.eye(n_out)[rng.integers(0, n_out, size=n_samples)]
    elif loss == "binary_cross_entropy":
        Y = rng.integers(0, 2, size=(n_samples, n_out)).astype(np.float64)
    elif loss == "gaussian_nll":
        Y = rng.normal(size=(n_samples, n_out // 2))
    else:
        Y = rng.normal(size=(n_samples, n_out))
    return check_gradients(net, X, Y, loss=loss)
