"""One page's session: its WebSocket, its settings and upload, its run and downloads.

Each message is handled in turn; every refusal (a bad message, bad data, a cap)
goes back to the page as an ``error`` message and the session carries on. Work
that takes time (reading an upload, building or exporting a run) happens in a
worker thread, so the server's event loop keeps serving every other tab.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import secrets
import threading
from dataclasses import dataclass, field
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect

from gradfit import __version__
from gradfit.errors import GradfitError
from gradfit.playground import export
from gradfit.playground.data import Upload, make_problem, n_train_of, read_upload
from gradfit.playground.limits import Limits
from gradfit.playground.protocol import (
    ProtocolError,
    Settings,
    check_size,
    error,
    integer,
    parse_message,
    settings_from,
)
from gradfit.playground.runner import Run

log = logging.getLogger("gradfit.playground")

STOP_WAIT = 2.0
"""Seconds a closed session waits for its run to end (an epoch is capped far below)."""
IN_FLIGHT = 8
"""Messages from the training thread queued for sending before it waits for the page."""


@dataclass
class PendingUpload:
    name: str
    size: int
    content: bytearray = field(default_factory=bytearray)


class Session:
    """The state behind one page, served over ``websocket``."""

    def __init__(self, websocket: WebSocket, limits: Limits) -> None:
        self.ws, self.limits = websocket, limits
        self.id = secrets.token_urlsafe(16)
        self.settings = Settings()
        self.speed = 10
        self.table: Upload | None = None
        self.upload: PendingUpload | None = None
        self.run: Run | None = None
        self.downloads: dict[str, bytes] = {}
        self.closed = False
        self._outbox: asyncio.Queue[tuple[str, bool]] = asyncio.Queue()
        self._room = threading.Semaphore(IN_FLIGHT)

    # ---- sending -----------------------------------------------------------------------

    async def send(self, message: dict[str, Any]) -> None:
        await self._outbox.put((json.dumps(message), False))

    def publish(self, message: dict[str, Any]) -> None:
        """Queue ``message`` from the training thread; waits while too many are queued."""
        text = json.dumps(message)
        while not self._room.acquire(timeout=0.1):
            if self.closed:
                return
        self._loop.call_soon_threadsafe(self._outbox.put_nowait, (text, True))

    async def _sender(self) -> None:
        while True:
            text, counted = await self._outbox.get()
            try:
                await self.ws.send_text(text)
            finally:
                if counted:
                    self._room.release()

    # ---- receiving ---------------------------------------------------------------------

    async def serve(self) -> None:
        """Accept the socket and handle messages until the page goes away."""
        self._loop = asyncio.get_running_loop()
        await self.ws.accept()
        sender = asyncio.create_task(self._sender())
        await self.send(
            {
                "type": "hello",
                "session": self.id,
                "version": __version__,
                "limits": self.limits.as_dict(),
                "defaults": Settings().as_dict(),
            }
        )
        try:
            while True:
                frame = await self.ws.receive()
                if frame["type"] == "websocket.disconnect":
                    break
                if frame.get("text") is not None:
                    await self._handle(frame["text"])
                elif frame.get("bytes") is not None:
                    await self._guarded(None, self._on_bytes(frame["bytes"]))
        except WebSocketDisconnect:
            pass
        finally:
            self.close()
            sender.cancel()
            if self.run is not None and self.run.thread is not None:
                await asyncio.to_thread(self.run.thread.join, STOP_WAIT)

    def close(self) -> None:
        """Stop the run (it ends with its current epoch) and refuse further work."""
        self.closed = True
        if self.run is not None:
            self.run.stop()
        if self.table is not None:
            self.table.close()

    async def _handle(self, text: str) -> None:
        kind = None
        try:
            message = parse_message(text)
        except ProtocolError as exc:
            await self.send(error(str(exc), field=exc.field))
            return
        kind = message["type"]
        await self._guarded(kind, getattr(self, f"_on_{kind}")(message))

    async def _guarded(self, kind: str | None, work: Any) -> None:
        """Run a handler; whatever it raises goes to the page as one ``error`` message."""
        try:
            await work
        except ProtocolError as exc:
            await self.send(error(str(exc), field=exc.field, request=kind))
        except GradfitError as exc:
            await self.send(error(" ".join(str(exc).split()), request=kind))
        except Exception as exc:
            log.exception("playground: %s failed", kind)
            text = f"internal error ({type(exc).__name__}: {exc}); the server logged it"
            await self.send(error(text, request=kind))

    # ---- the messages --------------------------------------------------------------------

    async def _on_configure(self, message: dict[str, Any]) -> None:
        settings = settings_from(message.get("settings"), self.limits)
        await self._build(settings)

    async def _on_reset(self, message: dict[str, Any]) -> None:
        await self._build(self.settings)

    async def _build(self, settings: Settings) -> None:
        problem = await asyncio.to_thread(make_problem, settings, self.table)
        check_size(
            len(problem.y_train), len(problem.y_test), problem.n_in, settings.hidden, self.limits
        )
        if settings.batch_size is not None and settings.batch_size > len(problem.y_train):
            settings = dataclasses.replace(settings, batch_size=None)
        if self.run is not None:
            self.run.stop()
        self.run = None
        run = await asyncio.to_thread(Run, settings, problem, self.publish, self.limits)
        run.speed = self.speed
        self.settings, self.run, self.downloads = settings, run, {}
        await self.send(run.data_message())
        await self.send(run.initial_update())
        await self.send(run.status("idle"))

    def _need_run(self) -> Run:
        if self.run is None:
            raise ProtocolError("send 'configure' with the settings first")
        return self.run

    async def _on_play(self, message: dict[str, Any]) -> None:
        until = message.get("until")
        run = self._need_run()
        if until is not None:
            until = integer(until, "until", 1, 10**9)
        run.play(until)
        await self.send(run.status("running"))

    async def _on_pause(self, message: dict[str, Any]) -> None:
        run = self._need_run()
        running = run.running
        run.pause()
        if not running:  # else the run says so itself, after its last update
            await self.send(run.status("paused"))

    async def _on_step(self, message: dict[str, Any]) -> None:
        epochs = integer(message.get("epochs", 1), "epochs", 1, self.limits.max_epochs_per_update)
        run = self._need_run()
        run.step(epochs)

    async def _on_speed(self, message: dict[str, Any]) -> None:
        top = self.limits.max_epochs_per_update
        self.speed = integer(message.get("epochs_per_update"), "epochs_per_update", 1, top)
        if self.run is not None:
            self.run.speed = self.speed

    async def _on_ping(self, message: dict[str, Any]) -> None:
        await self.send({"type": "pong", "id": message.get("id")})

    async def _on_upload(self, message: dict[str, Any]) -> None:
        self.upload = None
        name = message.get("name")
        if not isinstance(name, str) or not 0 < len(name) <= 255:
            raise ProtocolError("name must be the file's name (1 to 255 characters)", "name")
        size = message.get("size")
        size = integer(size, "size", 1, 2**62)
        if size > self.limits.max_upload_bytes:
            raise ProtocolError(
                f"{name} is {_bytes(size)}; the playground takes CSV files up to "
                f"{_bytes(self.limits.max_upload_bytes)} (a cap of each session)",
                "size",
            )
        self.upload = PendingUpload(name, size)

    async def _on_bytes(self, chunk: bytes) -> None:
        upload = self.upload
        if upload is None:
            raise ProtocolError("a binary frame arrived without an 'upload' message before it")
        if len(chunk) > self.limits.max_chunk_bytes:
            self.upload = None
            raise ProtocolError(
                f"a binary frame of {_bytes(len(chunk))} is over the "
                f"{_bytes(self.limits.max_chunk_bytes)} a frame may carry; the upload was dropped"
            )
        if len(upload.content) + len(chunk) > min(upload.size, self.limits.max_upload_bytes):
            self.upload = None
            raise ProtocolError(
                f"{upload.name}: more bytes arrived than the {upload.size} announced; "
                "the upload was dropped, send it again"
            )
        upload.content += chunk
        if len(upload.content) < upload.size:
            return
        self.upload = None
        columns = upload.content.split(b"\n", 1)[0].count(b",") + 1
        if columns > self.limits.max_columns:
            raise ProtocolError(
                f"{upload.name} has {columns} columns; the playground reads files of up to "
                f"{self.limits.max_columns}"
            )
        uploaded = await asyncio.to_thread(read_upload, upload.name, bytes(upload.content))
        table = uploaded.table
        if table.n_rows > self.limits.max_points:
            uploaded.close()
            raise ProtocolError(
                f"{upload.name} has {table.n_rows} rows; a session takes at most "
                f"{self.limits.max_points}"
            )
        if self.table is not None:
            self.table.close()
        self.table = uploaded
        numeric = [c for c in table.columns if table.frame[c].dtype.kind in "biuf"]
        await self.send(
            {
                "type": "table",
                "name": upload.name,
                "columns": table.columns,
                "numeric": numeric,
                "n_rows": table.n_rows,
                "n_train": n_train_of(self.settings, table.n_rows),
            }
        )

    async def _on_export(self, message: dict[str, Any]) -> None:
        run = self._need_run()
        model, epochs = await asyncio.to_thread(run.model_file)
        await self.send(run.status("paused"))
        problem, settings = run.problem, run.settings
        self.downloads = {
            export.TRAIN_CSV: export.csv_bytes(problem, "train"),
            export.TEST_CSV: export.csv_bytes(problem, "test"),
            export.MODEL_FILE: model,
        }
        assert run.trainer is not None
        await self.send(
            {
                "type": "export",
                "epoch": epochs,
                "final_loss": run.trainer.history.loss[epochs - 1],
                "command": export.command(settings, problem, epochs),
                "python": export.snippet(settings, problem, epochs),
                "files": {name: f"/download/{self.id}/{name}" for name in self.downloads},
            }
        )


def _bytes(n: int) -> str:
    for unit, size in (("GB", 10**9), ("MB", 10**6), ("kB", 10**3)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n} bytes"
