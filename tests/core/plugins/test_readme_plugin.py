"""The plugin example in the README registers and combines as it says."""

from __future__ import annotations

import re
import types
from pathlib import Path

from annotary.core.consensus import FieldSetting, field_rules
from annotary.core.consensus.item import item_consensus
from annotary.core.consensus.outcome import Voters
from annotary.core.plugins.manager import load_plugins
from annotary.core.schema.fields import AnnotationSchema

README = (Path(__file__).resolve().parents[3] / "README.md").read_text()
SECTION = README.split("\n## Plugins\n", 1)[1].split("\n## ", 1)[0]


def test_the_readme_example_plugin_works() -> None:
    source = re.findall(r"```python\n(.*?)```", SECTION, re.DOTALL)[0]
    module = types.ModuleType("acme_annotary")
    exec(compile(source, "README.md", "exec"), module.__dict__)
    plugins = load_plugins(module, entry_points=False)
    assert plugins.aggregators.plugin_of("acme.highest.v1") == "acme_annotary"
    schema = AnnotationSchema.model_validate(
        {"fields": [{"name": "quality", "kind": "rating", "min": 1, "max": 5}]}
    )
    rules = field_rules(
        schema, "majority", 0.5, {"quality": FieldSetting("acme.highest.v1")}, plugins
    )
    payloads = [{"quality": 3}, {"quality": 5}, {"quality": 5}]
    result = item_consensus(schema, rules, payloads, Voters((1, 2, 3)), plugins=plugins)
    assert result.payload == {"quality": 5}
    assert result.fields["quality"].measure == "share_at_max"
    assert result.agreed


def test_the_readme_lists_every_hook() -> None:
    from annotary.hookspecs import HOOKS

    rows = re.findall(r"^\| `(register_\w+)` \|", SECTION, re.MULTILINE)
    assert rows == list(HOOKS)
