"""Losses and their gradients: squared errors and the Gaussian negative log-likelihood
for regression, cross-entropies on logits for classification.

Every loss takes the network's outputs ``Ŷ`` and targets ``Y`` of the same shape
``(n_samples, n_out)`` and refuses anything else: a ``(n,)`` target against ``(n, 1)``
predictions would otherwise broadcast into an ``(n, n)`` matrix of wrong residuals.
The classification targets are one-hot rows (softmax) or 0/1 indicators (sigmoid).
:class:`GaussianNLL` takes two outputs per target, a mean and a variance's raw value.
The regression losses also take a leading axis of ensemble members, ``Ŷ: (K, n, ·)``
against ``Y`` broadcast to match.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import ClassVar

import numpy as np

from gradfit.engine.types import Array
from gradfit.errors import DataError


def check_same_shape(
    Y_hat: Array, Y: Array, names: tuple[str, str] = ("predictions", "targets")
) -> None:
    """Raise :class:`~gradfit.errors.DataError` unless ``Y_hat`` and ``Y`` have one shape.

    ``names`` are what the message calls them; it says how to fix a flat ``y``
    against a column (or the reverse), the walk-through's trap.
    """
    if Y_hat.shape != Y.shape:
        if Y.ndim == 1 and Y_hat.shape == (*Y.shape, 1):
            hint = "; make y a column to match, y.reshape(-1, 1)"
        elif Y_hat.ndim == 1 and Y.shape == (*Y_hat.shape, 1):
            hint = "; make y flat to match, y.ravel()"
        else:
            hint = ""
        raise DataError(
            f"{names[0]} have shape {Y_hat.shape} but {names[1]} have shape {Y.shape}{hint}"
        )


class Loss:
    """A loss ``L(Ŷ, Y)`` with its gradient ``dL/dŶ``, and how it reduces its terms.

    A loss is a reduction of per-element terms ``ℓ``: ``reduction = "mean"`` divides
    their sum by their number ``N`` (:meth:`n_terms`), ``"sum"`` keeps it. Every caller
    that splits a batch (into pieces, ranks, members, or an epoch into batches) asks the
    loss how to put the parts together: :meth:`divisor`, :meth:`reduce` and :meth:`total`,
    :meth:`gradient_scale`, :meth:`batch_weight`, :meth:`members_factor` and
    :meth:`members_mean`.
    """

    name: ClassVar[str] = ""
    reduction: ClassVar[str] = "mean"

    def n_terms(self, shape: tuple[int, ...]) -> int:
        """``N``, the number of terms a mean divides by for targets of ``shape``: every
        element (a loss over rows says otherwise)."""
        return math.prod(shape)

    def divisor(self, shape: tuple[int, ...]) -> int:
        """What the sum of a batch's terms is divided by, for targets of ``shape``: ``N``
        for a mean, 1 for a sum (the compiled kernel reduces with it)."""
        return self.n_terms(shape) if self.reduction == "mean" else 1

    def reduce(self, total: float, shape: tuple[int, ...]) -> float:
        """The loss of a batch of targets of ``shape`` from the sum of its terms (over
        pieces or ranks, say): ``total / N`` for a mean, ``total`` for a sum."""
        return total / self.divisor(shape)

    def total(self, value: float, shape: tuple[int, ...]) -> float:
        """The sum of the terms of a batch of targets of ``shape`` whose loss is ``value``:
        what :meth:`reduce` undoes (``value · N`` for a mean, ``value`` for a sum), so
        that pieces' totals add up."""
        return value * self.divisor(shape)

    def gradient_scale(self, shape: tuple[int, ...]) -> float:
        """``c`` with ``dL/dŶ = c · d(Σ ℓ)/dŶ`` for a batch of targets of ``shape``:
        ``1/N`` for a mean, 1 for a sum."""
        return 1 / self.divisor(shape)

    def batch_weight(self, n_rows: int, n_samples: int) -> float:
        """The weight of a batch of ``n_rows`` in an epoch of ``n_samples``, so that the
        weighted batch losses add up to the epoch's: ``n_rows / n_samples`` for a mean
        (the batch's terms are that share of the epoch's), 1 for a sum."""
        return n_rows / n_samples if self.reduction == "mean" else 1.0

    def members_factor(self, n_members: int) -> int:
        """``k`` such that the sum of ``K`` members' losses is ``k`` times the loss over
        their stacked predictions ``(K, n, m)``: ``K`` for a mean (which averages over
        the members too), 1 for a sum. Its gradient scales the same way."""
        return n_members if self.reduction == "mean" else 1

    def members_mean(self, value: float, n_members: int) -> float:
        """The members' mean loss from the loss ``value`` over their stacked predictions:
        ``value`` itself for a mean, ``value / K`` for a sum."""
        return value if self.reduction == "mean" else value / n_members

    def summed(self) -> Loss:
        """The loss of the same terms with ``reduction = "sum"``: what a piece of a batch
        contributes, before :meth:`reduce` and :meth:`gradient_scale` of the whole."""
        raise NotImplementedError(f"{self!r} has no sum-reduced form")

    def value(self, Y_hat: Array, Y: Array) -> float:
        raise NotImplementedError

    def gradient(self, Y_hat: Array, Y: Array) -> Array:
        raise NotImplementedError

    def value_and_gradient(
        self, Y_hat: Array, Y: Array, out: Array | None = None
    ) -> tuple[float, Array]:
        """``(value(Ŷ, Y), gradient(Ŷ, Y))``, sharing the residual where the loss can;
        the gradient is written into ``out`` (which may be ``Y_hat``) when given."""
        G = self.gradient(Y_hat, Y)
        value = self.value(Y_hat, Y)
        if out is None:
            return value, G
        np.copyto(out, G)
        return value, out

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class SSE(Loss):
    """Sum of squared errors, ``L = Σ (Ŷ - Y)²``; ``dL/dŶ = 2 (Ŷ - Y)``.

    The walk-through's ``sum((y - pred)^2)``; PyTorch's ``MSELoss(reduction="sum")``.
    """

    name = "sse"
    reduction = "sum"

    def summed(self) -> Loss:
        return self

    def value(self, Y_hat: Array, Y: Array) -> float:
        check_same_shape(Y_hat, Y)
        R = Y_hat - Y
        return float(np.vdot(R, R))

    def gradient(self, Y_hat: Array, Y: Array) -> Array:
        check_same_shape(Y_hat, Y)
        G: Array = Y_hat - Y
        G *= 2
        return G

    def value_and_gradient(
        self, Y_hat: Array, Y: Array, out: Array | None = None
    ) -> tuple[float, Array]:
        check_same_shape(Y_hat, Y)
        G: Array = np.subtract(Y_hat, Y, out)
        value = float(np.vdot(G, G))
        G *= 2
        return value, G


