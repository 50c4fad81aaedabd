"""``gradfit fit`` on labels: the task it decides, the classifier's files, predict, evaluate."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from cli_helpers import Invoke, assert_one_line_error, edit_model_metadata, run_gradfit
from numpy.testing import assert_allclose
from sklearn.exceptions import ConvergenceWarning

import gradfit
from gradfit.cli.exits import Exit


def write_labels_csv(path: Path, labels: str = "text", n: int = 60, seed: int = 0) -> Path:
    """``a, b, c, kind``: three classes by the angle of (a, b), with noise; c is noise."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    codes = np.digitize(np.arctan2(X[:, 1], X[:, 0]) + 0.3 * rng.normal(size=n), [-1.2, 1.6])
    names = {"text": ["cat", "dog", "eel"], "int": ["0", "1", "2"], "float": ["0.5", "1", "2"]}
    rows = [
        f"{a!r},{b!r},{c!r},{names[labels][k]}"
        for (a, b, c), k in zip(X.tolist(), codes, strict=True)
    ]
    path.write_text("a,b,c,kind\n" + "\n".join(rows) + "\n")
    return path


def test_help_gives_the_classifiers_defaults_beside_the_regressors(invoke: Invoke) -> None:
    text = " ".join(invoke("fit", "--help").stdout.split())
    assert "Hidden activation (default: relu)." in text  # the same for both: said once
    assert "default: on from 150 rows, off below; off for labels." in text
    assert "Learning rate (default: 0.003; 0.001 for labels)." in text
    assert "Patience, in epochs (default: 50; 10 for labels)." in text
    assert "Most epochs (max_iter; default: 1000)." in text  # the same for both: said once


def test_labels_train_with_the_classifiers_defaults(invoke: Invoke, tmp_path: Path) -> None:
    data = write_labels_csv(tmp_path / "kinds.csv", n=200)  # "auto" would hold out here
    model = tmp_path / "kinds.safetensors"
    result = invoke("fit", data, "--target", "kind", "--epochs", 5, "--no-plots", "--out", model)
    assert result.exit_code == 0, result.output
    params = gradfit.load(model).get_params()
    assert params["activation"] == "relu" and params["early_stopping"] is False
    assert params["learning_rate_init"] == 0.001 and params["n_iter_no_change"] == 10
    assert gradfit.load(model).early_stopping_ is False  # no rows held out


def read_rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_text_labels_train_a_classifier_and_say_so(invoke: Invoke, tmp_path: Path) -> None:
    data = write_labels_csv(tmp_path / "kinds.csv")
    model = tmp_path / "kinds.safetensors"
    result = invoke("fit", data, "--target", "kind", "--epochs", 60, "--out", model)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == (
        "task: classification of 'kind' (text labels, 3 classes); "
        "--task regression to choose otherwise"
    )
    assert lines[1].startswith("MLP 3 → 100 → 3 (relu, 703 parameters, cross-entropy)")
    assert lines[4].startswith("accuracy 0.") and "on the 60 training rows" in lines[4]
    for suffix in (".history.csv", ".training.png", ".confusion.png", ".regions.png"):
        assert (tmp_path / f"kinds{suffix}").stat().st_size > 0
    history = read_rows(tmp_path / "kinds.history.csv")
    assert list(history[0]) == [
        "epoch", "loss", "val_loss", "restored", "accuracy", "val_accuracy"
    ]  # fmt: skip
    loaded = gradfit.load(model)
    assert list(loaded.classes_) == ["cat", "dog", "eel"]
    assert float(history[-1]["accuracy"]) == pytest.approx(loaded.accuracy_curve_[-1])

    out = tmp_path / "pred.csv"
    assert invoke("predict", model, data, "--out", out).exit_code == 0
    rows = read_rows(out)
    assert list(rows[0]) == ["kind", "P(cat)", "P(dog)", "P(eel)"]
    P = np.array([[float(r[f"P({c})"]) for c in ("cat", "dog", "eel")] for r in rows])
    assert_allclose(P.sum(axis=1), 1.0, rtol=1e-12)
    assert [r["kind"] for r in rows] == [("cat", "dog", "eel")[k] for k in P.argmax(axis=1)]

    result = invoke("evaluate", model, data)
    assert result.exit_code == 0, result.output
    text = result.stdout
    truth = [r["kind"] for r in read_rows(data)]
    accuracy = np.mean([t == r["kind"] for t, r in zip(truth, rows, strict=True)])
    assert f"accuracy           {accuracy:.4f}" in text
    assert "balanced accuracy" in text and "log loss" in text
    assert "confusion matrix (rows: true, columns: predicted):" in text


