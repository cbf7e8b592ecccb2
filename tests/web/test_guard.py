"""The request guard: request ids, body limits, malformed bodies, errors as JSON."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text

from annotary.config import Settings
from annotary.storage.models import Item
from annotary.web.app import create_app
from tests.web.world import World

V1 = "/api/v1"
ERROR_KEYS = {"code", "message", "details", "request_id"}


def small_limits(world: World, json_bytes: int = 2048, upload_bytes: int = 4096) -> TestClient:
    """A second app on the world's database with small body limits."""
    settings = Settings(
        database_url="sqlite://", max_json_bytes=json_bytes, max_upload_bytes=upload_bytes
    )
    return TestClient(create_app(settings, db=world.db))


def assert_error(response: object, status: int, code: str) -> dict[str, object]:
    """The response is our JSON error with this status and code; returns its body."""
    assert getattr(response, "status_code") == status, getattr(response, "text")  # noqa: B009
    body = getattr(response, "json")()  # noqa: B009
    assert set(body) == {"error"} and set(body["error"]) == ERROR_KEYS
    assert body["error"]["code"] == code
    assert body["error"]["request_id"] == getattr(response, "headers")["x-request-id"]  # noqa: B009
    return body["error"]


def chunks(total: int, size: int = 1000) -> Iterator[bytes]:
    """A body sent chunked (no Content-Length), `total` bytes of JSON-ish text."""
    sent = 0
    while sent < total:
        piece = b"x" * min(size, total - sent)
        sent += len(piece)
        yield piece


def test_every_response_carries_a_request_id(world: World) -> None:
    ok = world.client.get(f"{V1}/me", headers=world.headers("annotator"))
    assert ok.status_code == 200 and len(ok.headers["x-request-id"]) == 32
    again = world.client.get(f"{V1}/me", headers=world.headers("annotator"))
    assert again.headers["x-request-id"] != ok.headers["x-request-id"]
    given = world.client.get(
        f"{V1}/me", headers={**world.headers("annotator"), "X-Request-ID": "trace-42.a"}
    )
    assert given.headers["x-request-id"] == "trace-42.a"
    forged = world.client.get(f"{V1}/me", headers={"X-Request-ID": "bad id\twith spaces"})
    error = assert_error(forged, 401, "E701")
    assert error["request_id"] != "bad id\twith spaces"


def test_unknown_routes_and_wrong_methods_have_their_own_codes(world: World) -> None:
    admin = world.headers("admin")
    unknown = assert_error(world.client.get(f"{V1}/nowhere", headers=admin), 404, "E712")
    assert "GET /api/v1/nowhere" in str(unknown["message"])
    assert_error(world.client.put(f"{V1}/auth/login"), 405, "E713")
    assert_error(world.client.delete(f"{V1}/projects", headers=admin), 405, "E713")
    # The API asks who is calling before it says what exists.
    assert_error(world.client.get(f"{V1}/nowhere"), 401, "E701")


def test_a_json_body_over_its_content_length_limit_is_refused(world: World) -> None:
    client = small_limits(world)
    body = {"name": "x" * 3000}
    refused = client.post(f"{V1}/me/tokens", json=body, headers=world.headers("admin"))
    error = assert_error(refused, 413, "E711")
    assert "2,048 bytes" in str(error["message"])
    assert refused.headers["connection"] == "close"
    # Also before authentication: nobody's body is read past the limit.
    assert_error(client.post(f"{V1}/me/tokens", json=body), 413, "E711")


def test_a_chunked_body_is_counted_as_it_arrives(world: World) -> None:
    client = small_limits(world)
    headers = {**world.headers("admin"), "Content-Type": "application/json"}
    refused = client.post(f"{V1}/me/tokens", content=chunks(5000), headers=headers)
    assert_error(refused, 413, "E711")
    fine = client.post(f"{V1}/me/tokens", content=iter([b'{"name": "ok"}']), headers=headers)
    assert fine.status_code == 201, fine.text


