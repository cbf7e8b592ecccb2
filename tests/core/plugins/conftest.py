"""Install test plugins through entry points: a folder on `sys.path`, undone after."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.core.plugins.sample import install

Installer = Callable[[str, str, str | None], Path]


@pytest.fixture
def installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Installer]:
    """`installed(package, source, value=None)` installs a plugin package for this test."""
    before = set(sys.modules)
    site = tmp_path / "site"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))

    def install_one(package: str, source: str, value: str | None = None) -> Path:
        return install(site, package, source, value)

    yield install_one
    for name in set(sys.modules) - before:
        if name.startswith("acme"):
            del sys.modules[name]
