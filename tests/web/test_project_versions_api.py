"""PUT /projects/{name} and GET /projects/{name}/diff over HTTP (access: test_access_matrix)."""

from __future__ import annotations

from annotary.services.identity.members import accept_terms
from annotary.services.queue.serving import next_task, submit_annotation
from tests.web.world import World, project_yaml

V1 = "/api/v1"
NO_POSITIVE = project_yaml().replace("labels: [positive, negative]", "labels: [good, negative]")


def test_update_makes_versions_and_diff_shows_them(world: World) -> None:
    manager = world.headers("manager")
    changed = project_yaml().replace("Pick the sentiment", "Pick the overall sentiment")
    changed = changed.replace("labels: [positive, negative]", "labels: [positive, negative, mixed]")
    done = world.client.put(f"{V1}/projects/matrix", json={"yaml": changed}, headers=manager)
    assert done.status_code == 200, done.text
    body = done.json()
    assert (body["revision"], body["new_schema_version"], body["new_guideline_version"]) == (
        2,
        2,
        2,
    )
    assert [c["text"] for c in body["diff"]["schema"]] == ["sentiment: labels added: mixed"]
    detail = world.client.get(f"{V1}/projects/matrix", headers=manager).json()
    assert detail["schema_version"] == 2 and detail["guideline_version"] == 2
    assert "overall" in detail["guidelines"]

    seen = world.client.get(f"{V1}/projects/matrix/diff", headers=world.headers("annotator"))
    assert seen.status_code == 200
    diff = seen.json()
    assert (diff["before"]["revision"], diff["after"]["revision"]) == (1, 2)
    assert "-Pick the sentiment of the text." in diff["guidelines"]
    assert "+Pick the overall sentiment of the text." in diff["guidelines"]
    assert diff["schema"][0]["effect"] == "widening"

    again = world.client.put(f"{V1}/projects/matrix", json={"yaml": changed}, headers=manager)
    assert again.json()["changed"] is False and again.json()["revision"] is None


def test_invalidating_update_needs_confirm(world: World) -> None:
    manager = world.headers("manager")
    url = f"{V1}/projects/matrix"
    preview = world.client.put(
        url, json={"yaml": NO_POSITIVE}, params={"dry_run": "true"}, headers=manager
    )
    assert preview.status_code == 200 and preview.json()["invalidates"] is True
    assert preview.json()["revision"] is None

    refused = world.client.put(url, json={"yaml": NO_POSITIVE}, headers=manager)
    assert refused.status_code == 409
    error = refused.json()["error"]
    assert error["code"] == "E422" and "1 of 1 gold answers" in error["message"]
    details = error["details"]
    assert {"path": "sentiment", "reason": "1 gold answer(s) no longer validate"} in [
        {"path": d["path"], "reason": d["reason"]} for d in details if d["location"] == "summary"
    ]
    example = next(d for d in details if d["location"] != "summary")
    assert example["location"].startswith("gold answer ") and "(g1)" in example["location"]
    assert "'positive' is not in the label set" in example["reason"]
    assert world.client.get(url, headers=manager).json()["schema_version"] == 1

    confirmed = world.client.put(
        url, json={"yaml": NO_POSITIVE}, params={"confirm": "true"}, headers=manager
    )
    assert confirmed.status_code == 200 and confirmed.json()["revision"] == 2
    assert confirmed.json()["invalidated"][1]["invalid"] == 1


def test_update_refuses_another_projects_file(world: World) -> None:
    refused = world.client.put(
        f"{V1}/projects/matrix",
        json={"yaml": project_yaml("other")},
        headers=world.headers("admin"),
    )
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "E420"


def test_diff_of_unknown_revision(world: World) -> None:
    missing = world.client.get(
        f"{V1}/projects/matrix/diff", params={"from": 1, "to": 5}, headers=world.headers("admin")
    )
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "E423"


def test_rework_after_an_update(world: World) -> None:
    annotator = world.actors["annotator"]
    accept_terms(world.db, annotator, world.project)
    task = next_task(world.db, annotator, world.project)
    assert task is not None
    submit_annotation(world.db, annotator, task.lease_id, {"sentiment": "negative"})
    manager = world.headers("manager")
    mixed = project_yaml().replace("[positive, negative]", "[positive, negative, mixed]")
    assert world.client.put(
        f"{V1}/projects/matrix", json={"yaml": mixed}, headers=manager
    ).is_success

    url = f"{V1}/projects/matrix/rework"
    preview = world.client.post(url, json={"dry_run": True}, headers=manager).json()
    assert (preview["items"], preview["by_field"], preview["applied"]) == (
        1,
        {"sentiment": 1},
        False,
    )
    assert preview["examples"][0]["username"] == "annotator"
    done = world.client.post(url, json={}, headers=manager).json()
    assert done["applied"] is True and done["items"] == 1
    status = world.client.get(f"{V1}/projects/matrix/status", headers=manager).json()
    assert {"status": "rework", "kind": "text", "count": 1} in status["items"]
    unknown = world.client.post(url, json={"fields": ["nope"]}, headers=manager)
    assert unknown.status_code == 422 and unknown.json()["error"]["code"] == "E425"
    cancelled = world.client.post(f"{url}/cancel", headers=manager).json()
    assert cancelled == {"project": "matrix", "cancelled_items": 1}
