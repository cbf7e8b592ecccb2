"""The built-in plugin `annotary.consensus`: the built-in consensus methods.

Registered first by the plugin manager (`core.plugins.manager.BUILTIN_PLUGINS`),
through the same hook as a third-party plugin's methods.
"""

from __future__ import annotations

from collections.abc import Sequence

from annotary.core.consensus.aggregator import AggregatorSpec
from annotary.core.consensus.methods import BUILTIN_AGGREGATORS
from annotary.hookspecs import hookimpl


@hookimpl
def register_aggregators() -> Sequence[AggregatorSpec]:
    """The nine built-in consensus methods (`core.consensus.methods`)."""
    return BUILTIN_AGGREGATORS
