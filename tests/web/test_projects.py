"""Projects, members and import over the API (access itself: test_access_matrix)."""

from __future__ import annotations

from sqlalchemy import select, update

from annotary.storage.models import Item, Membership, User, utcnow
from annotary.templates import template_files
from tests.web.world import GOLD_REASON, World, project_yaml

V1 = "/api/v1"


def test_create_project_from_yaml_with_line_numbered_errors(world: World) -> None:
    admin = world.headers("admin")
    bad = project_yaml("broken").replace("overlap: 2", "overlapp: 2")
    refused = world.client.post(f"{V1}/projects", json={"yaml": bad}, headers=admin)
    assert refused.status_code == 422
    error = refused.json()["error"]
    assert error["code"] == "E101"
    assert error["details"][0]["path"] == "workflow.overlapp"
    assert error["details"][0]["location"].startswith("project.yaml:")

    made = world.client.post(f"{V1}/projects", json={"yaml": project_yaml("fresh")}, headers=admin)
    assert made.status_code == 201
    assert made.json() == {
        "name": "fresh",
        "item_kind": "text",
        "schema_version": 1,
        "guideline_version": 1,
    }
    again = world.client.post(f"{V1}/projects", json={"yaml": project_yaml("fresh")}, headers=admin)
    assert again.status_code == 409 and again.json()["error"]["code"] == "E402"


def test_uploaded_project_cannot_read_server_files(world: World) -> None:
    files = template_files("classification")
    admin = world.headers("admin")
    escape = files["project.yaml"].replace("path: guidelines.md", "path: /etc/passwd")
    for body in ({"yaml": files["project.yaml"]}, {"yaml": escape, "guidelines": "x"}):
        refused = world.client.post(f"{V1}/projects", json=body, headers=admin)
        assert refused.status_code == 422
        assert refused.json()["error"]["details"][0]["path"] == "guidelines.path"
    body = {"yaml": files["project.yaml"], "guidelines": files["guidelines.md"]}
    assert world.client.post(f"{V1}/projects", json=body, headers=admin).status_code == 201
    detail = world.client.get(f"{V1}/projects/classification-demo", headers=admin).json()
    assert detail["guidelines"] == files["guidelines.md"]


def test_project_list_shows_members_their_projects_and_admins_all(world: World) -> None:
    world.client.post(
        f"{V1}/projects", json={"yaml": project_yaml("second")}, headers=world.headers("admin")
    )
    as_admin = world.client.get(f"{V1}/projects", headers=world.headers("admin")).json()
    assert [(p["name"], p["role"]) for p in as_admin] == [("matrix", None), ("second", None)]
    as_annotator = world.client.get(f"{V1}/projects", headers=world.headers("annotator")).json()
    assert [(p["name"], p["role"]) for p in as_annotator] == [("matrix", "annotator")]
    assert world.client.get(f"{V1}/projects", headers=world.headers("outsider")).json() == []


def test_project_detail_has_schema_and_guidelines_but_no_gold(world: World) -> None:
    response = world.client.get(f"{V1}/projects/matrix", headers=world.headers("annotator"))
    assert response.status_code == 200
    detail = response.json()
    assert detail["role"] == "annotator"
    assert detail["schema"]["fields"][0]["name"] == "sentiment"
    assert detail["guidelines"].startswith("Pick the sentiment")
    assert [v["version"] for v in detail["guideline_versions"]] == [1]
    assert detail["workflow"]["overlap"] == 2
    assert detail["confidentiality_terms"] == "Keep every item confidential."
    assert detail["terms_accepted_at"] is None
    assert GOLD_REASON not in response.text and "Best purchase ever" not in response.text


def test_status_counts_items(world: World) -> None:
    response = world.client.get(f"{V1}/projects/matrix/status", headers=world.headers("reviewer"))
    assert response.status_code == 200
    status = response.json()
    assert status["total_items"] == 5 and status["gold_items"] == 1
    refused = world.client.get(f"{V1}/projects/matrix/status", headers=world.headers("annotator"))
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "E702"


def test_members_add_change_role_and_list(world: World) -> None:
    manager = world.headers("manager")
    added = world.client.post(
        f"{V1}/projects/matrix/members",
        json={"username": "spare", "role": "reviewer"},
        headers=manager,
    )
    assert added.status_code == 200 and added.json()["role"] == "reviewer"
    changed = world.client.post(
        f"{V1}/projects/matrix/members",
        json={"username": "spare", "role": "expert"},
        headers=manager,
    )
    assert changed.json()["role"] == "expert"
    members = world.client.get(f"{V1}/projects/matrix/members", headers=manager).json()
    assert {m["username"]: m["role"] for m in members} == {
        "annotator": "annotator",
        "expert": "expert",
        "manager": "manager",
        "reviewer": "reviewer",
        "spare": "expert",
    }
    unknown = world.client.post(
        f"{V1}/projects/matrix/members",
        json={"username": "ghost", "role": "expert"},
        headers=manager,
    )
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "E405"
    bad_role = world.client.post(
        f"{V1}/projects/matrix/members", json={"username": "spare", "role": "boss"}, headers=manager
    )
    assert bad_role.status_code == 422
    assert bad_role.json()["error"]["details"][0]["path"] == "role"


