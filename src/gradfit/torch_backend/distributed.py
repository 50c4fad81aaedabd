"""Data-parallel training of the torch backend on ``torch.distributed``.

Launched by ``torchrun``, every process (a *rank*) runs the same estimator fit: it
builds the same network from the same seed, wraps it in
:class:`~torch.nn.parallel.DistributedDataParallel`, and draws the same shuffled order
of the rows. Of each global batch of ``B`` rows, rank ``r`` of ``world`` reads and
trains on its contiguous slice ``batch[r·B // world : (r+1)·B // world]`` — and only
those rows. DDP averages the gradients over the ranks; each rank's loss is scaled so
that the average is the gradient of the whole batch's loss. So ``world`` ranks with
``B / world`` rows each take the same steps as one process with batch ``B`` (up to
rounding), and the result does not depend on how many processes ran it.

The backend is gloo on CPUs and NCCL on GPUs. A step reads its rows in pieces of at
most ``chunk_rows`` rows (gradients accumulated under ``no_sync``), so memory stays
bounded however many rows the file has (see :mod:`gradfit.io.streaming`).

A rank that dies (killed, out of memory) closes its connections: its peers' next
collective fails at once, or after :data:`TIMEOUT` when a peer hangs without dying,
and they raise :class:`~gradfit.errors.PeerLostError` rather than wait for the 30
minutes that are gloo's default.
"""

from __future__ import annotations

import contextlib
import gc
import os
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import numpy as np
import torch
import torch.distributed as dist

from gradfit.engine.batches import Rows, count_rows, pieces, share
from gradfit.engine.losses import Loss
from gradfit.engine.types import Array
from gradfit.errors import PeerLostError
from gradfit.io.arrays import CHUNK_ROWS, RowSource
from gradfit.io.streaming import Group, summed_form, summed_loss
from gradfit.torch_backend.losses import torch_loss
from gradfit.torch_backend.mapping import NUMPY_DTYPES, resolve_device
from gradfit.torch_backend.optim import steps_taken
from gradfit.torch_backend.stepper import TorchParameters

TIMEOUT = timedelta(seconds=60)
"""How long a collective waits for a silent peer before the group gives up."""


@dataclass(frozen=True)
class Ranks:
    """This process's place in the group: ``rank`` of ``world``, on ``device``; a
    :class:`~gradfit.io.streaming.Group` for the estimator."""

    rank: int
    world: int
    device: torch.device
    owns_group: bool
    """Whether :func:`setup` started the process group (and so ends it)."""

    def all_sum(self, A: Array) -> Array:
        """``A`` summed over the ranks (float64); every rank gets the same array."""
        if self.world == 1:
            return A
        T = torch.as_tensor(np.asarray(A, dtype=np.float64), device=self.device).clone()
        with peers_watched():
            dist.all_reduce(T)
        return T.cpu().numpy()

    def close(self, *, finished: bool) -> None:
        """Leave the group: together after a ``finished`` fit (so that no rank exits
        while another still needs it), at once after an error."""
        # DDP's reducer holds threads on the process group: free it before the group
        # ends, or a rank can abort at exit ("terminate called without an active exception").
        gc.collect()
        if finished and self.world > 1:
            with peers_watched():
                dist.barrier()
        if self.owns_group:
            dist.destroy_process_group()


def setup(device: Any = None, timeout: timedelta = TIMEOUT) -> Ranks:
    """Join the process group ``torchrun`` describes in the environment.

    ``torchrun`` sets ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR`` and
    ``MASTER_PORT``; without them this is a group of one and nothing is started.
    On ``device="cuda"`` each rank takes GPU ``LOCAL_RANK`` and the backend is NCCL;
    on the CPU it is gloo. A group the caller already started is used as it is.
    A collective that waits ``timeout`` for a peer fails.
    """
    dev = resolve_device(device)
    if dev.type == "cuda" and dev.index is None:
        dev = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
    if dev.type == "cuda":
        torch.cuda.set_device(dev)
    if dist.is_available() and dist.is_initialized():
        return Ranks(dist.get_rank(), dist.get_world_size(), dev, owns_group=False)
    if "RANK" not in os.environ:
        return Ranks(0, 1, dev, owns_group=False)
    backend = "nccl" if dev.type == "cuda" else "gloo"
    with peers_watched():
        dist.init_process_group(backend, init_method="env://", timeout=timeout)
    return Ranks(dist.get_rank(), dist.get_world_size(), dev, owns_group=True)


LOST = ("Connection closed", "Connection reset", "Timed out", "timed out", "Socket Timeout")
"""What gloo's errors say when a peer died (its sockets closed) or stayed silent."""


@contextlib.contextmanager
def peers_watched() -> Any:
    """Raise :class:`~gradfit.errors.PeerLostError` for a collective that failed
    because a peer went away (its connection closed, or it stayed silent too long)."""
    try:
        yield
    except (dist.DistError, RuntimeError) as exc:
        text = " ".join(str(exc).split())
        if not (isinstance(exc, dist.DistError) or any(word in text for word in LOST)):
            raise
        # "[…/gloo/transport/tcp/pair.cc:553] Connection closed by peer [127.0.0.1]:46477. …"
        said = re.sub(r"^\[[^\]]*\]\s*", "", text).split(". ")[0][:120] or type(exc).__name__
        raise PeerLostError(
            f"another process of this run stopped or stopped answering ({said}); "
            "every process ends: rerun with --resume to continue from the last checkpoint"
        ) from None


