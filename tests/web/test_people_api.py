"""People over the API (SPEC 4): deactivation at once, passwords, attributes kept
private, member removal, calibration rounds, one's own statistics."""

from __future__ import annotations

from fastapi.testclient import TestClient

from annotary.services.identity.members import accept_terms
from tests.web.world import GOLD_REASON, World

V1 = "/api/v1"


def _login(world: World, username: str, password: str) -> tuple[TestClient, str]:
    client = TestClient(world.app)
    response = client.post(f"{V1}/auth/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return client, response.json()["csrf_token"]


def test_deactivation_takes_effect_at_once_for_cached_tokens(world: World) -> None:
    annotator = world.headers("annotator")
    assert world.client.get(f"{V1}/me", headers=annotator).status_code == 200  # token cached
    accept_terms(world.db, world.actors["annotator"], world.project)
    task = world.client.post(f"{V1}/projects/{world.project}/tasks/next", headers=annotator)
    assert task.status_code == 200

    done = world.client.post(f"{V1}/users/annotator/deactivate", headers=world.headers("admin"))

    assert done.status_code == 200, done.text
    assert done.json() == {
        "username": "annotator",
        "is_active": False,
        "sessions_ended": 0,
        "tokens_revoked": 1,
        "leases_released": 1,
    }
    refused = world.client.get(f"{V1}/me", headers=annotator)
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "E706"
    users = world.client.get(f"{V1}/users", headers=world.headers("admin")).json()
    assert next(u for u in users if u["username"] == "annotator")["is_active"] is False
    back = world.client.post(f"{V1}/users/annotator/reactivate", headers=world.headers("admin"))
    assert back.json()["is_active"] is True
    assert world.client.get(f"{V1}/me", headers=annotator).status_code == 401  # stays revoked


def test_admins_cannot_remove_the_last_admin(world: World) -> None:
    response = world.client.post(f"{V1}/users/admin/deactivate", headers=world.headers("admin"))
    assert response.status_code == 409 and response.json()["error"]["code"] == "E406"
    assert world.client.get(f"{V1}/me", headers=world.headers("admin")).status_code == 200


def test_password_reset_and_own_change_over_sessions(world: World) -> None:
    admin = world.headers("admin")
    reset = world.client.post(
        f"{V1}/users/annotator/password", headers=admin, json={"password": "first-password"}
    )
    assert reset.status_code == 200
    here, csrf = _login(world, "annotator", "first-password")
    there, _ = _login(world, "annotator", "first-password")
    wrong = here.post(
        f"{V1}/me/password",
        headers={"X-CSRF-Token": csrf},
        json={"old_password": "nope-nope", "new_password": "second-password"},
    )
    assert wrong.status_code == 403 and wrong.json()["error"]["code"] == "E407"
    changed = here.post(
        f"{V1}/me/password",
        headers={"X-CSRF-Token": csrf},
        json={"old_password": "first-password", "new_password": "second-password"},
    )
    assert changed.status_code == 200 and changed.json()["sessions_ended"] == 1
    assert here.get(f"{V1}/me").status_code == 200
    assert there.get(f"{V1}/me").status_code == 401
    _login(world, "annotator", "second-password")
    again = world.client.post(
        f"{V1}/users/annotator/password", headers=admin, json={"password": "third-password"}
    )
    assert again.json()["sessions_ended"] == 2
    assert here.get(f"{V1}/me").status_code == 401


def test_attributes_are_private_and_reach_managers_only_in_aggregate(world: World) -> None:
    annotator = world.headers("annotator")
    empty = world.client.get(f"{V1}/me/attributes", headers=annotator).json()
    assert empty["attributes"] == {} and "gender" in empty["keys"]
    stored = world.client.put(
        f"{V1}/me/attributes",
        headers=annotator,
        json={"attributes": {"gender": "woman", "first_language": "Basque"}},
    )
    assert stored.status_code == 200
    assert stored.json()["attributes"] == {"gender": "woman", "first_language": "Basque"}
    bad = world.client.put(
        f"{V1}/me/attributes", headers=annotator, json={"attributes": {"salary": "high"}}
    )
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "E408"

    for role, path in (
        ("admin", "/users"),
        ("admin", f"/projects/{world.project}/members"),
        ("manager", f"/projects/{world.project}/members"),
        ("manager", f"/projects/{world.project}/pool"),
        ("manager", f"/projects/{world.project}/qa"),
        ("reviewer", f"/projects/{world.project}/qa"),
    ):
        response = world.client.get(f"{V1}{path}", headers=world.headers(role))
        assert response.status_code == 200, (path, response.text)
        assert "Basque" not in response.text and "woman" not in response.text, path
    pool = world.client.get(f"{V1}/projects/{world.project}/pool", headers=world.headers("manager"))
    gender = next(a for a in pool.json()["attributes"] if a["attribute"] == "gender")
    assert gender == {
        "attribute": "gender",
        "counts": {},
        "suppressed_values": 1,
        "undisclosed": 2,  # reviewer and expert
        "normalized_entropy": None,
    }
    gone = world.client.delete(f"{V1}/me/attributes", headers=annotator)
    assert gone.status_code == 204
    assert world.client.get(f"{V1}/me/attributes", headers=annotator).json()["attributes"] == {}


def test_removed_members_lose_the_project(world: World) -> None:
    removed = world.client.delete(
        f"{V1}/projects/{world.project}/members/annotator", headers=world.headers("manager")
    )
    assert removed.status_code == 200
    assert removed.json() == {"username": "annotator", "role": "annotator", "leases_released": 0}
    view = world.client.get(f"{V1}/projects/{world.project}", headers=world.headers("annotator"))
    assert view.status_code == 404
    missing = world.client.delete(
        f"{V1}/projects/{world.project}/members/annotator", headers=world.headers("manager")
    )
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "E405"


def test_a_calibration_round_over_the_api(world: World) -> None:
    manager, annotator = world.headers("manager"), world.headers("annotator")
    base = f"{V1}/projects/{world.project}/calibration"
    invalid = world.client.post(
        base,
        headers=manager,
        json={
            "name": "r1",
            "gold_items": ["t1"],
            "items": [{"content": {}, "answer": {}, "reason": "x"}],
        },
    )
    assert invalid.status_code == 422 and invalid.json()["error"]["code"] == "E821"
    assert {d["path"] for d in invalid.json()["error"]["details"]} >= {
        "gold_items[0]",
        "items[0].content.text",
    }
    made = world.client.post(
        base,
        headers=manager,
        json={"name": "r1", "gold_items": ["g1"], "participants": ["annotator", "reviewer"]},
    )
    assert made.status_code == 201, made.text
    assert (made.json()["items"], made.json()["participants"]) == (1, 2)

    task = world.client.get(f"{base}/r1/next", headers=annotator).json()
    assert task["content"] == {"text": "Best purchase ever."} and "answer" not in task
    answered = world.client.post(
        f"{base}/r1/answer",
        headers=annotator,
        json={"item_id": task["item_id"], "annotation": {"sentiment": "negative"}},
    )
    assert answered.status_code == 200
    feedback = answered.json()
    assert feedback["expert_answer"] == {"sentiment": "positive"}
    assert feedback["reason"] == GOLD_REASON and feedback["matches"] == {"sentiment": False}
    twice = world.client.post(
        f"{base}/r1/answer",
        headers=annotator,
        json={"item_id": task["item_id"], "annotation": {"sentiment": "positive"}},
    )
    assert twice.status_code == 409 and twice.json()["error"]["code"] == "E823"
    assert world.client.get(f"{base}/r1/next", headers=annotator).status_code == 204
    assert len(world.client.get(f"{base}/r1/feedback", headers=annotator).json()) == 1
    outside = world.client.get(f"{base}/r1/next", headers=world.headers("expert"))
    assert outside.status_code == 403 and outside.json()["error"]["code"] == "E822"
    results = world.client.get(f"{base}/r1/results", headers=manager).json()
    assert [(p["username"], p["answered"], p["correct"]) for p in results["participants"]] == [
        ("annotator", 1, 0),
        ("reviewer", 0, 0),
    ]
    mine = world.client.get(base, headers=annotator).json()
    assert [(r["name"], r["answers"], r["your_answers"]) for r in mine] == [("r1", None, 1)]
    unknown = world.client.get(f"{base}/nope/results", headers=manager)
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "E820"


def test_own_statistics_name_no_item(world: World) -> None:
    annotator = world.headers("annotator")
    accept_terms(world.db, world.actors["annotator"], world.project)
    task = world.client.post(f"{V1}/projects/{world.project}/tasks/next", headers=annotator).json()
    world.client.post(
        f"{V1}/tasks/{task['lease_id']}/submit",
        headers=annotator,
        json={"annotation": {"sentiment": "positive"}, "time_spent_ms": 2000},
    )
    response = world.client.get(f"{V1}/projects/{world.project}/me/stats", headers=annotator)
    assert response.status_code == 200
    body = response.json()
    assert body["username"] == "annotator" and body["throughput"]["annotations"] == 1
    assert body["gold"]["answered"] == 0 and body["throughput"]["median_seconds"] == 2.0
    assert set(body) == {"project", "username", "gold", "agreement", "throughput"}
    assert "item_id" not in response.text  # figures only: no item, gold or not, is named
