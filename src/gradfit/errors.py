"""gradfit's exception types: one per kind of user mistake or failure.

Each message says what was wrong and what to do about it.
"""

from __future__ import annotations


class GradfitError(Exception):
    """Base class of every error gradfit raises on purpose."""


class DataError(GradfitError, ValueError):
    """Input data that cannot be trained on: wrong shape, non-numeric, NaN/inf, empty."""


class DataTypeError(DataError, TypeError):
    """Input of a kind that cannot be data: sparse matrices, objects, mixed column names.

    Also a ``TypeError``, as scikit-learn raises for such input.
    """


class NotOfferedError(GradfitError, AttributeError, TypeError):
    """A method, fitted attribute, parameter or keyword of the other kind of estimator:
    ``predict_proba`` on a regressor, ``predict(X, return_std=True)`` or
    ``predict_interval`` on a classifier. The message names what this one offers instead.

    An ``AttributeError`` (so ``hasattr`` is ``False``, as before) and a ``TypeError``
    (what Python raises for an unexpected keyword).
    """


class OutputPathError(GradfitError, OSError):
    """An output path no whole file can be written to: a folder, a path in a missing
    folder, a symbolic link (an atomic write would replace the link), a device or pipe.

    Also an ``OSError``, as ``open`` raises for such paths.
    """


class ModelFileError(GradfitError, ValueError):
    """A model or checkpoint file that is missing, corrupt, or not a gradfit model."""


class RunMismatchError(ModelFileError):
    """A checkpoint written by another run (other data, columns or settings): resuming
    from it would mix two runs into a model that neither describes."""


class DivergenceError(GradfitError, ArithmeticError):
    """Training produced a non-finite loss or parameter.

    Attributes
    ----------
    epoch : int
        The epoch (0-based) in which the non-finite value appeared.
    """

    def __init__(self, message: str, *, epoch: int) -> None:
        super().__init__(message)
        self.epoch = epoch


class MissingDependencyError(GradfitError, ImportError):
    """An optional dependency (PyTorch, matplotlib, pyarrow) is not installed."""


def require(module: str, extra: str) -> None:
    """Raise :class:`MissingDependencyError` unless ``module`` can be imported."""
    import importlib.util

    if importlib.util.find_spec(module) is None:
        raise MissingDependencyError(
            f"{module} is not installed; install it with `pip install 'gradfit[{extra}]'`"
        )


class PeerLostError(GradfitError, RuntimeError):
    """Another process of a data-parallel run stopped (killed, crashed) or stopped
    answering; this one cannot go on alone."""
