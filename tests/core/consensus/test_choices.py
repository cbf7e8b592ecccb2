"""label, labels (taxonomies included) and preference: votes, ties and agreement."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from annotary.core.consensus import FieldSetting
from tests.core.consensus.build import consensus, schema_of

SENTIMENT = schema_of({"name": "s", "kind": "label", "labels": ["pos", "neu", "neg"]})
TAXONOMY = [
    "safe",
    "toxicity/insult",
    "toxicity/threat",
    "hate/slur",
    "hate/stereotype",
]
HARM = schema_of(
    {"name": "harm", "kind": "labels", "labels": TAXONOMY, "hierarchical": True, "min_count": 1}
)


def test_label_majority_share_and_first_submitted_tie_rule() -> None:
    two_of_three = consensus(SENTIMENT, [{"s": "pos"}, {"s": "neg"}, {"s": "pos"}])
    assert two_of_three.payload == {"s": "pos"}
    assert two_of_three.agreement == pytest.approx(2 / 3)
    assert two_of_three.agreed  # 0.667 >= 0.66
    assert two_of_three.fields["s"].record() == {
        "method": "majority",
        "measure": "share",
        "agreement": pytest.approx(2 / 3),
        "confidence": pytest.approx(2 / 3),
        "threshold": 0.66,
    }
    tie = consensus(SENTIMENT, [{"s": "neg"}, {"s": "pos"}, {"s": "pos"}, {"s": "neg"}])
    assert tie.payload == {"s": "neg"}  # 2-2: the value submitted first
    assert not tie.agreed


def test_weighted_vote_follows_weights_agreement_stays_a_plain_share() -> None:
    result = consensus(
        SENTIMENT,
        [{"s": "neg"}, {"s": "pos"}, {"s": "pos"}],
        aggregation="weighted",
        weights=[3.0, 1.0, 1.0],
        threshold=0.3,
    )
    outcome = result.fields["s"]
    assert (result.payload, outcome.method) == ({"s": "neg"}, "weighted")
    assert outcome.agreement == pytest.approx(1 / 3)
    assert outcome.confidence == pytest.approx(3 / 5)
    assert result.method == "weighted"


def test_dawid_skene_takes_the_posterior_and_the_share_of_its_label() -> None:
    good = [[0.9, 0.05, 0.05], [0.05, 0.9, 0.05], [0.05, 0.05, 0.9]]
    poor = [[0.4, 0.3, 0.3], [0.3, 0.4, 0.3], [0.3, 0.3, 0.4]]
    fit = {
        "labels": ["pos", "neu", "neg"],
        "priors": [1 / 3, 1 / 3, 1 / 3],
        "errors": {"1": good, "2": poor, "3": poor},
    }
    payloads = [{"s": "neg"}, {"s": "pos"}, {"s": "pos"}]
    result = consensus(SENTIMENT, payloads, aggregation="dawid_skene", fits={"s": fit})
    outcome = result.fields["s"]
    assert (result.payload, outcome.method) == ({"s": "neg"}, "dawid_skene")
    assert outcome.agreement == pytest.approx(1 / 3)  # the annotators did not agree on it
    assert outcome.confidence is not None and outcome.confidence > 0.8
    assert not result.agreed  # a posterior against the majority goes to a reviewer
    before_fit = consensus(SENTIMENT, payloads, aggregation="dawid_skene")
    assert before_fit.payload == {"s": "pos"} and before_fit.fields["s"].method == "majority"


def test_hierarchical_labels_expand_ancestors_and_keep_the_most_specific() -> None:
    result = consensus(
        HARM,
        [
            {"harm": ["toxicity/insult"]},
            {"harm": ["toxicity/threat"]},
            {"harm": ["toxicity/insult", "hate/slur"]},
        ],
    )
    # toxicity: 3/3, toxicity/insult: 2/3, toxicity/threat: 1/3, hate: 1/3, hate/slur: 1/3
    assert result.payload == {"harm": ["toxicity/insult"]}
    assert result.fields["harm"].agreement == pytest.approx(2 / 3)
    assert result.agreed
    # Two of three on the same leaf: the leaf is the consensus (it implies its parent).
    parent = consensus(
        HARM,
        [{"harm": ["hate/slur"]}, {"harm": ["hate/stereotype"]}, {"harm": ["hate/slur"]}],
    )
    assert parent.payload == {"harm": ["hate/slur"]}
    split = consensus(
        HARM,
        [
            {"harm": ["toxicity/insult"]},
            {"harm": ["toxicity/threat"]},
            {"harm": ["safe"]},
        ],
    )
    # toxicity 2/3 passes, neither child does: the consensus is the parent level.
    assert split.payload == {"harm": ["toxicity"]}
    assert split.fields["harm"].agreement == pytest.approx(2 / 3)


def test_leaf_only_taxonomy_whose_children_split_is_not_a_valid_answer() -> None:
    schema = schema_of(
        {
            "name": "harm",
            "kind": "labels",
            "labels": TAXONOMY,
            "hierarchical": True,
            "leaf_only": True,
        }
    )
    result = consensus(
        schema,
        [
            {"harm": ["toxicity/insult"]},
            {"harm": ["toxicity/threat"]},
            {"harm": ["toxicity/insult"]},
        ],
    )
    assert result.agreed and result.payload == {"harm": ["toxicity/insult"]}
    split = consensus(
        schema,
        [{"harm": ["toxicity/insult"]}, {"harm": ["toxicity/threat"]}, {"harm": ["hate/slur"]}],
        threshold=0.3,
    )
    assert split.payload == {"harm": ["toxicity"]}
    assert split.problems and "not a leaf" in split.problems[0]
    assert not split.agreed


def test_labels_weighted_where_the_project_weighs() -> None:
    tags = schema_of({"name": "t", "kind": "labels", "labels": ["x", "y"]})
    payloads = [{"t": ["x"]}, {"t": []}, {"t": []}]
    assert consensus(tags, payloads).payload == {"t": []}
    heavy = consensus(tags, payloads, aggregation="weighted", weights=[5, 1, 1], threshold=0.3)
    assert heavy.payload == {"t": ["x"]}
    assert heavy.fields["t"].agreement == pytest.approx(1 / 3)
    assert heavy.fields["t"].confidence == pytest.approx(5 / 7)


def test_multi_label_agreement_is_the_worst_label() -> None:
    tags = schema_of({"name": "t", "kind": "labels", "labels": ["a", "b", "c"]})
    result = consensus(tags, [{"t": ["a", "b"]}, {"t": ["a"]}, {"t": ["a", "c"]}, {"t": ["a"]}])
    assert result.payload == {"t": ["a"]}
    assert result.fields["t"].agreement == pytest.approx(3 / 4)  # b and c: 3 of 4 left them out
    assert consensus(tags, [{}, {}, {}]).payload == {}
    assert consensus(tags, [{}, {}, {}]).fields["t"].agreement == 1.0


PREFERENCE = schema_of(
    {
        "name": "p",
        "kind": "preference",
        "strengths": ["slightly", "clearly", "much"],
        "require_strength": True,
    }
)


def test_preference_tie_is_a_choice_like_any_other() -> None:
    ties = consensus(
        PREFERENCE,
        [
            {"p": {"choice": "tie"}},
            {"p": {"choice": "a", "strength": "much"}},
            {"p": {"choice": "tie"}},
        ],
    )
    assert ties.payload == {"p": {"choice": "tie"}}
    assert ties.fields["p"].agreement == pytest.approx(2 / 3)
    assert ties.agreed


def test_preference_strength_by_majority_of_those_who_chose_the_winner() -> None:
    result = consensus(
        PREFERENCE,
        [
            {"p": {"choice": "b", "strength": "clearly"}},
            {"p": {"choice": "a", "strength": "much"}},
            {"p": {"choice": "b", "strength": "clearly"}},
            {"p": {"choice": "b", "strength": "much"}},
        ],
    )
    assert result.payload == {"p": {"choice": "b", "strength": "clearly"}}
    assert result.fields["p"].agreement == pytest.approx(3 / 4)
    split = consensus(
        PREFERENCE,
        [
            {"p": {"choice": "a", "strength": "much"}},
            {"p": {"choice": "a", "strength": "slightly"}},
        ],
    )
    assert split.payload == {"p": {"choice": "a", "strength": "slightly"}}  # the weaker of equals


def test_per_field_method_overrides_the_project_vote() -> None:
    result = consensus(
        SENTIMENT,
        [{"s": "neg"}, {"s": "pos"}, {"s": "pos"}],
        aggregation="weighted",
        weights=[3.0, 1.0, 1.0],
        settings={"s": FieldSetting(method="majority", threshold=0.5)},
    )
    assert result.payload == {"s": "pos"}
    assert result.fields["s"].method == "majority"
    assert result.fields["s"].threshold == 0.5


@given(st.lists(st.sampled_from(["pos", "neu", "neg", None]), min_size=1, max_size=9))
@settings(max_examples=200, deadline=None)
def test_label_agreement_is_the_share_of_the_chosen_value(values: list[str | None]) -> None:
    payloads = [{"s": v} if v is not None else {} for v in values]
    result = consensus(SENTIMENT, payloads)
    chosen = result.payload.get("s")
    outcome = result.fields["s"]
    assert outcome.agreement == pytest.approx(values.count(chosen) / len(values))
    assert values.count(chosen) == max(values.count(v) for v in values)


@given(
    st.lists(
        st.lists(st.sampled_from(TAXONOMY), unique=True, min_size=1, max_size=3),
        min_size=1,
        max_size=7,
    )
)
@settings(max_examples=200, deadline=None)
def test_taxonomy_consensus_holds_its_ancestors_by_majority(chosen: list[list[str]]) -> None:
    result = consensus(HARM, [{"harm": c} for c in chosen])
    kept = result.payload.get("harm", [])
    expanded = [{n for label in c for n in _with_ancestors(label)} for c in chosen]
    for label in kept:
        for node in _with_ancestors(label):
            assert 2 * sum(node in e for e in expanded) > len(chosen)
    agreement = result.fields["harm"].agreement
    assert agreement is not None and 0.5 <= agreement <= 1.0  # a vote agrees with the majority


def _with_ancestors(label: str) -> list[str]:
    parts = label.split("/")
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]
