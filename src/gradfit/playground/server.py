"""The playground's web server: the page, its WebSocket, and the downloads.

``create_app()`` is a Starlette application (tested with Starlette's
``TestClient``); :func:`serve` runs it with uvicorn, bound to 127.0.0.1 unless
told otherwise.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import webbrowser
from pathlib import Path
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket

from gradfit.playground.limits import LIMITS, Limits
from gradfit.playground.session import Session

STATIC = Path(__file__).parent / "static"
log = logging.getLogger("gradfit.playground")


def create_app(limits: Limits = LIMITS) -> Starlette:
    """The playground as an ASGI application; ``app.state.sessions`` maps id → session."""
    sessions: dict[str, Session] = {}

    async def index(request: Request) -> Response:
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})

    async def socket(websocket: WebSocket) -> None:
        # A page of another site must not drive this server through the user's browser.
        origin = websocket.headers.get("origin")
        host = websocket.headers.get("host", "")
        if origin is not None and urlsplit(origin).netloc != host:
            await websocket.close(code=1008, reason="cross-origin connection refused")
            return
        session = Session(websocket, limits)
        sessions[session.id] = session
        try:
            await session.serve()
        finally:
            del sessions[session.id]

    async def download(request: Request) -> Response:
        session = sessions.get(request.path_params["session"])
        name = request.path_params["name"]
        if session is None or name not in session.downloads:
            return JSONResponse({"error": "no such file; export the run again"}, status_code=404)
        media = "text/csv" if name.endswith(".csv") else "application/octet-stream"
        return Response(
            session.downloads[name],
            media_type=media,
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

    async def limits_route(request: Request) -> Response:
        return JSONResponse(limits.as_dict())

    app = Starlette(
        routes=[
            Route("/", index),
            Route("/limits", limits_route),
            Route("/download/{session}/{name}", download),
            WebSocketRoute("/ws", socket),
            Mount("/static", StaticFiles(directory=STATIC), name="static"),
        ]
    )
    app.state.sessions = sessions
    return app


def listen(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port`` and listening, for :func:`serve`.

    Raises
    ------
    OSError
        Saying which address could not be had and why (taken by another program, not an
        address of this machine), as one line, before the server starts: uvicorn would
        log it and exit with its own status.
    """
    try:
        return socket.create_server((host, port))
    except OSError as exc:
        # create_server adds the address to strerror; gaierror's errno is negative.
        code = exc.errno if isinstance(exc.errno, int) else 0
        reason = os.strerror(code) if code > 0 else str(exc.strerror or exc).split(" (while")[0]
        raise OSError(
            f"cannot listen on {host}:{port}: {reason.lower()}; choose another --port, or "
            "a --host that is an address of this machine (127.0.0.1 by default)"
        ) from None


def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    *,
    open_browser: bool = True,
    limits: Limits = LIMITS,
) -> None:
    """Serve the playground until Ctrl-C; open it in the default browser unless told not.
    The address is taken first (:func:`listen`), so that one in use is an ``OSError``."""
    import uvicorn

    sock = listen(host, port)

    config = uvicorn.Config(
        create_app(limits),
        host=host,
        port=port,
        log_level="warning",
        ws_max_size=limits.max_chunk_bytes + 2**16,
    )
    server = uvicorn.Server(config)
    url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '') else host}:{port}/"
    print(f"gradfit playground: {url}  (Ctrl-C stops it)", flush=True)
    if open_browser:
        threading.Timer(1.0, webbrowser.open, args=(url,)).start()
    server.run(sockets=[sock])
