"""Export (SPEC 9): components that write finalized items in a training-data format.

`exporter` defines what an export-format plugin registers (`ExporterSpec`); the
SFT, preference, classification, NER and Parquet formats SPEC 9 names are to
come, each registered through `register_exporters` under a versioned name
(`sft.messages.v1`) that `export.formats` in the project file refers to.
"""

from annotary.core.export.exporter import ExporterSpec, ExportRecord, ExportSetup, Writer

__all__ = ["ExportRecord", "ExportSetup", "ExporterSpec", "Writer"]
