"""The estimator ``gradfit fit``'s options describe, and its messages in their words.

Each option that is an estimator parameter maps to the :class:`~gradfit.MLPRegressor`
parameter of the same meaning (:data:`ESTIMATOR_OPTIONS`); an option not given is not
passed, so the estimator's own default applies.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from gradfit.cli.exits import CommandError, Exit
from gradfit.errors import MissingDependencyError

if TYPE_CHECKING:
    from gradfit.estimator import MLPClassifier, MLPRegressor

ESTIMATOR_OPTIONS = {
    "hidden": "hidden_layer_sizes",
    "activation": "activation",
    "solver": "solver",
    "momentum": "momentum",
    "lr": "learning_rate_init",
    "epochs": "max_iter",
    "batch_size": "batch_size",
    "alpha": "alpha",
    "backend": "backend",
    "device": "device",
    "precision": "precision",
    "dtype": "dtype",
    "seed": "random_state",
    "early_stopping": "early_stopping",
    "validation_fraction": "validation_fraction",
    "loss": "loss",
    "tol": "tol",
    "n_iter_no_change": "n_iter_no_change",
    "ensemble": "n_members",
    "distributed": "distributed",
}
"""The estimator parameter each of ``fit``'s options sets, by the option's name."""

CLI_NAMES = {param: "--" + option.replace("_", "-") for option, param in ESTIMATOR_OPTIONS.items()}
"""Each estimator parameter's option as the command line spells it (``--lr``)."""


def estimator(options: dict[str, Any], *, classify: bool) -> MLPRegressor | MLPClassifier:
    from gradfit.estimator import MLPClassifier, MLPRegressor
    from gradfit.estimator._params import resolve

    if options["device"] is not None and options["backend"] != "torch":
        raise CommandError("--device needs --backend torch (numpy runs on the CPU)", Exit.USAGE)
    if options["precision"] == "bf16-mixed" and (
        options["backend"] != "torch" or options["dtype"] != "float32"
    ):
        raise CommandError(
            "--precision bf16-mixed needs --backend torch --dtype float32", Exit.USAGE
        )
    if classify and options["loss"] is not None:
        raise CommandError(
            "--loss is for regression, and the target was taken for labels (a classifier "
            "trains on cross-entropy): leave --loss out, or give --task regression to fit "
            "its numbers",
            Exit.USAGE,
        )
    params = {ESTIMATOR_OPTIONS[k]: v for k, v in options.items() if v not in (None, ())}
    if "hidden_layer_sizes" in params:
        hidden = tuple(params["hidden_layer_sizes"])
        if 0 in hidden and hidden != (0,):
            raise CommandError(
                "--hidden 0 (no hidden layer) cannot be combined with other --hidden sizes",
                Exit.USAGE,
            )
        params["hidden_layer_sizes"] = () if hidden == (0,) else hidden
    if params.get("batch_size") == "full":
        params["batch_size"] = None
    if not params.get("distributed"):
        params.pop("distributed", None)  # the classifier has no such parameter
    model = MLPClassifier(**params) if classify else MLPRegressor(**params)
    try:
        # The estimator's own checks, made now rather than after the data is read.
        resolve(model.get_params())
        if model.backend == "torch":
            _check_device(model.device)
    except ValueError as exc:
        raise CommandError(as_options(str(exc)), Exit.USAGE) from None
    return model


def _check_device(device: str | None) -> None:
    """Raise ``ValueError`` for a ``--device`` that names no device this machine has."""
    from gradfit.torch_backend import resolve_device

    try:
        resolve_device(device)
    except MissingDependencyError:
        # The library says it in Python's words (device='cpu'); the one reason is CUDA.
        import torch

        built = torch.version.cuda is not None
        build = "" if built else f"; this PyTorch, {torch.__version__}, is built without it"
        raise CommandError(
            f"--device {device}: no CUDA device is available here "
            f"(torch.cuda.is_available() is False{build}); use --device cpu",
            Exit.USAGE,
        ) from None


def as_options(message: str) -> str:
    """The estimator's message, which starts with a parameter's name, in the command's
    words: ``--lr must be …`` for ``learning_rate_init must be …``, ``--backend torch`` for
    ``backend='torch'``."""
    name, _, rest = message.partition(" ")
    return re.sub(_SETTING, _as_option, f"{CLI_NAMES.get(name, name)} {rest}")


_SETTING = r"\b([a-z_]+)=(?:'([^']*)'|(\w+))"
"""``param='value'`` or ``param=value`` inside an estimator's message."""


def _as_option(match: re.Match[str]) -> str:
    """``--option value`` (``--flag`` for ``=True``) for a parameter the command has."""
    name, value = match[1], match[2] if match[2] is not None else match[3]
    if name not in CLI_NAMES:
        return match[0]
    return CLI_NAMES[name] if value == "True" else f"{CLI_NAMES[name]} {value}"
