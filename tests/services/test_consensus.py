"""Consensus per field kind, through the real queue: three annotators take the item
with `next task` and submit; the item is finalized or goes to adjudication."""

from __future__ import annotations

from pathlib import Path

import pytest

from annotary.services.queue.review import adjudicate, next_case
from annotary.storage.db import Database
from tests.services.consensus_world import annotate, final_label, project, spans

MARIA, ACME, PARIS, LOPEZ = (0, 11, "PER"), (19, 23, "ORG"), (27, 32, "LOC"), (34, 39, "PER")
NER = "    - {name: entities, kind: spans, labels: [PER, ORG, LOC]}\n"


def test_ner_one_boundary_off_is_finalized_with_the_majority_spans(
    db: Database, tmp_path: Path
) -> None:
    actors = project(db, tmp_path, NER, "  agreement_threshold: 0.8\n")
    status = annotate(
        db,
        actors,
        [
            {"entities": spans(MARIA, ACME, PARIS, LOPEZ)},
            {"entities": spans((0, 12, "PER"), ACME, PARIS, LOPEZ)},
            {"entities": spans(MARIA, ACME, PARIS, LOPEZ)},
        ],
    )
    assert status == "finalized"
    final = final_label(db)
    assert final.payload == {"entities": spans(MARIA, ACME, PARIS, LOPEZ)}
    assert final.method == "majority"
    assert final.agreement == pytest.approx(5 / 6)
    record = final.fields["entities"]
    assert (record["method"], record["measure"], record["threshold"]) == (
        "token_vote",
        "span_f1_exact",
        0.8,
    )
    assert record["agreement"] == pytest.approx(5 / 6)
    assert record["confidence"] == pytest.approx(final.confidence)


def test_ner_spans_only_one_annotator_marked_do_not_pass(db: Database, tmp_path: Path) -> None:
    actors = project(db, tmp_path, NER, "  agreement_threshold: 0.7\n")
    status = annotate(
        db,
        actors,
        [
            {"entities": spans(MARIA, ACME)},
            {"entities": spans(MARIA, ACME, PARIS)},
            {"entities": spans(MARIA, ACME, LOPEZ)},
        ],
    )
    assert status == "finalized"  # F1 pairs 4/5, 4/5, 2/3: mean 0.756
    final = final_label(db)
    assert final.payload == {"entities": spans(MARIA, ACME)}
    assert final.agreement == pytest.approx((0.8 + 0.8 + 2 / 3) / 3)


RATINGS = "    - {name: quality, kind: rating, min: 1, max: 5}\n"


def test_ratings_3_4_4_are_finalized_with_the_median(db: Database, tmp_path: Path) -> None:
    actors = project(db, tmp_path, RATINGS, "  agreement_threshold: 0.9\n")
    assert annotate(db, actors, [{"quality": 3}, {"quality": 4}, {"quality": 4}]) == "finalized"
    final = final_label(db)
    assert final.payload == {"quality": 4}
    assert final.fields["quality"]["method"] == "median"
    assert final.fields["quality"]["agreement"] == 1.0


def test_ratings_with_a_tolerance_of_zero_need_the_exact_median(
    db: Database, tmp_path: Path
) -> None:
    workflow = "  agreement_threshold: 0.9\n  consensus: {quality: {tolerance: 0}}\n"
    actors = project(db, tmp_path, RATINGS, workflow)
    assert annotate(db, actors, [{"quality": 3}, {"quality": 4}, {"quality": 4}]) == (
        "adjudication"
    )


PROMPT = {"prompt": "Which is better?", "responses": ["one", "two", "three"]}
RANKING = "    - {name: order, kind: ranking}\n"


