"""Every number has an upper bound that fits its column; errors quote little of a bad
value; an uploaded project reads no server file, whatever YAML it uses."""

from __future__ import annotations

import pytest

from annotary.services.identity.members import accept_terms
from annotary.services.queue.serving import next_task
from annotary.templates import template_files
from tests.web.test_guard import assert_error
from tests.web.world import World, project_yaml

V1 = "/api/v1"
HUGE = 10**30


def leased(world: World) -> int:
    actor = world.actors["annotator"]
    accept_terms(world.db, actor, world.project)
    task = next_task(world.db, actor, world.project)
    assert task is not None
    return task.lease_id


def test_time_spent_is_bounded(world: World) -> None:
    lease = leased(world)
    url = f"{V1}/tasks/{lease}/submit"
    body = {"annotation": {"sentiment": "positive"}, "time_spent_ms": HUGE}
    refused = world.client.post(url, json=body, headers=world.headers("annotator"))
    error = assert_error(refused, 422, "E709")
    assert error["details"] == [
        {"path": "time_spent_ms", "reason": "Input should be less than or equal to 86400000"}
    ]
    body["time_spent_ms"] = 86_400_000
    accepted = world.client.post(url, json=body, headers=world.headers("annotator"))
    assert accepted.status_code == 200, accepted.text


ITEM = f"{V1}/projects/matrix/items/{HUGE}"


@pytest.mark.parametrize(
    ("method", "path", "body", "role"),
    [
        ("POST", f"{V1}/tasks/{HUGE}/submit", {"annotation": {}}, "annotator"),
        ("POST", f"{V1}/tasks/{HUGE}/skip", {"reason": "x"}, "annotator"),
        ("POST", f"{V1}/tasks/{2**63}/submit", {"annotation": {}}, "annotator"),
        ("DELETE", f"{V1}/me/tokens/{HUGE}", None, "annotator"),
        ("POST", f"{ITEM}/adjudicate", {"payload": {}, "reason": "r"}, "manager"),
        ("POST", f"{ITEM}/resolve", {"action": "requeue", "reason": "r"}, "manager"),
        ("POST", f"{ITEM}/review", {"verdict": "confirm", "reason": "r"}, "manager"),
        ("POST", f"{V1}/tasks/0/submit", {"annotation": {}}, "annotator"),
    ],
)
def test_ids_in_paths_are_bounded(
    world: World, method: str, path: str, body: object, role: str
) -> None:
    response = world.client.request(method, path, json=body, headers=world.headers(role))
    error = assert_error(response, 422, "E709")
    assert error["details"][0]["path"].startswith("path.")


def test_the_largest_id_is_simply_not_found(world: World) -> None:
    response = world.client.post(
        f"{V1}/tasks/{2**63 - 1}/submit",
        json={"annotation": {}},
        headers=world.headers("annotator"),
    )
    assert_error(response, 404, "E801")


def test_text_fields_fit_their_columns(world: World) -> None:
    admin = world.headers("admin")
    too_long = {"username": "newbie", "display_name": "d" * 201, "email": "e" * 321}
    error = assert_error(
        world.client.post(f"{V1}/users", json=too_long, headers=admin), 422, "E709"
    )
    assert {d["path"] for d in error["details"]} == {"display_name", "email"}


def test_errors_quote_only_a_short_prefix_of_a_bad_value(world: World) -> None:
    lease = leased(world)
    long_label, long_key = "L" * 5000, "K" * 5000
    body = {"annotation": {"sentiment": long_label, long_key: 1}}
    response = world.client.post(
        f"{V1}/tasks/{lease}/submit", json=body, headers=world.headers("annotator")
    )
    error = assert_error(response, 422, "E201")
    assert len(response.text) < 1500
    assert "L" * 40 in response.text and "L" * 41 not in response.text
    assert "K" * 41 not in response.text
    extra = world.client.post(
        f"{V1}/me/tokens", json={"name": "x", long_key: 1}, headers=world.headers("annotator")
    )
    assert_error(extra, 422, "E709")
    assert "K" * 41 not in extra.text
    assert error["details"]


