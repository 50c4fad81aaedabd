"""One ``.safetensors`` file: named tensors plus a JSON document, written atomically.

The layout (https://github.com/huggingface/safetensors) is::

    8 bytes    N, the header's length (unsigned, little-endian)
    N bytes    a JSON object: {name: {"dtype", "shape", "data_offsets": [begin, end]}, …,
               "__metadata__": {str: str}}   (may end in spaces)
    the rest   the tensors' bytes, back to back, each at its offsets

gradfit keeps its own JSON document in ``__metadata__["gradfit"]``. Writing uses the
``safetensors`` package; reading is done here, checking every field against the file
before a byte is interpreted, so a damaged or hostile file raises
:class:`~gradfit.errors.ModelFileError` naming the problem, and nothing in it is ever
executed (there is no pickle anywhere in the format).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

import numpy as np

from gradfit.engine.types import Array
from gradfit.errors import ModelFileError, OutputPathError
from gradfit.io.atomic import SAYS, atomic_write, check_destination, content

KEY = "gradfit"
"""The ``__metadata__`` entry that holds gradfit's JSON document."""

MAX_HEADER = 64 * 2**20
"""The largest header accepted, in bytes: 64 MiB (the safetensors library allows 100)."""

MAX_TENSORS = 10_000
"""The most tensors a file may hold (a network of 1,000 layers with Adam's state has 6,000)."""

MAX_DIMS = 8
"""The most dimensions a tensor may have (gradfit's have at most 3)."""

MAX_PROBLEM = 300
"""The most characters of a message that describe the problem."""

DTYPES: dict[str, np.dtype[Any]] = {
    "F32": np.dtype("<f4"),
    "F64": np.dtype("<f8"),
    "I32": np.dtype("<i4"),
    "I64": np.dtype("<i8"),
    "U32": np.dtype("<u4"),
    "U64": np.dtype("<u8"),
}
"""The safetensors dtypes gradfit writes and reads, as little-endian NumPy dtypes."""

Fail = Callable[[str], NoReturn]
_FLOAT = "__float__"

_SIGNATURES = {
    b"\x80": "a Python pickle (gradfit never unpickles: it can run arbitrary code)",
    b"PK\x03\x04": "a zip archive, such as torch.save writes (gradfit never unpickles)",
    b"\x93NUMPY": "a NumPy .npy file",
}


def _looks_like_safetensors(first: bytes, size: int) -> bool:
    # A valid header length can start with a signature's byte (0x80 when it is
    # 128 mod 256), so only a file whose header cannot be one is named by signature.
    n = int.from_bytes(first[:8], "little")
    return len(first) >= 9 and 0 < n <= size - 8 and first[8:9] == b"{"


def write(
    path: str | os.PathLike[str],
    doc: dict[str, Any],
    tensors: dict[str, Array],
    *,
    what: str = "model",
) -> None:
    """Write ``tensors`` and the JSON document ``doc`` to ``path`` atomically.

    Every tensor is written in one of :data:`DTYPES`, C-contiguous and little-endian;
    float tensors must be finite, as :func:`read` requires. In ``doc``, JSON's types
    and tuples; a NaN or infinite float is written as ``{"__float__": "inf"}``, which
    :func:`read` turns back into the float. ``what`` ("model", "checkpoint") names the
    file in messages; a path no file can be written to is refused
    (:class:`~gradfit.errors.OutputPathError`) before anything is serialised.
    """
    from safetensors.numpy import save

    target = check_destination(path, what=what)
    found = content(target) if target.is_file() else "empty"
    if found not in ("empty", "safetensors"):
        # gradfit.save(model, "train.csv") replaced the data with the model, as fit
        # --out train.csv (cli.paths.check_kind) does not.
        raise OutputPathError(
            f"cannot write the {what} to '{path}': it holds {SAYS[found]}, not "
            f"{SAYS['safetensors']}, which would be lost; choose another path, or move "
            "that file away first"
        )

    for name, A in tensors.items():
        if A.dtype.newbyteorder("<") not in DTYPES.values():
            raise TypeError(f"tensor {name!r} has dtype {A.dtype}, which gradfit does not write")
        if A.dtype.kind == "f" and not np.isfinite(A).all():
            raise ValueError(
                f"tensor {name!r} holds NaN or infinite values; gradfit files hold finite ones"
            )
    data = save(
        {name: np.ascontiguousarray(A) for name, A in tensors.items()},
        metadata={KEY: json.dumps(_encode(doc), allow_nan=False, separators=(",", ":"))},
    )
    with atomic_write(path, what=what) as f:
        f.write(data)


