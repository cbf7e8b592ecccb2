"""A real server refuses an unauthenticated or unauthorized upload at once, while the
client is still sending, instead of after the last byte."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import httpx

from annotary.testing import live_server
from tests.web.world import World

V1 = "/api/v1"
CHUNK = b'{"text": "a row of a slow upload"}\n' * 30_000  # about 1 MB
CHUNKS = 20
PAUSE = 0.25
"""20 MB sent over 5 s: the answer must come long before the upload ends."""


def slow_upload() -> Iterator[bytes]:
    for index in range(CHUNKS):
        if index:
            time.sleep(PAUSE)
        yield CHUNK


def timed_post(url: str, headers: dict[str, str]) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = httpx.post(url, content=slow_upload(), headers=headers, timeout=60)
    return response, time.monotonic() - started


def test_uploads_are_refused_before_their_body_arrives(world: World, db_url: str) -> None:
    with live_server(db_url) as server:
        upload = f"{server.url}{V1}/projects/matrix/import"
        cases = [
            (upload, {}, 401, "E701"),
            (upload, {"Authorization": "Bearer ann_not-a-token"}, 401, "E706"),
            (upload, world.headers("annotator"), 403, "E702"),
            (f"{server.url}{V1}/projects/nowhere/import", world.headers("manager"), 404, "E401"),
            (f"{server.url}{V1}/me/tokens", {"Content-Type": "application/json"}, 401, "E701"),
        ]
        for url, headers, status, code in cases:
            response, seconds = timed_post(url, headers)
            assert response.status_code == status, response.text
            assert response.json()["error"]["code"] == code
            assert response.headers["connection"] == "close"
            assert seconds < CHUNKS * PAUSE / 2, (url, headers, seconds)
        # A client that leaves in the middle of an upload is no server error.
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
            token = world.tokens["manager"]
            head = (
                f"POST {V1}/projects/matrix/import HTTP/1.1\r\nHost: test\r\n"
                f"Authorization: Bearer {token}\r\nContent-Length: {10 * len(CHUNK)}\r\n\r\n"
            )
            sock.sendall(head.encode() + CHUNK)
            time.sleep(0.5)
        # The server is still fine afterwards.
        me = httpx.get(f"{server.url}{V1}/me", headers=world.headers("manager"), timeout=10)
        assert me.status_code == 200
        time.sleep(0.5)
        assert "Traceback" not in server.log_text(), server.log_text()[-3000:]
