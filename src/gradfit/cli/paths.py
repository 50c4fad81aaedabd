"""Every path a command reads or writes, checked together before any work is done.

:func:`check_paths` takes a run's inputs and outputs by role (``"data"``,
``"model"``, ``"history"``, …) and refuses, as one line with its exit code:

- an output that is also an input (``fit d.csv --out d.csv``), or that another output
  of the same run would write too (``--checkpoint`` equal to ``--out``), found by
  the file each path leads to, through symbolic links and hard links;
- an output whose folder is missing (usage, 2) or not writable (1), an output that
  is a folder (2), a symbolic link (2: an atomic write would replace the link, and
  ``/dev/stdout`` is one), or an existing file that is not a regular file (2: a
  device or pipe cannot be replaced atomically).

Inputs are checked by their readers (:func:`gradfit.io.tabular.read_table`,
:func:`gradfit.io.model.load`), which refuse what is not a regular file.
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Mapping
from pathlib import Path

from gradfit.cli.exits import CommandError, Exit


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


def check_output(path: Path, *, what: str) -> Path:
    """Raise :class:`CommandError` unless ``path`` can be created or replaced."""
    folder = path.parent
    if not folder.is_dir():
        raise CommandError(
            f"cannot write the {what} to '{path}': the folder '{folder}' does not exist",
            Exit.USAGE,
        )
    if path.is_dir():
        raise CommandError(f"cannot write the {what} to '{path}': it is a folder", Exit.USAGE)
    if path.is_symlink():
        # Replacing it atomically would replace the link, not what it points to
        # (/dev/stdout is a link to whatever file standard output is).
        raise CommandError(
            f"cannot write the {what} to '{path}': it is a symbolic link (to "
            f"'{os.readlink(path)}'); give the path of the file itself",
            Exit.USAGE,
        )
    if path.exists() and not path.is_file():
        raise CommandError(
            f"cannot write the {what} to '{path}': it is not a regular file "
            "(a device or pipe); write to a file and copy it there",
            Exit.USAGE,
        )
    try:
        # A file created and removed: the one test that holds for root, read-only
        # mounts and full disks alike.
        fd, probe = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".probe")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise CommandError(
            f"cannot write the {what} to '{path}': the folder '{folder}' is not writable "
            f"({exc.strerror or exc})",
            Exit.FAILURE,
        ) from None
    return path


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
