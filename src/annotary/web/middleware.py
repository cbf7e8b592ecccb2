"""The request guard: what every request passes before a route sees it (SPEC 10).

A pure ASGI middleware (Starlette's `BaseHTTPMiddleware` would cost the queue
routes a task and a stream per request). In order, it

1. gives the request an id (the client's `X-Request-ID` when it is a short
   token, else a new one), sent back as the `X-Request-ID` header and in every
   error body;
2. refuses a NUL character in the path or query (PostgreSQL cannot store it);
3. refuses at once a body whose `Content-Length` is over the limit (413, E711):
   `ANNOTARY_MAX_UPLOAD_BYTES` for an import upload, `ANNOTARY_MAX_JSON_BYTES`
   for everything else; a chunked body is counted as it arrives and refused
   when it passes the limit;
4. authenticates the caller of every API route but the login and the API
   documents *before the body is read*, so an unauthenticated upload is refused
   at once rather than after its last byte (FastAPI reads a declared JSON body
   before it solves the route's dependencies); the actor is handed on to
   `deps.current_actor`, so the credentials are checked once;
5. reads a JSON body (bounded by the limit) and refuses what Python's `json`
   would let through but our storage cannot hold: `NaN`, `Infinity`, lone
   surrogates (strict parsing with orjson) and NUL characters;
6. turns any exception nobody planned for into the JSON error body (500 E714,
   database errors E715), logged with its traceback under the request id.

A response sent before the request body has fully arrived says `Connection:
close`: the server then closes the connection instead of reading the rest of
an upload nobody wants, and the client sees the answer while it is still
sending.
"""

from __future__ import annotations

import re
import uuid
from typing import Any
from urllib.parse import unquote_to_bytes

import orjson
from fastapi import Request
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from annotary.config import Settings
from annotary.errors import E_BODY_TOO_LARGE, E_REQUEST_INVALID, AnnotaryError, FieldError, Invalid
from annotary.web.deps import authenticate_request
from annotary.web.errors import REQUEST_ID_HEADER, error_response, unexpected_error_response
from annotary.web.routes import API_PREFIX

PUBLIC_PATHS = frozenset(
    f"{API_PREFIX}{path}"
    for path in ("/auth/login", "/openapi.json", "/docs", "/docs/oauth2-redirect")
)
"""API paths anyone may call; every other path under the API prefix needs a caller."""
UPLOAD_PATH = re.compile(rf"^{re.escape(API_PREFIX)}/projects/[^/]+/import$")
"""The one route whose body is a file (streamed to disk), not JSON."""
_CLIENT_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
_ESCAPED_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")
_REQUEST_ID_HEADER = REQUEST_ID_HEADER.lower().encode()


class BodyTooLarge(HTTPException):
    """The body passed its limit while it arrived (413, rendered as E711)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than the limit of {limit:,} bytes")


class RequestGuard:
    """Request ids, body limits, authentication before the body, errors as JSON."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.json_limit = settings.max_json_bytes
        self.upload_limit = settings.max_upload_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        exchange = _Exchange(scope, receive, send)
        try:
            refusal = await self._refusal(scope, exchange)
            if refusal is not None:
                await exchange.respond(refusal)
                return
            await self.app(scope, exchange.receive, exchange.send)
        except BodyTooLarge as exc:  # raised where nothing turned it into a response
            if exchange.started:
                raise
            await exchange.respond(AnnotaryError(E_BODY_TOO_LARGE, str(exc.detail)), 413)
        except ClientDisconnect:
            return  # the client left while sending: nobody to answer, nothing went wrong
        except Exception as exc:
            if exchange.started:
                raise
            await exchange.send_response(unexpected_error_response(exc, scope))

    async def _refusal(self, scope: Scope, exchange: _Exchange) -> AnnotaryError | None:
        """Why the request is refused before the app sees it (None: it may go on)."""
        path: str = scope["path"]
        if "\x00" in path or b"\x00" in unquote_to_bytes(scope.get("query_string", b"")):
            return Invalid(
                E_REQUEST_INVALID,
                "the request is malformed",
                [FieldError("path", "the path and query may not hold NUL characters (%00)")],
            )
        upload = scope["method"] == "POST" and UPLOAD_PATH.match(path) is not None
        exchange.limit = self.upload_limit if upload else self.json_limit
        if exchange.content_length is not None and exchange.content_length > exchange.limit:
            raise BodyTooLarge(exchange.limit)
        if path.startswith(API_PREFIX) and path not in PUBLIC_PATHS:
            request = Request(scope)
            try:
                scope["state"]["actor"] = await authenticate_request(request)
            except AnnotaryError as refused:
                return refused
        if exchange.has_body and not upload and exchange.json_body:
            return await exchange.check_json_body()
        return None


