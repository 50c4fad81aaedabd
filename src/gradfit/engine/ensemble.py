"""Deep ensembles: ``K`` networks trained side by side, and their mixture's prediction.

Lakshminarayanan, Pritzel & Blundell (2017) train ``K`` networks from different random
starts and predict with the mixture of their predictive distributions. Here the members
are stacked: every layer's ``W`` is ``(K, n_out, n_in)`` and one batched ``matmul``
computes all members at once, the computation a fused kernel would run. The members'
objective is the sum of their losses, so each member's gradient is exactly the one it
would get trained alone (and an elementwise optimizer steps each as it would alone);
the loss reported is the members' average.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from gradfit.engine.activations import Identity, get_activation
from gradfit.engine.batch_parts import BatchParts, n_parts
from gradfit.engine.batches import Rows
from gradfit.engine.flat import split_flat
from gradfit.engine.layers import Dense, StackedDense
from gradfit.engine.losses import Loss
from gradfit.engine.network import MLP
from gradfit.engine.optim import Optimizer
from gradfit.engine.stepper import EngineStepper
from gradfit.engine.types import Array


class Ensemble(MLP):
    """``K`` multilayer perceptrons of one shape, stacked layer by layer.

    Member ``k`` is the ``k``-th :class:`MLP` drawn from ``rng`` (so ``Ensemble(…,
    n_members=1, rng=g)`` has the parameters of ``MLP(…, rng=g)``). The parameters
    ``[W1, b1, …]`` have a leading member axis, ``W: (K, n_out, n_in)``, ``b: (K, n_out)``,
    and are views of one flat buffer as an :class:`MLP`'s are.

    Parameters
    ----------
    sizes : sequence of int
        ``[n_in, *hidden, n_out]`` of every member.
    activation : str
        Activation between layers.
    n_members : int
        ``K >= 1``.
    rng : numpy.random.Generator or None
        Source of the members' initial parameters, drawn one member after another
        (``None``: zeros, for parameters set afterwards).
    dtype : str or numpy dtype
        ``float32`` or ``float64``.
    """

    def __init__(
        self,
        sizes: Sequence[int],
        activation: str = "relu",
        n_members: int = 5,
        *,
        rng: np.random.Generator | None,
        dtype: Any = np.float64,
    ) -> None:
        if isinstance(n_members, bool) or not isinstance(n_members, int | np.integer):
            raise ValueError(f"n_members must be an integer >= 1, got {n_members!r}")
        if n_members < 1:
            raise ValueError(f"n_members must be >= 1, got {n_members}")
        self.n_members = int(n_members)
        super().__init__(sizes, activation, rng=rng, dtype=dtype)

    def _draw(self, rng: np.random.Generator | None) -> list[Dense]:
        """Every member's layers, drawn member after member as :class:`MLP` draws its own
        (``None``: zeros), stacked layer by layer."""
        draw = super()._draw
        members = [draw(rng) for _ in range(self.n_members)]
        return [StackedDense(list(layer)) for layer in zip(*members, strict=True)]

    @property
    def spec(self) -> dict[str, Any]:
        """What rebuilds this ensemble: ``sizes``, ``activation``, ``dtype``, ``n_members``."""
        return {**super().spec, "n_members": self.n_members}

    def forward(self, X: Array, out: Sequence[Array | None] | None = None) -> Array:
        """``X: (n_samples, n_in)`` → every member's predictions, ``(K, n_samples, n_out)``."""
        return super().forward(X, out)

    def backward(self, G: Array, out: Sequence[Array | None] | None = None) -> Array:
        """Backpropagate ``G = dL/dŶ: (K, n_samples, n_out)``; fills every ``dW`` and ``db``
        and returns ``dL/dX: (K, n_samples, n_in)``."""
        return super().backward(G, out)

    def member(self, k: int) -> MLP:
        """Member ``k`` as an independent :class:`MLP` (copies of its parameters)."""
        return MLP.from_parameters(self.sizes, self.activation, [p[k] for p in self.parameters()])

    def with_gradients(self, flat_grad: Array) -> Ensemble:
        """This ensemble with gradients of its own: its layers' ``W`` and ``b`` are this
        one's arrays, their ``dW`` and ``db`` views of ``flat_grad`` (laid out as
        ``flat_grad`` is), and its activations its own, so that a forward and backward
        there leave this one's gradients and kept activations as they were."""
        if flat_grad is self.flat_grad:
            return self
        # Attribute by attribute: copy.copy would go through __setstate__, which lays
        # the shared layers' arrays into new buffers.
        twin = Ensemble.__new__(Ensemble)
        twin.__dict__.update(self.__dict__)
        twin.dense = [StackedDense.__new__(StackedDense) for _ in self.dense]
        for mine, theirs in zip(twin.dense, self.dense, strict=True):
            mine.W, mine.b = theirs.W, theirs.b
        twin.activations = [get_activation(self.activation) for _ in self.sizes[2:]]
        twin.activations.append(Identity())
        twin.flat_grad = flat_grad
        grads = split_flat(flat_grad, self.gradients())
        for i, d in enumerate(twin.dense):
            d.dW, d.db = grads[2 * i], grads[2 * i + 1]
        return twin

    def copy(self) -> Ensemble:
        return Ensemble.from_parameters(self.sizes, self.activation, self.parameters())

    @classmethod
    def from_parameters(
        cls, sizes: Sequence[int], activation: str, params: Sequence[Array]
    ) -> Ensemble:
        """An ensemble with the given stacked ``[W1, b1, …]``; ``K`` is their first axis."""
        first = np.asarray(params[0])
        net = cls(sizes, activation, int(first.shape[0]), rng=None, dtype=first.dtype)
        net.set_parameters(params)
        return net

    @classmethod
    def from_members(cls, members: Sequence[MLP]) -> Ensemble:
        """The ensemble of ``members``, which must share sizes, activation and dtype."""
        specs = {str(m.spec) for m in members}
        if len(specs) != 1:
            raise ValueError(f"members must share one shape, got {sorted(specs)}")
        params = [np.stack(ps) for ps in zip(*(m.parameters() for m in members), strict=True)]
        return cls.from_parameters(members[0].sizes, members[0].activation, params)

    def __repr__(self) -> str:
        return (
            f"Ensemble({self.sizes}, activation={self.activation!r}, "
            f"n_members={self.n_members}, dtype={self.dtype.name})"
        )


