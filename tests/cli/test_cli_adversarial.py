"""Bad input to the classifier and the ensembles from the shell (issues 16 and 17's
adversarial pass): one line that fits the command, its exit code, nothing overwritten."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from cli_helpers import GOOD_MODEL, Invoke

from gradfit.cli.exits import Exit
from gradfit.cli.predict import percent


def labels_csv(path: Path, n: int = 40) -> Path:
    """``a, b, kind, left, up``: kind is one of three classes; left and up are 0/1."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, 2))
    kind = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0.5).astype(int)
    rows = [
        f"{a!r},{b!r},k{k},{int(a > 0)},{int(b > 0)}"
        for (a, b), k in zip(X.tolist(), kind, strict=True)
    ]
    path.write_text("a,b,kind,left,up\n" + "\n".join(rows) + "\n")
    return path


@pytest.fixture
def classifier(invoke: Invoke, tmp_path: Path) -> Path:
    model = tmp_path / "clf.safetensors"
    result = invoke("fit", labels_csv(tmp_path / "kinds.csv"), "--target", "kind",
                    "--features", "a", "--features", "b", "--hidden", 4, "--epochs", 2,
                    "--no-plots", "--out", model)  # fmt: skip
    assert result.exit_code == 0, result.stderr
    return model


@pytest.mark.parametrize(
    ("targets", "problem"),
    [
        (["score"], "column 'score' holds non-integer numbers (row 1: 0.1257302210933933), "
         "not class labels"),
        (["kind", "score"], "several target columns make a multilabel classification only "
         "when each holds 0/1"),
    ],
)  # fmt: skip
def test_evaluate_on_numbers_asks_for_the_labels_not_for_a_task_option(
    invoke: Invoke, tmp_path: Path, classifier: Path, targets: list[str], problem: str
) -> None:
    # evaluate has no --task: it advised "use --task regression to fit numbers". (The
    # numbers are a column the model does not read: an input as --target is refused first.)
    data = tmp_path / "scored.csv"
    frame = pd.read_csv(tmp_path / "kinds.csv")
    frame.assign(score=frame["a"]).to_csv(data, index=False)
    args = [a for t in targets for a in ("--target", t)]
    result = invoke("evaluate", classifier, data, *args)
    assert result.exit_code == Exit.BAD_DATA
    assert result.stderr == (
        f"gradfit: error: {data}: {problem}; {classifier} is a classifier: score it on its "
        "label column(s) (--target)\n"
    )


def test_fit_on_numbers_as_labels_still_offers_regression(invoke: Invoke, tmp_path: Path) -> None:
    data = labels_csv(tmp_path / "kinds.csv")
    result = invoke("fit", data, "--target", "a", "--task", "classification", "--out",
                    tmp_path / "m.safetensors")  # fmt: skip
    assert result.exit_code == Exit.BAD_DATA
    assert result.stderr.endswith(
        "not class labels; give a column of labels, or use --task regression to fit numbers\n"
    )
    assert not (tmp_path / "m.safetensors").exists()


@pytest.mark.parametrize(
    ("coverage", "said"),
    [
        (0.9, "90%"),
        (0.925, "92.5%"),
        # Both were written as "100%", and 1e-300 as "0%".
        (0.999999999999, "99.9999999999%"),
        (1 - 2**-53, "99.99999999999999%"),
        (1e-300, "1e-298%"),
    ],
)
def test_predict_names_the_coverage_it_was_given(coverage: float, said: str) -> None:
    assert percent(coverage) == said


def test_true_and_false_labels_come_back_as_written(invoke: Invoke, tmp_path: Path) -> None:
    # pandas reads them as booleans: they became classes 0 and 1, and predict wrote 1, 0.
    data = labels_csv(tmp_path / "kinds.csv")
    data.write_text(data.read_text().replace(",k0,", ",True,").replace(",k1,", ",False,")
                    .replace(",k2,", ",False,"))  # fmt: skip
    model, out = tmp_path / "m.safetensors", tmp_path / "p.csv"
    result = invoke("fit", data, "--target", "kind", "--features", "a", "--features", "b",
                    "--hidden", 4, "--epochs", 2, "--no-plots", "--out", model)  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert "classification of 'kind' (True/False labels, 2 classes)" in result.stdout
    assert invoke("predict", model, data, "--out", out).exit_code == 0
    header, first = out.read_text().splitlines()[:2]
    assert header == "kind,P(False),P(True)"
    assert first.split(",")[0] in ("True", "False")
    result = invoke("evaluate", model, data)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[-3].split() == ["False", "True"]


