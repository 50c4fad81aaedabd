"""Run by the tests under torchrun: every rank runs the same list of runs, in one group.

``python -m torch.distributed.run … _worker.py RUNS_JSON``, where ``RUNS_JSON`` is a list
of runs, each either ``{"cli": ARGS}``: ``gradfit ARGS`` in these processes, or
``{"fit": PARAMS, "data": PATH, "target": [...], "chunk_rows": K, "out": PREFIX}``:
``MLPRegressor(distributed=True, **PARAMS).fit(open_rows(PATH, …))``, each rank
saving its fitted parameters and curves to ``PREFIX.rank{r}.npz``; with
``"classifier": true`` an ``MLPClassifier``, whose classes and accuracy curves are saved
too. Optionally
``"checkpoint": PATH`` (rank 0 saves it after every epoch), ``"interrupt_after": k``
(Ctrl-C as it lands, at the end of epoch ``k``, on every rank) and ``"resume": true``
(every rank continues from the checkpoint).
"""

from __future__ import annotations

import gc
import json
import sys
from collections.abc import Callable

import numpy as np
import torch.distributed as dist

from gradfit import MLPClassifier, MLPRegressor
from gradfit.cli.main import main as main_cli
from gradfit.engine.training import Trainer
from gradfit.io.arrays import open_rows
from gradfit.io.checkpoint import Checkpoint, load_checkpoint


def interrupt_after(epochs: int) -> Callable[[Trainer], None]:
    def callback(trainer: Trainer) -> None:
        if trainer.epoch == epochs:
            raise KeyboardInterrupt

    return callback


def main() -> None:
    runs = json.loads(sys.argv[1])
    # One group for all the runs: the estimator uses a group its caller started.
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
        source = open_rows(run["data"], target=run["target"], chunk_rows=run["chunk_rows"])
        callbacks: list[Callable[[Trainer], None]] = []
        trained: list[int] = []
        callbacks.append(lambda trainer, trained=trained: trained.append(trainer.epoch))
        if "checkpoint" in run and rank == 0:
            callbacks.append(Checkpoint(run["checkpoint"], every=1))
        if "interrupt_after" in run:
            callbacks.append(interrupt_after(run["interrupt_after"]))
        state = load_checkpoint(run["checkpoint"]) if run.get("resume") else None
        estimator = MLPClassifier if run.get("classifier") else MLPRegressor
        model = estimator(backend="torch", distributed=True, **run["fit"])
        try:
            model.fit(source, callbacks=callbacks, resume_from=state)
        except KeyboardInterrupt:
            continue
        params = {f"param.{i}": p for i, p in enumerate(model.net_.parameters())}
        curves = {"loss": model.loss_curve_, "val_loss": model.validation_loss_curve_,
                  "trained": trained}  # fmt: skip
        if run.get("classifier"):
            curves |= {"classes": model.classes_, "accuracy": model.accuracy_curve_,
                       "val_accuracy": model.validation_accuracy_curve_}  # fmt: skip
        np.savez(f"{run['out']}.rank{rank}.npz", **curves, **params)
    gc.collect()  # no DDP reducer may outlive the group
    dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
