"""``gradfit.save`` and ``gradfit.load``: model files for every kind of model gradfit makes.

:mod:`gradfit.io.model` writes and reads the files, knowing the engine alone; the kinds
defined above it register themselves when their package is imported
(:mod:`gradfit.io.kinds`). These two functions stand above every layer: ``load``
imports the estimator (registering its kinds) before reading, and ``save`` turns a
torch module into the engine network it equals before writing.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from gradfit.io import model as model_file


def save(
    model: Any,
    path: str | os.PathLike[str],
    *,
    target_names: list[str] | None = None,
    categories: dict[str, list[str]] | None = None,
) -> None:
    """Write ``model`` to ``path`` (atomically: an old file there is replaced only whole).

    Parameters
    ----------
    model : MLP, torch.nn.Module, fitted MLPRegressor or MLPClassifier
        An engine network; a torch ``Sequential`` of ``Linear`` layers and one kind
        of activation (saved as the equivalent :class:`~gradfit.engine.MLP`); or a
        fitted estimator.
    path, target_names, categories
        As :func:`gradfit.io.model.save` takes them.
    """
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(model, torch.nn.Module):
        from gradfit.torch_backend import from_torch

        model = from_torch(model)
    model_file.save(model, path, target_names=target_names, categories=categories)


def load(path: str | os.PathLike[str]) -> Any:
    """The network (:class:`~gradfit.engine.MLP`) or fitted estimator saved at ``path``.

    Raises
    ------
    ModelFileError
        When the file is missing, corrupt, not a gradfit model, of a newer format
        version, or its tensors disagree with its specification or are not finite.
    """
    import gradfit.estimator  # noqa: F401  (registers the kinds "regressor" and "classifier")

    return model_file.load(path)
