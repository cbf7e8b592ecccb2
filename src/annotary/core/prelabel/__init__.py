"""Pre-labeling (SPEC 7): components that suggest annotations before people see items.

`prelabeler` defines what a pre-labeler plugin registers (`PrelabelerSpec`);
the rules/regex, dictionary, trained-classifier and LLM pre-labelers SPEC 7
names are to come, each registered through `register_prelabelers`.
"""

from annotary.core.prelabel.prelabeler import (
    Prelabeler,
    PrelabelerSpec,
    PrelabelSetup,
    TrainablePrelabeler,
)

__all__ = ["PrelabelSetup", "Prelabeler", "PrelabelerSpec", "TrainablePrelabeler"]