def read(
    path: str | os.PathLike[str],
    *,
    what: str = "model",
    expect: Callable[[dict[str, Any], dict[str, tuple[str, tuple[int, ...]]]], None] | None = None,
) -> tuple[dict[str, Any], dict[str, Array]]:
    """The JSON document and the tensors of the file at ``path``.

    Every float tensor must be finite. ``what`` ("model", "checkpoint") names the
    file in messages. ``expect(doc, {name: (dtype, shape)})``, called after the
    header is checked and before the data is read, may refuse tensors the document
    does not declare by raising :class:`ModelFileError`.

    Raises
    ------
    ModelFileError
        When the file is missing, unreadable, or not a well-formed safetensors file
        with a gradfit document; the message names the first problem found.
    """
    path = Path(path)
    fail = _failer(path, what)
    try:
        if path.is_dir():
            fail("it is a folder, not a file")
        if path.exists() and not path.is_file():
            # A device or pipe could be endless (/dev/zero): never read one.
            fail("it is not a regular file")
        with open(path, "rb") as f:
            # The header is read and checked before the data, so that a file too big,
            # or holding tensors it should not, costs no more than its header.
            size = os.fstat(f.fileno()).st_size
            first = f.read(9)
            n = _header_length(first, size, fail)
            header = _parse_json(first[8:] + f.read(n - 1), "the header", fail)
            if not isinstance(header, dict):
                fail("the header is not a JSON object")
            meta = header.pop("__metadata__", None)
            doc = _document(meta, fail)
            entries = _entries(header, size - 8 - n, fail)
            if expect is not None:
                try:
                    expect(doc, {name: (e["dtype"], tuple(e["shape"])) for name, e in entries})
                except ModelFileError as exc:
                    fail(str(exc))
            data = f.read(size - 8 - n)
    except FileNotFoundError:
        fail("no such file")
    except OSError as exc:
        fail(f"it could not be read ({exc.strerror or exc})")
    return doc, _arrays(entries, memoryview(data), fail)


def _is_text(first: bytes) -> bool:
    """Whether a file's first bytes are text: printable characters, tabs and newlines
    (UTF-8 beyond ASCII included), as a CSV file begins."""
    return bool(first) and all((b >= 0x20 and b != 0x7F) or b in b"\t\n\r" for b in first)


def _header_length(first: bytes, size: int, fail: Fail) -> int:
    """The header's length from the file's first bytes, checked against its size."""
    if not _looks_like_safetensors(first, size):
        for magic, kind in _SIGNATURES.items():
            if first.startswith(magic):
                fail(f"it is {kind}, not a safetensors file")
        if _is_text(first):
            # A length of eight printable bytes is over 10^18 bytes: no file is that long.
            fail("it is text (a CSV, say), not a safetensors file")
    if size < 8:
        fail(f"it is {size} bytes long, too short for a safetensors header")
    n = int.from_bytes(first[:8], "little")
    if n > size - 8:
        fail(
            f"the header claims {n} bytes but only {size - 8} follow "
            "(truncated, or not a safetensors file)"
        )
    if n > MAX_HEADER:
        fail(f"the header claims {n} bytes, more than the {MAX_HEADER} allowed")
    if n < 2:
        fail(f"the header claims {n} bytes, too few for a JSON object")
    return n


def _failer(path: Path, what: str) -> Fail:
    def fail(problem: str) -> NoReturn:
        raise file_error(path, what, problem)

    return fail


def file_error(path: str | os.PathLike[str], what: str, problem: str) -> ModelFileError:
    """``path: not a valid gradfit {what} file: {problem}``, with the problem cut short
    when values from a hostile file would make it long."""
    if len(problem) > MAX_PROBLEM:
        problem = problem[: MAX_PROBLEM - 3] + "..."
    return ModelFileError(f"{path}: not a valid gradfit {what} file: {problem}")


def _parse_json(text: bytes, what: str, fail: Fail) -> Any:
    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        keys = [k for k, _ in pairs]
        if len(set(keys)) != len(keys):
            fail(f"{what} repeats a key")
        return dict(pairs)

    def no_constant(name: str) -> None:
        fail(f"{what} holds {name}, which JSON does not allow")

    try:
        return json.loads(
            text.decode("utf-8"), object_pairs_hook=no_duplicates, parse_constant=no_constant
        )
    except ModelFileError:
        raise  # from the hooks above, already naming the problem
    except UnicodeDecodeError:
        fail(f"{what} is not UTF-8 text")
    except (ValueError, RecursionError) as exc:
        fail(f"{what} is not valid JSON ({str(exc).splitlines()[0][:120]})")


