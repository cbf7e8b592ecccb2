"""The app as a whole: factory, OpenAPI document, error rendering."""

from __future__ import annotations

from fastapi.routing import APIRoute

from annotary import __version__
from annotary.client import ERROR_BY_STATUS
from annotary.config import Settings
from annotary.errors import AnnotaryError, Invalid, NotFound
from annotary.web.app import api_routes, create_app
from annotary.web.errors import STATUS_BY_ERROR, status_for
from tests.web.world import World


def test_openapi_documents_every_route_with_summary_tags_and_responses(world: World) -> None:
    response = world.client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document["info"] == {
        "title": "annotary",
        "version": __version__,
        "description": document["info"]["description"],
    }
    assert {tag["name"] for tag in document["tags"]} >= {"auth", "users", "projects", "members"}
    routes = api_routes(world.app)
    assert len(routes) >= 17
    for method, path in routes:
        operation = document["paths"][path][method.lower()]
        assert operation.get("summary"), (method, path)
        assert operation.get("tags"), (method, path)
        success = [code for code in operation["responses"] if code.startswith("2")]
        assert success, (method, path)
        if "{name}" in path or path.endswith("/me"):
            assert "401" in operation["responses"], (method, path)


def test_every_route_declares_a_response_model_or_no_content(world: World) -> None:
    for route in world.app.router.routes:
        original = getattr(route, "original_router", None)
        for api_route in original.routes if original is not None else [route]:
            if isinstance(api_route, APIRoute):
                assert api_route.response_model is not None or api_route.status_code == 204, (
                    api_route.path
                )


def test_the_app_factory_builds_independent_apps(db_url: str) -> None:
    first, second = (
        create_app(Settings(database_url=db_url)),
        create_app(Settings(database_url=db_url)),
    )
    assert first is not second and first.state.db is not second.state.db
    first.state.db.dispose()
    second.state.db.dispose()


def test_errors_have_one_shape(world: World) -> None:
    unknown = world.client.get("/api/v1/nowhere", headers=world.headers("admin"))
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "E712"
    assert "GET /api/v1/nowhere" in unknown.json()["error"]["message"]

    invalid = world.client.post(
        "/api/v1/me/tokens", json={"nam": "x", "expires_days": 0}, headers=world.headers("admin")
    )
    assert invalid.status_code == 422
    body = invalid.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details", "request_id"}
    assert body["error"]["code"] == "E709"
    assert {d["path"] for d in body["error"]["details"]} == {"name", "nam", "expires_days"}

    not_json = world.client.post(
        "/api/v1/me/tokens",
        content=b"{oops",
        headers={**world.headers("admin"), "Content-Type": "application/json"},
    )
    assert not_json.status_code == 422 and not_json.json()["error"]["code"] == "E709"


def test_status_table_and_client_inverse_agree() -> None:
    assert {status: cls for cls, status in STATUS_BY_ERROR.items()} == ERROR_BY_STATUS
    assert status_for(NotFound("E401", "x")) == 404
    assert status_for(Invalid("E101", "x")) == 422
    assert status_for(AnnotaryError("E999", "x")) == 400