def test_resume_clears_pause_and_failed_qualification(world: World) -> None:
    user_id = world.actors["annotator"].user_id
    with world.db.sessions.begin() as session:
        session.execute(
            update(Membership)
            .where(Membership.user_id == user_id)
            .values(
                paused_at=utcnow(),
                pause_reason="gold accuracy 0.4",
                qualification_failed_at=utcnow(),
            )
        )
    response = world.client.post(
        f"{V1}/projects/matrix/members/annotator/resume", headers=world.headers("manager")
    )
    assert response.status_code == 200
    body = response.json()
    assert body["paused_at"] is None and body["pause_reason"] is None
    assert body["qualification_failed_at"] is None
    outsider = world.client.post(
        f"{V1}/projects/matrix/members/outsider/resume", headers=world.headers("manager")
    )
    assert outsider.status_code == 404


def test_accept_terms_records_the_time_once(world: World) -> None:
    headers = world.headers("annotator")
    first = world.client.post(f"{V1}/projects/matrix/terms/accept", headers=headers).json()
    second = world.client.post(f"{V1}/projects/matrix/terms/accept", headers=headers).json()
    assert first["terms_accepted_at"] is not None
    assert second["terms_accepted_at"] == first["terms_accepted_at"]
    detail = world.client.get(f"{V1}/projects/matrix", headers=headers).json()
    assert detail["terms_accepted_at"] == first["terms_accepted_at"]


def test_import_streams_a_file_with_options(world: World) -> None:
    csv = b"ref,body,lang\nc1,Lovely shop,en\nc2,Awful wait,en\nc1,Lovely shop,en\n"
    response = world.client.post(
        f"{V1}/projects/matrix/import",
        params=[
            ("filename", "batch.csv"),
            ("map", "text=body"),
            ("meta", "lang"),
            ("id_column", "ref"),
        ],
        content=csv,
        headers={**world.headers("manager"), "Content-Type": "application/octet-stream"},
    )
    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["rows_read"], report["items_added"], report["duplicates"]) == (3, 2, 1)
    assert report["source"] == "batch.csv" and report["rejects_path"] is None
    with world.db.sessions() as session:
        item = session.scalars(select(Item).where(Item.external_id == "c2")).one()
    assert item.content == {"text": "Awful wait"} and item.meta == {"lang": "en"}


def test_import_abort_reports_lines_and_stores_nothing(world: World) -> None:
    bad = b'{"text": "fine"}\n{"text": 5}\n{"txt": "typo"}\n'
    url = f"{V1}/projects/matrix/import"
    headers = world.headers("admin")
    response = world.client.post(
        url, params={"filename": "bad.jsonl"}, content=bad, headers=headers
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "E301"
    assert [d["location"] for d in error["details"]] == ["bad.jsonl:2", "bad.jsonl:3"]
    with world.db.sessions() as session:
        assert len(session.scalars(select(Item.id)).all()) == 5

    skipped = world.client.post(
        url, params={"filename": "bad.jsonl", "on_error": "skip"}, content=bad, headers=headers
    ).json()
    assert skipped["items_added"] == 1 and skipped["rejected"] == 2
    assert [e["location"] for e in skipped["errors"]] == ["bad.jsonl:2", "bad.jsonl:3"]


def test_import_option_errors_name_the_parameter(world: World) -> None:
    response = world.client.post(
        f"{V1}/projects/matrix/import",
        params={"on_error": "sometimes", "filename": "x.jsonl"},
        content=b"",
        headers=world.headers("manager"),
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "E709"
    assert response.json()["error"]["details"][0]["path"] == "query.on_error"
    unknown = world.client.post(
        f"{V1}/projects/matrix/import",
        params={"filename": "data.xlsx"},
        content=b"x",
        headers=world.headers("manager"),
    )
    assert unknown.status_code == 422 and unknown.json()["error"]["code"] == "E302"


def test_users_list_and_add(world: World) -> None:
    admin = world.headers("admin")
    made = world.client.post(
        f"{V1}/users",
        json={
            "username": "dana",
            "password": "long-password",
            "skills": ["legal"],
            "languages": ["de"],
            "project": "matrix",
            "role": "reviewer",
        },
        headers=admin,
    )
    assert made.status_code == 201, made.text
    user = made.json()
    assert user["skills"] == ["legal"] and user["languages"] == ["de"]
    assert user["memberships"] == [
        {"project": "matrix", "title": "Access matrix", "role": "reviewer"}
    ]
    with world.db.sessions() as session:
        stored = session.scalars(select(User).where(User.username == "dana")).one()
    assert stored.password_hash is not None and stored.password_hash.startswith("$argon2id$")

    names = [u["username"] for u in world.client.get(f"{V1}/users", headers=admin).json()]
    assert "dana" in names and names == sorted(names)
    duplicate = world.client.post(f"{V1}/users", json={"username": "dana"}, headers=admin)
    assert duplicate.status_code == 409 and duplicate.json()["error"]["code"] == "E403"
    invalid = world.client.post(
        f"{V1}/users", json={"username": "Bad Name", "password": "short"}, headers=admin
    )
    assert invalid.status_code == 422
    assert {d["path"] for d in invalid.json()["error"]["details"]} == {"username", "password"}