class MSE(Loss):
    """Mean squared error over all ``N`` elements, ``L = Σ (Ŷ - Y)² / N``.

    ``dL/dŶ = 2 (Ŷ - Y) / N``; PyTorch's ``MSELoss()`` (``reduction="mean"``).
    """

    name = "mse"

    def summed(self) -> Loss:
        return SSE()

    def value(self, Y_hat: Array, Y: Array) -> float:
        check_same_shape(Y_hat, Y)
        R = Y_hat - Y
        return float(np.vdot(R, R)) / R.size

    def gradient(self, Y_hat: Array, Y: Array) -> Array:
        check_same_shape(Y_hat, Y)
        G: Array = Y_hat - Y
        G *= 2 / G.size
        return G

    def value_and_gradient(
        self, Y_hat: Array, Y: Array, out: Array | None = None
    ) -> tuple[float, Array]:
        check_same_shape(Y_hat, Y)
        G: Array = np.subtract(Y_hat, Y, out)
        value = float(np.vdot(G, G)) / G.size
        G *= 2 / G.size
        return value, G


def _weights(weight: Sequence[float] | None, size: int, what: str) -> Array | None:
    if weight is None:
        return None
    w = np.asarray(weight, dtype=np.float64)
    if w.shape != (size,) or not np.isfinite(w).all() or (w < 0).any():
        raise ValueError(f"weight must be {size} non-negative numbers ({what}), got {weight!r}")
    return w


