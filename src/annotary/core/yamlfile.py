"""YAML loading that remembers where every value came from and accepts plain data only.

PyYAML drops positions once it builds Python objects; we compose the node tree
ourselves so that a validation error on `schema.fields[2].labels` can name the
line it was written on. Duplicate mapping keys, which PyYAML silently
overwrites, are errors here.

A project file may come from anyone allowed to upload one, so it may hold only
JSON-like data: strings, numbers, booleans, null, lists and mappings whose keys
are scalars. Refused, each as an E101 error that names the line:

- explicit tags (`!!binary`, `!!python/...`, `!!set`, `!!omap`, `!!str`, any
  `!name`): a tag makes a value something other than it looks, which is how a
  `!!binary` file name once slipped past the upload's path check;
- anchors and aliases (`&a`, `*a`) and merge keys (`<<`): aliases can expand
  a small file into a huge one ("billion laughs"); write the values out;
- control characters (other than tab and line breaks), also when written as
  escapes in quoted strings;
- mappings or lists as keys, numbers that are not finite, integers beyond
  64 bits, nesting deeper than `MAX_DEPTH`.

Dates and times (`2024-05-01`) stay strings, as they would in JSON.
"""

from __future__ import annotations

import math
import re
from typing import Any

import yaml
from yaml.constructor import SafeConstructor

from annotary.errors import E_PROJECT_FILE_INVALID, FieldError, Invalid, quote

Path = tuple[str | int, ...]

MAX_DEPTH = 50
"""Deepest nesting of lists and mappings a file may use (project files need about 8)."""
MAX_INTEGER = 2**63 - 1
_TAG = "tag:yaml.org,2002:"
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_SCALARS = SafeConstructor()  # stateless for scalars: turns plain ints, floats, bools to Python


class _Refused(Exception):
    """A construct the loader does not accept, at a 0-based line (and data path,
    where the value has one)."""

    def __init__(self, line: int, reason: str, path: Path = ()) -> None:
        super().__init__(reason)
        self.line = line
        self.reason = reason
        self.path = path


class _PlainLoader(yaml.SafeLoader):
    """SafeLoader that refuses tags, anchors, aliases and deep nesting while composing."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        event = self.peek_event()  # type: ignore[no-untyped-call]
        line = event.start_mark.line
        if isinstance(event, yaml.AliasEvent):
            raise _Refused(line, "aliases (*name) are not allowed; write the value out")
        if event.anchor is not None:
            raise _Refused(line, "anchors (&name) are not allowed; write the value out")
        tag = getattr(event, "tag", None)
        if tag is not None:
            written = f"!!{tag.removeprefix(_TAG)}" if tag.startswith(_TAG) else tag
            raise _Refused(
                line,
                f"tags such as {quote(written)} are not allowed; a project file holds plain "
                "strings, numbers, booleans, lists and mappings",
            )
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise _Refused(line, f"lists and mappings nest deeper than {MAX_DEPTH} levels")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def load_yaml(text: str, filename: str) -> tuple[Any, dict[Path, int]]:
    """Parse YAML text into plain data and a map from data path to 1-based line."""
    lines: dict[Path, int] = {}
    errors: list[FieldError] = []
    loader: _PlainLoader | None = None
    try:
        loader = _PlainLoader(text)  # the reader refuses control characters here
        node = loader.get_single_node()
        if node is None:
            return None, lines
        data = _build(node, (), lines, errors, filename)
    except _Refused as refused:
        message = f"{filename} uses YAML that a project file may not use"
        raise _invalid(
            filename, refused.line + 1, refused.reason, message, dotted_path(refused.path)
        ) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        raise _invalid(filename, line, f"invalid YAML: {exc.problem or exc.context}") from None
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, max(exc.position, 0)) + 1
        reason = f"the character U+{exc.character:04X} is not allowed (a control character)"
        raise _invalid(filename, line, reason) from None
    except yaml.YAMLError as exc:
        raise _invalid(filename, 1, f"invalid YAML: {exc}") from None
    finally:
        if loader is not None:
            loader.dispose()
    if errors:
        raise Invalid(E_PROJECT_FILE_INVALID, f"{filename} has duplicate keys", errors)
    return data, lines


def _invalid(filename: str, line: int, reason: str, message: str = "", path: str = "") -> Invalid:
    return Invalid(
        E_PROJECT_FILE_INVALID,
        message or f"{filename} is not valid YAML",
        [FieldError(path, reason, f"{filename}:{line}")],
    )


def _build(
    node: yaml.Node, path: Path, lines: dict[Path, int], errors: list[FieldError], filename: str
) -> Any:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = _key(key_node)
            if key in result:
                errors.append(
                    FieldError(
                        dotted_path((*path, str(key))),
                        f"duplicate key {quote(key)}",
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
    assert isinstance(node, yaml.ScalarNode)  # the composer makes no other kind
    try:
        return _scalar(node)
    except _Refused as refused:
        raise _Refused(refused.line, refused.reason, path) from None


def _key(node: yaml.Node) -> Any:
    if not isinstance(node, yaml.ScalarNode):
        raise _Refused(node.start_mark.line, "mapping keys must be plain strings or numbers")
    if node.tag == f"{_TAG}merge":
        raise _Refused(node.start_mark.line, "merge keys (<<) are not allowed; write the keys out")
    return _scalar(node)


def _scalar(node: yaml.ScalarNode) -> Any:
    """A plain scalar as str, int, float, bool or None (dates stay strings)."""
    line = node.start_mark.line
    value = node.value
    found = _CONTROL.search(value)
    if found is not None:
        raise _Refused(
            line, f"the character U+{ord(found.group()):04X} is not allowed (a control character)"
        )
    kind = node.tag.removeprefix(_TAG)
    if kind == "null":
        return None
    if kind == "bool":
        return _SCALARS.construct_yaml_bool(node)
    if kind == "int":
        try:
            integer: int | None = _SCALARS.construct_yaml_int(node)
        except ValueError:  # more digits than Python converts
            integer = None
        if integer is None or abs(integer) > MAX_INTEGER:
            raise _Refused(line, f"the integer {quote(value)} is out of range (64 bits at most)")
        return integer
    if kind == "float":
        number = _SCALARS.construct_yaml_float(node)
        if not math.isfinite(number):
            raise _Refused(line, f"the number {quote(value)} is not finite")
        return number
    return value  # str, and timestamp/value/merge written as values: the text as written


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
