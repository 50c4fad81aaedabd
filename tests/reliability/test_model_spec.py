"""Every array of a model file against its kind's specification, checked from the header
before the data is read (issue 13, groups 6, 8 and 11)."""

from __future__ import annotations

import time
import tracemalloc
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from model_files import join, rewrite, split, valid_bytes
from runs import sine

import gradfit
from gradfit.errors import ModelFileError
from gradfit.io import safetensors_file

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def regressor_bytes(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    from gradfit.estimator import MLPRegressor

    X, Y = sine()
    model = MLPRegressor(hidden_layer_sizes=(3,), max_iter=5, random_state=0).fit(X, Y[:, 0])
    path = tmp_path_factory.mktemp("model") / "m.safetensors"
    gradfit.save(model, path)
    return path.read_bytes()


def retyped(raw: bytes, name: str, dtype: str, values: np.ndarray) -> bytes:
    """``raw`` with tensor ``name`` replaced by ``values`` stored as ``dtype``."""
    header, doc, data = split(raw)
    spans = sorted((e["data_offsets"][0], n) for n, e in header.items())
    chunks = {n: data[slice(*header[n]["data_offsets"])] for _, n in spans}
    chunks[name] = values.tobytes()
    header[name] = {"dtype": dtype, "shape": list(values.shape)}
    offset, out = 0, b""
    for _, n in spans:
        header[n]["data_offsets"] = [offset, offset + len(chunks[n])]
        offset += len(chunks[n])
        out += chunks[n]
    return join(header, doc, out)


def load_fails(tmp_path: Path, raw: bytes, fragment: str) -> None:
    path = tmp_path / "bad.safetensors"
    path.write_bytes(raw)
    with pytest.raises(ModelFileError) as info:
        gradfit.load(path)
    message = str(info.value)
    assert message.startswith(f"{path}: not a valid gradfit model file: "), message
    assert fragment in message, message


NEEDS = "the model needs F64 of shape "


@pytest.mark.parametrize(
    ("name", "dtype", "values", "fragment"),
    [
        ("x_scale", "I64", np.ones(1, "<i8"), f"'x_scale' is I64 of shape [1]; {NEEDS}[1]"),
        ("x_scale", "F64", np.ones(3, "<f8"), f"'x_scale' is F64 of shape [3]; {NEEDS}[1]"),
        ("y_center", "F32", np.zeros(1, "<f4"), "tensor 'y_center' is F32 of shape [1]"),
        ("W1", "F64", np.zeros((1, 3), "<f8"), f"'W1' is F64 of shape [1, 3]; {NEEDS}[3, 1]"),
    ],
)  # fmt: skip
def test_a_regressor_array_of_the_wrong_dtype_or_length_is_refused(
    tmp_path: Path, regressor_bytes: bytes, name: str, dtype: str, values: Any, fragment: str
) -> None:
    load_fails(tmp_path, retyped(regressor_bytes, name, dtype, values), fragment)


def test_a_zero_scale_is_refused(tmp_path: Path, regressor_bytes: bytes) -> None:
    raw = retyped(regressor_bytes, "x_scale", "F64", np.zeros(1, "<f8"))
    load_fails(tmp_path, raw, "a scaler's scale is zero or negative")


def test_an_extra_tensor_in_a_regressor_is_refused(tmp_path: Path, regressor_bytes: bytes) -> None:
    header, doc, data = split(regressor_bytes)
    header["payload"] = {"dtype": "F64", "shape": [2], "data_offsets": [len(data), len(data) + 16]}
    raw = join(header, doc, data + np.zeros(2).tobytes())
    load_fails(tmp_path, raw, "tensor(s) 'payload' are not part of a regressor model")


@pytest.mark.parametrize(
    ("names", "fragment"),
    [
        (["x", "z"], "feature_names_in_ is not a list of 1 distinct strings"),
        ([1], "feature_names_in_ is not a list of 1 distinct strings"),
        ("x", "feature_names_in_ is not a list of 1 distinct strings"),
        ({"x": 1}, "feature_names_in_ is not a list of 1 distinct strings"),
    ],
)
def test_feature_names_of_the_wrong_type_are_a_model_file_error(
    tmp_path: Path, regressor_bytes: bytes, names: Any, fragment: str
) -> None:
    def edit(header: Any, doc: Any, data: bytes) -> Any:
        doc["estimator"]["feature_names_in_"] = names
        return header, doc, data

    load_fails(tmp_path, rewrite(regressor_bytes, edit), fragment)


@pytest.mark.parametrize(
    ("shape", "fragment"),
    [
        ([0, 2**70], "tensor '0.bias' has shape (0, 1180591620717411303424), sizes [2, 3, 1]"),
        ([1] * 70, "is not a list of non-negative integers (at most 8)"),
    ],
)
def test_impossible_shapes_are_a_model_file_error(
    tmp_path: Path, shape: list[int], fragment: str
) -> None:
    header, doc, data = split(valid_bytes(tmp_path))
    begin, end = header["0.bias"]["data_offsets"]
    size = 8 if 0 not in shape else 0
    header["0.bias"] = {"dtype": "F64", "shape": shape, "data_offsets": [begin, begin + size]}
    shift = size - (end - begin)
    for name, entry in header.items():
        if name != "0.bias" and entry["data_offsets"][0] >= end:
            entry["data_offsets"] = [o + shift for o in entry["data_offsets"]]
    raw = join(header, doc, data[:begin] + b"\0" * size + data[end:])
    load_fails(tmp_path, raw, fragment)


def test_too_many_tensors_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    header, doc, data = split(valid_bytes(tmp_path))
    for i in range(safetensors_file.MAX_TENSORS + 1 - len(header)):
        header[f"z{i}"] = {"dtype": "F64", "shape": [0], "data_offsets": [len(data), len(data)]}
    load_fails(tmp_path, join(header, doc, data), "tensors, more than the 10000 allowed")


def test_the_header_is_checked_before_the_data_is_read(tmp_path: Path) -> None:
    """A valid header followed by 200 MB that it does not declare: refused at once."""
    header, doc, data = split(valid_bytes(tmp_path))
    path = tmp_path / "big.safetensors"
    path.write_bytes(join(header, doc, data))
    with open(path, "ab") as f:
        f.truncate(path.stat().st_size + 200 * 2**20)  # sparse: no disk is used
    tracemalloc.start()
    start = time.perf_counter()
    with pytest.raises(ModelFileError, match="extra bytes at the end"):
        gradfit.load(path)
    elapsed = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 10 * 2**20, peak
    assert elapsed < 5, elapsed


def test_tensors_an_mlp_does_not_declare_are_refused_before_the_data(tmp_path: Path) -> None:
    header, doc, data = split(valid_bytes(tmp_path))
    header["4.weight"] = {"dtype": "F64", "shape": [1], "data_offsets": [len(data), len(data) + 8]}
    load_fails(tmp_path, join(header, doc, data + b"\0" * 8), "do not match sizes [2, 3, 1]")


@pytest.mark.parametrize("raw_of", ["regressor", "mlp"])
def test_predict_prints_one_line_for_a_model_file_error(
    tmp_path: Path, regressor_bytes: bytes, raw_of: str
) -> None:
    from click.testing import CliRunner

    from gradfit.cli import cli

    raw = regressor_bytes if raw_of == "regressor" else valid_bytes(tmp_path)
    header, doc, data = split(raw)
    first = sorted(header)[0]
    header[first]["shape"] = [1] * 70
    model = tmp_path / "bad.safetensors"
    model.write_bytes(join(header, doc, data))
    data_file = tmp_path / "d.csv"
    data_file.write_text("x,0,1\n1,2,3\n")
    result = CliRunner().invoke(
        cli, ["predict", str(model), str(data_file), "--out", str(tmp_path / "p.csv")]
    )
    assert result.exit_code == 4
    assert "Traceback" not in result.output
    assert result.stderr.count("\n") == 1 and "non-negative integers (at most 8)" in result.stderr
