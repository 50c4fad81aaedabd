"""The server alone, through Starlette's TestClient WebSocket: every message type, and
every bad message or parameter answered by an ``error`` on the channel."""

from __future__ import annotations

import io
import json
import time

import numpy as np
import pytest
from playground_helpers import Channel
from starlette.testclient import TestClient

from gradfit import load
from gradfit.playground import session as session_module
from gradfit.playground.limits import LIMITS


def test_hello_states_the_caps_and_defaults(client: TestClient) -> None:
    with client.websocket_connect("/ws") as ws:
        hello = Channel(ws).receive()
    assert hello["type"] == "hello"
    assert hello["limits"] == LIMITS.as_dict()
    assert hello["defaults"]["data"] == "sine" and hello["defaults"]["hidden"] == [64]


def test_configure_sends_the_data_the_initial_view_and_idle(channel: Channel) -> None:
    data, update, status = channel.configure(data="sine", n_points=100, train_fraction=0.2)
    assert data["type"] == "data" and data["sizes"] == [1, 64, 1]
    # The walk-through's sine: 100 points, 20 for training.
    assert len(data["train"]["y"]) == 20 and len(data["test"]["y"]) == 80
    assert len(data["grid"]) == len(data["truth"]) == 200
    assert update["epoch"] == 0 and update["loss"] == [] and len(update["view"]["fit"]) == 200
    assert status == {"type": "status", "state": "idle", "epoch": 0, "note": None}


def test_the_walkthrough_sine_is_the_demos_own(channel: Channel) -> None:
    from gradfit.demo.problems import problems

    data = channel.configure(data="sine", seed=3)[0]
    sine = problems(3).sine
    np.testing.assert_array_equal(np.ravel(data["train"]["X"]), sine.x_train)
    np.testing.assert_array_equal(data["train"]["y"], sine.y_train)


def test_play_streams_every_epoch_once_and_stops_where_asked(channel: Channel) -> None:
    channel.configure(data="sine")
    channel.send({"type": "speed", "epochs_per_update": 7})
    got = channel.play_to(50)
    updates = [m for m in got if m["type"] == "update"]
    losses = [v for m in updates for v in m["loss"]]
    tests = [v for m in updates for v in m["test_loss"]]
    assert len(losses) == len(tests) == 50
    assert [m["first"] for m in updates] == [*range(1, 50, 7), 50]
    # Each update carries 7 epochs, the last the remainder up to the pause.
    assert [len(m["loss"]) for m in updates] == [7] * 7 + [1]
    assert updates[-1]["epoch"] == 50
    assert tests[-1] < tests[0]  # the test loss falls on the sine
    scores = updates[-1]["view"]["scores"]
    assert scores["test"]["r2"] > 0.5 and scores["train"]["rmse"] < 1.5


def test_step_trains_one_epoch_or_the_number_asked(channel: Channel) -> None:
    channel.configure(data="line", hidden=[])
    channel.send({"type": "step"})
    update = channel.until_type("update")[-1]
    assert update["epoch"] == 1 and len(update["loss"]) == 1
    assert len(update["view"]["point"]) == 2  # the line's (w, b)
    assert channel.until_type("status")[-1] == {
        "type": "status", "state": "paused", "epoch": 1, "note": None,
    }  # fmt: skip
    channel.send({"type": "step", "epochs": 5})
    assert channel.until_type("status")[-1]["epoch"] == 6


def test_pause_stops_the_updates(channel: Channel) -> None:
    channel.configure(data="sine")
    channel.send({"type": "play"})
    channel.until_type("update")
    channel.send({"type": "pause"})
    paused = channel.until(lambda m: m["type"] == "status" and m["state"] == "paused")[-1]
    time.sleep(0.2)
    channel.send({"type": "ping", "id": 1})
    # Nothing after the pause but, at most, the same status again.
    assert [m["type"] for m in channel.until_type("pong")] in (["pong"], ["status", "pong"])
    assert paused["epoch"] >= 1


