"""Random values and mutations of files and states, for the property-based tests."""

from __future__ import annotations

import os
from typing import Any

import numpy as np
from hypothesis import settings
from hypothesis import strategies as st
from model_files import join, split

# Bounded and reproducible in the suite; GRADFIT_FUZZ_EXAMPLES=5000 searches harder.
EXAMPLES = int(os.environ.get("GRADFIT_FUZZ_EXAMPLES", "120"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None)

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-2, 64)
    | st.integers(-(2**70), 2**70)
    | st.sampled_from([10**400, -(10**400), 2**63, 2**64])
    | st.floats(allow_nan=False)
    | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)


state_values = json_values | st.builds(
    np.full,
    st.lists(st.integers(0, 9), max_size=2).map(tuple),
    st.floats(-2, 2),
    st.sampled_from([np.float64, np.float32, np.int64]),
)


def flip(raw: bytes, bits: list[int]) -> bytes:
    out = bytearray(raw)
    for bit in bits:
        out[(bit // 8) % len(out)] ^= 1 << (bit % 8)
    return bytes(out)


def edit_somewhere(tree: Any, data: Any, values: Any = json_values) -> Any:
    """``tree`` with one value somewhere in it replaced by one of ``values``, or a key dropped."""
    if isinstance(tree, dict) and tree and data.draw(st.booleans()):
        key = data.draw(st.sampled_from(sorted(tree)))
        action = data.draw(st.sampled_from(["replace", "descend", "descend", "delete"]))
        if action == "delete":
            return {k: v for k, v in tree.items() if k != key}
        new = edit_somewhere(tree[key], data, values) if action == "descend" else data.draw(values)
        return tree | {key: new}
    if isinstance(tree, list) and tree and data.draw(st.booleans()):
        i = data.draw(st.integers(0, len(tree) - 1))
        return [*tree[:i], edit_somewhere(tree[i], data, values), *tree[i + 1 :]]
    return data.draw(values)


def header_edit(raw: bytes, data: Any) -> bytes:
    header, doc, body = split(raw)
    if data.draw(st.booleans()):
        header = edit_somewhere(header, data)
        if not isinstance(header, dict):
            header = {"x": header}
    else:
        doc = edit_somewhere(doc, data)
    return join(header, doc, body)