def _document(meta: Any, fail: Fail) -> dict[str, Any]:
    if not isinstance(meta, dict) or not all(isinstance(v, str) for v in meta.values()):
        fail("the header has no __metadata__ of text values")
    if KEY not in meta:
        fail(f"the header's __metadata__ has no {KEY!r} entry; it was not written by gradfit")
    doc = _parse_json(meta[KEY].encode("utf-8"), "the gradfit metadata", fail)
    if not isinstance(doc, dict):
        fail("the gradfit metadata is not a JSON object")
    try:
        return _decode(doc, fail)
    except RecursionError:
        fail("the gradfit metadata is nested too deeply")


def _encode(x: Any) -> Any:
    """``x`` with non-finite floats as ``{"__float__": "nan" | "inf" | "-inf"}``."""
    if isinstance(x, float) and not math.isfinite(x):
        return {_FLOAT: repr(float(x))}
    if isinstance(x, dict):
        if _FLOAT in x:
            raise TypeError(f"the key {_FLOAT!r} is reserved in gradfit's metadata")
        return {k: _encode(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_encode(v) for v in x]
    return x


def _decode(x: Any, fail: Fail) -> Any:
    if isinstance(x, dict) and _FLOAT in x:
        if len(x) != 1 or x[_FLOAT] not in ("nan", "inf", "-inf"):
            fail(f"{str(x)[:60]} is not a non-finite float")
        return float(x[_FLOAT])
    if isinstance(x, dict):
        return {k: _decode(v, fail) for k, v in x.items()}
    if isinstance(x, list):
        return [_decode(v, fail) for v in x]
    return x


def _entries(header: dict[str, Any], n_data: int, fail: Fail) -> list[tuple[str, Any]]:
    """The header's tensor entries, each well formed, covering ``n_data`` bytes exactly."""
    if len(header) > MAX_TENSORS:
        fail(f"the header lists {len(header)} tensors, more than the {MAX_TENSORS} allowed")
    spans = []
    for name, entry in header.items():
        if not isinstance(entry, dict) or set(entry) != {"dtype", "shape", "data_offsets"}:
            fail(f"tensor {name!r}: the entry must hold exactly dtype, shape and data_offsets")
        dtype, shape, offsets = entry["dtype"], entry["shape"], entry["data_offsets"]
        if not isinstance(dtype, str) or dtype not in DTYPES:
            fail(f"tensor {name!r}: unsupported dtype {dtype!r} (expected one of {sorted(DTYPES)})")
        if not _ints(shape) or len(shape) > MAX_DIMS:
            fail(
                f"tensor {name!r}: shape {shape!r} is not a list of non-negative integers "
                f"(at most {MAX_DIMS})"
            )
        if not (_ints(offsets) and len(offsets) == 2 and offsets[0] <= offsets[1]):
            fail(f"tensor {name!r}: data_offsets {offsets!r} is not [begin, end] with begin <= end")
        nbytes = math.prod(shape) * DTYPES[dtype].itemsize
        if offsets[1] - offsets[0] != nbytes:
            fail(
                f"tensor {name!r}: shape {shape} of {dtype} needs {nbytes} bytes "
                f"but data_offsets span {offsets[1] - offsets[0]}"
            )
        spans.append((offsets[0], offsets[1], name))
    end = 0
    for begin, stop, name in sorted(spans):
        if begin != end:
            problem = "overlaps the previous one" if begin < end else f"leaves a gap at byte {end}"
            fail(f"tensor {name!r} {problem} in the data")
        end = stop
    if end != n_data:
        fail(
            f"the tensors cover {end} bytes of data but the file holds {n_data}; "
            + ("truncated" if end > n_data else "extra bytes at the end")
        )
    return list(header.items())


def _arrays(entries: list[tuple[str, Any]], data: memoryview, fail: Fail) -> dict[str, Array]:
    tensors: dict[str, Array] = {}
    for name, entry in entries:
        begin, stop = entry["data_offsets"]
        dtype = DTYPES[entry["dtype"]]
        try:
            A = np.frombuffer(data[begin:stop], dtype=dtype).reshape(entry["shape"])
        except ValueError:
            fail(f"tensor {name!r}: shape {entry['shape']} cannot be an array here")
        if dtype.kind == "f" and not np.isfinite(A).all():
            fail(f"tensor {name!r} holds NaN or infinite values")
        tensors[name] = A.astype(dtype.newbyteorder("="), copy=True)
    return tensors


def _ints(value: Any) -> bool:
    return isinstance(value, list) and all(
        isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in value
    )
