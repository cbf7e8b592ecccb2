"""YAML loading that remembers where every value came from.

PyYAML drops positions once it builds Python objects; we compose the node tree
ourselves so that a validation error on `schema.fields[2].labels` can name the
line it was written on. Duplicate mapping keys, which PyYAML silently
overwrites, are errors here.
"""

from __future__ import annotations

from typing import Any

import yaml

from annotary.errors import E_PROJECT_FILE_INVALID, FieldError, Invalid

Path = tuple[str | int, ...]


def load_yaml(text: str, filename: str) -> tuple[Any, dict[Path, int]]:
    """Parse YAML text into plain data and a map from data path to 1-based line."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        reason = f"invalid YAML: {exc.problem or exc.context}"
        raise Invalid(
            E_PROJECT_FILE_INVALID,
            f"{filename} is not valid YAML",
            [FieldError("", reason, f"{filename}:{line}")],
        ) from exc
    lines: dict[Path, int] = {}
    if node is None:
        return None, lines
    errors: list[FieldError] = []
    data = _build(node, (), lines, errors, filename)
    if errors:
        raise Invalid(E_PROJECT_FILE_INVALID, f"{filename} has duplicate keys", errors)
    return data, lines


def _build(
    node: yaml.Node, path: Path, lines: dict[Path, int], errors: list[FieldError], filename: str
) -> Any:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = yaml.SafeLoader(" ").construct_object(key_node, deep=True)
            if key in result:
                errors.append(
                    FieldError(
                        dotted_path((*path, str(key))),
                        f"duplicate key {key!r}",
                        f"{filename}:{key_node.start_mark.line + 1}",
                    )
                )
                continue
            child = (*path, str(key))
            result[key] = _build(value_node, child, lines, errors, filename)
            lines[child] = key_node.start_mark.line + 1
        return result
    if isinstance(node, yaml.SequenceNode):
        return [
            _build(item, (*path, index), lines, errors, filename)
            for index, item in enumerate(node.value)
        ]
    return yaml.SafeLoader(" ").construct_object(node, deep=True)


def line_of(lines: dict[Path, int], path: Path) -> int | None:
    """Line of the deepest known prefix of `path` (None if nothing is known)."""
    for end in range(len(path), -1, -1):
        line = lines.get(path[:end])
        if line is not None:
            return line
    return None


def dotted_path(path: Path) -> str:
    """`('schema', 'fields', 2, 'labels')` -> `schema.fields[2].labels`."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out