def test_a_label_with_a_line_break_keeps_the_confusion_matrix_one_row_per_class(
    invoke: Invoke, tmp_path: Path
) -> None:
    data = labels_csv(tmp_path / "kinds.csv")
    data.write_text(data.read_text().replace(",k1,", ',"one\nbreak",'))
    model = tmp_path / "m.safetensors"
    result = invoke("fit", data, "--target", "kind", "--features", "a", "--features", "b",
                    "--hidden", 4, "--epochs", 2, "--no-plots", "--out", model)  # fmt: skip
    assert result.exit_code == 0, result.stderr
    result = invoke("evaluate", model, data)
    assert result.exit_code == 0, result.stderr
    table = result.stdout.splitlines()[-4:]
    assert table[0].split() == ["k0", "k2", "one\\nbreak"]
    assert [row.split()[0] for row in table[1:]] == ["k0", "k2", "one\\nbreak"]


def test_multilabel_probabilities_are_named_after_their_labels(
    invoke: Invoke, tmp_path: Path
) -> None:
    # They were P(0) and P(1), as if 0 and 1 were classes of one label.
    data = labels_csv(tmp_path / "kinds.csv")
    model, out = tmp_path / "m.safetensors", tmp_path / "p.csv"
    result = invoke("fit", data, "--target", "left", "--target", "up", "--features", "a",
                    "--features", "b", "--hidden", 4, "--epochs", 2, "--no-plots", "--out",
                    model)  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert "every target column is 0/1: multilabel" in result.stdout
    assert invoke("predict", model, data, "--out", out).exit_code == 0
    assert out.read_text().splitlines()[0] == "left,up,P(left),P(up)"


@pytest.mark.parametrize(
    ("command", "name", "holds", "role", "wants"),
    [
        # fit --out a CSV the user keeps wrote a model over it, with exit 0.
        ("fit", "results.csv", b"id,score\n1,0.5\n", "model",
         "text, not a model or checkpoint (a safetensors file)"),
        ("fit", "table.parquet", b"PAR1\0\0\x15\x04", "model",
         "binary data, not a model or checkpoint (a safetensors file)"),
        # NAME.history.csv and NAME.training.png are named after --out, not by the user.
        ("fit", "m.history.csv", b"id,score\n1,0.5\n", "history",
         "text, not a training history (epoch, loss, …)"),
        ("fit", "m.training.png", b"my notes\n", "training figure", "text, not a PNG picture"),
        # predict --out another model wrote a CSV over it.
        ("predict", "other.safetensors", GOOD_MODEL, "predictions",
         "a model or checkpoint (a safetensors file), not text"),
    ],
)  # fmt: skip
def test_an_existing_file_of_another_kind_is_not_replaced(
    invoke: Invoke,
    tmp_path: Path,
    classifier: Path,
    command: str,
    name: str,
    holds: bytes,
    role: str,
    wants: str,
) -> None:
    data = tmp_path / "kinds.csv"
    users = tmp_path / name
    users.write_bytes(holds)
    out = users if role in ("model", "predictions") else tmp_path / "m.safetensors"
    args = {
        "fit": ["fit", data, "--target", "kind", "--epochs", 2, "--out", out],
        "predict": ["predict", classifier, data, "--out", out],
    }[command]
    result = invoke(*args)
    assert result.exit_code == Exit.USAGE
    assert result.stderr == (
        f"gradfit: error: cannot write the {role} to '{users}': it holds {wants}, which would "
        "be lost; choose another path, or move that file away first\n"
    )
    assert users.read_bytes() == holds