@pytest.mark.parametrize("method", ["borda", "bradley_terry"])
def test_rankings_are_finalized_by_kendall_w(db: Database, tmp_path: Path, method: str) -> None:
    workflow = f"  agreement_threshold: 0.7\n  consensus: {{order: {{method: {method}}}}}\n"
    actors = project(db, tmp_path, RANKING, workflow, PROMPT, "prompt_responses")
    answers = [{"order": [0, 1, 2]}, {"order": [0, 1, 2]}, {"order": [1, 0, 2]}]
    status = annotate(db, actors, answers)
    assert status == "finalized"
    final = final_label(db)
    assert final.payload == {"order": [0, 1, 2]}
    assert final.fields["order"]["method"] == method
    assert final.fields["order"]["measure"] == "kendall_w"
    assert final.fields["order"]["agreement"] == pytest.approx(7 / 9)


PAIR = {"prompt": "Which is better?", "responses": ["one", "two"]}
PREFERENCE = (
    "    - {name: choice, kind: preference, strengths: [slightly, clearly, much], "
    "require_strength: true}\n"
)


def test_preference_votes_on_the_choice_and_ties_count(db: Database, tmp_path: Path) -> None:
    actors = project(db, tmp_path, PREFERENCE, "", PAIR, "prompt_responses")
    status = annotate(
        db,
        actors,
        [
            {"choice": {"choice": "a", "strength": "much"}},
            {"choice": {"choice": "tie"}},
            {"choice": {"choice": "a", "strength": "clearly"}},
        ],
    )
    assert status == "finalized"
    final = final_label(db)
    assert final.payload == {"choice": {"choice": "a", "strength": "clearly"}}
    assert final.fields["choice"]["agreement"] == pytest.approx(2 / 3)


def test_preference_ties_win_like_any_choice(db: Database, tmp_path: Path) -> None:
    actors = project(db, tmp_path, PREFERENCE, "", PAIR, "prompt_responses")
    answers = [
        {"choice": {"choice": "tie"}},
        {"choice": {"choice": "b", "strength": "slightly"}},
        {"choice": {"choice": "tie"}},
    ]
    assert annotate(db, actors, answers) == "finalized"
    final = final_label(db)
    assert final.payload == {"choice": {"choice": "tie"}}
    assert final.fields["choice"] == {
        "method": "majority",
        "measure": "share",
        "agreement": pytest.approx(2 / 3),
        "confidence": pytest.approx(2 / 3),
        "threshold": 0.66,
    }


HARM = (
    "    - {name: harm, kind: labels, hierarchical: true, min_count: 1, labels: "
    "[safe, toxicity/insult, toxicity/threat, hate/slur]}\n"
)


def test_hierarchical_labels_agree_on_the_levels_most_chose(db: Database, tmp_path: Path) -> None:
    actors = project(db, tmp_path, HARM)
    status = annotate(
        db,
        actors,
        [
            {"harm": ["toxicity/insult"]},
            {"harm": ["toxicity/threat"]},
            {"harm": ["toxicity/insult", "hate/slur"]},
        ],
    )
    assert status == "finalized"
    final = final_label(db)
    assert final.payload == {"harm": ["toxicity/insult"]}
    assert final.fields["harm"]["agreement"] == pytest.approx(2 / 3)


LABEL_AND_NOTE = (
    "    - {name: sentiment, kind: label, labels: [positive, negative]}\n"
    "    - {name: note, kind: text, required: false}\n"
)


def test_free_text_goes_to_a_reviewer_who_sees_the_candidates(db: Database, tmp_path: Path) -> None:
    actors = project(db, tmp_path, LABEL_AND_NOTE)
    answers = [
        {"sentiment": "negative", "note": "The parcel came late."},
        {"sentiment": "negative"},
        {"sentiment": "negative", "note": "Late delivery, rude courier."},
    ]
    assert annotate(db, actors, answers) == "adjudication"
    case = next_case(db, actors["rev"], "p", "adjudication")
    assert case is not None and case.suggestion is not None
    suggestion = case.suggestion
    assert suggestion["payload"] == {"sentiment": "negative", "note": "The parcel came late."}
    assert [(t["annotator"], t["text"]) for t in suggestion["texts"]["note"]] == [
        ("ann1", "The parcel came late."),
        ("ann3", "Late delivery, rude courier."),
    ]
    assert suggestion["fields"]["note"]["passed"] is False
    assert suggestion["fields"]["sentiment"]["passed"] is True
    edited = {"sentiment": "negative", "note": "Late delivery."}
    adjudicate(db, actors["rev"], "p", case.item_id, edited, "merged the two")
    assert final_label(db).payload == edited


