"""A small client for the annotary REST API (what `annotary remote ...` uses).

    with AnnotaryClient("http://127.0.0.1:8000", token="ann_...") as client:
        task = client.next_task("classification-demo")
        if task is not None:
            client.submit(task["lease_id"], {"sentiment": "positive", "intent": ["praise"]})

Errors come back as the same `AnnotaryError` subclasses the server raised
(NotFound, Forbidden, Invalid with every field error, ...), codes included.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

from annotary.client_people import PeopleCalls
from annotary.errors import (
    E_IMPORT_FILE_UNREADABLE,
    E_SERVER_UNREACHABLE,
    AnnotaryError,
    Conflict,
    FieldError,
    Forbidden,
    Invalid,
    NotFound,
    TooManyRequests,
    Unauthenticated,
    Unavailable,
)

ERROR_BY_STATUS: dict[int, type[AnnotaryError]] = {
    422: Invalid,
    404: NotFound,
    403: Forbidden,
    401: Unauthenticated,
    409: Conflict,
    429: TooManyRequests,
    503: Unavailable,
}
"""The inverse of the server's table (`annotary.web.errors.STATUS_BY_ERROR`)."""
UPLOAD_CHUNK = 1 << 20

Json = dict[str, Any]


class AnnotaryClient(PeopleCalls):
    """Talks to one annotary server with one personal API token (the people calls are
    in `PeopleCalls`)."""

    def __init__(
        self,
        server: str,
        token: str | None = None,
        *,
        timeout: float = 300.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.server = server.rstrip("/")
        self._http = httpx.Client(
            base_url=f"{self.server}/api/v1/",
            headers=headers,
            timeout=timeout,
            transport=transport,
        )

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def __enter__(self) -> AnnotaryClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # -- account ---------------------------------------------------------------------

    def me(self) -> Json:
        """The caller's account and project roles."""
        return self._json("GET", "me")

    def tokens(self) -> list[Json]:
        """The caller's API tokens (never the tokens themselves)."""
        return self._json_list("GET", "me/tokens")

    def create_token(self, name: str, expires_days: int | None = None) -> Json:
        """A new API token for the caller: `{id, token, prefix, expires_at}`."""
        return self._json("POST", "me/tokens", json={"name": name, "expires_days": expires_days})

    def revoke_token(self, token_id: int) -> Json:
        """Revoke one of the caller's tokens."""
        return self._json("DELETE", f"me/tokens/{token_id}")

    # -- users and members --------------------------------------------------------------

    def users(self) -> list[Json]:
        """Every user (global admins)."""
        return self._json_list("GET", "users")

    def add_user(
        self,
        username: str,
        password: str | None = None,
        *,
        admin: bool = False,
        display_name: str | None = None,
        email: str | None = None,
        skills: Sequence[str] = (),
        languages: Sequence[str] = (),
        project: str | None = None,
        role: str = "annotator",
    ) -> Json:
        """Create a user, optionally as member of `project` with `role` (global admins)."""
        body = {
            "username": username,
            "password": password,
            "admin": admin,
            "display_name": display_name,
            "email": email,
            "skills": list(skills),
            "languages": list(languages),
            "project": project,
            "role": role,
        }
        return self._json("POST", "users", json=body)

    def members(self, project: str) -> list[Json]:
        """The project's members (managers and admins)."""
        return self._json_list("GET", f"projects/{project}/members")

    def add_member(self, project: str, username: str, role: str) -> Json:
        """Add a member, or change a member's role (managers and admins)."""
        return self._json(
            "POST", f"projects/{project}/members", json={"username": username, "role": role}
        )

    def resume_member(self, project: str, username: str) -> Json:
        """Let a paused member work again (managers and admins)."""
        return self._json("POST", f"projects/{project}/members/{username}/resume")

    def accept_terms(self, project: str) -> Json:
        """Accept the project's confidentiality terms."""
        return self._json("POST", f"projects/{project}/terms/accept")

    # -- projects -----------------------------------------------------------------------

    def projects(self) -> list[Json]:
        """Projects the caller belongs to (admins: all)."""
        return self._json_list("GET", "projects")

    def project(self, name: str) -> Json:
        """A project's schema, guidelines and settings."""
        return self._json("GET", f"projects/{name}")

    def create_project(self, yaml_text: str, guidelines: str | None = None) -> Json:
        """Create a project from its YAML text; `guidelines` answers a `guidelines.path`."""
        return self._json("POST", "projects", json={"yaml": yaml_text, "guidelines": guidelines})

    def status(self, project: str) -> Json:
        """Item counts by status and kind."""
        return self._json("GET", f"projects/{project}/status")

    def import_file(
        self,
        project: str,
        path: Path | str,
        *,
        file_format: str | None = None,
        kind: str | None = None,
        mapping: Sequence[str] = (),
        meta: Sequence[str] = (),
        id_column: str = "id",
        decompose_turns: bool = False,
        on_error: str = "abort",
    ) -> Json:
        """Upload a file (streamed in chunks) and import it; returns the import report."""
        source = Path(path)
        params: list[tuple[str, str]] = [
            ("filename", source.name),
            ("id_column", id_column),
            ("decompose_turns", "true" if decompose_turns else "false"),
            ("on_error", on_error),
        ]
        if file_format is not None:
            params.append(("format", file_format))
        if kind is not None:
            params.append(("kind", kind))
        params.extend(("map", spec) for spec in mapping)
        params.extend(("meta", column) for column in meta)
        try:
            size = source.stat().st_size
        except OSError as exc:
            raise Invalid(
                E_IMPORT_FILE_UNREADABLE, f"cannot read {source}: {exc.strerror or exc}"
            ) from exc
        return self._json(
            "POST",
            f"projects/{project}/import",
            params=params,
            content=_chunks(source),
            headers={"Content-Type": "application/octet-stream", "Content-Length": str(size)},
        )

    # -- tasks --------------------------------------------------------------------------

    def next_task(self, project: str) -> Json | None:
        """The caller's next task (a lease on an item, named by an opaque `item.ref`),
        or None when there is nothing to do."""
        response = self._request("POST", f"projects/{project}/tasks/next")
        if response.status_code == 204:
            return None
        task: Json = _body(response)
        return task

    def submit(
        self,
        lease_id: int,
        annotation: Json,
        time_spent_ms: int | None = None,
        flags: Sequence[str] = (),
    ) -> Json:
        """Submit the annotation for a leased task; the server answers
        `{"annotation_id": N}` (the same for every kind of item: nothing in it
        says what becomes of the item)."""
        body = {"annotation": annotation, "time_spent_ms": time_spent_ms, "flags": list(flags)}
        return self._json("POST", f"tasks/{lease_id}/submit", json=body)

    def skip(self, lease_id: int, reason: str) -> Json | None:
        """Pass on a leased task, saying why (the server's answer, if it sends one)."""
        response = self._request("POST", f"tasks/{lease_id}/skip", json={"reason": reason})
        if response.status_code == 204 or not response.content:
            return None
        answer: Json = _body(response)
        return answer

    # -- plumbing -----------------------------------------------------------------------

    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise Unavailable(
                E_SERVER_UNREACHABLE, f"cannot reach the annotary server {self.server}: {exc}"
            ) from exc
        if response.is_error:
            raise error_from_response(response)
        return response

    def _json(self, method: str, path: str, **kwargs: Any) -> Json:
        body = _body(self._request(method, path, **kwargs))
        if not isinstance(body, dict):
            raise _unreadable(path, "expected a JSON object")
        return body

    def _json_list(self, method: str, path: str, **kwargs: Any) -> list[Json]:
        body = _body(self._request(method, path, **kwargs))
        if not isinstance(body, list):
            raise _unreadable(path, "expected a JSON list")
        return body


def error_from_response(response: httpx.Response) -> AnnotaryError:
    """The server's error, rebuilt as the AnnotaryError subclass it was raised as."""
    try:
        error = response.json()["error"]
        details = [
            FieldError(d.get("path", ""), d.get("reason", ""), d.get("location"))
            for d in error.get("details", [])
        ]
        code, message = str(error["code"]), str(error["message"])
    except (ValueError, KeyError, TypeError, AttributeError):
        return Unavailable(
            E_SERVER_UNREACHABLE,
            f"the server answered {response.status_code} without an annotary error body: "
            f"{response.text[:200]!r}",
        )
    cls = ERROR_BY_STATUS.get(response.status_code, AnnotaryError)
    return cls(code, message, details)


def _body(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError as exc:
        raise _unreadable(str(response.url), "the answer is not JSON") from exc


def _unreadable(where: str, reason: str) -> Unavailable:
    return Unavailable(
        E_SERVER_UNREACHABLE, f"unreadable answer from the server ({where}): {reason}"
    )


def _chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as source:
        while chunk := source.read(UPLOAD_CHUNK):
            yield chunk
