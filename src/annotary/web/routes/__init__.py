"""One router per resource; every module here that defines `router` is mounted.

A module is found by its presence, so adding a resource is adding a file;
`tests/web/test_access_matrix.py` then demands an access rule for each of its
routes. `create_app` mounts them in name order, `tasks` first: requests are
matched against the routers in order, and the queue serves most of them.
"""

from __future__ import annotations

import importlib
import pkgutil

from fastapi import APIRouter

API_PREFIX = "/api/v1"


def all_routers() -> list[APIRouter]:
    """The `router` of every module in this package: `tasks`, then the others by name."""
    routers = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: (i.name != "tasks", i.name)):
        module = importlib.import_module(f"{__name__}.{info.name}")
        router = getattr(module, "router", None)
        if isinstance(router, APIRouter):
            routers.append(router)
    return routers