def test_a_few_integers_are_labels_and_task_regression_overrides(
    invoke: Invoke, tmp_path: Path
) -> None:
    data = write_labels_csv(tmp_path / "ints.csv", labels="int")
    out = tmp_path / "m.safetensors"
    result = invoke("fit", data, "--target", "kind", "--epochs", 5, "--no-plots", "--out", out)
    assert result.stdout.startswith(
        "task: classification of 'kind' (integers with 3 distinct values)"
    )
    assert list(gradfit.load(out).classes_) == [0, 1, 2]
    result = invoke(
        "fit", data, "--target", "kind", "--task", "regression", "--epochs", 5, "--no-plots",
        "--out", out,
    )  # fmt: skip
    assert result.exit_code == 0
    assert type(gradfit.load(out)).__name__ == "MLPRegressor"


def test_a_regression_target_with_task_classification_is_refused(
    invoke: Invoke, tmp_path: Path
) -> None:
    data = write_labels_csv(tmp_path / "floats.csv", labels="float")
    out = tmp_path / "m.safetensors"
    result = invoke("fit", data, "--target", "kind", "--task", "classification", "--out", out)
    assert result.exit_code == Exit.BAD_DATA
    assert_one_line_error(
        result.stderr, "column 'kind' holds non-integer numbers", "use --task regression"
    )
    assert not out.exists()


def test_a_single_class_is_refused(invoke: Invoke, tmp_path: Path) -> None:
    data = tmp_path / "one.csv"
    data.write_text("x,kind\n" + "".join(f"{i},same\n" for i in range(10)))
    result = invoke("fit", data, "--target", "kind", "--out", tmp_path / "m.safetensors")
    assert result.exit_code == Exit.BAD_DATA
    assert_one_line_error(
        result.stderr, "one.csv: column 'kind' holds one label only ('same')", "two or more"
    )


def test_loss_is_refused_for_a_classifier(invoke: Invoke, tmp_path: Path) -> None:
    data = write_labels_csv(tmp_path / "kinds.csv")
    result = invoke(
        "fit", data, "--target", "kind", "--loss", "mse", "--out", tmp_path / "m.safetensors"
    )
    assert result.exit_code == Exit.USAGE
    assert_one_line_error(result.stderr, "--loss is for regression")


