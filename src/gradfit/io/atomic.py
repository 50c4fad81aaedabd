"""Atomic file writes: a reader sees the old file or the new one, never a partial one.

:func:`atomic_write` replaces one file; :func:`atomic_files` replaces several
together: all of them once every one is written, or none; :func:`whole_or_nothing`
gives a stream (standard output) all of its text or none. The first two check, with
:func:`check_destination`, that the path is one a whole file can replace. An error
names the file asked for, never the temporary file beside it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

from gradfit.errors import OutputPathError


def check_destination(path: str | os.PathLike[str], *, what: str | None = None) -> Path:
    """``path``, if a whole file can be written there: it is not empty, its folder
    exists, and it is not a folder (nor ends in ``/``, as a folder's path does), a
    symbolic link (replacing it would replace the link, not what it points to:
    ``/dev/stdout`` is one), an existing file other than a regular one (a device or
    pipe cannot be replaced atomically), a read-only file (``chmod a-w``), or a name
    longer than the file system takes.

    Raises
    ------
    OutputPathError
        Naming the problem, and the output as ``what`` (``"model"``) when given.
    """
    text = os.fspath(path)
    target = Path(text)
    folder = target.parent

    def refuse(problem: str, shown: object = target) -> OutputPathError:
        cannot = f"cannot write the {what} to" if what else "cannot write"
        return OutputPathError(f"{cannot} '{shown}': {problem}")

    if not text:
        raise refuse("the path is empty; give the path of a file", "")
    # Before any other look at the path: stat() of too long a name raises.
    longest = _name_max(folder)
    if len(os.fsencode(target.name)) > longest:
        raise refuse(
            f"the file name is {len(os.fsencode(target.name))} bytes long, more than the "
            f"{longest} this file system allows; choose a shorter name"
        )
    if target.is_dir():
        raise refuse("it is a folder; give the path of a file, such as one in that folder")
    if text.endswith(("/", os.sep)):
        # Path('out/') is Path('out'): written as it is, a file named 'out' would appear.
        raise refuse(
            f"a path ending in '/' names a folder, and there is no folder '{target}'; "
            "give the path of a file",
            text,
        )
    if not folder.is_dir():
        if folder.exists():
            raise refuse(f"'{folder}' is a file, not a folder; give a path in a folder")
        raise refuse(f"the folder '{folder}' does not exist")
    if target.is_symlink():
        raise refuse(
            f"it is a symbolic link (to '{os.readlink(target)}'); give the path of the file itself"
        )
    if target.exists() and not target.is_file():
        raise refuse(
            "it is not a regular file (a device or pipe); write to a file and copy it there"
        )
    if target.exists() and not target.stat().st_mode & 0o222:
        # A rename replaces a file whatever its mode, and root may write any: the mode is
        # the owner's word that the file is to be kept.
        raise refuse(
            "it is read-only (no one may write it); choose another path, or make it "
            f"writable first (chmod u+w '{target}')"
        )
    return target


@contextlib.contextmanager
def atomic_write(
    path: str | os.PathLike[str], mode: str = "wb", *, what: str | None = None
) -> Iterator[IO[Any]]:
    """Open a temporary file beside ``path``; on success, move it over ``path``.

    The temporary file lives in the same folder (so the rename is atomic), is
    flushed and fsynced before the rename, and the folder is fsynced after it.
    If the block raises, the temporary file is removed and ``path`` is untouched.
    ``path`` is checked first by :func:`check_destination` (``what`` names it there).
    """
    target = check_destination(path, what=what)
    with _naming(target):
        fd, tmp = _temporary(target)
    try:
        with os.fdopen(fd, mode) as f:
            yield f
            with _naming(target):
                f.flush()
                os.fsync(f.fileno())
        with _naming(target):
            os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _fsync_dir(target.parent)


class Staging:
    """The files of one :func:`atomic_files` block, each written to a temporary file."""

    def __init__(self) -> None:
        self.staged: list[tuple[str, Path]] = []

    def write(self, path: str | os.PathLike[str], writer: Callable[[Path], object]) -> Path:
        """Call ``writer(tmp)`` to write what goes to ``path``; return ``path``.

        ``tmp`` lies beside ``path`` and ends in the same suffix (which plotting
        libraries read the format from). An :class:`OSError` names ``path``; one
        :func:`check_destination` raises comes before anything is written.
        """
        target = check_destination(path)
        with _naming(target):
            fd, tmp = _temporary(target, suffix=f".tmp{target.suffix}")
            os.close(fd)
        self.staged.append((tmp, target))
        with _naming(target):
            writer(Path(tmp))
        return target


@contextlib.contextmanager
def atomic_files() -> Iterator[Staging]:
    """Write several files all or none: ``staging.write(path, writer)`` for each.

    When the block ends without an error, every temporary file is moved over its
    path; when it raises, they are removed and no path is touched.
    """
    staging = Staging()
    try:
        yield staging
        for tmp, target in staging.staged:
            with _naming(target):
                os.replace(tmp, target)
    finally:
        for tmp, _ in staging.staged:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
    for folder in {target.parent for _, target in staging.staged}:
        _fsync_dir(folder)


SAYS = {
    "safetensors": "a model or checkpoint (a safetensors file)",
    "png": "a PNG picture",
    "history": "a training history (epoch, loss, …)",
    "html": "an HTML page",
    "text": "text",
    "binary": "binary data",
}
"""What :func:`content` found, in words."""


def content(path: Path) -> str:
    """What the file at ``path`` holds, from its first bytes: ``"empty"``,
    ``"safetensors"`` (an 8-byte header length, then ``{``: a model or checkpoint,
    perhaps truncated, which a run may replace or refuse by its own checks), ``"png"``,
    ``"history"`` (a CSV whose header begins ``epoch,``), ``"html"`` (beginning
    ``<!DOCTYPE html`` or ``<html``, as gradfit's report does), ``"text"`` (no NUL byte,
    in any encoding) or ``"binary"``."""
    with open(path, "rb") as f:
        head = f.read(4096)
    if not head:
        return "empty"
    if len(head) > 8 and head[8:9] == b"{":
        return "safetensors"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"epoch,"):
        return "history"
    if head.lstrip().lower().startswith((b"<!doctype html", b"<html")):
        return "html"
    return "binary" if b"\0" in head else "text"


SPOOL_BYTES = 16 << 20
"""Text that :func:`whole_or_nothing` holds in memory before it spills to a temporary file."""


@contextlib.contextmanager
def whole_or_nothing(stream: IO[str]) -> Iterator[IO[str]]:
    """A temporary text file, copied to ``stream`` when the block ends without an error.

    So a reader of ``stream`` (standard output, a pipe) gets all of the text or none of
    it, as :func:`atomic_write`'s reader of a file does: an error half-way leaves no
    rows that look like a whole output. The text waits in memory up to
    :data:`SPOOL_BYTES`, then in the temporary folder (``TMPDIR``), so memory stays
    bounded; nothing reaches ``stream`` until the block is done.
    """
    with tempfile.SpooledTemporaryFile(
        SPOOL_BYTES, mode="w+", encoding="utf-8", newline=""
    ) as spool:
        yield spool
        spool.seek(0)
        shutil.copyfileobj(spool, stream)
        stream.flush()


TEMPORARY_NAME = 100
"""The most characters of the file it stands for that a temporary file's name takes."""


def temporary_prefix(target: Path) -> str:
    """How the names of temporary files beside ``target`` begin: ``.NAME.``, ``NAME`` cut
    to :data:`TEMPORARY_NAME` characters, so that a temporary's name (``mkstemp``'s eight
    random characters and a suffix added) stays within a file name's 255 bytes wherever
    ``target``'s does."""
    return f".{target.name[:TEMPORARY_NAME]}."


def _name_max(folder: Path) -> int:
    """The longest file name, in bytes, the file system of ``folder`` takes."""
    try:
        return os.pathconf(folder, "PC_NAME_MAX")
    except (OSError, ValueError):
        return 255


def _temporary(target: Path, suffix: str = ".tmp") -> tuple[int, str]:
    fd, tmp = tempfile.mkstemp(
        dir=target.parent or ".", prefix=temporary_prefix(target), suffix=suffix
    )
    # mkstemp makes the file 0600; give it the mode of the file it replaces (a private
    # file stays private), or the mode a plain open() would have.
    try:
        mode = stat.S_IMODE(target.stat().st_mode)
    except OSError:
        mode = 0o666 & ~_umask()
    os.fchmod(fd, mode)
    return fd, tmp


@contextlib.contextmanager
def _naming(target: Path) -> Iterator[None]:
    """Raise an ``OSError`` about a temporary file beside ``target`` as one about ``target``."""
    try:
        yield
    except OSError as exc:
        temporary = os.path.basename(str(exc.filename or "")).startswith(temporary_prefix(target))
        if exc.filename is None or not temporary:
            raise
        raise OSError(exc.errno, exc.strerror or str(exc), str(target)) from None


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _fsync_dir(folder: Path) -> None:
    # The rename is durable only once the folder's entry is on disk.
    try:
        fd = os.open(folder or ".", os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
