"""Data-parallel training of the torch backend on ``torch.distributed``.

Launched by ``torchrun``, every process (a *rank*) builds the same network from the
same seed, wraps it in :class:`~torch.nn.parallel.DistributedDataParallel`, and
draws the same shuffled order of the rows. Of each global batch of ``B`` rows,
rank ``r`` of ``world`` reads and trains on its contiguous slice
``batch[r·B // world : (r+1)·B // world]`` — and only those rows. DDP averages the
gradients over the ranks; each rank's loss is scaled so that the average is the
gradient of the whole batch's loss. So ``world`` ranks with ``B / world`` rows each
take the same steps as one process with batch ``B`` (up to rounding), and the
result does not depend on how many processes ran it.

The backend is gloo on CPUs and NCCL on GPUs. Rank 0 alone logs and writes the
history, the checkpoints and the model file. A step reads its rows in pieces of
at most ``chunk_rows`` rows (gradients accumulated under ``no_sync``), so memory
stays bounded however many rows the file has (see :mod:`gradfit.io.streaming`).
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.distributed as dist

from gradfit.engine.losses import Loss, get_loss
from gradfit.engine.network import MLP
from gradfit.engine.training import Callback, History, Rows, Trainer
from gradfit.engine.types import Array
from gradfit.errors import RunMismatchError
from gradfit.io.arrays import CHUNK_ROWS, ArrayRows, RowSource, open_rows
from gradfit.io.checkpoint import Checkpoint, load_checkpoint, save_checkpoint
from gradfit.io.streaming import StreamingTrainer, count, pieces, share
from gradfit.torch_backend.convert import resolve_device, to_torch
from gradfit.torch_backend.optim import (
    make_optimizer,
    steps_taken,
)
from gradfit.torch_backend.stepper import TorchParameters


@dataclass(frozen=True)
class Ranks:
    """This process's place in the group: ``rank`` of ``world``, on ``device``."""

    rank: int
    world: int
    device: torch.device
    owns_group: bool
    """Whether :func:`setup` started the process group (and so ends it)."""


def setup(device: Any = None) -> Ranks:
    """Join the process group ``torchrun`` describes in the environment.

    ``torchrun`` sets ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR`` and
    ``MASTER_PORT``; without them this is a group of one and nothing is started.
    On ``device="cuda"`` each rank takes GPU ``LOCAL_RANK`` and the backend is NCCL;
    on the CPU it is gloo. A group the caller already started is used as it is.
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
    dist.init_process_group("nccl" if dev.type == "cuda" else "gloo", init_method="env://")
    return Ranks(dist.get_rank(), dist.get_world_size(), dev, owns_group=True)


class DistributedStepper(TorchParameters):
    """The engine's :class:`~gradfit.engine.Stepper` for one rank of a DDP group.

    Parameters
    ----------
    model : torch.nn.Module
        The network, wrapped in ``DistributedDataParallel`` when ``world > 1``.
    source : RowSource
        The rows; this rank reads only its share of each batch.
    loss : Loss
        :class:`~gradfit.engine.MSE` or :class:`~gradfit.engine.SSE`.
    optimizer : torch.optim.Optimizer
        Built over the network's parameters.
    ranks : Ranks
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
        ranks: Ranks,
        chunk_rows: int = CHUNK_ROWS,
    ) -> None:
        if loss.name not in ("mse", "sse"):
            raise ValueError(f"distributed training uses 'mse' or 'sse', not {loss!r}")
        self.model, self.source, self.loss, self.optimizer = model, source, loss, optimizer
        self.ranks, self.chunk_rows = ranks, chunk_rows
        self.params = list(model.parameters())
        self.dtype, self.device = self.params[0].dtype, self.params[0].device
        self.n_samples = source.n_rows
        self.n_out = len(source.target_names)
        self.t = steps_taken(optimizer)

    def _tensor(self, A: Array) -> torch.Tensor:
        return torch.from_numpy(A).to(self.device)

    def step(self, rows: Rows) -> float:
        """One update on the global batch ``rows``; returns the whole batch's loss."""
        rank, world = self.ranks.rank, self.ranks.world
        n_rows = count(rows, self.n_samples)
        # DDP averages over ranks: scale so the average is the gradient of the batch's loss.
        scale = world / (n_rows * self.n_out) if self.loss.name == "mse" else float(world)
        self.optimizer.zero_grad()
        parts = pieces(share(rows, self.n_samples, rank, world), self.chunk_rows)
        sse = torch.zeros((), dtype=self.dtype, device=self.device)
        for i, part in enumerate(parts):
            X, Y = self.source.take(part, self.dtype_np)
            # Only the last piece's backward all-reduces the summed gradients.
            with self._sync(last=i == len(parts) - 1):
                piece = torch.nn.functional.mse_loss(
                    self.model(self._tensor(X)), self._tensor(Y), reduction="sum"
                )
                (piece * scale).backward()  # type: ignore[no-untyped-call]
            sse += piece.detach()
        if world > 1:
            dist.all_reduce(sse)
        self.optimizer.step()
        self.t += 1
        return float(sse.item()) * scale / world

    def _sync(self, *, last: bool) -> contextlib.AbstractContextManager[Any]:
        if last or not isinstance(self.model, torch.nn.parallel.DistributedDataParallel):
            return contextlib.nullcontext()
        return self.model.no_sync()

    @property
    def dtype_np(self) -> np.dtype[Any]:
        return np.dtype(str(self.dtype).removeprefix("torch."))

    def evaluate(self, X: Array, Y: Array) -> float:
        """The loss on ``(X, Y)`` (in memory) at the current parameters."""
        with torch.no_grad():
            Y_hat = self.model(self._tensor(np.asarray(X, dtype=self.dtype_np)))
            T = self._tensor(np.asarray(Y, dtype=self.dtype_np))
            reduction = "mean" if self.loss.name == "mse" else "sum"
            return float(torch.nn.functional.mse_loss(Y_hat, T, reduction=reduction).item())


