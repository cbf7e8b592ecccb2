"""What a user may carry (SPEC 4): skills and languages for routing, and optional
self-reported attributes for pool-diversity and bias analysis.

Attributes are never required. Their keys come from a small fixed set, so that
everyone's answers to the same question can be counted together, and each value
is a short free string (what the person chose to say, trimmed). They are
shown to nobody but the user; managers see them only as counts per value with
small groups withheld (`annotary.core.quality.bias.pool_diversity`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any, Final

from annotary.errors import FieldError

ATTRIBUTE_KEYS: Final = (
    "age_band",
    "gender",
    "country",
    "region",
    "first_language",
    "education",
    "occupation",
)
"""The self-reported attributes a user may give (each optional)."""
MAX_ATTRIBUTE_VALUE: Final = 64
MAX_TAG_LENGTH: Final = 64
MAX_TAGS: Final = 50
_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{1,8}){0,3}$")


def _printable(text: str) -> bool:
    """No control, format or unassigned characters (what a person would type)."""
    return all(unicodedata.category(c)[0] != "C" for c in text)


def attribute_problems(attributes: Mapping[str, Any]) -> list[FieldError]:
    """Every problem with a set of self-reported attributes.

    >>> attribute_problems({"gender": "woman", "shoe_size": "42"})[0].path
    'attributes.shoe_size'
    """
    problems = []
    for key, value in attributes.items():
        path = f"attributes.{str(key)[:40]}"
        if key not in ATTRIBUTE_KEYS:
            problems.append(
                FieldError(path, f"not an attribute; valid: {', '.join(ATTRIBUTE_KEYS)}")
            )
        elif not isinstance(value, str) or not value.strip():
            problems.append(FieldError(path, "must be a non-empty string"))
        elif len(value.strip()) > MAX_ATTRIBUTE_VALUE or not _printable(value):
            problems.append(
                FieldError(
                    path,
                    f"must be at most {MAX_ATTRIBUTE_VALUE} printable characters",
                )
            )
    return problems


def clean_attributes(attributes: Mapping[str, str]) -> dict[str, str]:
    """Valid attributes as stored: values trimmed, keys in the documented order."""
    return {key: attributes[key].strip() for key in ATTRIBUTE_KEYS if key in attributes}


def tag_problems(name: str, values: Sequence[Any], *, languages: bool = False) -> list[FieldError]:
    """Every problem with a list of skills (or of language codes when `languages`).

    >>> [e.path for e in tag_problems("languages", ["en", "english!"], languages=True)]
    ['languages[1]']
    """
    if len(values) > MAX_TAGS:
        return [FieldError(name, f"at most {MAX_TAGS} entries")]
    problems = []
    for i, value in enumerate(values):
        path = f"{name}[{i}]"
        if not isinstance(value, str) or not value.strip():
            problems.append(FieldError(path, "must be a non-empty string"))
        elif languages and not _LANGUAGE.match(value.strip()):
            problems.append(FieldError(path, "must be a language code such as en, pt-BR or yue"))
        elif len(value.strip()) > MAX_TAG_LENGTH or not _printable(value):
            problems.append(
                FieldError(path, f"must be at most {MAX_TAG_LENGTH} printable characters")
            )
    return problems


def clean_tags(values: Sequence[str]) -> list[str]:
    """Trimmed, in the order given, each once."""
    return list(dict.fromkeys(value.strip() for value in values))
