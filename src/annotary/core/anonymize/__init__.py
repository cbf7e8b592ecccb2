"""Anonymization (SPEC 3, 10): PII found in text before anything is stored or shown.

`recognizer` defines what a PII-recognizer plugin registers (`RecognizerSpec`)
and what it finds (`PiiFinding`); the recognizers and the operators that mask,
replace or pseudonymize (`privacy.anonymize`) are to come, each recognizer
registered through `register_pii_recognizers`.
"""

from annotary.core.anonymize.recognizer import (
    PiiFinding,
    Recognizer,
    RecognizerSpec,
    finding_problems,
)

__all__ = ["PiiFinding", "Recognizer", "RecognizerSpec", "finding_problems"]
