"""Ingest (SPEC 3): read records from files and map them to item rows, purely."""

from annotary.core.ingest.mapping import (
    ImportOptions,
    ItemRow,
    RowError,
    RowMapper,
    parse_field_mapping,
)
from annotary.core.ingest.prelabels import PrelabelRow
from annotary.core.ingest.readers import Record, detect_format, read_records, total_size

__all__ = [
    "ImportOptions",
    "ItemRow",
    "PrelabelRow",
    "Record",
    "RowError",
    "RowMapper",
    "detect_format",
    "parse_field_mapping",
    "read_records",
    "total_size",
]
