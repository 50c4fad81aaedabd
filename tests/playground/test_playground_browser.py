"""End to end in a real headless browser: Debian's chromium driven by Playwright.

No browser is downloaded: Playwright launches the system's ``/usr/bin/chromium``
(``GRADFIT_CHROMIUM`` to use another). Without it the tests skip, unless
``GRADFIT_REQUIRE_BROWSER=1`` (set by CI), when they fail. Screenshots go to
``GRADFIT_SCREENSHOTS`` when set, else to pytest's temporary folder.
"""

from __future__ import annotations

import csv
import importlib.util
import os
import shlex
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from playground_helpers import live_server

from gradfit.cli import cli
from gradfit.playground.server import create_app

CHROMIUM = os.environ.get("GRADFIT_CHROMIUM", "/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _unavailable(problem: str) -> None:
    if os.environ.get("GRADFIT_REQUIRE_BROWSER") == "1":
        pytest.fail(f"GRADFIT_REQUIRE_BROWSER=1 but {problem}")
    pytest.skip(problem)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if importlib.util.find_spec("playwright") is None:
        _unavailable("Playwright for Python is not installed (pip install playwright)")
    if not os.access(CHROMIUM, os.X_OK):
        _unavailable(f"{CHROMIUM} is missing (apt-get install -y chromium)")
    from playwright.sync_api import Error, sync_playwright

    with sync_playwright() as p:
        try:
            chromium = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        except Error as exc:
            _unavailable(f"{CHROMIUM} did not start: {exc}")
        print(f"\nbrowser: {CHROMIUM}, version {chromium.version}")
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def base() -> Iterator[str]:
    with live_server(create_app()) as address:
        yield f"http://{address}"


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = os.environ.get("GRADFIT_SCREENSHOTS")
    path = Path(folder) if folder else tmp_path_factory.mktemp("screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    yield page
    page.close()
    assert not problems, problems


def state(page: Any, expression: str) -> Any:
    return page.evaluate(
        f"(() => {{ const s = window.gradfitPlayground.state; return {expression}; }})()"
    )


def wait(page: Any, condition: str, timeout: float = 30_000) -> None:
    page.wait_for_function(
        f"() => window.gradfitPlayground && (() => {{ const s = window.gradfitPlayground.state; "
        f"return {condition}; }})()",
        timeout=timeout,
    )


def paused_at(page: Any) -> int:
    wait(page, "document.body.dataset.state === 'paused'")
    return int(state(page, "s.epoch"))


def test_play_export_reload_and_upload(
    browser: Any, page: Any, base: str, shots: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Load the walk-through's 1-64-1 on the sine, then change settings on the page.
    page.goto(f"{base}/#data=sine&hidden=64&activation=relu&optimizer=adam&lr=0.01&speed=10")
    wait(page, "s.data !== null && s.view !== null")
    page.select_option("#activation", "tanh")
    wait(page, "s.data.settings.activation === 'tanh'")
    page.select_option("#lr", "0.03")
    wait(page, "s.data.settings.lr === 0.03 && s.view !== null")
    initial_test_loss = state(page, "s.initialTest")

    # Play for 3 s: the updates that reach the page, and the epochs each carries.
    page.click("#play")
    wait(page, "s.running")
    time.sleep(3.0)
    page.click("#play")
    epoch = paused_at(page)
    updates = page.evaluate("window.gradfitPlayground.updates.filter(u => u.epoch > 0)")
    playing = updates[:-1]  # the last one is cut short by the pause
    seconds = (playing[-1]["t"] - playing[0]["t"]) / 1000
    rate = (len(playing) - 1) / seconds
    fewest = min(u["epochs"] for u in playing)
    print(
        f"\nbrowser: {len(playing)} updates in {seconds:.2f} s = {rate:.1f} updates/s, "
        f"each carrying {fewest} epochs or more; paused at epoch {epoch}"
    )
    assert rate >= 20 and fewest >= 10
    final_test_loss = state(page, "s.test[s.test.length - 1]")
    assert final_test_loss < initial_test_loss / 2
    page.screenshot(path=str(shots / "playground-sine.png"), full_page=True)

    # Export, download, and run the command: the same final loss, exactly.
    page.click("#export")
    wait(page, "window.gradfitPlayground.exports.length === 1")
    export = page.evaluate("window.gradfitPlayground.exports[0]")
    assert export["epoch"] == epoch
    assert export["final_loss"] == state(page, "s.train[s.train.length - 1]")
    assert page.inner_text("#command") == export["command"]
    for name, url in export["files"].items():
        with urllib.request.urlopen(base + url) as response:
            (tmp_path / name).write_bytes(response.read())
    monkeypatch.chdir(tmp_path)
    args = shlex.split(export["command"])
    result = CliRunner().invoke(cli, [*args[1:], "--no-plots"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    history = list(csv.DictReader((tmp_path / "model.history.csv").open()))
    assert float(history[-1]["loss"]) == export["final_loss"]
    page.screenshot(path=str(shots / "playground-export.png"), full_page=True)

    # The link reproduces the page: same settings, trained to the same epoch and loss.
    link = page.url
    assert f"epoch={epoch}" in link and "activation=tanh" in link and "lr=0.03" in link
    again = browser.new_page(viewport={"width": 1400, "height": 1000})
    again.goto(link)
    wait(again, f"s.epoch === {epoch} && document.body.dataset.state === 'paused'", 60_000)
    assert again.input_value("#activation") == "tanh" and again.input_value("#lr") == "0.03"
    assert state(again, "s.train[s.train.length - 1]") == export["final_loss"]
    assert state(again, "s.test[s.test.length - 1]") == final_test_loss
    again.close()

    # Upload a CSV of one's own and pick its columns.
    table = tmp_path / "cars.csv"
    table.write_text("speed,dist\n" + "".join(f"{v},{2 * v + v * 37 % 11}\n" for v in range(4, 54)))
    page.set_input_files("#csv", str(table))
    page.wait_for_selector("#table:not([hidden])")
    page.select_option("#features", ["speed"])
    page.select_option("#target", "dist")
    page.click("#use-table")
    wait(page, "s.data.features.join() === 'speed' && s.data.target === 'dist'")
    page.click("#step")
    wait(page, "s.epoch === 1")
    page.click("#play")
    wait(page, "s.epoch >= 200")
    page.click("#play")
    paused_at(page)
    assert "data=csv" in page.url and "features=speed" in page.url
    page.screenshot(path=str(shots / "playground-csv.png"), full_page=True)


def test_a_surface_and_the_lines_descent(page: Any, base: str, shots: Path) -> None:
    settings = "hidden=8,8&activation=tanh&lr=0.03&n_points=300&train_fraction=0.5&noise=0.1"
    page.goto(f"{base}/#data=peaks&{settings}&speed=30")
    wait(page, "s.view !== null")
    page.click("#play")
    wait(page, "s.epoch >= 1500", 60_000)
    page.click("#play")
    paused_at(page)
    assert state(page, "s.view.scores.test.r2") > 0.8
    page.screenshot(path=str(shots / "playground-peaks.png"), full_page=True)

    page.goto(f"{base}/#data=line&hidden=&optimizer=sgd&lr=0.03&train_fraction=0.5&noise=2&speed=1")
    page.reload()
    wait(page, "s.view !== null && s.data.contours !== null")
    assert page.is_visible("#descent-box")
    page.click("#play")
    wait(page, "s.epoch >= 60", 60_000)
    page.click("#play")
    paused_at(page)
    path = state(page, "s.path")
    assert len(path) >= 60
    page.screenshot(path=str(shots / "playground-line.png"), full_page=True)