def test_reset_starts_again_from_the_same_network(channel: Channel) -> None:
    first = channel.configure(data="sine", seed=5)[1]
    channel.play_to(20)
    channel.send({"type": "reset"})
    again = channel.until(lambda m: m["type"] == "update")[-1]
    assert again["epoch"] == 0 and again["view"] == first["view"]


def test_a_link_replays_to_the_same_numbers(client: TestClient) -> None:
    runs = []
    for _ in range(2):
        with client.websocket_connect("/ws") as ws:
            ch = Channel(ws)
            ch.receive()
            ch.configure(data="peaks", hidden=[8, 8], batch_size=16, optimizer="momentum", lr=0.01)
            runs.append([v for m in ch.play_to(30) if m["type"] == "update" for v in m["loss"]])
    assert runs[0] == runs[1]


def test_ping_is_answered_with_its_id(channel: Channel) -> None:
    channel.send({"type": "ping", "id": "abc"})
    assert channel.receive() == {"type": "pong", "id": "abc"}


def test_export_gives_command_script_and_files(client: TestClient, channel: Channel) -> None:
    channel.configure(data="sine", hidden=[16])
    channel.play_to(25)
    channel.send({"type": "export"})
    export = channel.until_type("export")[-1]
    assert export["epoch"] == 25
    assert "--epochs 25" in export["command"] and "--seed 0" in export["command"]
    assert "max_iter=25" in export["python"]
    train = client.get(export["files"]["playground-train.csv"])
    assert train.status_code == 200 and train.text.startswith("x,y\n")
    assert len(train.text.splitlines()) == 21
    model_file = client.get(export["files"]["model.safetensors"])
    path = io.BytesIO(model_file.content)
    assert model_file.headers["content-disposition"] == 'attachment; filename="model.safetensors"'
    assert path.getbuffer().nbytes > 0
    assert client.get("/download/nobody/model.safetensors").status_code == 404


def test_the_exported_model_file_predicts_what_the_page_shows(
    client: TestClient, channel: Channel, tmp_path: object
) -> None:
    import pathlib

    import pandas as pd

    data = channel.configure(data="sine", hidden=[16])[0]
    got = channel.play_to(10)
    channel.send({"type": "export"})
    export = channel.until_type("export")[-1]
    target = pathlib.Path(str(tmp_path)) / "model.safetensors"
    target.write_bytes(client.get(export["files"]["model.safetensors"]).content)
    model = load(target)
    last = [m for m in got if m["type"] == "update"][-1]
    x, shown = np.ravel(data["grid"]), np.array(last["view"]["fit"])
    # The page draws the network itself; the model file holds inputs to the training
    # range (the estimator's clip_inputs), so they agree within it.
    seen = np.ravel(data["train"]["X"])
    inside = (x >= seen.min()) & (x <= seen.max())
    predicted = model.predict(pd.DataFrame({"x": x[inside]}))
    np.testing.assert_allclose(predicted, shown[inside], rtol=1e-3, atol=1e-3)


CSV = "a,b,c\n" + "".join(f"{i},{i % 7},{2 * i + 1}\n" for i in range(60))


def upload(channel: Channel, text: str, name: str = "mine.csv") -> None:
    content = text.encode()
    channel.send({"type": "upload", "name": name, "size": len(content)})
    channel.ws.send_bytes(content)


def test_upload_then_pick_columns(channel: Channel) -> None:
    upload(channel, CSV)
    table = channel.until_type("table")[-1]
    assert table["columns"] == ["a", "b", "c"] and table["n_rows"] == 60
    data = channel.configure(data="csv", features=["a", "b"], target="c", train_fraction=0.5)[0]
    assert data["features"] == ["a", "b"] and len(data["train"]["y"]) == 30
    assert data["grid"] == 40 * 40 and data["truth"] is None