def run_identity(
    source: RowSource, data: str | os.PathLike[str] | RowSource, settings: dict[str, Any]
) -> dict[str, Any]:
    """What makes a run this run: its settings, columns, and a digest of its data file.

    Through JSON, so that it compares equal to what a checkpoint gives back.
    """
    digest = None  # another source: its rows and chunks are compared, not its values
    if isinstance(data, str | os.PathLike | ArrayRows):
        sha = hashlib.sha256()
        if isinstance(data, ArrayRows):
            for A in (data.X, data.Y):
                sha.update(np.ascontiguousarray(A).tobytes())
        else:
            with open(data, "rb") as f:
                while block := f.read(2**20):
                    sha.update(block)
        digest = f"sha256 {sha.hexdigest()}"
    identity = {
        "settings": settings,
        "features": list(source.feature_names),
        "targets": list(source.target_names),
        "data": digest,
    }
    return json.loads(json.dumps(identity, default=str))


def _resume(
    path: str | os.PathLike[str],
    trainer: Trainer,
    order: dict[str, int],
    run: dict[str, Any] | None,
) -> None:
    """Load the checkpoint at ``path`` into ``trainer``, if it was written by this run:
    the same data, columns and settings (as plain ``fit --resume`` requires)."""
    state = load_checkpoint(path)
    saved = state["meta"].get("order")
    if saved != order:
        raise RunMismatchError(
            f"cannot resume from {str(path)!r}: it was written for rows and chunks {saved}, "
            f"this run has {order}; resume with the same data and chunk_rows"
        )
    then = state["meta"].get("run")
    if run is not None and then != run:
        then = then if isinstance(then, dict) else {}
        differences = []
        for key in ("features", "targets", "data"):
            if then.get(key) != run[key]:
                differences.append(f"{key}: {then.get(key)} then, {run[key]} now")
        old, new = then.get("settings") or {}, run["settings"]
        for name in sorted(set(old) | set(new)):
            if old.get(name) != new.get(name):
                differences.append(f"{name}: {old.get(name)!r} then, {new.get(name)!r} now")
        raise RunMismatchError(
            f"{path} belongs to another run ({'; '.join(differences) or 'not this one'}); "
            "rerun with the same data and options, or start afresh without --resume"
        )
    trainer.load_state_dict(state)


