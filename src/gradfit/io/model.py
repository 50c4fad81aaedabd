"""Model files: a network or a fitted estimator as one ``.safetensors`` file.

The tensors are the parameters, named as in a ``torch.nn.Sequential`` (``0.weight``,
``0.bias``, ``2.weight``, … with the activations at the odd indices), so the file
also loads into PyTorch with ``module.load_state_dict(safetensors.torch.load_file(path))``.
The header's metadata holds a JSON document::

    {"format": "gradfit.model", "version": 1, "kind": "mlp",
     "network": {"sizes": [1, 16, 1], "activation": "relu", "dtype": "float64"}}

Other kinds are registered by the layers that define them (:mod:`gradfit.io.kinds`):
a fitted :class:`~gradfit.MLPRegressor` is ``"kind": "regressor"`` (an
:class:`~gradfit.MLPClassifier` ``"classifier"``, its label set included) with the
estimator's own document under ``"estimator"`` and the arrays it needs. Nothing is
pickled; :func:`load` checks every field before building anything. This module knows
the engine alone: :func:`gradfit.save` and :func:`gradfit.load`, above it, convert a
torch module and register the estimator's kinds first.
"""

from __future__ import annotations

import itertools
import os
from typing import Any

from gradfit.engine.activations import ACTIVATIONS
from gradfit.engine.ensemble import Ensemble
from gradfit.engine.network import MLP
from gradfit.engine.types import DTYPES, Array
from gradfit.errors import ModelFileError
from gradfit.io import kinds, safetensors_file
from gradfit.io.categories import check_categories