class CrossEntropy(Loss):
    """Softmax cross-entropy on logits, averaged over the ``n`` samples (over the ``K·n``
    rows of an ensemble's stacked ``(K, n, k)`` logits).

    With ``P = softmax(Ŷ)`` row by row, class weights ``w`` (ones by default) and
    ``s = Σₖ wₖ Yₖ`` per row::

        L = -(1/n) Σᵢ Σₖ wₖ Yᵢₖ log Pᵢₖ,    dL/dŶ = (P ⊙ s - Y ⊙ w) / n

    which for one-hot rows without weights is ``(P - Y) / n``. ``log P = Ŷ - lse(Ŷ)``
    with the log-sum-exp taken after subtracting each row's maximum, so no logit
    overflows. PyTorch's ``CrossEntropyLoss(weight=w)`` with probability targets.

    Parameters
    ----------
    weight : sequence of float, optional
        One non-negative weight per class (column).
    """

    name = "cross_entropy"

    def __init__(self, weight: Sequence[float] | None = None) -> None:
        self.weight = None if weight is None else tuple(float(v) for v in weight)

    def n_terms(self, shape: tuple[int, ...]) -> int:
        """The number of rows: each row's terms over the classes are one sample's loss."""
        return math.prod(shape[:-1])

    def _weighted(self, Y: Array) -> Array:
        w = _weights(self.weight, Y.shape[-1], "one per class")
        return Y if w is None else Y * w.astype(Y.dtype)

    def value(self, Y_hat: Array, Y: Array) -> float:
        check_same_shape(Y_hat, Y)
        return -float(np.vdot(self._weighted(Y), log_softmax(Y_hat))) / self.divisor(Y.shape)

    def gradient(self, Y_hat: Array, Y: Array) -> Array:
        return self.value_and_gradient(Y_hat, Y)[1]

    def value_and_gradient(
        self, Y_hat: Array, Y: Array, out: Array | None = None
    ) -> tuple[float, Array]:
        check_same_shape(Y_hat, Y)
        n, wY = self.divisor(Y.shape), self._weighted(Y)
        log_P = log_softmax(Y_hat)
        value = -float(np.vdot(wY, log_P)) / n
        G: Array = np.exp(log_P, out=out if out is not None else log_P)
        G *= wY.sum(axis=-1, keepdims=True)
        G -= wY
        G /= n
        return value, G

    def summed(self) -> Loss:
        return SummedCrossEntropy(self.weight)

    def __repr__(self) -> str:
        return f"CrossEntropy(weight={self.weight})" if self.weight else "CrossEntropy()"


class SummedCrossEntropy(CrossEntropy):
    """:class:`CrossEntropy`'s terms added up over the rows, not averaged: a piece of a
    batch's share (``CrossEntropyLoss(weight=w, reduction="sum")``)."""

    reduction = "sum"

    def summed(self) -> Loss:
        return self

    def __repr__(self) -> str:
        return f"SummedCrossEntropy(weight={self.weight})"


class BinaryCrossEntropy(Loss):
    """Sigmoid binary cross-entropy on logits, averaged over all ``N`` elements.

    For each logit ``z`` and 0/1 target ``y`` (binary: one column; multilabel: one
    column per label), with weight ``c = w₀ (1 - y) + w₁ y`` (1 by default)::

        ℓ = -c [y log σ(z) + (1 - y) log(1 - σ(z))] = c [softplus(z) - y z]
        L = Σ ℓ / N,    dL/dz = c (σ(z) - y) / N

    ``softplus(z) = max(z, 0) + log1p(exp(-|z|))`` never overflows. PyTorch's
    ``BCEWithLogitsLoss(weight=c)``.

    Parameters
    ----------
    weight : (w₀, w₁), optional
        Weights of the negative and the positive targets.
    """

    name = "binary_cross_entropy"

    def __init__(self, weight: Sequence[float] | None = None) -> None:
        self.weight = None if weight is None else tuple(float(v) for v in weight)

    def element_weights(self, Y: Array) -> Array | None:
        """``c = w₀ (1 - Y) + w₁ Y``, of ``Y``'s shape, or ``None`` without weights."""
        w = _weights(self.weight, 2, "negative, positive")
        return None if w is None else (w[0] + (w[1] - w[0]) * Y).astype(Y.dtype)

    def value(self, Y_hat: Array, Y: Array) -> float:
        check_same_shape(Y_hat, Y)
        terms = softplus(Y_hat) - Y * Y_hat
        c = self.element_weights(Y)
        return float(terms.sum() if c is None else np.vdot(c, terms)) / self.divisor(Y.shape)

    def gradient(self, Y_hat: Array, Y: Array) -> Array:
        return self.value_and_gradient(Y_hat, Y)[1]

    def value_and_gradient(
        self, Y_hat: Array, Y: Array, out: Array | None = None
    ) -> tuple[float, Array]:
        value = self.value(Y_hat, Y)
        G: Array = sigmoid(Y_hat, out=out)
        G -= Y
        c = self.element_weights(Y)
        if c is not None:
            G *= c
        G /= self.divisor(Y.shape)
        return value, G

    def summed(self) -> Loss:
        return SummedBinaryCrossEntropy(self.weight)

    def __repr__(self) -> str:
        return (
            f"BinaryCrossEntropy(weight={self.weight})" if self.weight else "BinaryCrossEntropy()"
        )


