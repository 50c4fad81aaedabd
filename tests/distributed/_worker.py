"""Run by ``test_ddp.py`` under torchrun: each run is one ``fit``; every rank saves its result.

``python -m torch.distributed.run … _worker.py RUNS_JSON``, where ``RUNS_JSON`` is a list
of ``fit`` keyword arguments, each with an ``"out"`` prefix for ``OUT.rank{r}.npz`` and
optionally ``"interrupt_after": k``: Ctrl-C as it lands, at the end of epoch ``k``; or
``{"cli": ARGS}``, which runs ``gradfit ARGS`` in the same processes.
"""

from __future__ import annotations

import gc
import json
import sys
from collections.abc import Callable

import numpy as np
import torch.distributed as dist

from gradfit.cli.main import main as main_cli
from gradfit.engine.training import Trainer
from gradfit.torch_backend.distributed import fit


def interrupt_after(epochs: int) -> Callable[[Trainer], None]:
    def callback(trainer: Trainer) -> None:
        if trainer.epoch == epochs:
            raise KeyboardInterrupt

    return callback


def main() -> None:
    runs = json.loads(sys.argv[1])
    # One group for all the runs: fit uses a group its caller started.
    dist.init_process_group("gloo")
    rank = dist.get_rank()
    for run in runs:
        if "cli" in run:
            try:
                main_cli(run["cli"])
            except SystemExit as exit:
                if exit.code:
                    raise
            continue
        out = run.pop("out")
        stop = run.pop("interrupt_after", None)
        trained: list[int] = []
        callbacks = [lambda trainer, trained=trained: trained.append(trainer.epoch)]
        if stop is not None:
            callbacks.append(interrupt_after(stop))
        try:
            net, history = fit(**run, log=lambda line: None, callbacks=callbacks)
        except KeyboardInterrupt:
            continue
        params = {f"param.{i}": p for i, p in enumerate(net.parameters())}
        np.savez(f"{out}.rank{rank}.npz", loss=np.array(history.loss), trained=trained, **params)
    gc.collect()  # no DDP reducer may outlive the group
    dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
