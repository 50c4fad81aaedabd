"""Exit codes of the ``gradfit`` command, and the one place errors are mapped to them.

A user mistake never shows a Python traceback: it is printed as one line,
``gradfit: error: …``, on stderr, and the command exits with the code below.
"""

from __future__ import annotations

import enum
from typing import IO, Any

import click

from gradfit.errors import (
    DataError,
    DivergenceError,
    MissingDependencyError,
    ModelFileError,
    OutputPathError,
    PeerLostError,
    RunMismatchError,
)


class Exit(enum.IntEnum):
    """The exit statuses of ``gradfit``."""

    OK = 0
    FAILURE = 1
    USAGE = 2
    BAD_DATA = 3
    BAD_MODEL = 4
    DIVERGED = 5
    MISSING_DEPENDENCY = 6
    INTERRUPTED = 130
    TERMINATED = 143


EPILOG = """\b
Exit status:
  0    success
  1    a file could not be read or written; out of memory; gradcheck found
       disagreeing gradients; a process of a --distributed run was lost
  2    usage error: unknown option, bad value; an output that is a folder,
       a link, an input, read-only or another kind of file, or whose folder
       is missing; a checkpoint of another run, a --device this machine lacks
  3    bad data: missing file or column, non-numeric cell, NaN/inf, too few rows
  4    model or checkpoint file missing, corrupt or not gradfit's;
       a model whose predictions overflow
  5    training diverged (the last finite model is written as *.diverged.*)
  6    an optional dependency is missing (torch, matplotlib, pyarrow)
  130  interrupted by Ctrl-C (fit saves its checkpoint first)
  143  stopped by SIGTERM (kill): no output is left half-written
"""


ARGV = "gradfit.argv"
"""The key of ``click.Context.meta`` that holds the command line after ``gradfit``."""


class Terminated(BaseException):
    """SIGTERM, raised where the process is (as Python raises ``KeyboardInterrupt`` for
    SIGINT), so that every ``finally`` runs: no temporary file is left beside an output.
    Not an ``Exception``, so that no ``except Exception`` takes it for a data error."""


class CommandError(click.ClickException):
    """An error shown as one line, ``gradfit: error: …``, exiting with ``code``."""

    def __init__(self, message: str, code: Exit = Exit.FAILURE) -> None:
        super().__init__(message)
        # click declares exit_code on the class; each error carries its own.
        self.exit_code = int(code)  # type: ignore[misc]

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(f"gradfit: error: {self.format_message()}", err=True, file=file)


_CODES: tuple[tuple[type[BaseException], Exit], ...] = (
    (DataError, Exit.BAD_DATA),
    (RunMismatchError, Exit.USAGE),
    (ModelFileError, Exit.BAD_MODEL),
    (DivergenceError, Exit.DIVERGED),
    (MissingDependencyError, Exit.MISSING_DEPENDENCY),
    (PeerLostError, Exit.FAILURE),
    (OutputPathError, Exit.USAGE),
    (OSError, Exit.FAILURE),
)


def as_command_error(exc: BaseException) -> CommandError | None:
    """The :class:`CommandError` for a known error type, or ``None`` for a bug."""
    if isinstance(exc, CommandError):
        return exc
    if isinstance(exc, KeyboardInterrupt):
        return CommandError("interrupted", Exit.INTERRUPTED)
    if isinstance(exc, Terminated):
        return CommandError(
            "stopped by SIGTERM; no output was left half-written (an output is written "
            "whole or not at all)",
            Exit.TERMINATED,
        )
    if isinstance(exc, MemoryError):
        return CommandError(
            f"out of memory: {_one_line(exc) or 'an allocation failed'}; train fewer or smaller "
            "networks (--ensemble, --hidden), or read fewer rows at a time (--chunk-rows)",
            Exit.FAILURE,
        )
    for kind, code in _CODES:
        if isinstance(exc, kind):
            return CommandError(_one_line(exc), code)
    return None


def _one_line(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.filename is not None:
        return f"{exc.strerror or exc}: '{exc.filename}'"
    return " ".join(str(exc).split())
