"""The kinds of model a model file may hold, registered by the layers that define them.

:mod:`gradfit.io` knows one kind itself: ``"mlp"``, the engine's network. A kind
defined above it (the estimator's ``"regressor"`` and ``"classifier"``) is registered,
as a :class:`ModelKind`, when the package that defines it is imported
(:mod:`gradfit.estimator` does so), so that ``io`` depends on the engine alone.
:func:`gradfit.load` imports those packages before reading a file.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from gradfit.engine.types import Array

ArraySpec = dict[str, tuple[str, tuple[int, ...]]]
"""``{name: (safetensors dtype, shape)}`` of the arrays a model file holds."""

NETWORK = "mlp"
"""The kind of a bare engine network, which :mod:`gradfit.io.model` reads itself."""


@dataclass(frozen=True)
class ModelKind:
    """How one kind of model is written to a model file and read back.

    Attributes
    ----------
    name : str
        The file's ``"kind"`` (e.g. ``"regressor"``).
    model_type : type
        The class whose instances (and whose subclasses' instances not registered
        themselves) are saved as this kind.
    export : callable
        ``export(model) -> (meta, arrays)``: a JSON-serialisable description and the
        named arrays of a fitted model.
    arrays : callable
        ``arrays(meta) -> ArraySpec``: every array a file of this kind with ``meta``
        holds; raises ``KeyError``, ``IndexError``, ``TypeError``, ``ValueError`` or
        ``AttributeError`` when ``meta`` is malformed (``build`` then names the problem).
    build : callable
        ``build(meta, arrays) -> model``; raises ``ModelFileError`` (or one of the
        exceptions above) when they do not describe a model.
    optional : frozenset of str
        Arrays that older files of this kind may lack.
    """

    name: str
    model_type: type
    export: Callable[[Any], tuple[dict[str, Any], dict[str, Array]]]
    arrays: Callable[[Any], ArraySpec]
    build: Callable[[dict[str, Any], dict[str, Array]], Any]
    optional: frozenset[str] = field(default=frozenset())


_KINDS: dict[str, ModelKind] = {}


def register(kind: ModelKind) -> None:
    """Make files of ``kind.name`` writable from ``kind.model_type`` and readable.

    Registering a kind again (a module reloaded) replaces it.
    """
    if kind.name == NETWORK:
        raise ValueError(f"the kind {NETWORK!r} is the engine's network, read by gradfit.io")
    _KINDS[kind.name] = kind


def named(name: object) -> ModelKind | None:
    """The registered kind called ``name``, if there is one."""
    return _KINDS.get(name) if isinstance(name, str) else None


def of(model: object) -> ModelKind | None:
    """The kind ``model`` is saved as: that of its class or nearest registered base."""
    for cls in type(model).__mro__:
        for kind in _KINDS.values():
            if kind.model_type is cls:
                return kind
    return None


def known() -> list[str]:
    """The names of every kind a model file may hold now, ``"mlp"`` first."""
    return [NETWORK, *_KINDS]