@pytest.mark.parametrize(
    ("yaml", "reason"),
    [
        ("\u00b9$\u0081o", "U+0081"),
        ("name: m\nobjective:\n  <<: {use_case: other}\n", "merge keys"),
        ("name: m\nobjective: &o {use_case: other}\nexport: *o\n", "anchors"),
        ("name: m\nguidelines: {path: !!binary L2V0Yy9ob3N0bmFtZQ==}\n", "'!!binary'"),
        ("name: !!python/name:os.system m\n", "tags"),
    ],
)
def test_project_uploads_hold_plain_data_only(world: World, yaml: str, reason: str) -> None:
    response = world.client.post(
        f"{V1}/projects", json={"yaml": yaml, "guidelines": "x"}, headers=world.headers("admin")
    )
    error = assert_error(response, 422, "E101")
    assert reason in str(error["details"])


@pytest.mark.parametrize(
    "path",
    ["/etc/hostname", "../../etc/hostname", "a/../../x.md", "", " ", ".", "a/..", "x" * 300],
)
def test_project_uploads_name_only_files_inside_the_upload(world: World, path: str) -> None:
    files = template_files("classification")
    text = files["project.yaml"].replace("path: guidelines.md", f"path: {path!r}")
    response = world.client.post(
        f"{V1}/projects", json={"yaml": text, "guidelines": "x"}, headers=world.headers("admin")
    )
    error = assert_error(response, 422, "E101")
    assert error["details"][0]["path"] == "guidelines.path"


def test_a_project_upload_with_its_guidelines_in_a_folder_works(world: World) -> None:
    files = template_files("classification")
    text = files["project.yaml"].replace("path: guidelines.md", "path: docs/guide.md")
    response = world.client.post(
        f"{V1}/projects",
        json={"yaml": text, "guidelines": "Read me."},
        headers=world.headers("admin"),
    )
    assert response.status_code == 201, response.text
    detail = world.client.get(f"{V1}/projects/classification-demo", headers=world.headers("admin"))
    assert detail.json()["guidelines"] == "Read me."


def test_an_uploaded_project_still_may_not_be_too_big_in_numbers(world: World) -> None:
    text = project_yaml("numbers").replace(
        "overlap: 2", "overlap: 2\n  lease_timeout: 10000000000d"
    )
    response = world.client.post(
        f"{V1}/projects", json={"yaml": text}, headers=world.headers("admin")
    )
    error = assert_error(response, 422, "E101")
    assert error["details"][0]["path"] == "workflow.lease_timeout"


def test_project_file_errors_quote_only_a_short_prefix(world: World) -> None:
    label = "L" * 5000 + "/x"
    text = project_yaml("echo").replace("[positive, negative]", f"[positive, {label}]")
    response = world.client.post(
        f"{V1}/projects", json={"yaml": text}, headers=world.headers("admin")
    )
    assert_error(response, 422, "E101")
    assert "L" * 40 in response.text and "L" * 41 not in response.text


def test_import_errors_quote_only_a_short_prefix(world: World) -> None:
    response = world.client.post(
        f"{V1}/projects/matrix/import",
        params={"format": "F" * 3000},
        content=b'{"text": "x"}\n{"text": "y", "priority": "' + b"P" * 3000 + b'"}\n',
        headers=world.headers("manager"),
    )
    assert_error(response, 422, "E302")
    assert "F" * 41 not in response.text
    bad_row = world.client.post(
        f"{V1}/projects/matrix/import",
        params={"filename": "rows.jsonl"},
        content=b'{"text": "y", "priority": "' + b"P" * 3000 + b'"}\n',
        headers=world.headers("manager"),
    )
    assert_error(bad_row, 422, "E301")
    assert "P" * 40 in bad_row.text and "P" * 41 not in bad_row.text
