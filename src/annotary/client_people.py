"""The people part of the REST client (`AnnotaryClient` inherits it): accounts,
attributes, member removal, the pool, one's own statistics, calibration rounds."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote as _quote

import httpx

Json = dict[str, Any]


def quote(part: str) -> str:
    """A path segment, escaped (a '/' in a name stays inside its segment)."""
    return _quote(part, safe="")


class PeopleCalls:
    """Calls of `AnnotaryClient` about people; the transport methods are the client's."""

    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        raise NotImplementedError  # provided by AnnotaryClient

    def _json(self, method: str, path: str, **kwargs: Any) -> Json:
        raise NotImplementedError  # provided by AnnotaryClient

    def _json_list(self, method: str, path: str, **kwargs: Any) -> list[Json]:
        raise NotImplementedError  # provided by AnnotaryClient

    # -- accounts (global admins) -------------------------------------------------------

    def update_user(
        self,
        username: str,
        *,
        skills: Sequence[str] | None = None,
        languages: Sequence[str] | None = None,
    ) -> Json:
        """Replace a user's skills and/or languages (None: unchanged)."""
        body = {
            "skills": None if skills is None else list(skills),
            "languages": None if languages is None else list(languages),
        }
        return self._json("PATCH", f"users/{quote(username)}", json=body)

    def deactivate_user(self, username: str) -> Json:
        """Deactivate a user: sessions end, tokens revoked, leases given back."""
        return self._json("POST", f"users/{quote(username)}/deactivate")

    def reactivate_user(self, username: str) -> Json:
        """Let a deactivated user log in again."""
        return self._json("POST", f"users/{quote(username)}/reactivate")

    def reset_password(self, username: str, password: str) -> Json:
        """Set a user's password; their browser sessions end."""
        return self._json("POST", f"users/{quote(username)}/password", json={"password": password})

    # -- one's own account ----------------------------------------------------------------

    def change_password(self, old_password: str, new_password: str) -> Json:
        """Change the caller's password given the old one."""
        body = {"old_password": old_password, "new_password": new_password}
        return self._json("POST", "me/password", json=body)

    def attributes(self) -> Json:
        """The caller's self-reported attributes and the keys they may give."""
        return self._json("GET", "me/attributes")

    def set_attributes(self, attributes: Mapping[str, str]) -> Json:
        """Replace the caller's self-reported attributes ({} clears them)."""
        return self._json("PUT", "me/attributes", json={"attributes": dict(attributes)})

    def clear_attributes(self) -> None:
        """Delete every self-reported attribute of the caller."""
        self._request("DELETE", "me/attributes")

    def my_stats(self, project: str) -> Json:
        """The caller's own gold accuracy, agreement and throughput in a project."""
        return self._json("GET", f"projects/{quote(project)}/me/stats")

    # -- members (managers) ----------------------------------------------------------------

    def remove_member(self, project: str, username: str) -> Json:
        """Take a user out of a project; their leases go back, their annotations stay."""
        return self._json("DELETE", f"projects/{quote(project)}/members/{quote(username)}")

    def pool(self, project: str) -> Json:
        """The project's annotator pool by self-reported attribute, small groups withheld."""
        return self._json("GET", f"projects/{quote(project)}/pool")

    # -- calibration -------------------------------------------------------------------------

    def create_calibration(
        self,
        project: str,
        name: str,
        *,
        gold_items: Sequence[str] = (),
        items: Sequence[Mapping[str, Any]] = (),
        participants: Sequence[str] = (),
        shuffle: bool = False,
    ) -> Json:
        """Make a calibration round from gold items and/or `{content, answer, reason}` items."""
        body = {
            "name": name,
            "gold_items": list(gold_items),
            "items": [dict(item) for item in items],
            "participants": list(participants),
            "shuffle": shuffle,
        }
        return self._json("POST", f"projects/{quote(project)}/calibration", json=body)

    def calibration_rounds(self, project: str) -> list[Json]:
        """The project's rounds (managers: all; others: the ones they take part in)."""
        return self._json_list("GET", f"projects/{quote(project)}/calibration")

    def next_calibration_item(self, project: str, round_name: str) -> Json | None:
        """The caller's next item of a round, or None when they answered every one."""
        response = self._request(
            "GET", f"projects/{quote(project)}/calibration/{quote(round_name)}/next"
        )
        if response.status_code == 204:
            return None
        task: Json = response.json()
        return task

    def answer_calibration_item(
        self,
        project: str,
        round_name: str,
        item_id: int,
        annotation: Mapping[str, Any],
        time_spent_ms: int | None = None,
    ) -> Json:
        """Answer one's next calibration item; returns the expert answer and the reason."""
        body = {"item_id": item_id, "annotation": dict(annotation), "time_spent_ms": time_spent_ms}
        return self._json(
            "POST", f"projects/{quote(project)}/calibration/{quote(round_name)}/answer", json=body
        )

    def calibration_feedback(self, project: str, round_name: str) -> list[Json]:
        """The caller's answers in a round with the expert answers and reasons."""
        return self._json_list(
            "GET", f"projects/{quote(project)}/calibration/{quote(round_name)}/feedback"
        )

    def calibration_results(self, project: str, round_name: str) -> Json:
        """A round's results per participant and per item (managers)."""
        return self._json(
            "GET", f"projects/{quote(project)}/calibration/{quote(round_name)}/results"
        )