def test_the_last_runs_files_and_empty_files_are_replaced(invoke: Invoke, tmp_path: Path) -> None:
    data = labels_csv(tmp_path / "kinds.csv")
    out = tmp_path / "m.safetensors"
    out.touch()  # as mktemp leaves it
    for _ in range(2):  # the second replaces the model, history and figures of the first
        result = invoke("fit", data, "--target", "kind", "--epochs", 2, "--out", out)
        assert result.exit_code == 0, result.stderr
    predictions = tmp_path / "p.csv"
    for _ in range(2):
        assert invoke("predict", out, data, "--out", predictions).exit_code == 0


def test_a_target_of_mostly_numbers_with_text_offers_classification(
    invoke: Invoke, tmp_path: Path
) -> None:
    # Labels 'a', '1', '2' read as numbers with a typo: the line said only "'a' is not a
    # number", where --task classification fits them.
    data = tmp_path / "mixed.csv"
    data.write_text("x,y\n" + "".join(f"{i},{'a12'[i % 3]}\n" for i in range(30)))
    result = invoke("fit", data, "--target", "y", "--out", tmp_path / "m.safetensors")
    assert result.exit_code == Exit.BAD_DATA
    assert result.stderr == (
        f"gradfit: error: {data}: column 'y', row 1 (line 2): 'a' is not a number; if the "
        "column holds labels, --task classification\n"
    )
    result = invoke("fit", data, "--target", "y", "--task", "regression", "--out",
                    tmp_path / "m.safetensors")  # fmt: skip
    assert result.stderr.endswith("'a' is not a number\n")
    result = invoke("fit", data, "--target", "y", "--task", "classification", "--epochs", 2,
                    "--out", tmp_path / "m.safetensors")  # fmt: skip
    assert result.exit_code == 0, result.stderr


@pytest.mark.parametrize(
    ("labels", "said"),
    [
        # An id column as the target: a one-hot target of rows × rows (20,000 ids: 3 GB)
        # before the first epoch.
        ([f"u{i}" for i in range(40)], "40 distinct labels in 40 rows (40 of them"),
        (["a", "b", "c"], "3 distinct labels in 3 rows (3 of them"),
    ],
)
def test_more_classes_than_half_the_rows_is_refused(
    invoke: Invoke, tmp_path: Path, labels: list[str], said: str
) -> None:
    data = tmp_path / "ids.csv"
    data.write_text("x,id\n" + "".join(f"{i},{label}\n" for i, label in enumerate(labels)))
    result = invoke("fit", data, "--target", "id", "--out", tmp_path / "m.safetensors")
    assert result.exit_code == Exit.BAD_DATA
    assert result.stderr == (
        f"gradfit: error: {data}: column 'id' holds {said} on one row only); a classifier "
        "learns each class from its rows, and needs at most half as many classes as rows (is "
        "it an id, or free text?): choose another --target, or fit numbers with --task "
        "regression\n"
    )


def test_true_and_false_score_a_model_that_took_them_for_one_and_zero() -> None:
    from gradfit.cli.running_scores import as_labels

    labels = as_labels(np.array(["True", "False", "True"]), np.array([0, 1]))
    assert labels.tolist() == [1, 0, 1]


def test_loss_on_integers_taken_for_labels_says_how_to_regress(
    invoke: Invoke, tmp_path: Path
) -> None:
    # Integer counts with --loss gaussian_nll were refused as "--loss is for regression;
    # a classifier trains on cross-entropy", without saying why a classifier, or --task.
    data = tmp_path / "counts.csv"
    data.write_text("x,n\n" + "".join(f"{i},{i % 4}\n" for i in range(40)))
    args = ("fit", data, "--target", "n", "--loss", "gaussian_nll", "--epochs", 2, "--out",
            tmp_path / "m.safetensors")  # fmt: skip
    result = invoke(*args)
    assert result.exit_code == Exit.USAGE
    assert result.stderr == (
        "gradfit: error: --loss is for regression, and the target was taken for labels (a "
        "classifier trains on cross-entropy): leave --loss out, or give --task regression to "
        "fit its numbers\n"
    )
    assert invoke(*args, "--task", "regression").exit_code == 0