def fit(
    data: str | os.PathLike[str] | RowSource,
    *,
    target: Sequence[str] = (),
    features: Sequence[str] | None = None,
    hidden: Sequence[int] = (16,),
    activation: str = "relu",
    dtype: str = "float64",
    optimizer: str = "adam",
    epochs: int = 100,
    batch_size: int | None = None,
    shuffle: bool = True,
    seed: int = 0,
    loss: str = "mse",
    device: Any = None,
    chunk_rows: int = CHUNK_ROWS,
    checkpoint: str | os.PathLike[str] | None = None,
    checkpoint_every: int = 1,
    resume: bool = False,
    history_path: str | os.PathLike[str] | None = None,
    model_path: str | os.PathLike[str] | None = None,
    log_every: int | None = None,
    log: Callable[[str], None] = print,
    callbacks: Sequence[Callback] = (),
    **hyper: Any,
) -> tuple[MLP, History]:
    """Train an MLP data-parallel over the ranks ``torchrun`` started (or in this process).

    Every rank calls ``fit`` with the same arguments; rank 0 alone logs and writes.

    Parameters
    ----------
    data : path or RowSource
        A ``.npy`` or Parquet file (read in chunks, see :func:`~gradfit.io.arrays.open_rows`),
        or any :class:`~gradfit.io.arrays.RowSource`, e.g. ``ArrayRows(X, Y)``.
    target, features : column names
        For a file: the target column(s) and, optionally, the feature columns.
    hidden, activation, dtype
        The network ``[n_features, *hidden, n_targets]``.
    optimizer : {"manual", "sgd", "adam"}
        With ``**hyper`` (e.g. ``lr=0.01``), see :func:`~gradfit.torch_backend.make_optimizer`.
    epochs : int
        Epochs in total; a resumed run trains only those still missing.
    batch_size : int or None
        The global batch ``B`` (``None``: all rows); each rank takes ``B / world`` of it.
    shuffle, seed
        One ``numpy.random.default_rng(seed)`` draws the initial parameters, then the
        order of the rows: the same on every rank.
    loss : {"mse", "sse"}
    device : str or torch.device, optional
        ``"cuda"`` puts rank ``r`` on GPU ``LOCAL_RANK`` with NCCL; else the CPU and gloo.
    chunk_rows : int
        The most rows read at once: memory is bounded by it, not by the file's rows.
    checkpoint, checkpoint_every, resume
        Rank 0 writes ``checkpoint`` (:mod:`gradfit.io.checkpoint`) every
        ``checkpoint_every`` epochs, on Ctrl-C and at the end; ``resume=True``
        continues from it (every rank reads it) for the same data, batch size and
        ``chunk_rows``.
    history_path, model_path : paths, optional
        Rank 0 writes the per-epoch loss as CSV and the trained model (safetensors).
    log_every, log
        Rank 0 logs ``Epoch: …  Loss: …`` every ``log_every`` epochs through ``log``.
    callbacks : sequence of callables
        Called on every rank after every epoch, as :class:`~gradfit.engine.Trainer`'s.

    Returns
    -------
    net : MLP
        The trained network (the same on every rank).
    history : History
    """
    # The data is opened (and refused, when bad) before the ranks join a group: every
    # rank then fails alike, on its own, with no peer left waiting in a collective.
    source = (
        data
        if not isinstance(data, str | os.PathLike)
        else open_rows(data, target=target, features=features, chunk_rows=chunk_rows)
    )
    ranks = setup(device)
    try:
        rng = np.random.default_rng(seed)
        sizes = [len(source.feature_names), *hidden, len(source.target_names)]
        net = MLP(sizes, activation, rng=rng, dtype=dtype)
        module: torch.nn.Module = to_torch(net, ranks.device)
        params = list(module.parameters())
        if ranks.world > 1:
            ids = [ranks.device.index] if ranks.device.type == "cuda" else None
            module = torch.nn.parallel.DistributedDataParallel(module, device_ids=ids)
        stepper = DistributedStepper(
            module,
            source,
            loss=get_loss(loss),
            optimizer=make_optimizer(optimizer, params, **hyper),
            ranks=ranks,
            chunk_rows=chunk_rows,
        )
        lead = ranks.rank == 0
        # The order of the rows depends on them: a resume must see the same.
        order = {"n_rows": source.n_rows, "n_chunks": len(source.bounds) - 1}
        run = None
        if checkpoint is not None:
            settings = {"hidden": list(hidden), "activation": activation, "dtype": dtype,
                        "optimizer": optimizer, "batch_size": batch_size, "shuffle": shuffle,
                        "seed": seed, "loss": loss, "chunk_rows": chunk_rows, **hyper}  # fmt: skip
            run = run_identity(source, data, settings)
        saver = (
            None
            if checkpoint is None
            else Checkpoint(checkpoint, checkpoint_every, {"order": order, "run": run})
        )
        trainer = StreamingTrainer(
            stepper,
            bounds=source.bounds,
            batch_size=batch_size,
            shuffle=shuffle,
            rng=rng,
            log_every=log_every if lead else None,
            log=log,
            callbacks=[*callbacks, saver] if lead and saver else callbacks,
        )
        if resume:
            if checkpoint is None:
                raise ValueError("resume=True needs the checkpoint path to resume from")
            _resume(checkpoint, trainer, order, run)
        try:
            trainer.fit(max(0, epochs - trainer.epoch))
        except KeyboardInterrupt:
            # Interrupts arrive at an epoch's end: the state is whole, keep it.
            if lead and saver is not None:
                saver.save()
            raise
        net.set_parameters(stepper.get_parameters())
        if lead:
            if saver is not None:
                save_checkpoint(saver.path, trainer, saver.extra_meta)
            _write_outputs(trainer, net, source, history_path, model_path)
        history = trainer.history
        # DDP's reducer holds threads on the process group: free it before the group
        # ends, and leave together, or a rank can abort at exit ("terminate called
        # without an active exception").
        del trainer, stepper, module, saver
        gc.collect()
        if dist.is_initialized():
            dist.barrier()
        return net, history
    finally:
        if ranks.owns_group:
            dist.destroy_process_group()


def _write_outputs(
    trainer: Trainer,
    net: MLP,
    source: RowSource,
    history_path: str | os.PathLike[str] | None,
    model_path: str | os.PathLike[str] | None,
) -> None:
    if history_path is not None:
        from gradfit.io.tabular import write_csv

        rows = ([i + 1, loss] for i, loss in enumerate(trainer.history.loss))
        write_csv(history_path, ["epoch", "loss"], rows)
    if model_path is not None:
        from gradfit.io.model import save

        save(net, model_path, target_names=source.target_names)