class SummedBinaryCrossEntropy(BinaryCrossEntropy):
    """:class:`BinaryCrossEntropy`'s terms added up, not averaged: a piece of a batch's
    share (``BCEWithLogitsLoss(weight=c, reduction="sum")``)."""

    reduction = "sum"

    def summed(self) -> Loss:
        return self

    def __repr__(self) -> str:
        return f"SummedBinaryCrossEntropy(weight={self.weight})"


def log_softmax(Z: Array) -> Array:
    """``log softmax(Z)`` row by row, ``Z - max - log Σ exp(Z - max)``: ``(…, n, k)``, over
    the last axis (an ensemble's ``(K, n, k)`` member by member)."""
    shifted: Array = Z - Z.max(axis=-1, keepdims=True)
    shifted -= np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    return shifted


def softplus(Z: Array) -> Array:
    """``log(1 + exp(Z))`` element-wise, as ``max(Z, 0) + log1p(exp(-|Z|))``."""
    out: Array = np.log1p(np.exp(-np.abs(Z)))
    out += np.maximum(Z, 0)
    return out


def sigmoid(Z: Array, out: Array | None = None) -> Array:
    """``σ(Z) = 1 / (1 + exp(-Z))`` element-wise, computed from ``exp(-|Z|)`` so that
    nothing overflows; into ``out`` (which may be ``Z``) when given."""
    e = np.exp(-np.abs(Z))
    positive = Z >= 0
    result: Array = np.divide(np.where(positive, 1.0, e).astype(Z.dtype), 1 + e, out=out)
    return result


SOFTPLUS_THRESHOLD = 20.0
"""Above it softplus is the identity, as ``torch.nn.functional.softplus`` computes it."""


def softplus_with_slope(S: Array) -> tuple[Array, Array]:
    """``(log(1 + eˢ), σ(s))``: softplus and its derivative, the logistic sigmoid.

    As torch computes them: ``s`` itself (slope 1) above :data:`SOFTPLUS_THRESHOLD`.
    """
    linear = S > SOFTPLUS_THRESHOLD
    value = np.where(linear, S, softplus(S))
    slope = np.where(linear, 1.0, sigmoid(S))
    return value, slope.astype(S.dtype, copy=False)


