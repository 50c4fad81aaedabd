"""Checks on the paths a command will write, made before any work is done."""

from __future__ import annotations

from pathlib import Path

from gradfit.cli.exits import CommandError, Exit


def check_output(path: Path, *, what: str) -> Path:
    """Raise a usage error unless ``path`` can be created: its folder exists, it is no folder."""
    folder = path.parent
    if not folder.is_dir():
        raise CommandError(
            f"cannot write the {what} to '{path}': the folder '{folder}' does not exist",
            Exit.USAGE,
        )
    if path.is_dir():
        raise CommandError(f"cannot write the {what} to '{path}': it is a folder", Exit.USAGE)
    return path


def beside(path: Path, suffix: str) -> Path:
    """``model.safetensors`` → ``model<suffix>`` in the same folder."""
    return path.with_name(path.stem + suffix)
