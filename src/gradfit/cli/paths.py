"""Every path a command reads or writes, checked together before any work is done.

:func:`check_paths` takes a run's inputs and outputs by role (``"data"``,
``"model"``, ``"history"``, …) and refuses, as one line with its exit code:

- an output that is also an input (``fit d.csv --out d.csv``), or that another output
  of the same run would write too (``--checkpoint`` equal to ``--out``), found by
  the file each path leads to, through symbolic links and hard links;
- an output whose folder is missing (usage, 2) or not writable (1), an output that
  is a folder (2), a symbolic link (2: an atomic write would replace the link, and
  ``/dev/stdout`` is one), or an existing file that is not a regular file (2: a
  device or pipe cannot be replaced atomically): all but the writable folder are what
  :func:`gradfit.io.atomic.check_destination` checks before every write;
- an existing file that holds something other than what the output would hold (2): a
  model or checkpoint written over a CSV (``fit … --out data2.csv``), predictions over
  a model (``predict a.safetensors d.csv --out b.safetensors``), a figure over anything
  but a picture, the HTML report over anything but an HTML page. Replacing a file of
  the same kind (the last run's model or predictions) is what ``--out`` asks for, and
  an empty file holds nothing to lose.

Inputs are checked by their readers (:func:`gradfit.io.tabular.read_table`,
:func:`gradfit.io.model.load`), which refuse what is not a regular file.
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import click

from gradfit.cli.exits import CommandError, Exit
from gradfit.errors import OutputPathError
from gradfit.io.atomic import SAYS, check_destination, content, temporary_prefix


class OutputFile(click.Path):
    """An option naming a file a command writes (the ``what``: ``"model"``).

    A path that is empty, or ends in ``/``, is refused as it is given, by
    :func:`~gradfit.io.atomic.check_destination`: converted to a :class:`Path`,
    ``''`` would become ``.`` and ``out/`` a file named ``out``. ``-`` means standard
    output where ``stdout`` says the command writes there (``predict --out -``); elsewhere
    it is refused, not taken for a file named ``-`` in the current folder.
    """

    def __init__(self, what: str, *, stdout: bool = False) -> None:
        super().__init__(path_type=Path, allow_dash=stdout)
        self.what = what

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if value == "-" and not self.allow_dash:
            raise CommandError(
                f"cannot write the {self.what} to '-': it goes to a file, not to standard "
                "output; give the file's path (./- for a file named '-')",
                Exit.USAGE,
            )
        if isinstance(value, str) and (not value or value.endswith(("/", os.sep))):
            check_destination(value, what=self.what)
        _refuse_an_option(value, self.what, param)
        return super().convert(value, param, ctx)


class InputFile(click.Path):
    """An argument naming a file a command reads (the ``what``: ``"data"``, ``"model"``),
    refused with exit ``code`` when empty: converted to a :class:`Path`, ``''`` would
    become ``.`` and be called a folder (``predict "$MODEL" d.csv`` with ``MODEL``
    unset)."""

    def __init__(self, what: str, code: Exit, *, dir_okay: bool = True) -> None:
        super().__init__(dir_okay=dir_okay, path_type=Path)
        self.what, self.code = what, code

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, str) and not value:
            raise CommandError(
                f"the {self.what} path is empty (''); give the path of the {self.what} file",
                self.code,
            )
        return super().convert(value, param, ctx)


class OutputFolder(click.Path):
    """An option naming a folder a command writes its files into (created if missing).

    An empty path is refused, as :class:`OutputFile` refuses it: converted to a
    :class:`Path`, ``''`` would become ``.``, and the files would land in the current
    folder (``--out "$DIR"`` with ``DIR`` unset).
    """

    def __init__(self, what: str) -> None:
        super().__init__(file_okay=False, path_type=Path)
        self.what = what

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, str) and not value:
            raise CommandError(
                f"cannot write the {self.what} to '': the path is empty; give the path of a "
                "folder ('.' for the current one)",
                Exit.USAGE,
            )
        _refuse_an_option(value, self.what, param)
        return super().convert(value, param, ctx)


def _refuse_an_option(value: Any, what: str, param: click.Parameter | None) -> None:
    """Refuse an output path that begins with '-' (but is not '-' alone): an option's name
    taken as the value of one left without it (``--out --no-plots`` wrote a model named
    '--no-plots', and its figures, which --no-plots was to leave out)."""
    if isinstance(value, str) and value.startswith("-") and value != "-":
        option = param.opts[0] if param is not None and param.opts else "the option"
        raise CommandError(
            f"cannot write the {what} to '{value}': that reads as an option, so {option} "
            f"was given no value; give the path (./{value} for a file of that name)",
            Exit.USAGE,
        )


def check_paths(inputs: Mapping[str, Path], outputs: Mapping[str, Path]) -> None:
    """Raise :class:`CommandError` unless every output can be written without touching
    an input or another output (see the module docstring)."""
    for what, path in outputs.items():
        check_output(path, what=what)
    seen: dict[tuple[object, ...], str] = {}
    for what, path in inputs.items():
        seen.setdefault(_identity(path), f"the {what} file '{path}'")
    for what, path in outputs.items():
        key = _identity(path)
        if key in seen:
            raise CommandError(
                f"cannot write the {what} to '{path}': it is {seen[key]}, which this run "
                "reads or writes too; choose another path",
                Exit.USAGE,
            )
        seen[key] = f"the {what} file '{path}'"
    for what, path in outputs.items():
        check_kind(path, what=what)


def check_kind(path: Path, *, what: str) -> None:
    """Raise :class:`CommandError` if ``path`` holds a file of another kind than the
    ``what`` output would write there (see the module docstring)."""
    found = content(path) if path.is_file() else "empty"
    wanted = _holding(what)
    if found not in ("empty", wanted):
        raise CommandError(
            f"cannot write the {what} to '{path}': it holds {SAYS[found]}, not "
            f"{SAYS[wanted]}, which would be lost; choose another path, or move that "
            "file away first",
            Exit.USAGE,
        )


def check_output(path: Path, *, what: str) -> Path:
    """Raise :class:`CommandError` unless ``path`` can be created or replaced: what
    :func:`~gradfit.io.atomic.check_destination` checks for every write, and whether
    its folder is writable."""
    try:
        check_destination(path, what=what)
    except OutputPathError as exc:
        raise CommandError(str(exc), Exit.USAGE) from None
    folder = path.parent
    try:
        # A file created and removed: the one test that holds for root, read-only
        # mounts and full disks alike.
        fd, probe = tempfile.mkstemp(dir=folder, prefix=temporary_prefix(path), suffix=".probe")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise CommandError(
            f"cannot write the {what} to '{path}': the folder '{folder}' is not writable "
            f"({exc.strerror or exc})",
            Exit.FAILURE,
        ) from None
    return path


def _holding(what: str) -> str:
    """What the output ``what`` holds (a :func:`content`), from its role's words: a
    figure ("figure of y") is a picture, a model or checkpoint a safetensors file, the
    history its CSV, the report an HTML page; predictions are text."""
    words = what.split()
    if words[0] == "figure" or words[-1] == "figure":
        return "png"
    if words[-1] in ("model", "checkpoint"):
        return "safetensors"
    if words[-1] == "report":
        return "html"
    return "history" if words[-1] == "history" else "text"


def _identity(path: Path) -> tuple[object, ...]:
    """What ``path`` leads to: an existing file's device and inode (so hard links and
    symbolic links compare equal), else its absolute path with links resolved."""
    try:
        st = path.stat()
    except OSError:
        return ("path", os.path.realpath(path))
    if stat.S_ISREG(st.st_mode):
        return ("file", st.st_dev, st.st_ino)
    return ("path", os.path.realpath(path))


def beside(path: Path, suffix: str) -> Path:
    """``model.safetensors`` → ``model<suffix>`` in the same folder."""
    return path.with_name(path.stem + suffix)


NAME_PART = 100
"""The most bytes (UTF-8) of a target's name a figure's file name takes."""


def fit_figure(out_path: Path, target: str, targets: Sequence[str]) -> Path:
    """The figure of ``target``'s fit beside the model at ``out_path``: ``NAME.fit.png``
    for one target, else ``NAME.fit-TARGET.png``.

    A target's name is a column's, which may hold what a file name cannot: a ``/``
    (``a/b`` would name a folder), a control character, more than a file name's 255
    bytes. Those become ``_`` and the name is cut to :data:`NAME_PART` bytes; where
    two targets would then share a file (``a/b`` and ``a_b``; ``Y`` and ``y`` on a file
    system that ignores case), each figure is numbered by its target's place,
    ``NAME.fit-2-a_b.png``.
    """
    if len(targets) == 1:
        return beside(out_path, ".fit.png")
    parts = [_name_part(t) for t in targets]
    j = list(targets).index(target)
    folded = [p.casefold() for p in parts]
    if folded.count(folded[j]) > 1:
        return beside(out_path, f".fit-{j + 1}-{parts[j]}.png")
    return beside(out_path, f".fit-{parts[j]}.png")


def _name_part(name: str) -> str:
    """``name`` as part of a file name: path separators and control characters as ``_``,
    at most :data:`NAME_PART` bytes of UTF-8 (a character cut in two is left out)."""
    safe = "".join("_" if c in "/\\" or not c.isprintable() else c for c in name)
    return safe.encode()[:NAME_PART].decode(errors="ignore")
