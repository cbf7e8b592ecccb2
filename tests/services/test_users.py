from __future__ import annotations

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from annotary.errors import Conflict, Invalid, NotFound
from annotary.services.identity.users import NewUser, add_user
from annotary.services.projects import create_project
from annotary.storage.db import Database, read_session
from annotary.storage.models import Membership, User
from tests.services.helpers import sentiment_project


def test_add_user_hashes_password_with_argon2(db: Database) -> None:
    user_id = add_user(db, NewUser("alice", "correct horse", is_admin=True, skills=("legal",)))
    with read_session(db.sessions) as session:
        user = session.get(User, user_id)
    assert user is not None and user.is_admin and user.skills == ["legal"]
    assert user.password_hash is not None and user.password_hash.startswith("$argon2id$")
    assert PasswordHasher().verify(user.password_hash, "correct horse")


def test_add_user_with_membership(db: Database) -> None:
    create_project(db, sentiment_project())
    user_id = add_user(db, NewUser("bob", "secret-pass", project="reviews", role="reviewer"))
    with read_session(db.sessions) as session:
        membership = session.scalars(select(Membership)).one()
    assert (membership.user_id, membership.role) == (user_id, "reviewer")


def test_add_user_rejects_bad_fields_listing_each(db: Database) -> None:
    with pytest.raises(Invalid) as raised:
        add_user(db, NewUser("Bad Name", "short", role="boss"))
    paths = {d.path for d in raised.value.details}
    assert paths == {"username", "password", "role"}


def test_duplicate_user_and_unknown_project_leave_nothing(db: Database) -> None:
    add_user(db, NewUser("carol", "long enough"))
    with pytest.raises(Conflict):
        add_user(db, NewUser("carol", "long enough"))
    with pytest.raises(NotFound):
        add_user(db, NewUser("dave", "long enough", project="missing"))
    with read_session(db.sessions) as session:
        names = session.scalars(select(User.username)).all()
    assert names == ["carol"]