def data_parallel(module: torch.nn.Module, ranks: Group) -> torch.nn.Module:
    """``module`` wrapped in ``DistributedDataParallel`` when there are several ranks."""
    if ranks.world == 1:
        return module
    device = next(module.parameters()).device
    ids = [device.index] if device.type == "cuda" else None
    with peers_watched():
        return torch.nn.parallel.DistributedDataParallel(module, device_ids=ids)


class DistributedStepper(TorchParameters):
    """The engine's :class:`~gradfit.engine.Stepper` for one rank of a data-parallel group.

    Parameters
    ----------
    model : torch.nn.Module
        The network, wrapped by :func:`data_parallel` when ``world > 1``.
    source : RowSource
        The rows; this rank reads only its share of each batch.
    loss : Loss
        :class:`~gradfit.engine.MSE`, :class:`~gradfit.engine.SSE` or a cross-entropy
        (one with a summed form, :meth:`~gradfit.engine.Loss.summed`); a batch's loss
        is reduced as the loss reduces (``loss.reduction``).
    optimizer : torch.optim.Optimizer
        Built over the network's parameters.
    group : Group
        This rank's place in the group (:class:`Ranks`), or a group of one.
    chunk_rows : int
        The most rows read and pushed through the network at once.
    """

    def __init__(
        self,
        model: torch.nn.Module,
        source: RowSource,
        *,
        loss: Loss,
        optimizer: torch.optim.Optimizer,
        group: Group,
        chunk_rows: int = CHUNK_ROWS,
    ) -> None:
        self.model, self.source, self.loss, self.optimizer = model, source, loss, optimizer
        self.group, self.chunk_rows = group, chunk_rows
        self.params = list(model.parameters())
        self.dtype, self.device = self.params[0].dtype, self.params[0].device
        self.n_samples = source.n_rows
        self.n_out = self.params[-1].shape[0]  # the network's outputs: the targets' columns
        self.t = steps_taken(optimizer)
        self._summed = torch_loss(summed_form(loss), dtype=self.dtype, device=self.device)

    def _tensor(self, A: Array) -> torch.Tensor:
        return torch.from_numpy(A).to(self.device)

    def step(self, rows: Rows) -> float:
        """One update on the global batch ``rows``; returns the whole batch's loss."""
        rank, world = self.group.rank, self.group.world
        batch = (count_rows(rows, self.n_samples), self.n_out)
        # The gradient of the batch's summed loss, reduced as the loss reduces; DDP
        # then averages over the ranks, which the factor world undoes.
        scale = world * self.loss.gradient_scale(batch)
        self.optimizer.zero_grad()
        parts = pieces(share(rows, self.n_samples, rank, world), self.chunk_rows)
        summed = torch.zeros((), dtype=self.dtype, device=self.device)
        with peers_watched():
            for i, part in enumerate(parts):
                X, Y = self.source.take(part, self.dtype_np)
                # Only the last piece's backward all-reduces the summed gradients.
                with self._sync(last=i == len(parts) - 1):
                    piece = self._summed(self.model(self._tensor(X)), self._tensor(Y))
                    (piece * scale).backward()  # type: ignore[no-untyped-call]
                summed += piece.detach()
        total = float(self.group.all_sum(np.array([summed.item()]))[0])
        self.optimizer.step()
        self.t += 1
        return self.loss.reduce(total, batch)

    def _sync(self, *, last: bool) -> contextlib.AbstractContextManager[Any]:
        if last or not isinstance(self.model, torch.nn.parallel.DistributedDataParallel):
            return contextlib.nullcontext()
        return self.model.no_sync()

    @property
    def dtype_np(self) -> np.dtype[Any]:
        return NUMPY_DTYPES[self.dtype]

    def _predict(self, X: Array) -> Array:
        # The module inside DDP's wrapper: a forward that no backward follows needs
        # no collective, and the ranks evaluate different numbers of pieces.
        net = getattr(self.model, "module", self.model)
        with torch.no_grad():
            return net(self._tensor(np.ascontiguousarray(X))).cpu().numpy()

    def evaluate(self, X: Array | RowSource, Y: Array | None = None) -> float:
        """The loss at the current parameters on ``(X, Y)`` in memory, or on every row
        of the source ``X``: each rank reads its share in pieces, and the ranks' sums
        are added, so that every rank gets the same value."""
        if isinstance(X, np.ndarray):
            assert Y is not None
            return self.loss.value(self._predict(X.astype(self.dtype_np)), Y)
        n = X.n_rows
        mine = share(slice(0, n), n, self.group.rank, self.group.world)
        total = summed_loss(self.loss, self._predict, X, mine, self.dtype_np, self.chunk_rows)
        total = float(self.group.all_sum(np.array([total]))[0])
        return self.loss.reduce(total, (n, self.n_out))
