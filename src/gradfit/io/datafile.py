"""Data files as they are found on disk: what is a file gradfit may read, and ``.npy``.

Every reader of data goes through :func:`regular_file` first, so that a folder, a
pipe (``<(cat data.csv)``, which can be read only once), a FIFO that never ends, or a
device such as ``/dev/zero`` (endless) is refused in one line before a byte is read.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import numpy as np

from gradfit.errors import DataError

NPY_MAGIC = b"\x93NUMPY"
"""The first bytes of every ``.npy`` file."""

PARQUET_SUFFIXES = (".parquet", ".pq")
"""The suffixes of a Parquet file; any other but ``.npy`` is read as CSV."""

CHUNKED_SUFFIXES = (".npy", *PARQUET_SUFFIXES)
"""The files a :class:`~gradfit.io.arrays.RowSource` reads in chunks (``open_rows``)."""

FORMATS = "CSV, Parquet (.parquet, .pq) or NumPy (.npy)"
"""The kinds of data file ``gradfit fit`` and ``predict`` read, for messages."""


CHUNK_CELLS = 2**21
"""Cells a chunk holds when no number of rows is given: 16 MiB of float64, whatever the
width of the file (16,384 rows of 128 columns, 1,048,576 rows of 2)."""


def rows_per_chunk(n_columns: int, chunk_rows: int | None = None) -> int:
    """``chunk_rows``; by default as many rows of ``n_columns`` as make :data:`CHUNK_CELLS`."""
    return chunk_rows or max(1, CHUNK_CELLS // max(n_columns, 1))


def npy_columns(n_columns: int) -> list[str]:
    """The names of a ``.npy`` array's columns, which has none of its own: their index,
    ``"0"``, ``"1"``, …, wherever gradfit reads one (``fit``, ``--distributed``,
    ``predict``, ``evaluate``)."""
    return [str(j) for j in range(n_columns)]


def regular_file(path: str | os.PathLike[str]) -> Path:
    """``path``, if it names an existing regular file (through symbolic links).

    Raises :class:`DataError` for a missing path (``-`` among them: standard input is
    not read), a folder, or anything else that is not a regular file: a pipe, a FIFO, a
    socket or a device.
    """
    path = Path(path)
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        if str(path) == "-":  # the Unix convention for standard input, which gradfit does not read
            raise DataError(
                f"data file '-': gradfit does not read data from standard input; save it to "
                f"a file ({FORMATS}) and give its path"
            ) from None
        raise DataError(f"data file {str(path)!r} does not exist") from None
    except OSError as exc:
        raise DataError(f"data file {str(path)!r} cannot be read: {exc.strerror}") from None
    if stat.S_ISDIR(mode):
        raise DataError(f"{path} is a folder, not a data file")
    if not stat.S_ISREG(mode):
        raise DataError(
            f"{path} is not a regular file (a pipe, FIFO or device such as /dev/zero); "
            f"save the data to a file ({FORMATS}) and give its path"
        )
    return path


SIGNATURES = {
    b"\x93NUMPY": ": this one is a NumPy .npy file; name it *.npy",
    b"PAR1": ": this one is a Parquet file; name it *.parquet",
    b"\x1f\x8b": ": this one is gzip-compressed; decompress it (gunzip) first",
    b"PK\x03\x04": ": this one is a zip archive (an Excel .xlsx, say); save the sheet as CSV",
}
"""The first bytes of files gradfit is given, and what to do with each."""


def described(head: bytes, *, own: bytes = b"") -> str:
    """What a file beginning with ``head`` is, as the end of an error (``": this one is
    …; name it …"``), or ``""``; ``own``, the signature of the format it was read as (a
    damaged file of that format is not said to be one)."""
    for magic, kind in SIGNATURES.items():
        if head.startswith(magic) and magic != own:
            return kind
    if head[8:9] == b"{":  # an 8-byte header length, then JSON: safetensors
        return ": this one is a model or checkpoint (safetensors), not data"
    if head and b"\0" not in head:
        try:
            head.decode("utf-8")
        except UnicodeDecodeError as exc:
            if exc.start < len(head) - 3:  # not merely a character cut at the end
                return ""
        return ": this one is text (a CSV, say); name it *.csv"
    return ""


def head_of(path: Path) -> bytes:
    """The first 4 KiB of the file at ``path``, for :func:`described`."""
    with open(path, "rb") as f:
        return f.read(4096)


def load_npy(path: Path, *, mmap: bool = False) -> Any:
    """The array in the ``.npy`` file at ``path`` (a regular file), memory-mapped when
    ``mmap``; never unpickled.

    Raises :class:`DataError` when the file is not a ``.npy`` file, holds Python
    objects, or is damaged.
    """
    with open(path, "rb") as f:
        magic = f.read(len(NPY_MAGIC))
    if magic != NPY_MAGIC:
        raise DataError(
            f"{path}: not a .npy file (it does not begin with NumPy's signature); "
            f"gradfit reads {FORMATS} by the file's suffix{described(head_of(path))}"
        )
    try:
        return np.load(path, mmap_mode="r" if mmap else None, allow_pickle=False)
    except ValueError as exc:
        # np.load's words for an array of objects, read whole or memory-mapped.
        if "allow_pickle" in str(exc) or "Python objects" in str(exc):
            raise DataError(
                f"{path}: the array holds Python objects, not numbers; gradfit reads "
                "numeric .npy arrays only (and never unpickles)"
            ) from None
        raise DataError(f"{path}: a damaged .npy file: {' '.join(str(exc).split())}") from None
    except OSError as exc:
        raise DataError(f"{path}: a damaged .npy file: {exc.strerror or exc}") from None