def test_omitted_free_text_does_not_hold_the_item_back(db: Database, tmp_path: Path) -> None:
    actors = project(db, tmp_path, LABEL_AND_NOTE, "  consensus: {note: {method: omit}}\n")
    answers = [
        {"sentiment": "negative", "note": "late"},
        {"sentiment": "negative"},
        {"sentiment": "positive", "note": "fine"},
    ]
    assert annotate(db, actors, answers) == "finalized"
    final = final_label(db)
    assert final.payload == {"sentiment": "negative"}
    assert final.fields["note"]["method"] == "omit"
    assert final.agreement == pytest.approx(2 / 3)


def test_every_field_needs_its_own_threshold(db: Database, tmp_path: Path) -> None:
    fields = "    - {name: sentiment, kind: label, labels: [positive, negative]}\n" + RATINGS
    workflow = "  agreement_threshold: 0.6\n  consensus: {quality: {threshold: 1.0}}\n"
    actors = project(db, tmp_path, fields, workflow)
    answers = [
        {"sentiment": "positive", "quality": 2},
        {"sentiment": "positive", "quality": 4},
        {"sentiment": "negative", "quality": 4},
    ]
    assert annotate(db, actors, answers) == "adjudication"
    case = next_case(db, actors["rev"], "p", "adjudication")
    assert case is not None and case.suggestion is not None
    assert case.suggestion["fields"]["quality"]["agreement"] == pytest.approx(2 / 3)
    assert case.suggestion["fields"]["quality"]["passed"] is False


CONVERSATION = {
    "turns": [
        {"role": "user", "content": "Hi, where is my parcel?"},
        {"role": "assistant", "content": "It left the depot today."},
        {"role": "user", "content": "When will it arrive?"},
        {"role": "assistant", "content": "Tomorrow before noon."},
    ]
}
PER_TURN = (
    "    - {name: coherence, kind: rating, min: 1, max: 5, per_turn: true, "
    "turn_roles: [assistant]}\n"
    "    - {name: helpfulness, kind: rating, min: 1, max: 5}\n"
)


def test_per_turn_ratings_take_the_median_per_turn(db: Database, tmp_path: Path) -> None:
    actors = project(
        db, tmp_path, PER_TURN, "  agreement_threshold: 0.8\n", CONVERSATION, "conversation"
    )
    answers = [
        {"coherence": {"1": 4, "3": 5}, "helpfulness": 3},
        {"coherence": {"1": 5, "3": 4}, "helpfulness": 4},
        {"coherence": {"1": 4, "3": 2}, "helpfulness": 4},
    ]
    assert annotate(db, actors, answers) == "adjudication"  # turn 3: 2 is 2 steps from 4
    case = next_case(db, actors["rev"], "p", "adjudication")
    assert case is not None and case.suggestion is not None
    assert case.suggestion["payload"] == {"coherence": {"1": 4, "3": 4}, "helpfulness": 4}
    assert case.suggestion["fields"]["coherence"]["agreement"] == pytest.approx(2 / 3)
    assert case.suggestion["fields"]["helpfulness"]["passed"] is True
    assert case.suggestion["problems"] == []


def test_per_turn_ratings_within_a_step_are_finalized(db: Database, tmp_path: Path) -> None:
    actors = project(db, tmp_path, PER_TURN, "", CONVERSATION, "conversation")
    answers = [
        {"coherence": {"1": 4, "3": 5}, "helpfulness": 3},
        {"coherence": {"1": 5, "3": 4}, "helpfulness": 4},
        {"coherence": {"1": 4, "3": 4}, "helpfulness": 4},
    ]
    assert annotate(db, actors, answers) == "finalized"
    final = final_label(db)
    assert final.payload == {"coherence": {"1": 4, "3": 4}, "helpfulness": 4}
    assert final.fields["coherence"]["measure"] == "share_within_tolerance"
    assert final.agreement == 1.0
