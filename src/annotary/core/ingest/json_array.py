"""Streaming parse of a top-level JSON array, one element at a time.

A 1 GB JSON export must not be read whole: text is decoded in chunks into a
buffer and `json.JSONDecoder.raw_decode` parses one element where it starts.
An element cut off by the end of the buffer is retried after reading more (the
read size doubles with the pending text, so a huge element costs linear time).
Newlines are counted as text is consumed, which gives every element the line
it starts on. After a syntax error nothing more is parsed: where the next
element would start cannot be known.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Iterator
from typing import IO, Any, Final, NamedTuple

_NON_WHITESPACE: Final = re.compile(r"[^ \t\n\r]")
# A decode error this close to the end of the buffer may just be an element cut
# off by the chunk boundary ('tr' of 'true', '1.' of '1.5'): read more and retry.
_BOUNDARY_MARGIN: Final = 32
_NOT_READ: Final = "the rest of the file was not read"


class Element(NamedTuple):
    """One array element (or the reason parsing stopped) and where it starts."""

    line: int
    value: Any
    error: str | None
    position: int


def json_type(value: Any) -> str:
    """The JSON name of a parsed value's type, with its article ("an array")."""
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    return "null" if value is None else type(value).__name__


class JsonArrayStream:
    """Elements of the JSON array in a binary file, with their starting lines.

    Yields one `Element` per array element; a problem with the file (not an
    array, a syntax error, truncation, bad UTF-8) ends the stream with an
    `Element` whose `error` says what and where.
    """

    def __init__(self, file: IO[bytes], chunk_size: int) -> None:
        self._file = file
        self._chunk_size = chunk_size
        self._decoder = codecs.getincrementaldecoder("utf-8-sig")()
        self._json = json.JSONDecoder()
        self._buffer = ""
        self._pos = 0
        self._line = 1
        self._bytes_read = 0
        self._eof = False

    @property
    def position(self) -> int:
        # Exact for ASCII text; close enough for a progress bar otherwise.
        pending = len(self._buffer) - self._pos
        return max(0, min(self._bytes_read, self._bytes_read - pending))

    def elements(self) -> Iterator[Element]:
        """Every element in order; the last one carries the error if parsing stopped."""
        try:
            yield from self._elements()
        except UnicodeDecodeError as exc:
            reason = f"the file is not valid UTF-8 ({exc.reason}); {_NOT_READ}"
            yield Element(self._line, None, reason, self.position)

    def _elements(self) -> Iterator[Element]:
        char = self._skip_whitespace()
        if char is None:
            reason = "the file is empty; expected a JSON array of objects"
            yield Element(1, None, reason, self.position)
            return
        if char != "[":
            got = (
                "an object (one object per line is the JSONL format)"
                if char == "{"
                else self._describe_top_level()
            )
            yield self._error(f"expected a JSON array of objects at the top level, got {got}")
            return
        self._advance(self._pos + 1)
        char = self._skip_whitespace()
        if char == "]":
            self._advance(self._pos + 1)
            yield from self._after_array()
            return
        while True:
            if char is None:
                yield self._error(
                    "unexpected end of file: the array is not closed (the file looks truncated)"
                )
                return
            line = self._line
            parsed = self._decode_element()
            if isinstance(parsed, str):
                yield Element(line, None, parsed, self.position)
                return
            yield Element(line, parsed[0], None, self.position)
            char = self._skip_whitespace()
            if char == ",":
                self._advance(self._pos + 1)
                char = self._skip_whitespace()
            elif char == "]":
                self._advance(self._pos + 1)
                yield from self._after_array()
                return
            elif char is not None:
                yield self._error(
                    f"invalid JSON: expected ',' or ']' after an array element, got {char!r}; "
                    f"the rest of the array cannot be trusted and was not read"
                )
                return

    def _after_array(self) -> Iterator[Element]:
        char = self._skip_whitespace()
        if char is not None:
            yield self._error(f"unexpected {char!r} after the end of the top-level array")

    def _error(self, reason: str) -> Element:
        return Element(self._line, None, reason, self.position)

    def _describe_top_level(self) -> str:
        try:
            parsed = self._decode_element()
        except RecursionError:
            return "invalid JSON"
        return "invalid JSON" if isinstance(parsed, str) else json_type(parsed[0])

    def _fill(self, at_least: int = 0) -> bool:
        """Append more text to the buffer; False when the file is exhausted."""
        if self._eof:
            return False
        data = self._file.read(max(self._chunk_size, at_least))
        self._bytes_read += len(data)
        text = self._decoder.decode(data, final=not data)
        self._eof = not data
        self._buffer = self._buffer[self._pos :] + text
        self._pos = 0
        return True

    def _advance(self, to: int) -> None:
        self._line += self._buffer.count("\n", self._pos, to)
        self._pos = to

    def _skip_whitespace(self) -> str | None:
        """Move to the next non-whitespace character and return it (None at the end)."""
        while True:
            match = _NON_WHITESPACE.search(self._buffer, self._pos)
            if match is not None:
                self._advance(match.start())
                return self._buffer[self._pos]
            self._advance(len(self._buffer))
            if not self._fill():
                return None

    def _decode_element(self) -> tuple[Any] | str:
        """The element at the current position as a 1-tuple, or the reason it is invalid."""
        while True:
            buffer = self._buffer
            try:
                value, end = self._json.raw_decode(buffer, self._pos)
            except json.JSONDecodeError as exc:
                cut_off = exc.msg.startswith("Unterminated string") or (
                    exc.pos >= len(buffer) - _BOUNDARY_MARGIN
                )
                if cut_off and self._fill(len(buffer) - self._pos):
                    continue
                return self._syntax_error(exc)
            except RecursionError:
                return f"the element is nested too deeply; {_NOT_READ}"
            # A number can end exactly at the buffer's end and still go on.
            if end == len(buffer) and self._fill(len(buffer) - self._pos):
                continue
            self._advance(end)
            return (value,)

    def _syntax_error(self, exc: json.JSONDecodeError) -> str:
        buffer = self._buffer
        if self._eof and (
            exc.msg.startswith("Unterminated string") or not buffer[exc.pos :].strip()
        ):
            return (
                "unexpected end of file inside an array element (the file looks truncated); "
                "the element was not read"
            )
        line = self._line + buffer.count("\n", self._pos, exc.pos)
        line_start = buffer.rfind("\n", self._pos, exc.pos)
        where = f"line {line}"
        if line_start >= 0:
            where += f" column {exc.pos - line_start}"
        return (
            f"invalid JSON: {exc.msg} at {where}; "
            "the rest of the array cannot be trusted and was not read"
        )