def test_upload_in_chunks(channel: Channel) -> None:
    content = CSV.encode()
    channel.send({"type": "upload", "name": "mine.csv", "size": len(content)})
    for start in range(0, len(content), 100):
        channel.ws.send_bytes(content[start : start + 100])
    assert channel.until_type("table")[-1]["n_rows"] == 60


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("not json", "not valid JSON"),
        ("[1, 2]", "a JSON object with a 'type'"),
        ({"type": "launch"}, "unknown message type 'launch'"),
        ({"kind": "play"}, "unknown message type None"),
        ({"type": "play", "fast": True}, "unknown field 'fast' in a 'play' message"),
        ('{"type": "configure", "settings": {"lr": NaN}}', "NaN is not a number"),
        ('{"type": "configure", "settings": {"noise": Infinity}}', "Infinity is not a number"),
        ({"type": "configure", "settings": {"lr": 1e999}}, "Infinity is not a number"),
        ({"type": "configure", "settings": {"color": "red"}}, "unknown field 'color' in settings"),
        ({"type": "configure", "settings": []}, "settings must be a JSON object"),
        ({"type": "configure", "settings": {"n_points": -5}}, "n_points must be from 3 to 10000"),
        ({"type": "configure", "settings": {"n_points": 2.5}}, "n_points must be an integer"),
        ({"type": "configure", "settings": {"hidden": [-3]}}, "width must be from 1 to 512"),
        ({"type": "configure", "settings": {"hidden": [10**9]}}, "width must be from 1 to 512"),
        ({"type": "configure", "settings": {"hidden": [8] * 9}}, "at most 8 hidden layers"),
        ({"type": "configure", "settings": {"hidden": 64}}, "hidden must be a list"),
        ({"type": "configure", "settings": {"lr": "0.1"}}, "lr must be a finite number"),
        ({"type": "configure", "settings": {"lr": 0}}, "lr must be in (0, 10]"),
        ({"type": "configure", "settings": {"seed": True}}, "seed must be an integer"),
        ({"type": "configure", "settings": {"batch_size": 0}}, "batch_size must be from 1"),
        ({"type": "configure", "settings": {"train_fraction": 1.5}}, "train_fraction must be in"),
        ({"type": "configure", "settings": {"activation": "swish"}}, "activation must be one of"),
        ({"type": "configure", "settings": {"data": "csv"}}, "upload a CSV file before"),
        (
            {"type": "configure", "settings": {"hidden": [512] * 6, "n_points": 10000}},
            "over this session's cap",
        ),
        ({"type": "play"}, "send 'configure' with the settings first"),
        ({"type": "export"}, "send 'configure' with the settings first"),
        ({"type": "speed", "epochs_per_update": 0}, "epochs_per_update must be from 1 to 1000"),
        ({"type": "step", "epochs": -1}, "epochs must be from 1"),
        ({"type": "upload", "size": 10}, "name must be the file's name"),
        ({"type": "upload", "name": "big.csv", "size": 10**9}, "big.csv is 1.0 GB"),
        ({"type": "upload", "name": "x.csv", "size": -1}, "size must be from 1"),
    ],
)
def test_bad_messages_get_an_error_and_the_session_lives_on(
    channel: Channel, message: dict[str, object] | str, expected: str
) -> None:
    reply = channel.error(message)
    assert expected in reply["message"], reply["message"]


def test_a_one_gigabyte_upload_is_refused_before_reading_it(channel: Channel) -> None:
    reply = channel.error({"type": "upload", "name": "huge.csv", "size": 2**30})
    assert reply["field"] == "size" and "up to 5.2 MB" in reply["message"]
    # Bytes sent anyway, without an accepted upload, are refused too.
    channel.ws.send_bytes(b"x" * 1000)
    assert "without an 'upload'" in channel.receive()["message"]


def test_more_bytes_than_announced_drop_the_upload(channel: Channel) -> None:
    channel.send({"type": "upload", "name": "liar.csv", "size": 10})
    channel.ws.send_bytes(b"x" * 11)
    assert "more bytes arrived than the 10 announced" in channel.receive()["message"]


