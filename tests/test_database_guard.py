"""The suite wipes the database it is given, so it checks the name first."""

from __future__ import annotations

import pytest

from tests.conftest import require_test_database


@pytest.mark.parametrize(
    "name", ["annotary", "production", "contest", "testing_data", "annotary_latest", ""]
)
def test_refuses_a_database_not_named_for_tests(name: str) -> None:
    with pytest.raises(pytest.exit.Exception, match="has 'test' as a word"):
        require_test_database(f"postgresql://postgres@127.0.0.1:5432/{name}")


@pytest.mark.parametrize("name", ["annotary_test", "test", "tests_annotary", "annotary-test-ci-1"])
def test_accepts_a_database_named_for_tests(name: str) -> None:
    require_test_database(f"postgresql://postgres@127.0.0.1:5432/{name}")