class EnsembleStepper(EngineStepper):
    """The engine's :class:`~gradfit.engine.Stepper` for an :class:`Ensemble`.

    Every member sees the same rows, or with ``member_rows`` each its own (bagging: each
    member holds out its own validation split). The objective is ``Σₖ L(Ŷₖ, Yₖ)``,
    computed as the loss over the stacked predictions (``Y`` broadcast to ``(K, n, m)``,
    or gathered per member) scaled back to a sum (:meth:`Loss.members_factor
    <gradfit.engine.Loss.members_factor>`). The value returned is the members' mean loss.

    Parameters
    ----------
    net : Ensemble
    X : (n_samples, n_in) array
    Y : (n_samples, n_out) array
    loss : Loss
    optimizer : Optimizer
        Built over ``net.parameters()``.
    member_rows : (K, n_train) array of int, optional
        The rows of ``(X, Y)`` member ``k`` trains on, ``member_rows[k]``; a step on
        batch rows ``r`` (positions in ``0 … n_train - 1``) gives member ``k`` the rows
        ``member_rows[k, r]``. By default every member trains on every row.
    parts : int, optional
        Run each step in this many parts of its rows, side by side on the machine's cores
        (:class:`~gradfit.engine.batch_parts.BatchParts`); by default as many as the
        step's size pays for (:func:`~gradfit.engine.batch_parts.n_parts`: 1, one pass,
        on small steps).
        The numbers do not depend on the cores.
    """

    net: Ensemble

    def __init__(
        self,
        net: Ensemble,
        X: Array,
        Y: Array,
        loss: Loss,
        optimizer: Optimizer,
        member_rows: Array | None = None,
        *,
        parts: int | None = None,
    ) -> None:
        self.net, self.X, self.Y = net, X, Y
        self.loss, self.optimizer = loss, optimizer
        self.member_rows = member_rows
        self.n_samples = X.shape[0] if member_rows is None else member_rows.shape[1]
        self._grads = net.gradients()
        self._Y_all = np.broadcast_to(Y, (net.n_members, *Y.shape))
        self.parts = parts
        self._batch_parts: dict[int, BatchParts | None] = {}

    def _objective(self, A: Array, Y: Array) -> tuple[float, Array]:
        """The members' mean loss, and the gradient of their summed loss (into ``A``);
        ``Y`` is the targets broadcast to ``(K, n, m)``."""
        K, loss = self.net.n_members, self.loss
        value, G = loss.value_and_gradient(A, Y, out=A)
        if (k := loss.members_factor(K)) != 1:
            G *= k
        return loss.members_mean(value, K), G

    def evaluate(self, X: Array, Y: Array) -> float:
        return members_loss(self.net, self.loss, X, Y)

    def step(self, rows: Rows) -> float:
        if self.member_rows is not None:
            index = self.member_rows if rows is None else self.member_rows[:, rows]
            X, Y = self.X[index], self.Y[index]
        elif rows is None:
            X, Y = self.X, self._Y_all
        else:
            X, Y = self.X[rows], self.Y[rows]
            Y = np.broadcast_to(Y, (self.net.n_members, *Y.shape))
        parts = self._parts(Y.shape[1])
        if parts is None:
            value, G = self._objective(self.net.forward(X), Y)
            self.net.parameter_gradients(G)
        else:
            value = parts.step(X, Y)
        self.optimizer.step(self._grads)
        return value

    def _parts(self, n_rows: int) -> BatchParts | None:
        """The parts a step of ``n_rows`` rows runs in (:func:`~gradfit.engine.batch_parts.n_parts`,
        or ``parts``), kept per size; ``None`` for one pass."""
        if n_rows not in self._batch_parts:
            n = self.parts if self.parts is not None else n_parts(self.net, n_rows)
            self._batch_parts[n_rows] = (
                BatchParts(self.net, self.loss, n_rows, n) if n > 1 else None
            )
        return self._batch_parts[n_rows]