def test_an_upload_over_the_cap_is_cut_off_at_the_cap(channel: Channel) -> None:
    channel.send({"type": "upload", "name": "big.csv", "size": LIMITS.max_upload_bytes})
    chunk = b"1\n" * (LIMITS.max_chunk_bytes // 2)
    for _ in range(LIMITS.max_upload_bytes // len(chunk) - 1):
        channel.ws.send_bytes(chunk)
    channel.ws.send_bytes(chunk[:-1])
    channel.ws.send_bytes(b"12")
    assert "more bytes arrived" in channel.receive()["message"]


def test_a_frame_over_the_cap_drops_the_upload(channel: Channel) -> None:
    channel.send({"type": "upload", "name": "big.csv", "size": LIMITS.max_upload_bytes})
    channel.ws.send_bytes(b"1" * (LIMITS.max_chunk_bytes + 1))
    assert "over the 1.0 MB a frame may carry" in channel.receive()["message"]


def test_a_csv_with_a_million_columns_is_refused_before_parsing(channel: Channel) -> None:
    upload(channel, ",".join(["1"] * 200_000) + "\n")
    assert "has 200000 columns" in channel.until_type("error")[-1]["message"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a,b\n1,2\n3,oops\n4,5\n", "column 'b', row 2 (line 3): 'oops' is not a number"),
        ("a,b\n1,2\n", "at least 3 data row(s)"),
        ("", "the file is empty"),
        ("a,a\n1,2\n3,4\n5,6\n", "duplicate column name(s) 'a'"),
    ],
)
def test_bad_csv_files_are_refused_naming_the_problem(
    channel: Channel, text: str, expected: str
) -> None:
    if text:
        upload(channel, text, name="mine.csv")
        reply = channel.until(lambda m: m["type"] in ("table", "error"))[-1]
        if reply["type"] == "table":  # text cells are found when the columns are picked
            settings = {"data": "csv", "features": ["a"], "target": "b"}
            channel.send({"type": "configure", "settings": settings})
            reply = channel.until_type("error")[-1]
    else:
        reply = channel.error({"type": "upload", "name": "mine.csv", "size": 0})
        expected = "size must be from 1"
    assert expected in reply["message"], reply["message"]
    assert "upload.csv" not in reply["message"] and "/tmp" not in reply["message"]


def test_a_csv_with_too_many_rows_is_refused(channel: Channel) -> None:
    upload(channel, "a,b\n" + "1,2\n" * (LIMITS.max_points + 1))
    assert "rows; a session takes at most 10000" in channel.until_type("error")[-1]["message"]


def test_divergence_is_reported_and_the_session_lives_on(channel: Channel) -> None:
    channel.configure(data="sine", optimizer="sgd", lr=10.0, loss="sse", hidden=[64, 64])
    channel.send({"type": "play"})
    error = channel.until_type("error")[-1]
    assert "diverged" in error["message"] and "lower learning rate" in error["message"]
    assert channel.until_type("status")[-1]["state"] == "finished"
    channel.send({"type": "export"})
    assert "reset it" in channel.until_type("error")[-1]["message"]
    channel.configure(data="sine")


def test_an_internal_failure_is_one_error_message_not_a_dead_server(
    channel: Channel, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(session_module, "make_problem", broken)
    reply = channel.error({"type": "configure", "settings": {}})
    assert reply["message"].startswith("internal error (RuntimeError: boom)")


def test_a_page_of_another_site_cannot_connect(client: TestClient) -> None:
    from starlette.websockets import WebSocketDisconnect

    with (
        pytest.raises(WebSocketDisconnect),
        client.websocket_connect("/ws", headers={"origin": "http://evil.example"}) as ws,
    ):
        ws.receive_text()


def test_the_page_and_its_files_are_served(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200 and '<canvas id="net"' in page.text
    for name in ("app.js", "draw.js", "style.css"):
        assert client.get(f"/static/{name}").status_code == 200
    # Nothing from a CDN: every script and stylesheet is the server's own.
    assert "http" not in page.text.replace("http-equiv", "")
    assert json.loads(client.get("/limits").text) == LIMITS.as_dict()
