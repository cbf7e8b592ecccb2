"""`annotary plugins` and project files naming a plugin's method, with the plugin
installed through an entry point (a package folder on PYTHONPATH)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.runner import run
from tests.core.plugins.sample import COMPONENTS_PACKAGE, MAX_RATING_PACKAGE, install

ROOT = Path(__file__).resolve().parents[2]
PROJECT = """\
name: rated
objective: {use_case: other}
schema:
  fields:
    - {name: quality, kind: rating, min: 1, max: 5}
guidelines: Rate it.
workflow:
  consensus:
    quality: {method: acme.max_rating.v1}
"""


def site_with(tmp_path: Path, *packages: tuple[str, str, str | None]) -> dict[str, str]:
    """The environment of a process in which `packages` are installed."""
    site = tmp_path / "site"
    site.mkdir()
    for package, source, value in packages:
        install(site, package, source, value)
    return {"PYTHONPATH": f"{site}:{ROOT}"}


def test_plugins_lists_built_in_and_installed_plugins_and_their_components(
    tmp_path: Path,
) -> None:
    env = site_with(
        tmp_path,
        ("acme_max", MAX_RATING_PACKAGE, None),
        ("acme_parts", COMPONENTS_PACKAGE, "acme_parts:plugin"),
    )
    listed = run("plugins", "--json", env=env)
    assert listed.returncode == 0, listed.stderr
    data = json.loads(listed.stdout)
    assert [(p["name"], p["source"], p["distribution"]) for p in data["plugins"]] == [
        ("annotary.consensus", "built-in", None),
        ("acme_max", "entry point", "acme-max"),
        ("acme_parts", "entry point", "acme-parts"),
    ]
    assert [a["name"] for a in data["aggregators"]][-2:] == ["omit", "acme.max_rating.v1"]
    assert [p["name"] for p in data["prelabelers"]] == ["acme.keyword.v1"]
    assert [e["name"] for e in data["exporters"]] == ["acme.labels.v1"]
    assert [r["name"] for r in data["pii_recognizers"]] == ["acme.email.v1"]
    shown = run("plugins", env=env)
    assert shown.returncode == 0, shown.stderr
    for text in ("acme-max 1.0", "acme.max_rating.v1", "acme.keyword.v1", "acme.email.v1"):
        assert text in shown.stdout


def test_validate_knows_the_methods_of_installed_plugins(tmp_path: Path) -> None:
    path = tmp_path / "project.yaml"
    path.write_text(PROJECT)
    env = site_with(tmp_path, ("acme_max", MAX_RATING_PACKAGE, None))
    assert run("validate", str(path), env=env).returncode == 0
    without = run("validate", str(path))
    assert without.returncode == 1
    assert "unknown consensus method 'acme.max_rating.v1'" in without.stderr
    assert "valid for the rating field 'quality': median" in without.stderr


def test_a_broken_plugin_is_an_error_naming_it_not_a_traceback(tmp_path: Path) -> None:
    broken = """\
        from annotary.hookspecs import hookimpl

        @hookimpl
        def register_aggregators():
            raise RuntimeError("licence key missing")
    """
    env = site_with(tmp_path, ("acme_raising", broken, None))
    result = run("plugins", env=env)
    assert result.returncode == 1
    assert (
        "E902: plugin 'acme_raising' failed in register_aggregators: RuntimeError: "
        "licence key missing"
    ) in result.stderr
    assert "Traceback" not in result.stderr