def members_loss(net: Ensemble, loss: Loss, X: Array, Y: Array) -> float:
    """The members' mean ``loss`` on ``(X, Y)``: ``X: (n_samples, n_in)`` and
    ``Y: (n_samples, n_out)``, every member's prediction scored against ``Y``; or each
    member on its own rows, ``X: (K, n_samples, n_in)`` and ``Y: (K, n_samples, n_out)``."""
    K, A = net.n_members, net.forward(X)
    return loss.members_mean(loss.value(A, np.broadcast_to(Y, A.shape[:-1] + Y.shape[-1:])), K)


def mixture(means: Array, variances: Array | None = None) -> tuple[Array, Array]:
    """The mean and variance of an equal-weight mixture of ``K`` Gaussians.

    ``μ* = (1/K) Σ μₖ`` and ``σ*² = (1/K) Σ (σₖ² + μₖ²) - μ*²``, written as
    ``(1/K) Σ σₖ² + (1/K) Σ (μₖ - μ*)²`` (no cancellation). Without ``variances``
    (mean-only heads) the spread is that of the members' means alone.

    Parameters
    ----------
    means, variances : (K, n_samples, n_out) arrays

    Returns
    -------
    mean, variance : (n_samples, n_out) arrays
    """
    mu = means.mean(axis=0)
    spread = ((means - mu) ** 2).mean(axis=0)
    return mu, spread if variances is None else spread + variances.mean(axis=0)


def out_of_bag(values: Array, held: Array, n_rows: int) -> Array:
    """Each row's mean over the members that held it out (bagging's out-of-bag estimate).

    Parameters
    ----------
    values : (K, n_held, c) array
        Member ``k``'s outputs on its held-out rows ``held[k]``.
    held : (K, n_held) array of int
        The rows, among ``n_rows``, each member held out.

    Returns
    -------
    (n_rows, c) array
        NaN in the rows no member held out.
    """
    c = values.shape[-1]
    sums = np.zeros((n_rows, c))
    counts = np.zeros(n_rows)
    np.add.at(sums, held.ravel(), values.reshape(-1, c))
    np.add.at(counts, held.ravel(), 1.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return sums / counts[:, None]