def test_an_upload_over_its_limit_is_refused_and_imports_nothing(world: World) -> None:
    client = small_limits(world, upload_bytes=4096)
    url = f"{V1}/projects/matrix/import"
    headers = {**world.headers("manager"), "Content-Type": "application/octet-stream"}
    rows = b"".join(b'{"text": "row %d"}\n' % i for i in range(400))
    assert len(rows) > 4096
    assert_error(client.post(url, content=rows, headers=headers), 413, "E711")
    streamed = client.post(url, content=iter([rows[:3000], rows[3000:]]), headers=headers)
    assert_error(streamed, 413, "E711")
    with world.db.sessions() as session:
        assert session.scalar(select(func.count(Item.id))) == 5  # the world's items only
    # An upload may be larger than a JSON body: within its own limit it is imported.
    small = rows[: rows.index(b"\n", 3000) + 1]
    client = small_limits(world, json_bytes=1024, upload_bytes=4096)
    done = client.post(url, content=small, headers=headers)
    assert done.status_code == 200, done.text
    assert done.json()["items_added"] == small.count(b"\n")


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b'{"name": "nul \\u0000 inside"}', "NUL"),
        (b'{"name": "lone \\ud800 surrogate"}', "not valid JSON"),
        (b'{"name": "x", "expires_days": NaN}', "not valid JSON"),
        (b'{"name": "x", "expires_days": Infinity}', "not valid JSON"),
        (b'{"name": "x", "expires_days": 1e999}', "not valid JSON"),
    ],
)
def test_json_that_storage_cannot_hold_is_refused(world: World, body: bytes, reason: str) -> None:
    headers = {**world.headers("admin"), "Content-Type": "application/json"}
    response = world.client.post(f"{V1}/me/tokens", content=body, headers=headers)
    error = assert_error(response, 422, "E709")
    assert reason in str(error["details"])


def test_an_escaped_backslash_before_u0000_is_plain_text(world: World) -> None:
    headers = {**world.headers("admin"), "Content-Type": "application/json"}
    body = b'{"name": "not a nul: \\\\u0000"}'
    response = world.client.post(f"{V1}/me/tokens", content=body, headers=headers)
    assert response.status_code == 201, response.text
    emoji = world.client.post(
        f"{V1}/me/tokens", content=b'{"name": "\\ud83d\\ude00"}', headers=headers
    )
    assert emoji.status_code == 201, emoji.text


def test_nul_in_the_path_or_query_is_refused(world: World) -> None:
    admin = world.headers("admin")
    assert_error(world.client.get(f"{V1}/projects/a%00b", headers=admin), 422, "E709")
    response = world.client.get(f"{V1}/projects/matrix/qa?window_days=%00", headers=admin)
    assert_error(response, 422, "E709")


def test_unexpected_errors_are_json_with_a_logged_request_id(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    app = world.app

    def boom() -> None:
        raise RuntimeError("secret internals")

    def bad_sql() -> None:
        with world.db.sessions() as session:
            session.execute(text("SELECT no_such_column FROM no_such_table"))

    app.add_api_route(f"{V1}/test-boom", boom)
    app.add_api_route(f"{V1}/test-bad-sql", bad_sql)
    client = TestClient(app, raise_server_exceptions=False)
    headers = world.headers("annotator")
    with caplog.at_level(logging.ERROR, logger="annotary.web"):
        crashed = client.get(f"{V1}/test-boom", headers=headers)
        database = client.get(f"{V1}/test-bad-sql", headers=headers)
    error = assert_error(crashed, 500, "E714")
    assert "secret internals" not in crashed.text
    assert error["request_id"] in str(error["message"])
    assert_error(database, 500, "E715")
    logged = [r for r in caplog.records if r.name == "annotary.web"]
    assert [r.exc_info[0] if r.exc_info else None for r in logged][:1] == [RuntimeError]
    assert str(error["request_id"]) in logged[0].getMessage()


UPLOAD_FILE_EVENTS: list[tuple[str, bool]] = []
"""(audit event, whether it ran on the event loop) for files of uploads, while recording."""
RECORDING = {"on": False}


def _upload_file_events(event: str, args: tuple[object, ...]) -> None:
    if not RECORDING["on"] or event not in ("open", "os.mkdir", "os.remove", "os.rmdir"):
        return
    if "annotary-upload-" not in str(args[0] if args else ""):
        return
    try:
        asyncio.get_running_loop()
        on_loop = True
    except RuntimeError:
        on_loop = False
    UPLOAD_FILE_EVENTS.append((event, on_loop))


sys.addaudithook(_upload_file_events)  # a hook cannot be removed: it records only when on


def test_an_upload_touches_the_disk_only_from_worker_threads(world: World) -> None:
    rows = b"".join(b'{"text": "disk row %d"}\n' % i for i in range(2000))
    RECORDING["on"] = True
    try:
        response = world.client.post(
            f"{V1}/projects/matrix/import",
            content=iter([rows[:20_000], rows[20_000:]]),
            headers={**world.headers("manager"), "Content-Type": "application/octet-stream"},
        )
    finally:
        RECORDING["on"] = False
    assert response.status_code == 200, response.text
    events = {event for event, _ in UPLOAD_FILE_EVENTS}
    assert {"open", "os.mkdir"} <= events
    assert [event for event, on_loop in UPLOAD_FILE_EVENTS if on_loop] == []
