"""Building valid and malformed model files byte by byte, for the reliability tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

import gradfit
from gradfit.engine.network import MLP


def small_net(dtype: Any = np.float64, activation: str = "tanh") -> MLP:
    return MLP([2, 3, 1], activation, rng=np.random.default_rng(0), dtype=dtype)


def valid_bytes(tmp_path: Path, net: MLP | None = None) -> bytes:
    """The bytes gradfit.save writes for ``net`` (a small tanh network by default)."""
    path = tmp_path / "valid.safetensors"
    gradfit.save(small_net() if net is None else net, path)
    return path.read_bytes()


def split(raw: bytes) -> tuple[dict[str, Any], dict[str, Any], bytes]:
    """``(header without __metadata__, gradfit document, data)`` of a well-formed file."""
    n = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8 : 8 + n])
    doc = json.loads(header.pop("__metadata__")["gradfit"])
    return header, doc, raw[8 + n :]


def join(header: dict[str, Any], doc: dict[str, Any] | None, data: bytes) -> bytes:
    """The file with ``header``'s tensors, ``doc`` as gradfit's metadata, and ``data``."""
    full = dict(header)
    if doc is not None:
        full["__metadata__"] = {"gradfit": json.dumps(doc)}
    text = json.dumps(full).encode()
    return len(text).to_bytes(8, "little") + text + data


def rewrite(raw: bytes, edit: Any) -> bytes:
    """``raw`` with ``edit(header, doc, data) -> (header, doc, data)`` applied."""
    return join(*edit(*split(raw)))


def with_tensor(raw: bytes, name: str, values: np.ndarray) -> bytes:
    """``raw`` with tensor ``name``'s bytes replaced by ``values`` (same size)."""
    header, doc, data = split(raw)
    begin, end = header[name]["data_offsets"]
    new = values.astype("<f8").tobytes()
    assert len(new) == end - begin
    return join(header, doc, data[:begin] + new + data[end:])