FORMAT = "gradfit.model"
VERSION = 1


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
    model : MLP, or a model of a registered kind (a fitted MLPRegressor or MLPClassifier)
        An engine network, or a model whose kind is registered
        (:mod:`gradfit.io.kinds`).
    path : str or path-like
        Conventionally ``*.safetensors``.
    target_names : list of str, optional
        Names of the outputs, kept for whoever predicts with the model (the CLI's
        column headers); a loaded estimator has them as ``target_names_``.
    categories : dict, optional
        The values of each one-hot encoded text column (see
        :mod:`gradfit.io.categories`), for predicting from a table; a loaded
        estimator has them as ``categories_``.

    Raises
    ------
    TypeError
        For a model of no kind gradfit writes, or ``target_names`` given as one string.
    ValueError
        For an estimator's ``target_names`` or ``categories`` that :func:`load` would
        refuse: names not one per target column, or distinct; a category without its
        one-hot input among the estimator's features. Nothing is written then.
    OutputPathError
        For a path no whole file can be written to
        (:func:`~gradfit.io.atomic.check_destination`).
    """
    doc: dict[str, Any] = {"format": FORMAT, "version": VERSION}
    kind = kinds.of(model)
    if isinstance(model, MLP):
        doc |= {"kind": kinds.NETWORK, "network": model.spec}
        tensors = network_tensors(model)
    elif kind is not None:
        meta, tensors = kind.export(model)
        doc |= {"kind": kind.name, "estimator": meta}
    else:
        # By module and name: scikit-learn's MLPRegressor reads as gradfit's in a repr.
        kind_of = type(model)
        shown = repr(model) if len(repr(model)) <= 60 else f"{repr(model)[:57]}..."
        raise TypeError(
            "save takes gradfit's MLP, MLPRegressor or MLPClassifier, or a torch module, not "
            f"{kind_of.__module__}.{kind_of.__qualname__} ({shown})"
        )
    if target_names is not None:
        if isinstance(target_names, str):
            raise TypeError(
                f"target_names is a list of names, one per target; got {target_names!r}"
            )
        doc["target_names"] = [str(name) for name in target_names]
    if categories:
        doc["categories"] = {str(c): [str(v) for v in values] for c, values in categories.items()}
    if kind is not None and not isinstance(model, MLP):
        # What load would refuse is refused here, before a file is written.
        names = doc.get("target_names")
        problem = None if names is None else _target_names_problem(model, names)
        if problem is not None:
            raise ValueError(f"cannot save with these names: {problem}")
        if categories:
            check_categories(doc["categories"], getattr(model, "feature_names_in_", None))
    safetensors_file.write(path, doc, tensors)


def load(path: str | os.PathLike[str]) -> Any:
    """The network (:class:`MLP`) or fitted estimator saved at ``path``.

    Raises
    ------
    ModelFileError
        When the file is missing, corrupt, not a gradfit model, of a newer format
        version, or its tensors disagree with its specification or are not finite.
    """
    doc, tensors = safetensors_file.read(path, what="model", expect=_declared)

    def fail(problem: str) -> ModelFileError:
        return safetensors_file.file_error(path, "model", problem)

    if doc.get("format") == "gradfit.checkpoint":
        raise fail(
            "it is a checkpoint, not a model: resume training from it "
            "(load_checkpoint, fit --resume)"
        )
    if doc.get("format") != FORMAT:
        raise fail(f"its format is {doc.get('format')!r}, not {FORMAT!r}")
    version = doc.get("version")
    if version != VERSION or isinstance(version, bool):
        raise fail(f"format version {version!r} is not one this gradfit reads ({VERSION})")
    names = doc.get("target_names")
    if names is not None and not (
        isinstance(names, list) and all(isinstance(n, str) for n in names)
    ):
        raise fail("target_names is not a list of strings")
    if doc.get("kind") == kinds.NETWORK:
        try:
            return network_from(doc.get("network"), tensors)
        except ModelFileError as exc:
            raise fail(str(exc)) from None
    kind = kinds.named(doc.get("kind"))
    if kind is None:
        raise fail(
            f"kind {doc.get('kind')!r} is not one of {', '.join(kinds.known())} "
            "(gradfit.load knows every kind gradfit writes)"
        )
    model = _model_from(kind, doc.get("estimator"), tensors, names, fail)
    if "categories" in doc:
        try:
            names_in = getattr(model, "feature_names_in_", None)
            model.categories_ = check_categories(doc["categories"], names_in)
        except ValueError as exc:
            raise fail(str(exc)) from None
    return model


def _declared(doc: dict[str, Any], found: dict[str, tuple[str, tuple[int, ...]]]) -> None:
    """Raise :class:`ModelFileError` unless the file's tensors (``{name: (safetensors
    dtype, shape)}``) are exactly those its kind declares, with their dtypes and shapes:
    checked from the header, before any data is read."""
    shapes = {name: (_NUMPY_NAMES[dtype], shape) for name, (dtype, shape) in found.items()}
    kind = kinds.named(doc.get("kind"))
    if doc.get("kind") == kinds.NETWORK:
        check_network(doc.get("network"), shapes)
    elif kind is not None:
        try:
            expected = kind.arrays(doc.get("estimator"))
        except (KeyError, IndexError, TypeError, ValueError, AttributeError):
            return  # a malformed description: the kind's own checks name it
        missing = sorted(set(expected) - set(found) - kind.optional)
        extra = sorted(set(found) - set(expected))
        if extra:
            raise ModelFileError(
                f"tensor(s) {', '.join(map(repr, extra[:5]))} are not part of a {kind.name} model"
            )
        if missing:
            raise ModelFileError(f"tensor(s) {', '.join(map(repr, missing[:5]))} are missing")
        for name, (dtype, shape) in expected.items():
            if name in found and found[name] != (dtype, shape):
                raise ModelFileError(
                    f"tensor {name!r} is {found[name][0]} of shape {list(found[name][1])}; "
                    f"the model needs {dtype} of shape {list(shape)}"
                )


_NUMPY_NAMES = {name: dtype.name for name, dtype in safetensors_file.DTYPES.items()}


def network_tensors(net: MLP) -> dict[str, Array]:
    """``net``'s parameters named as a ``torch.nn.Sequential``'s state dict names them
    (an :class:`~gradfit.engine.Ensemble`'s with a leading member axis)."""
    return {
        f"{2 * i}.{name}": A
        for i, dense in enumerate(net.dense)
        for name, A in (("weight", dense.W), ("bias", dense.b))
    }


def network_from(spec: Any, tensors: dict[str, Array]) -> MLP:
    """The :class:`MLP` that ``spec`` (an :attr:`MLP.spec`) and ``tensors`` describe; an
    :class:`~gradfit.engine.Ensemble` when the spec has ``n_members``, whose tensors
    then have a leading axis of that length.

    Raises :class:`ModelFileError` (naming the problem) unless ``spec`` is well formed
    and ``tensors`` are exactly its parameters, with its shapes and dtype.
    """
    names = check_network(spec, {n: (A.dtype.name, A.shape) for n, A in tensors.items()})
    kind = MLP if spec.get("n_members") is None else Ensemble
    return kind.from_parameters(
        spec["sizes"], spec["activation"], [tensors[name] for name in names]
    )


def check_network(spec: Any, found: dict[str, tuple[str, tuple[int, ...]]]) -> list[str]:
    """Raise :class:`ModelFileError` unless ``spec`` is well formed and ``found``
    (``{name: (dtype, shape)}`` of a file's tensors) are exactly its parameters, with
    its shapes and dtype; return their names in :meth:`MLP.parameters` order."""
    keys = {"sizes", "activation", "dtype"}
    if not isinstance(spec, dict) or not keys <= set(spec) <= keys | {"n_members"}:
        raise ModelFileError(
            "the network specification must hold sizes, activation and dtype "
            "(and n_members for an ensemble), nothing else"
        )
    sizes, activation, dtype = spec["sizes"], spec["activation"], spec["dtype"]
    K = spec.get("n_members")
    if K is not None and (not isinstance(K, int) or isinstance(K, bool) or not 1 <= K <= 2**16):
        raise ModelFileError(f"n_members {K!r} is not a positive integer (up to 65536)")
    lead = () if K is None else (K,)
    if not (
        isinstance(sizes, list)
        and len(sizes) >= 2
        and all(isinstance(s, int) and not isinstance(s, bool) and s >= 1 for s in sizes)
    ):
        raise ModelFileError(f"sizes {sizes!r} is not a list of two or more positive integers")
    if not isinstance(activation, str) or activation not in ACTIVATIONS:
        raise ModelFileError(
            f"unknown activation {activation!r} (known: {', '.join(sorted(ACTIVATIONS))})"
        )
    if not isinstance(dtype, str) or dtype not in DTYPES:
        raise ModelFileError(f"dtype {dtype!r} is not one of {', '.join(DTYPES)}")
    expected: dict[str, tuple[int, ...]] = {}
    for i, (n_in, n_out) in enumerate(itertools.pairwise(sizes)):
        expected |= {f"{2 * i}.weight": (*lead, n_out, n_in), f"{2 * i}.bias": (*lead, n_out)}
    missing, extra = sorted(set(expected) - set(found)), sorted(set(found) - set(expected))
    if missing or extra:
        raise ModelFileError(
            f"the tensors do not match sizes {sizes}: "
            + "; ".join(
                f"{what} {', '.join(names)}"
                for what, names in (("missing", missing), ("unexpected", extra))
                if names
            )
        )
    for name, shape in expected.items():
        kind, have = found[name]
        if tuple(have) != shape:
            raise ModelFileError(
                f"tensor {name!r} has shape {tuple(have)}, sizes {sizes} need {shape}"
            )
        if kind != dtype:
            raise ModelFileError(f"tensor {name!r} is {kind}, the network is {dtype}")
    return list(expected)


def _model_from(
    kind: kinds.ModelKind,
    meta: Any,
    tensors: dict[str, Array],
    target_names: list[str] | None,
    fail: Any,
) -> Any:
    if not isinstance(meta, dict):
        raise fail("the estimator's description is not a JSON object")
    try:
        model = kind.build(meta, tensors)
    except ModelFileError as exc:
        raise fail(str(exc)) from None
    except (KeyError, IndexError, TypeError, ValueError, AttributeError) as exc:
        # The estimator checks its own document; whatever it rejects is a bad file here.
        raise fail(f"the estimator's state is inconsistent: {exc}") from None
    if target_names is not None:
        problem = _target_names_problem(model, target_names)
        if problem is not None:
            raise fail(problem)
        model.target_names_ = target_names
    return model


def _target_names_problem(model: Any, names: list[str]) -> str | None:
    """Why ``names`` cannot name ``model``'s target columns, or ``None`` when they can."""
    n_columns = _target_columns(model)
    if len(names) != n_columns or len(set(names)) != len(names):
        return (
            f"target_names {names!r} is not {n_columns} distinct name(s), one per "
            "target column the model predicts"
        )
    return None


def _target_columns(model: Any) -> int:
    """How many target columns ``model`` was trained on: one of labels for a classifier
    (its outputs are the classes), one per label of a multilabel one or per regressor output."""
    labels = getattr(model, "_labels", None)
    return 1 if labels is not None and not labels.multilabel else int(model.n_outputs_)