def test_resume_continues_a_classifier_exactly(invoke: Invoke, tmp_path: Path) -> None:
    data = write_labels_csv(tmp_path / "kinds.csv")
    common = ("--target", "kind", "--tol", 0, "--batch-size", 16, "--no-plots")
    first, whole = tmp_path / "first.safetensors", tmp_path / "whole.safetensors"
    invoke("fit", data, *common, "--epochs", 6, "--checkpoint-every", 3, "--out", first)
    resumed = tmp_path / "resumed.safetensors"
    checkpoint = tmp_path / "first.checkpoint.safetensors"
    result = invoke(
        "fit", data, *common, "--epochs", 12, "--resume", "--checkpoint", checkpoint,
        "--out", resumed,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    invoke("fit", data, *common, "--epochs", 12, "--out", whole)
    a, b = gradfit.load(resumed), gradfit.load(whole)
    assert a.n_iter_ == 12 and a.accuracy_curve_ == b.accuracy_curve_
    for p, q in zip(a.net_.parameters(), b.net_.parameters(), strict=True):
        assert np.array_equal(p, q)


def test_a_diverging_classifier_exits_5_and_keeps_the_last_finite_model(
    invoke: Invoke, tmp_path: Path
) -> None:
    data = write_labels_csv(tmp_path / "kinds.csv")
    out = tmp_path / "m.safetensors"
    result = invoke(
        "fit", data, "--target", "kind", "--activation", "relu", "--solver", "sgd", "--lr", 100,
        "--no-plots", "--out", out,
    )  # fmt: skip
    assert result.exit_code == Exit.DIVERGED
    assert "training diverged" in result.stderr and not out.exists()
    assert list(gradfit.load(tmp_path / "m.diverged.safetensors").classes_) == ["cat", "dog", "eel"]


def test_the_readme_shell_example_prints_what_the_readme_shows(
    invoke: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from readme_session import assert_prints, console_session, run

    monkeypatch.chdir(tmp_path)
    for command, expected in console_session("## Classification"):
        if command.startswith("python "):  # writes iris.csv
            printed = run(command)
        elif command.startswith("head -3 "):
            printed = Path(command.split()[-1]).read_text().splitlines()[:3]
        else:
            result = invoke(*command.split()[1:])
            assert result.exit_code == 0, result.output
            printed = result.stdout.splitlines()
        assert_prints(printed, expected, command)


def test_an_ensemble_of_classifiers_predicts_its_mean_probability(
    invoke: Invoke, tmp_path: Path
) -> None:
    data = write_labels_csv(tmp_path / "kinds.csv")
    model = tmp_path / "kinds.safetensors"
    result = invoke("fit", data, "--target", "kind", "--epochs", 30, "--ensemble", 3,
                    "--no-plots", "--out", model)  # fmt: skip
    assert result.exit_code == 0, result.output
    loaded = gradfit.load(model)
    assert loaded.n_members == 3
    out = tmp_path / "pred.csv"
    assert invoke("predict", model, data, "--out", out).exit_code == 0
    rows = read_rows(out)
    P = np.array([[float(r[f"P({c})"]) for c in ("cat", "dog", "eel")] for r in rows])
    X = pd.read_csv(data)[["a", "b", "c"]]
    assert_allclose(P, loaded.predict_proba(X), rtol=1e-12)
    result = invoke("predict", model, data, "--interval", "0.9", "--out", tmp_path / "i.csv")
    assert result.exit_code == Exit.USAGE
    assert_one_line_error(result.stderr, "--interval is for regressors", "is a classifier")
    assert not (tmp_path / "i.csv").exists()


def test_evaluate_refuses_labels_the_model_has_not_seen(invoke: Invoke, tmp_path: Path) -> None:
    data = write_labels_csv(tmp_path / "kinds.csv")
    model = tmp_path / "m.safetensors"
    assert invoke("fit", data, "--target", "kind", "--epochs", 3, "--no-plots", "--out", model)
    text = data.read_text().replace(",eel\n", ",fox\n", 2)
    other = tmp_path / "other.csv"
    other.write_text(text)
    result = invoke("evaluate", model, other)
    assert result.exit_code == Exit.BAD_DATA
    assert_one_line_error(
        result.stderr,
        "other.csv column 'kind': label(s) 'fox' are not among the model's classes "
        "('cat', 'dog', 'eel'); score only rows of those classes",
    )
    result = invoke("evaluate", model, data, "--target", "a")  # an input, not labels
    assert result.exit_code == Exit.USAGE
    assert_one_line_error(result.stderr, "--target 'a' is an input column of", "predicts 'kind'")


@pytest.mark.parametrize(
    ("labels", "fragment"),
    [
        # A cast that renames the classes: 'cat' as <U1 is 'c'; 1.5 as an integer is 1.
        ({"label_dtype": "<U1"}, "classes ['cat', 'dog', 'eel'] are not labels of dtype <U1"),
        ({"classes": [0.5, 1.5, 2.5], "label_dtype": "<i8"}, "are not labels of dtype int64"),
        ({"classes": [None, "dog", "eel"]}, "are not labels of dtype <U3"),
        # A cast that overflows was an OverflowError traceback.
        ({"classes": [1, 2, 300], "label_dtype": "|i1"}, "are not labels of dtype int8"),
        # classes_ are sorted as np.unique sorts them; another order renames the outputs.
        ({"classes": ["eel", "dog", "cat"]}, "are not sorted and distinct"),
    ],
)
def test_a_model_file_whose_classes_its_label_dtype_would_change_is_refused(
    invoke: Invoke, tmp_path: Path, labels: dict[str, object], fragment: str
) -> None:
    data = write_labels_csv(tmp_path / "kinds.csv")
    model = tmp_path / "kinds.safetensors"
    fit = ("fit", data, "--target", "kind", "--epochs", 5, "--no-plots", "--out", model)
    assert invoke(*fit).exit_code == 0
    edit_model_metadata(model, lambda doc: doc["estimator"]["labels"].update(labels))
    out = tmp_path / "p.csv"
    result = invoke("predict", model, data, "--out", out)
    assert result.exit_code == Exit.BAD_MODEL, result.output
    assert_one_line_error(result.stderr, "not a valid gradfit model file", fragment)
    assert not out.exists()


def test_evaluate_json_gives_a_classifiers_scores_as_scikit_learn_does(
    invoke: Invoke, tmp_path: Path
) -> None:
    """--json was refused for a classifier (exit 2, 'a classifier's are printed')."""
    from sklearn.metrics import accuracy_score, balanced_accuracy_score, confusion_matrix, log_loss

    data = write_labels_csv(tmp_path / "kinds.csv")
    model = tmp_path / "kinds.safetensors"
    fit = ("fit", data, "--target", "kind", "--epochs", 5, "--no-plots", "--out", model)
    assert invoke(*fit).exit_code == 0
    result = invoke("evaluate", model, data, "--json", "--chunk-rows", 7)
    assert result.exit_code == 0, result.output
    scores = json.loads(result.stdout)["kind"]
    frame = pd.read_csv(data)
    loaded = gradfit.load(model)
    y, X = frame["kind"], frame[["a", "b", "c"]]
    predicted, P = loaded.predict(X), loaded.predict_proba(X)
    assert scores["rows"] == 60 and scores["classes"] == ["cat", "dog", "eel"]
    assert scores["accuracy"] == pytest.approx(accuracy_score(y, predicted), rel=1e-15)
    assert scores["balanced_accuracy"] == pytest.approx(
        balanced_accuracy_score(y, predicted), rel=1e-12
    )
    assert scores["log_loss"] == pytest.approx(log_loss(y, P), rel=1e-12)
    assert scores["confusion_matrix"] == confusion_matrix(y, predicted).tolist()


def test_labels_the_font_cannot_draw_warn_nothing(tmp_path: Path) -> None:
    # matplotlib's "Glyph 29483 missing from font(s)" printed a source line on stderr.
    data = tmp_path / "kinds.csv"
    data.write_text(write_labels_csv(tmp_path / "k.csv").read_text().replace(",cat\n", ",猫\n"))
    model = tmp_path / "m.safetensors"
    result = run_gradfit("fit", data, "--target", "kind", "--epochs", 2, "--out", model)
    assert result.returncode == 0, result.stderr
    assert "Glyph" not in result.stderr and "UserWarning" not in result.stderr
    assert [line.split(":")[1] for line in result.stderr.splitlines()] == [" warning"]
    assert (tmp_path / "m.confusion.png").stat().st_size > 0


def test_integer_labels_above_2_to_the_53_stay_apart(invoke: Invoke, tmp_path: Path) -> None:
    """Ids as labels: 2**53 and 2**53 + 1 were read through float64, one number, so the
    column was taken for a constant target to regress (R² nan, exit 0)."""
    data = write_labels_csv(tmp_path / "kinds.csv")
    big = tmp_path / "big.csv"
    big.write_text(
        data.read_text().replace(",cat\n", f",{2**53}\n").replace(",dog\n", f",{2**53 + 1}\n")
        .replace(",eel\n", f",{2**64 - 1}\n")
    )  # fmt: skip
    model = tmp_path / "big.safetensors"
    result = invoke("fit", big, "--target", "kind", "--epochs", 5, "--no-plots", "--out", model)
    assert result.exit_code == 0, result.output
    assert "integers with 3 distinct values" in result.stdout
    assert gradfit.load(model).classes_.tolist() == [2**53, 2**53 + 1, 2**64 - 1]
    out = tmp_path / "p.csv"
    assert invoke("predict", model, big, "--out", out).exit_code == 0
    assert list(read_rows(out)[0])[1:] == [f"P({2**53})", f"P({2**53 + 1})", f"P({2**64 - 1})"]


def test_one_label_is_refused_naming_the_column(invoke: Invoke, tmp_path: Path) -> None:
    # The estimator's message called it "y has only one class"; evaluate still scores
    # a file whose rows are all of one class.
    data = write_labels_csv(tmp_path / "kinds.csv")
    one = tmp_path / "one.csv"
    lines = data.read_text().splitlines()
    one.write_text("\n".join([lines[0], *(ln for ln in lines[1:] if ln.endswith(",dog"))]) + "\n")
    out = tmp_path / "m.safetensors"
    result = invoke("fit", one, "--target", "kind", "--no-plots", "--out", out)
    assert result.exit_code == Exit.BAD_DATA
    assert_one_line_error(
        result.stderr, "one.csv: column 'kind' holds one label only ('dog'); a classifier needs"
    )
    assert not out.exists()
    assert invoke("fit", data, "--target", "kind", "--epochs", 3, "--no-plots", "--out", out)
    result = invoke("evaluate", out, one)
    assert result.exit_code == 0, result.output
    n_dogs = sum(ln.endswith(",dog") for ln in lines)
    assert f"rows               {n_dogs}\n" in result.stdout


def test_a_target_named_as_a_class_probability_column_is_refused(
    invoke: Invoke, tmp_path: Path
) -> None:
    """A label column named 'P(dog)' with a class 'dog' wrote the header
    'P(dog),P(cat),P(dog),P(eel)' with exit 0: two columns of one name."""
    data = tmp_path / "kinds.csv"
    text = write_labels_csv(tmp_path / "k.csv").read_text()
    data.write_text(text.replace("a,b,c,kind\n", "a,b,c,P(dog)\n"))
    model = tmp_path / "m.safetensors"
    fit = ("fit", data, "--target", "P(dog)", "--epochs", 2, "--no-plots", "--out", model)
    assert invoke(*fit).exit_code == 0
    for out in (tmp_path / "p.csv", "-"):
        result = invoke("predict", model, data, "--out", out)
        assert result.exit_code == Exit.USAGE, result.output
        assert_one_line_error(result.stderr, "would have two columns named 'P(dog)'", "rename")
        assert result.stdout == ""
    assert not (tmp_path / "p.csv").exists()


def test_evaluate_reads_text_labels_that_name_the_models_integer_classes(
    invoke: Invoke, tmp_path: Path
) -> None:
    """A Parquet column of text '0', '1', '2' (which fit --distributed reads as numbers,
    so its model's classes are integers) was refused by evaluate with "label(s) '0', '1',
    '2' are not among the model's classes ('0', '1', '2')"."""
    data = write_labels_csv(tmp_path / "kinds.csv", labels="int")
    model = tmp_path / "m.safetensors"
    fit = ("fit", data, "--target", "kind", "--epochs", 5, "--no-plots", "--out", model)
    assert invoke(*fit).exit_code == 0
    assert gradfit.load(model).classes_.tolist() == [0, 1, 2]
    text = tmp_path / "text.parquet"
    pd.read_csv(data, dtype={"kind": str}).to_parquet(text)
    as_numbers = json.loads(invoke("evaluate", model, data, "--json").stdout)
    result = invoke("evaluate", model, text, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == as_numbers
    other = tmp_path / "other.parquet"
    pd.read_csv(data, dtype={"kind": str}).replace({"kind": {"2": "two"}}).to_parquet(other)
    result = invoke("evaluate", model, other)
    assert result.exit_code == Exit.BAD_DATA
    assert_one_line_error(
        result.stderr, "label(s) 'two' are not among the model's classes (0, 1, 2)"
    )


def test_a_librarys_warning_is_one_gradfit_line(tmp_path: Path) -> None:
    """Sixty classes squeeze the confusion figure: matplotlib's "UserWarning:
    constrained_layout not applied" came with its file, line and source line."""
    data = tmp_path / "many.csv"
    # Two rows a class: one row each is refused (at most half as many classes as rows).
    rows = "".join(f"{i / 60!r},{i % 7!r},c{i % 60}\n" for i in range(120))
    data.write_text("x,z,kind\n" + rows)
    model = tmp_path / "m.safetensors"
    result = run_gradfit("fit", data, "--target", "kind", "--epochs", 2, "--out", model)
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert "gradfit: warning: constrained_layout not applied" in "\n".join(lines)
    assert all(line.startswith("gradfit: warning: ") for line in lines), result.stderr


def test_the_unseen_labels_line_shows_ten_classes_at_most(invoke: Invoke, tmp_path: Path) -> None:
    """A model of sixty classes listed every one of them in the line."""
    data = tmp_path / "many.csv"
    data.write_text("x,kind\n" + "".join(f"{i / 60!r},c{i % 60:02d}\n" for i in range(120)))
    model = tmp_path / "m.safetensors"
    fit = ("fit", data, "--target", "kind", "--epochs", 2, "--no-plots", "--out", model)
    assert invoke(*fit).exit_code == 0
    other = tmp_path / "other.csv"
    other.write_text("x,kind\n0.5,fox\n")
    result = invoke("evaluate", model, other)
    assert result.exit_code == Exit.BAD_DATA
    assert_one_line_error(result.stderr, "classes ('c00', 'c01',", "'c09', … (60 in all))")


def test_members_on_folds_of_their_own_are_scored_out_of_bag(
    invoke: Invoke, tmp_path: Path
) -> None:
    """``--early-stopping --ensemble 5``: each member holds out its own stratified fold; the
    summary's held-out accuracy is each row's label from the members that held it out."""
    data = write_labels_csv(tmp_path / "kinds.csv", n=200)
    out = tmp_path / "kinds.safetensors"
    options = ("--early-stopping", "--ensemble", 5, "--epochs", 30, "--no-plots")
    result = invoke("fit", data, "--target", "kind", *options, "--out", out)
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(data)
    twin = gradfit.MLPClassifier(early_stopping=True, n_members=5, max_iter=30, random_state=0)
    with pytest.warns(ConvergenceWarning):  # 30 epochs: as the command's run
        twin.fit(frame[["a", "b", "c"]], frame["kind"])
    assert twin.validation_rows_.shape == (5, 40)
    assert_allclose(np.nansum(twin.oob_decision_function_, axis=1), 1.0, rtol=1e-12)
    oob = twin.classes_[np.argmax(twin.oob_decision_function_, axis=1)]
    held = np.unique(twin.validation_rows_)
    right = np.mean(oob[held] == frame["kind"].to_numpy()[held])
    lines = result.stdout.splitlines()
    assert "5 networks, each holding out 40 of its own for validation" in lines[2]
    said = lines[-2]
    assert f"{right:.4f} (log loss" in said and f"on the {held.size} held-out rows" in said


def test_the_decision_regions_span_two_varied_inputs_and_hold_categories_at_their_mode() -> None:
    # R's penguins put two one-hot island columns first: a plane over them is four points.
    from gradfit.cli.class_outputs import _held_values, _one_hot_groups, _shown_pair

    features = ("island=A", "island=B", "island=C", "flag", "bill", "depth", "mass")
    groups = _one_hot_groups(features, {"island": ["A", "B", "C"], "absent": ["x"]})
    assert groups == [[0, 1, 2]]
    rng = np.random.default_rng(3)
    island = np.repeat(np.eye(3), [3, 4, 3], axis=0)  # B is the most common, at 40 %
    flag = np.array([0, 1, 1, 0, 1, 0, 1, 1, 0, 1.0])
    X = np.column_stack([island, flag, rng.normal(size=(10, 3))])
    assert _shown_pair(X, groups) == [4, 5]
    held = _held_values(X, groups)
    # Per-column medians would be (0, 0, 0): a penguin of no island.
    assert held[:3].tolist() == [0.0, 1.0, 0.0]
    assert held[3:].tolist() == np.median(X[:, 3:], axis=0).tolist()
    assert _shown_pair(X[:, :5], groups) == [0, 1]  # fewer than two varied inputs


def test_the_decision_regions_span_measurements_before_counts() -> None:
    # carData's Mroz: children under 6 (0-3) and 6-18 (0-8) come before age and log wage.
    from gradfit.cli.class_outputs import _shown_pair

    rng = np.random.default_rng(4)
    young, older = rng.integers(0, 4, 200), rng.integers(0, 9, 200)
    age, wage = rng.integers(30, 61, 200), rng.normal(size=200)
    X = np.column_stack([young, older, age, wage]).astype(float)
    assert _shown_pair(X, []) == [2, 3]
    assert _shown_pair(X[:, [0, 1, 3]], []) == [2, 0]  # one measurement, then a count


def _two_targets(tmp_path: Path, p: list[str], q: list[str]) -> Path:
    x = np.linspace(-2, 2, len(p))
    rows = [f"{a},{b},{c}" for a, b, c in zip(x.tolist(), p, q, strict=True)]
    path = tmp_path / "two.csv"
    path.write_text("x,p,q\n" + "\n".join(rows) + "\n")
    return path


def test_two_true_false_targets_train_a_multilabel_classifier(
    invoke: Invoke, tmp_path: Path
) -> None:
    """Two True/False columns (as pandas writes booleans) trained a regressor of 1.0 and
    0.0, exit 0, where 0/1 columns train a multilabel classifier."""
    p = ["True", "False"] * 20
    q = ["False"] * 10 + ["True"] * 30
    data, out = _two_targets(tmp_path, p, q), tmp_path / "m.safetensors"
    result = invoke("fit", data, "--target", "p", "--target", "q", "--out", out, "--epochs", 2,
                    "--no-plots")  # fmt: skip
    assert result.exit_code == Exit.OK, result.stderr
    assert "task: classification of 'p', 'q' (every target column is 0/1: multilabel)" in (
        result.stdout
    )
    assert invoke("predict", out, data, "--out", tmp_path / "p.csv").exit_code == Exit.OK
    header = (tmp_path / "p.csv").read_text().splitlines()[0]
    assert header == "p,q,P(p),P(q)"


def test_two_targets_of_text_labels_say_to_fit_one_model_each(
    invoke: Invoke, tmp_path: Path
) -> None:
    """Two targets of text labels said "column 'p', row 1 (line 2): 'yes' is not a
    number": taken for two numbers to regress."""
    data = _two_targets(tmp_path, ["yes", "no"] * 20, [str(k % 2) for k in range(40)])
    result = invoke("fit", data, "--target", "p", "--target", "q", "--out",
                    tmp_path / "m.safetensors", "--epochs", 2)  # fmt: skip
    assert result.exit_code == Exit.BAD_DATA
    assert_one_line_error(
        result.stderr,
        f"{data}: target column(s) 'p' hold labels that are not 0/1; several target columns "
        "make a classifier only when each holds 0/1 (or True/False): a multilabel "
        "classification. Fit one model per column of labels (one --target each)",
    )
    assert not (tmp_path / "m.safetensors").exists()


def test_integer_codes_keep_their_spelling_in_the_model_and_the_predictions(
    invoke: Invoke, tmp_path: Path
) -> None:
    """Labels 01, 02 and 10 (codes) were classes 1, 2 and 10: predict wrote 1 where the
    file said 01, and a join on the column found nothing."""
    codes = ["01", "02", "10", "01"] * 10
    x = np.linspace(-2, 2, len(codes))
    data = tmp_path / "codes.csv"
    data.write_text(
        "x,code\n" + "".join(f"{a},{c}\n" for a, c in zip(x.tolist(), codes, strict=True))
    )
    out = tmp_path / "m.safetensors"
    assert invoke("fit", data, "--target", "code", "--out", out, "--epochs", 2,
                  "--no-plots").exit_code == Exit.OK  # fmt: skip
    assert gradfit.load(out).classes_.tolist() == ["01", "02", "10"]
    assert invoke("predict", out, data, "--out", tmp_path / "p.csv").exit_code == Exit.OK
    written = pd.read_csv(tmp_path / "p.csv", dtype=str)
    assert list(written.columns) == ["code", "P(01)", "P(02)", "P(10)"]
    assert set(written["code"]) <= {"01", "02", "10"}
    # evaluate reads the codes a chunk at a time, as numbers: each is matched by its value.
    whole = invoke("evaluate", out, data, "--json")
    chunked = invoke("evaluate", out, data, "--json", "--chunk-rows", 3)
    assert whole.exit_code == chunked.exit_code == Exit.OK, chunked.stderr
    scores, by_chunks = json.loads(whole.stdout)["code"], json.loads(chunked.stdout)["code"]
    assert by_chunks.pop("log_loss") == pytest.approx(scores.pop("log_loss"), rel=1e-12)
    assert by_chunks == scores  # the counts, accuracy and confusion matrix exactly
    assert scores["rows"] == 40 and scores["classes"] == ["01", "02", "10"]
