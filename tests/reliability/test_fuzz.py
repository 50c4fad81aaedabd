"""Property-based: random and mutated files give ModelFileError or a finite model, nothing else."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from model_files import join, split, valid_bytes
from mutations import FUZZ, edit_somewhere, flip, header_edit, state_values
from runs import assert_same_state, make_trainer

import gradfit
from gradfit.engine.network import MLP
from gradfit.errors import ModelFileError
from gradfit.io.checkpoint import Checkpoint, load_checkpoint


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


@pytest.fixture(scope="module")
def model_bytes(workdir: Path) -> bytes:
    net = MLP([2, 3, 1], "relu", rng=np.random.default_rng(0))
    return valid_bytes(workdir, net)


@pytest.fixture(scope="module")
def checkpoint_bytes(workdir: Path) -> bytes:
    path = workdir / "valid.ckpt"
    make_trainer("numpy", batch_size=8, callbacks=[Checkpoint(path, every=2)]).fit(2)
    return path.read_bytes()


def _load_model(path: Path) -> None:
    """Load ``path``: a ModelFileError is the only failure; a model must be finite."""
    try:
        model = gradfit.load(path)
    except ModelFileError:
        return
    assert all(np.isfinite(p).all() for p in model.parameters())


def _resume(path: Path) -> None:
    """Load the checkpoint and resume a fresh trainer from it: ModelFileError or success."""
    try:
        make_trainer("numpy", batch_size=8).load_state_dict(load_checkpoint(path))
    except ModelFileError:
        return


def _check(workdir: Path, raw: bytes, load: Callable[[Path], None]) -> None:
    path = workdir / "fuzzed.safetensors"
    path.write_bytes(raw)
    load(path)


@FUZZ
@given(st.binary(max_size=300))
def test_random_bytes(workdir: Path, raw: bytes) -> None:
    path = workdir / "random.safetensors"
    path.write_bytes(raw)
    with pytest.raises(ModelFileError):
        gradfit.load(path)


@FUZZ
@given(st.integers(0, 400), st.binary(max_size=400))
def test_random_bytes_behind_a_plausible_length(workdir: Path, n: int, rest: bytes) -> None:
    path = workdir / "random.safetensors"
    path.write_bytes(n.to_bytes(8, "little") + b"{" + rest)
    with pytest.raises(ModelFileError):
        gradfit.load(path)


@FUZZ
@given(st.lists(st.integers(0, 2**20), min_size=1, max_size=6))
def test_bit_flips_in_a_model(workdir: Path, model_bytes: bytes, bits: list[int]) -> None:
    _check(workdir, flip(model_bytes, bits), _load_model)


@FUZZ
@given(st.data())
def test_truncated_models_are_refused(workdir: Path, model_bytes: bytes, data: Any) -> None:
    cut = data.draw(st.integers(0, len(model_bytes) - 1))
    path = workdir / "cut.safetensors"
    path.write_bytes(model_bytes[:cut])
    with pytest.raises(ModelFileError):
        gradfit.load(path)


@FUZZ
@given(st.data())
def test_inserted_bytes(workdir: Path, model_bytes: bytes, data: Any) -> None:
    at = data.draw(st.integers(0, len(model_bytes)))
    extra = data.draw(st.binary(min_size=1, max_size=16))
    _check(workdir, model_bytes[:at] + extra + model_bytes[at:], _load_model)


@FUZZ
@given(st.data())
def test_header_and_spec_edits_in_a_model(workdir: Path, model_bytes: bytes, data: Any) -> None:
    _check(workdir, header_edit(model_bytes, data), _load_model)


@FUZZ
@given(st.data())
def test_header_and_state_edits_in_a_checkpoint(
    workdir: Path, checkpoint_bytes: bytes, data: Any
) -> None:
    _check(workdir, header_edit(checkpoint_bytes, data), _resume)


@FUZZ
@given(st.lists(st.integers(0, 2**24), min_size=1, max_size=4))
def test_bit_flips_in_a_checkpoint(workdir: Path, checkpoint_bytes: bytes, bits: list[int]) -> None:
    _check(workdir, flip(checkpoint_bytes, bits), _resume)


def test_the_unmutated_files_load(
    workdir: Path, model_bytes: bytes, checkpoint_bytes: bytes
) -> None:
    # Without mutations everything loads, so the refusals above are the mutations' doing.
    _check(workdir, join(*split(model_bytes)), lambda p: gradfit.load(p))
    state = load_checkpoint(_written(workdir, join(*split(checkpoint_bytes))))
    make_trainer("numpy", batch_size=8).load_state_dict(state)
    assert json.loads(json.dumps(state["meta"])) == {}


def _written(workdir: Path, raw: bytes) -> Path:
    path = workdir / "plain.ckpt"
    path.write_bytes(raw)
    return path


@FUZZ
@given(st.data())
def test_edited_trainer_states_are_refused_whole(workdir: Path, data: Any) -> None:
    # Deeper than the file checks reach: the state a checkpoint holds, edited at random,
    # is refused by load_state_dict with ModelFileError and the trainer left unchanged.
    saved = make_trainer("numpy", batch_size=8)
    saved.fit(2)
    state = edit_somewhere(saved.state_dict(), data, state_values)
    fresh = make_trainer("numpy", batch_size=8)
    before = fresh.state_dict()
    try:
        fresh.load_state_dict(state)
    except ModelFileError:
        assert_same_state(fresh.state_dict(), before)