class GaussianNLL(Loss):
    """Gaussian negative log-likelihood of a mean-and-variance head, without ``log 2π``.

    The network's ``2m`` outputs are means ``μ = Ŷ[:, :m]`` and raw values
    ``s = Ŷ[:, m:]`` of variances ``v = softplus(s) + min_variance`` (Lakshminarayanan
    et al. 2017, who take ``min_variance = 1e-6``). Over the ``N = n·m`` targets::

        L = (1/N) Σ ½ (log v + (μ - y)² / v),
        dL/dμ = (μ - y) / (N v),
        dL/ds = (1/2N) (1/v - (μ - y)²/v²) σ(s),

    where ``σ = softplus'``. This is ``torch.nn.GaussianNLLLoss()(μ, y, v)``
    (``full=False``, ``eps=1e-6``, ``reduction="mean"``) applied to torch's softplus.

    Parameters
    ----------
    min_variance : float, default=1e-6
        Added to every variance, so that it never reaches 0.
    """

    name = "gaussian_nll"

    def __init__(self, min_variance: float = 1e-6) -> None:
        self.min_variance = float(min_variance)

    def mean_and_variance(self, Y_hat: Array) -> tuple[Array, Array]:
        """The head's ``(μ, v)``, each ``Ŷ``'s shape with half its last axis."""
        m = _half(Y_hat)
        return Y_hat[..., :m], softplus_with_slope(Y_hat[..., m:])[0] + self.min_variance

    def value(self, Y_hat: Array, Y: Array) -> float:
        return self.value_and_gradient(Y_hat, Y)[0]

    def gradient(self, Y_hat: Array, Y: Array) -> Array:
        return self.value_and_gradient(Y_hat, Y)[1]

    def value_and_gradient(
        self, Y_hat: Array, Y: Array, out: Array | None = None
    ) -> tuple[float, Array]:
        m = _half(Y_hat)
        check_same_shape(Y_hat[..., :m], Y, ("mean predictions", "targets"))
        mu, S = Y_hat[..., :m], Y_hat[..., m:]
        softplus_s, sigma = softplus_with_slope(S)
        v = softplus_s + self.min_variance
        R = mu - Y
        R2_v = R * R / v
        N = R.size
        value = 0.5 * float(np.sum(np.log(v) + R2_v)) / N
        G = np.empty_like(Y_hat) if out is None else out
        np.multiply((0.5 / N) * (1 - R2_v) / v, sigma, out=G[..., m:])
        np.divide(R, N * v, out=G[..., :m])
        return value, G

    @staticmethod
    def element(
        mu: float, s: float, y: float, N: int, min_variance: float
    ) -> tuple[float, float, float]:
        """One target's term and gradients, ``(log v + (μ - y)²/v, dL/dμ, dL/ds)`` (the
        term before its ``½ / N``), with softplus and its slope as
        :func:`softplus_with_slope` takes them: the compiled kernel's form of
        :meth:`value_and_gradient`."""
        if s > SOFTPLUS_THRESHOLD:
            softplus, slope = s, 1.0
        else:
            e = math.exp(-abs(s))
            softplus = math.log1p(e) + max(s, 0.0)
            slope = (1.0 if s >= 0 else e) / (1 + e)
        v = softplus + min_variance
        R = mu - y
        R2_v = R * R / v
        return math.log(v) + R2_v, R / (N * v), (0.5 / N) * (1 - R2_v) / v * slope

    def __repr__(self) -> str:
        return f"GaussianNLL(min_variance={self.min_variance:g})"


def _half(Y_hat: Array) -> int:
    """``m``, half the width of a mean-and-variance head's output."""
    width = Y_hat.shape[-1]
    if width % 2:
        raise DataError(
            f"a Gaussian head outputs a mean and a variance per target, an even number of "
            f"columns; got {width}. Build the network with 2 × n_outputs outputs"
        )
    return width // 2


def head_width(loss: Loss, n_outputs: int) -> int:
    """The network outputs a loss needs for ``n_outputs`` targets: a mean and a
    variance each for :class:`GaussianNLL`, one each otherwise."""
    return 2 * n_outputs if isinstance(loss, GaussianNLL) else n_outputs


LOSSES: dict[str, type[Loss]] = {
    cls.name: cls for cls in (SSE, MSE, GaussianNLL, CrossEntropy, BinaryCrossEntropy)
}


REGRESSION_LOSSES = ("mse", "sse", "gaussian_nll")
"""The losses a regressor trains with: squared errors, or a Gaussian head's NLL."""


def get_loss(loss: str | Loss) -> Loss:
    """A loss by name (``"mse"``, ``"sse"``, ``"gaussian_nll"``, ``"cross_entropy"``,
    ``"binary_cross_entropy"``), or the given :class:`Loss` itself."""
    if isinstance(loss, Loss):
        return loss
    try:
        return LOSSES[loss]()
    except KeyError:
        raise ValueError(f"unknown loss {loss!r}; choose one of {', '.join(LOSSES)}") from None
