"""The project QA report use case (SPEC 6): reproducible from the stored annotations.

`qa_report` reads the project with a few bulk queries (`services.qa.data`), then
computes every section from NumPy arrays outside the database transaction
(`core.quality.report`).
"""

from __future__ import annotations

from annotary.core.quality.report.build import QaReport, build_report
from annotary.errors import E_REQUEST_INVALID, FieldError, Invalid
from annotary.services.identity.access import (
    EXPERT,
    MANAGER,
    REVIEWER,
    Actor,
    project_for,
    require_role,
)
from annotary.services.projects import get_project
from annotary.services.qa.data import load_qa_data
from annotary.storage.db import Database, read_session

QA_ROLES = frozenset({MANAGER, REVIEWER, EXPERT})
"""Who may read a project's QA report (admins too): not annotators, who would
see their peers' accuracy and the gold items."""


def qa_report(
    db: Database,
    project_name: str,
    actor: Actor | None = None,
    *,
    window_days: int = 7,
    k_anonymity: int = 5,
) -> QaReport:
    """The QA report of a project.

    With an `actor` (the API) the caller must be a manager, reviewer or expert
    of the project, or an admin; without one the caller is the trusted local
    CLI. `window_days` sets the length of the time windows agreement is tracked
    over; annotator groups smaller than `k_anonymity` people are withheld from
    the bias section.
    """
    problems = []
    if not 1 <= window_days <= 3650:
        problems.append(FieldError("window_days", "must be a whole number of days, 1 to 3650"))
    if not 2 <= k_anonymity <= 1000:
        problems.append(FieldError("k_anonymity", "must be between 2 and 1000"))
    if problems:
        raise Invalid(E_REQUEST_INVALID, "invalid QA report options", problems)
    with read_session(db.sessions) as session:
        if actor is not None:
            require_role(session, actor, project_for(session, actor, project_name), QA_ROLES)
        project = get_project(session, project_name)
        data = load_qa_data(session, project)
    return build_report(data, window_days, k_anonymity)
