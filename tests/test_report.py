"""gradfit.report: one self-contained HTML file with every figure embedded."""

from __future__ import annotations

import base64
import re

import pytest

pytest.importorskip("matplotlib")
pytest.importorskip("torch")

from gradfit import report
from gradfit.report import html, walkthrough

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
# Part 1: 9 figures, part 2: 4; parity: 2 pairs of runs, the two fits, the parameter paths.
N_FIGURES = 9 + 5 + 4


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    path = tmp_path_factory.mktemp("report") / "report.html"
    assert report.write(path, seed=1) == path
    return path.read_text(encoding="utf-8")


def test_every_figure_is_embedded_as_a_png(page):
    images = re.findall(r'<img alt="[^"]*" src="data:image/png;base64,([A-Za-z0-9+/=]+)">', page)
    assert len(images) == N_FIGURES
    assert page.count("<img") == N_FIGURES
    assert page.count("<figcaption>") == N_FIGURES
    for data in images:
        png = base64.b64decode(data, validate=True)
        assert png[:8] == PNG_MAGIC
        assert len(png) > 15_000


def test_nothing_is_linked(page):
    assert page.startswith("<!DOCTYPE html>")
    # Base64 can spell "http" by chance: look only outside the embedded images.
    text = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", page)
    assert "http" not in text
    assert re.findall(r'src="([^"]{0,22})', page) == ["data:image/png;base64,"] * N_FIGURES
    for tag in ("<link", "<script", "<iframe", "url("):
        assert tag not in text


def test_it_walks_through_both_halves_with_the_logs(page):
    for heading in (
        "Part 1: a straight line from scratch, in NumPy",
        "Checking the hand-derived gradient",
        "Part 2: the same with PyTorch autograd",
        "The NumPy engine against PyTorch, step by step",
    ):
        assert f"<h2>{heading}</h2>" in page
    assert "Epoch:   10  Loss: " in page
    assert page.count("(sum of squared errors)</pre>") == 3
    assert page.count("(mean squared error)</pre>") == 1
    # Both gradient-check tables, and both agree.
    assert page.count("OK: all three agree on every parameter") == 2


def test_the_backends_agree_in_the_parity_table(page):
    rows = re.findall(
        r"<tr><td>([^<]+)</td><td>(\d+)</td>(<td>[^<]+</td>){2}<td>([^<]+)</td>", page
    )
    assert [(name, epochs) for name, epochs, _, _ in rows] == [
        ("nn.Linear(1, 1), hand-written update", "200"),
        ("1-64-1 ReLU network, Adam", "100"),
    ]
    for *_, difference in rows:
        assert float(difference) < 1e-12


def test_a_failed_report_leaves_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "report.html"
    path.write_text("old report")

    def broken(seed):
        raise RuntimeError("boom")

    monkeypatch.setattr(walkthrough, "conventions", broken)
    with pytest.raises(RuntimeError, match="boom"):
        report.write(path, seed=0)
    assert path.read_text() == "old report"
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]


def test_text_is_escaped():
    assert html.paragraph("a < b & c") == "<p>a &lt; b &amp; c</p>"
    assert html.table(["<x>"], [["1 > 0"]]) == (
        "<table><thead><tr><th>&lt;x&gt;</th></tr></thead>"
        "<tbody><tr><td>1 &gt; 0</td></tr></tbody></table>"
    )
    assert html.preformatted(["<b>", "ok"]) == "<pre>&lt;b&gt;\nok</pre>"
