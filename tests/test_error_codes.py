"""Error codes are written once, as constants in `annotary/errors.py`."""

from __future__ import annotations

import ast
import re
from pathlib import Path

SOURCE = Path(__file__).resolve().parents[1] / "src" / "annotary"
CODE = re.compile(r"^E\d{3}$")


def test_no_error_code_is_a_string_literal_outside_errors_py() -> None:
    found = [
        f"{path.relative_to(SOURCE)}:{node.lineno}: {node.value!r}"
        for path in sorted(SOURCE.rglob("*.py"))
        if path != SOURCE / "errors.py"
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and CODE.match(node.value)
    ]
    assert found == [], "use the E_... constants of annotary.errors"