class _Exchange:
    """One request/response as the guard sees it: counts the body, marks the response."""

    def __init__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.scope = scope
        self._receive = receive
        self._send = send
        self.limit = 0
        self.received = 0
        self.body_done = False
        self.started = False
        self.replay: Message | None = None
        self.content_length: int | None = None
        chunked = False
        content_type = b""
        client_id = b""
        for name, value in scope["headers"]:
            if name == b"content-length":
                self.content_length = int(value) if value.isdigit() else None
            elif name == b"transfer-encoding":
                chunked = True
            elif name == b"content-type":
                content_type = value
            elif name == _REQUEST_ID_HEADER:
                client_id = value
        self.has_body = chunked or bool(self.content_length)
        self.body_done = not self.has_body
        media = content_type.split(b";", 1)[0].strip().lower()
        self.json_body = not media or media == b"application/json" or media.endswith(b"+json")
        given = client_id.decode("latin-1")
        state = scope.setdefault("state", {})
        state["request_id"] = given if _CLIENT_REQUEST_ID.match(given) else uuid.uuid4().hex
        self.request_id: str = state["request_id"]

    async def receive(self) -> Message:
        """The next body message, counted against the limit."""
        if self.replay is not None:
            message, self.replay = self.replay, None
            return message
        message = await self._receive()
        if message["type"] == "http.request":
            self.received += len(message.get("body", b""))
            if not message.get("more_body", False):
                self.body_done = True
            if self.received > self.limit:
                raise BodyTooLarge(self.limit)
        return message

    async def check_json_body(self) -> AnnotaryError | None:
        """Read the whole (bounded) JSON body, check it, and keep it for the app."""
        chunks = []
        while not self.body_done:
            message = await self.receive()
            if message["type"] != "http.request":  # the client went away
                self.replay = message
                return None
            chunks.append(message.get("body", b""))
        body = b"".join(chunks)
        self.replay = {"type": "http.request", "body": body, "more_body": False}
        if not body:
            return None
        reason = _json_problem(body)
        if reason is None:
            return None
        return Invalid(
            E_REQUEST_INVALID, "the request body is not valid JSON", [FieldError("body", reason)]
        )

    async def send(self, message: Message) -> None:
        """Pass a response message on, with the request id (and `Connection: close`
        when the request body has not fully arrived)."""
        if message["type"] == "http.response.start":
            self.started = True
            headers: list[Any] = list(message.get("headers", ()))
            headers.append((_REQUEST_ID_HEADER, self.request_id.encode()))
            if not self.body_done:
                headers.append((b"connection", b"close"))
            message = {**message, "headers": headers}
        await self._send(message)

    async def respond(self, error: AnnotaryError, status: int | None = None) -> None:
        """Answer with an error (without calling the app)."""
        await self.send_response(error_response(error, self.request_id, status))

    async def send_response(self, response: Response) -> None:
        """Send a whole response through `send` (so it gets our headers)."""
        await response(self.scope, self.receive, self.send)


def _json_problem(body: bytes) -> str | None:
    """Why a JSON body cannot be taken as it is (None when it can)."""
    try:
        orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        return f"not valid JSON: {exc}"
    if b"\\u0000" in body and _ESCAPED_NUL.search(body):
        return "text may not hold NUL characters (\\u0000)"
    return None
