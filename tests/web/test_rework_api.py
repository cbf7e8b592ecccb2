"""Rework tasks over HTTP (SPEC 8): served by `tasks/next` with the fields to redo
and the earlier values, submitted as a partial answer (access: test_access_matrix)."""

from __future__ import annotations

from tests.web.world import World, project_yaml

V1 = "/api/v1"


def test_a_rework_task_over_http(world: World) -> None:
    annotator, manager = world.headers("annotator"), world.headers("manager")
    assert world.client.post(f"{V1}/projects/matrix/terms/accept", headers=annotator).is_success
    first = world.client.post(f"{V1}/projects/matrix/tasks/next", headers=annotator).json()
    assert first["rework"] is None
    submitted = world.client.post(
        f"{V1}/tasks/{first['lease_id']}/submit",
        json={"annotation": {"sentiment": "negative"}},
        headers=annotator,
    ).json()
    mixed = project_yaml().replace("[positive, negative]", "[positive, negative, mixed]")
    assert world.client.put(
        f"{V1}/projects/matrix", json={"yaml": mixed}, headers=manager
    ).is_success
    sent = world.client.post(f"{V1}/projects/matrix/rework", json={}, headers=manager).json()
    assert sent["items"] == 1

    task = world.client.post(f"{V1}/projects/matrix/tasks/next", headers=annotator).json()
    assert task["item"]["ref"] == first["item"]["ref"]
    assert task["rework"] == {"fields": ["sentiment"], "previous": {"sentiment": "negative"}}
    assert task["schema_version"] == 2
    assert task.keys() == first.keys()

    url = f"{V1}/tasks/{task['lease_id']}/submit"
    refused = world.client.post(
        url, json={"annotation": {"sentiment": "mixed", "tone": "dry"}}, headers=annotator
    )
    assert refused.status_code == 422
    error = refused.json()["error"]
    assert error["code"] == "E201"
    assert [(d["path"], d["reason"]) for d in error["details"]] == [
        ("annotation.tone", "not part of this rework; redo only: sentiment")
    ]
    done = world.client.post(url, json={"annotation": {"sentiment": "mixed"}}, headers=annotator)
    assert done.json() == {"annotation_id": submitted["annotation_id"]}

    following = world.client.post(f"{V1}/projects/matrix/tasks/next", headers=annotator).json()
    assert following["rework"] is None and following["item"]["ref"] != task["item"]["ref"]
    status = world.client.get(f"{V1}/projects/matrix/status", headers=manager).json()
    assert not [s for s in status["items"] if s["status"] == "rework"]
    document = world.client.get(f"{V1}/openapi.json", headers=manager).json()
    assert "rework" in document["components"]["schemas"]["TaskOut"]["properties"]
