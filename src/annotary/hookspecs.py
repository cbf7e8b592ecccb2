"""The plugin hooks: how built-in code and third-party packages add components.

annotary uses pluggy (project name `annotary`). A plugin is a module or an
object whose functions carry `@hookimpl` and are named after the hooks below;
an installed package makes one known through an entry point in the group
`annotary`:

    [project.entry-points.annotary]
    acme = "acme_annotary.plugin"

Each hook takes no arguments and returns the descriptors of the components it
adds (a list, or a single one): plain frozen dataclasses defined in the core.
The built-in components register through these same hooks, before any other
plugin (`annotary.core.plugins.manager`).

Names are versioned registry names: lowercase words joined by dots, ending in
`.v<N>`, starting with the package's own prefix (`acme.trimmed_mean.v1`,
`prelabel.regex.v1`, `sft.messages.v1`, `pii.email.v1`). A project file names
a component by it; once published, a name keeps its meaning, and a change of
behaviour gets a new name (`.v2`). The built-in consensus methods keep the bare
names they had before the registry (`majority`, `median`, ...). Two plugins
registering the same name is an error (E904), as is a descriptor that breaks
these rules (E903) or a hook that raises (E902); each names the plugin.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from annotary.core.anonymize.recognizer import RecognizerSpec
    from annotary.core.consensus.aggregator import AggregatorSpec
    from annotary.core.export.exporter import ExporterSpec
    from annotary.core.prelabel.prelabeler import PrelabelerSpec

PROJECT_NAME = "annotary"
"""The pluggy project name, and the entry-point group plugins are found in."""

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)
"""Mark a plugin's hook functions: `@hookimpl def register_aggregators(): ...`."""


@hookspec
def register_aggregators() -> Sequence[AggregatorSpec]:  # type: ignore[empty-body]
    """Consensus methods (`core.consensus.aggregator.AggregatorSpec`).

    A project names one per field in `workflow.consensus.<field>.method`; its
    `combine(spec, rule, units, voters)` returns one `UnitResult` per unit (the
    field, or each turn of a per-turn field) with the value, the agreement its
    `measure` names (0 to 1) and a confidence.
    """


@hookspec
def register_prelabelers() -> Sequence[PrelabelerSpec]:  # type: ignore[empty-body]
    """Pre-labelers (`core.prelabel.prelabeler.PrelabelerSpec`, SPEC 7).

    `create(setup)` builds one for a project's schema, guidelines and options;
    its `predict(contents)` returns, per item, a suggested annotation with the
    model id and a confidence (or None).
    """


@hookspec
def register_exporters() -> Sequence[ExporterSpec]:  # type: ignore[empty-body]
    """Export formats (`core.export.exporter.ExporterSpec`, SPEC 9).

    `write(setup, records, directory)` writes finalized items with their final
    labels and splits in its format and returns the files it wrote; a project
    lists formats by name in `export.formats`.
    """


@hookspec
def register_pii_recognizers() -> Sequence[RecognizerSpec]:  # type: ignore[empty-body]
    """PII recognizers (`core.anonymize.recognizer.RecognizerSpec`, SPEC 3 and 10).

    `create(options)` builds one; its `find(text, language)` returns typed
    character spans with scores, which anonymization on ingest replaces.
    """


HOOKS = (
    "register_aggregators",
    "register_prelabelers",
    "register_exporters",
    "register_pii_recognizers",
)
"""Every hook, in the order the registry collects them."""
