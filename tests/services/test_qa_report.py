"""The project QA report: every figure recomputed independently from the stored
annotations (reference packages where they exist, hand counts elsewhere)."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import timedelta
from itertools import combinations
from pathlib import Path
from typing import Any

import krippendorff
import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score
from sqlalchemy import select
from statsmodels.stats.inter_rater import aggregate_raters
from statsmodels.stats.inter_rater import fleiss_kappa as sm_fleiss_kappa
from statsmodels.stats.proportion import proportion_confint

from annotary.core.ingest.mapping import ImportOptions
from annotary.core.project import parse_project
from annotary.core.quality import alpha_masi, bootstrap_alpha
from annotary.core.quality.report.agreement_rows import FieldAgreement
from annotary.core.quality.report.build import QaReport
from annotary.errors import Forbidden, Invalid, NotFound
from annotary.services.identity.access import Actor
from annotary.services.identity.users import NewUser, add_user
from annotary.services.imports import import_items
from annotary.services.projects import create_project
from annotary.services.qa.report import qa_report
from annotary.storage.db import Database, write_transaction
from annotary.storage.models import Annotation, Item, Project
from tests.services.helpers import write_jsonl
from tests.services.qa_world import (
    PROJECT,
    PROJECT_YAML,
    SENTIMENTS,
    START,
    Ann,
    QaWorld,
    build,
    sentiment_world,
)


def field_of(report: QaReport, name: str) -> FieldAgreement:
    return next(f for f in report.fields if f.name == name)


def as_json(report: QaReport) -> str:
    """The report as strict JSON: fails on NaN or infinity."""
    return json.dumps(report.to_dict(), allow_nan=False)


def by_item(annotations: list[Ann], field: str) -> dict[str, dict[str, Any]]:
    """item -> annotator -> value of `field`."""
    out: dict[str, dict[str, Any]] = defaultdict(dict)
    for a in annotations:
        out[a.item][a.user] = a.payload[field]
    return out


def reliability(annotations: list[Ann], field: str, code: Any) -> np.ndarray:
    """Coders x units matrix (NaN = missing) as the `krippendorff` package takes it."""
    values = by_item(annotations, field)
    users = sorted({a.user for a in annotations})
    data = np.full((len(users), len(values)), np.nan)
    for column, labels in enumerate(values.values()):
        for user, value in labels.items():
            data[users.index(user), column] = code(value)
    return data


def annotate(db: Database, project: str, payloads: dict[tuple[int, int], Any]) -> None:
    """Store `payloads[(n, user id)]` as annotations of the project's n-th item."""
    with write_transaction(db.sessions) as session:
        project_id = session.scalar(select(Project.id).where(Project.name == project))
        item_ids = session.scalars(
            select(Item.id).where(Item.project_id == project_id).order_by(Item.id)
        ).all()
        session.add_all(
            Annotation(
                item_id=item_ids[n],
                user_id=user_id,
                project_id=project_id,
                payload=payload,
                schema_version=1,
                guideline_version=1,
                created_at=START,
            )
            for (n, user_id), payload in payloads.items()
        )


def test_label_agreement_matches_reference_implementations(db: Database, tmp_path: Path):
    world = sentiment_world()
    build(db, tmp_path, world)
    report = qa_report(db, PROJECT)
    as_json(report)
    sentiment = field_of(report, "sentiment")
    data = reliability(world.annotations, "sentiment", SENTIMENTS.index)

    expected = krippendorff.alpha(reliability_data=data, level_of_measurement="nominal")
    assert sentiment.statistic == "krippendorff_alpha_nominal"
    assert sentiment.estimate.value == pytest.approx(expected, abs=1e-12)
    assert sentiment.n_values == len(world.annotations)
    assert sentiment.n_units == sentiment.n_pairable_units == 60
    # The interval resamples units: the same draws as the core bootstrap on the
    # units x annotators matrix (alpha depends on a unit's values, not on who).
    codes = np.where(np.isnan(data.T), -1, data.T).astype(np.int64)
    assert (sentiment.estimate.ci_low, sentiment.estimate.ci_high) == pytest.approx(
        bootstrap_alpha(codes, "nominal", n_boot=1000)
    )
    assert sentiment.estimate.n_boot == 1000
    assert sentiment.estimate.ci_low < sentiment.estimate.value < sentiment.estimate.ci_high

    shares = []
    for labels in by_item(world.annotations, "sentiment").values():
        pairs = list(combinations(labels.values(), 2))
        shares.append(sum(a == b for a, b in pairs) / len(pairs))
    assert sentiment.percent_agreement == pytest.approx(np.mean(shares))
    assert sentiment.values_per_unit == (2, 4)
    assert sentiment.fleiss_kappa is None
    assert "Fleiss" in (sentiment.note or "")

    for row in sentiment.per_label:
        binary = np.where(np.isnan(data), np.nan, data == SENTIMENTS.index(row.label))
        reference = krippendorff.alpha(reliability_data=binary, level_of_measurement="nominal")
        assert row.value == pytest.approx(reference, abs=1e-12)
        assert row.n_values == sum(a.payload["sentiment"] == row.label for a in world.annotations)


def test_pairs_are_cohen_kappa_on_shared_items_most_shared_first(db: Database, tmp_path: Path):
    world = sentiment_world(seed=3)
    build(db, tmp_path, world)
    sentiment = field_of(qa_report(db, PROJECT), "sentiment")
    labels = by_item(world.annotations, "sentiment")
    shared: dict[tuple[str, str], list[str]] = defaultdict(list)
    for item, given in labels.items():
        for a, b in combinations(sorted(given), 2):
            shared[(a, b)].append(item)
    assert sentiment.pairs_total == len(shared)
    assert len(sentiment.pairs) == min(20, len(shared))
    assert sentiment.pairs[0].shared_units == max(len(items) for items in shared.values())
    counts = [p.shared_units for p in sentiment.pairs]
    assert counts == sorted(counts, reverse=True)
    for pair in sentiment.pairs:
        items = shared[(pair.annotator_a, pair.annotator_b)]
        assert pair.shared_units == len(items)
        first = [labels[i][pair.annotator_a] for i in items]
        second = [labels[i][pair.annotator_b] for i in items]
        assert pair.statistic == "cohen_kappa"
        assert pair.value == pytest.approx(cohen_kappa_score(first, second), abs=1e-12)
        agree = np.mean([a == b for a, b in zip(first, second, strict=True)])
        assert pair.percent_agreement == pytest.approx(agree)


def test_agreement_per_version_and_time_window(db: Database, tmp_path: Path):
    world = sentiment_world(seed=5)
    build(db, tmp_path, world)
    sentiment = field_of(qa_report(db, PROJECT, window_days=7), "sentiment")

    def reference(annotations: list[Ann]) -> float:
        data = reliability(annotations, "sentiment", SENTIMENTS.index)
        return float(krippendorff.alpha(reliability_data=data, level_of_measurement="nominal"))

    for version in (1, 2):
        subset = [a for a in world.annotations if a.schema_version == version]
        by_schema = {s.key: s for s in sentiment.by_schema_version}[f"schema v{version}"]
        assert by_schema.n_values == len(subset)
        assert by_schema.n_units == len({a.item for a in subset})
        assert by_schema.value == pytest.approx(reference(subset), abs=1e-12)
        by_guidelines = {s.key: s for s in sentiment.by_guideline_version}
        assert by_guidelines[f"guidelines v{version}"].value == by_schema.value

    windows = ["2025-01-01..2025-01-07", "2025-01-08..2025-01-14", "2025-01-15..2025-01-21"]
    assert [s.key for s in sentiment.by_window] == windows
    for week, window in enumerate(sentiment.by_window):
        start = START.replace(hour=0) + timedelta(days=7 * week)
        subset = [a for a in world.annotations if start <= a.created_at < start + timedelta(7)]
        assert window.n_values == len(subset)
        assert window.value == pytest.approx(reference(subset), abs=1e-12)


def test_labels_use_masi_and_ratings_their_scale(db: Database, tmp_path: Path):
    world = sentiment_world(seed=7)
    build(db, tmp_path, world)
    report = qa_report(db, PROJECT)
    topics = field_of(report, "topics")
    assert topics.statistic == "krippendorff_alpha_masi"
    units = [
        [frozenset(v) for v in given.values()]
        for given in by_item(world.annotations, "topics").values()
    ]
    assert topics.estimate.value == pytest.approx(alpha_masi(units), abs=1e-12)
    assert topics.estimate.ci_low is not None and topics.estimate.ci_high is not None
    assert topics.estimate.ci_low <= topics.estimate.value <= topics.estimate.ci_high
    assert [row.label for row in topics.per_label] == ["billing", "delivery", "product"]
    data = reliability(world.annotations, "topics", lambda v: "billing" in v)
    billing = krippendorff.alpha(reliability_data=data, level_of_measurement="nominal")
    assert topics.per_label[0].value == pytest.approx(billing, abs=1e-12)

    stars = field_of(report, "stars")
    assert stars.statistic == "krippendorff_alpha_ordinal"
    data = reliability(world.annotations, "stars", float)
    expected = krippendorff.alpha(reliability_data=data, level_of_measurement="ordinal")
    assert stars.estimate.value == pytest.approx(expected, abs=1e-12)
    assert stars.per_label == []
    assert report.not_compared == ["comment"]
    assert "comment" not in [f.name for f in report.fields]


def test_fleiss_kappa_when_every_item_has_the_same_number_of_annotators(
    db: Database, tmp_path: Path
):
    world = sentiment_world(seed=11, coders=(3, 3))
    build(db, tmp_path, world)
    sentiment = field_of(qa_report(db, PROJECT), "sentiment")
    rows = [
        [SENTIMENTS.index(v) for v in given.values()]
        for given in by_item(world.annotations, "sentiment").values()
    ]
    table, _ = aggregate_raters(np.array(rows))
    assert sentiment.values_per_unit == (3, 3)
    assert sentiment.fleiss_kappa == pytest.approx(sm_fleiss_kappa(table), abs=1e-12)
    assert sentiment.note is None


GOLD_ITEMS = [
    {"id": "g1", "text": "Great.", "gold": {"sentiment": "positive", "stars": 5}},
    {"id": "g2", "text": "Awful.", "gold": {"sentiment": "negative", "stars": 1}},
    {"id": "t1", "text": "Fine."},
]


def answer(sentiment: str, stars: int) -> dict[str, Any]:
    return {"sentiment": sentiment, "stars": stars, "topics": ["product"], "entities": []}


def test_gold_accuracy_per_annotator_and_field_with_wilson_intervals(db: Database, tmp_path: Path):
    world = QaWorld(GOLD_ITEMS, {"ann0": {}, "ann1": {}, "ann2": {}})
    world.annotations = [
        Ann("g1", "ann0", answer("positive", 5)),
        Ann("g1", "ann1", answer("neutral", 5)),
        Ann("g1", "ann2", answer("positive", 4)),
        Ann("g2", "ann0", answer("negative", 1)),
        Ann("g2", "ann1", answer("negative", 1)),
        Ann("t1", "ann2", answer("neutral", 3)),
    ]
    build(db, tmp_path, world)
    gold = qa_report(db, PROJECT).gold
    assert (gold.gold_items, gold.answers) == (2, 5)
    cells = {(r.annotator, r.field): r for r in gold.accuracy}
    # Only the fields the gold answers hold are scored (topics is not in them).
    assert {field for _, field in cells} == {"sentiment", "stars"}
    expected = {
        ("ann0", "sentiment"): (2, 2),
        ("ann0", "stars"): (2, 2),
        ("ann1", "sentiment"): (2, 1),
        ("ann1", "stars"): (2, 2),
        ("ann2", "sentiment"): (1, 1),
        ("ann2", "stars"): (1, 0),
    }
    assert {key: (r.answered, r.correct) for key, r in cells.items()} == expected
    for (answered, correct), row in zip(expected.values(), cells.values(), strict=True):
        low, high = proportion_confint(correct, answered, method="wilson")
        assert row.accuracy == pytest.approx(correct / answered)
        assert (row.ci_low, row.ci_high) == pytest.approx((low, high))
    hardest = [(r.external_id, r.answered, r.wrong) for r in gold.hardest_items]
    assert hardest == [("g1", 3, 2), ("g2", 2, 0)]
    assert gold.hardest_items[0].difficulty == pytest.approx(2 / 3)


def test_small_annotator_groups_are_withheld(db: Database, tmp_path: Path):
    world = sentiment_world(seed=13, annotators=17)
    regions = ["eu"] * 6 + ["apac"] * 6 + ["na"] * 3 + ["latam"] * 2
    world.users = {f"ann{i}": {"region": r} for i, r in enumerate(regions)}
    build(db, tmp_path, world)
    report = qa_report(db, PROJECT, k_anonymity=5)
    text = as_json(report)
    # na (3 people) and latam (2) are under k = 5; together they hold 5, so no
    # other group has to be withheld with them. Neither name appears anywhere.
    assert '"na"' not in text and '"latam"' not in text
    (pool,) = report.bias.pool
    assert pool.attribute == "region"
    assert pool.counts == {"apac": 6, "eu": 6}
    assert pool.suppressed_values == 2
    table = next(
        t
        for t in report.bias.tables
        if t.source == "annotator_attribute" and t.field == "sentiment"
    )
    assert table.suppressed_groups == 2
    region_of = {f"ann{i}": r for i, r in enumerate(regions)}
    for group in table.groups:
        given = [
            a.payload["sentiment"] for a in world.annotations if region_of[a.user] == group.group
        ]
        assert group.n_values == len(given)
        assert group.counts == {s: given.count(s) for s in SENTIMENTS if given.count(s)}
    assert {g.group for g in table.groups} == {"eu", "apac"}
    assert table.p_value is not None and 0 <= table.p_value <= 1

    # Item metadata are not people: nothing withheld; an id-like key is not a grouping.
    keys = {t.key for t in report.bias.tables if t.source == "item_metadata"}
    assert keys == {"channel"}
    channel = next(t for t in report.bias.tables if t.key == "channel" and t.field == "sentiment")
    channel_of = {item["id"]: item["metadata"]["channel"] for item in world.items}
    for group in channel.groups:
        assert group.n_values == sum(channel_of[a.item] == group.group for a in world.annotations)


def test_more_people_are_withheld_when_the_withheld_groups_hold_fewer_than_k(
    db: Database, tmp_path: Path
):
    world = sentiment_world(seed=17, annotators=13)
    regions = ["eu"] * 7 + ["apac"] * 5 + ["na"]
    world.users = {f"ann{i}": {"region": r} for i, r in enumerate(regions)}
    build(db, tmp_path, world)
    report = qa_report(db, PROJECT, k_anonymity=5)
    # na alone (1 person) could be derived from the totals: apac is withheld too.
    assert report.bias.pool[0].counts == {"eu": 7}
    assert '"apac"' not in as_json(report)


def test_a_spammer_is_flagged(db: Database, tmp_path: Path):
    world = sentiment_world(seed=19, n_items=120, accuracy=0.9, spammer=True)
    build(db, tmp_path, world)
    findings = qa_report(db, PROJECT).findings
    spam = {(f.kind, f.field) for f in findings if f.annotator == "spam"}
    assert ("low_consensus_agreement", "sentiment") in spam
    assert ("label_distribution", "sentiment") in spam
    assert ("too_fast", None) in spam
    flagged_kinds = {"low_consensus_agreement", "label_distribution", "too_fast"}
    assert [f for f in findings if f.annotator != "spam" and f.kind in flagged_kinds] == []
    assert all(f.evidence for f in findings)


def test_span_agreement_exact_and_overlap(db: Database, tmp_path: Path):
    items = [{"id": "s1", "text": "Anna works at Acme."}, {"id": "s2", "text": "Bob met Acme."}]
    world = QaWorld(items, {"ann0": {}, "ann1": {}})

    def spans(*cells: tuple[int, int, str]) -> dict[str, Any]:
        entities = [{"start": s, "end": e, "label": label} for s, e, label in cells]
        return {**answer("neutral", 3), "entities": entities}

    world.annotations = [
        Ann("s1", "ann0", spans((0, 4, "PER"), (14, 18, "ORG"))),
        Ann("s1", "ann1", spans((0, 4, "PER"), (13, 18, "ORG"))),
        Ann("s2", "ann0", spans((0, 3, "PER"))),
        Ann("s2", "ann1", spans((0, 3, "PER"))),
    ]
    build(db, tmp_path, world)
    entities = field_of(qa_report(db, PROJECT), "entities")
    assert entities.statistic == "span_f1_exact"
    # Exact: PER matches twice, ORG never: P = R = 2/3. Overlap: every span matches.
    assert entities.estimate.value == pytest.approx(2 / 3)
    assert entities.f1_overlap == pytest.approx(1.0)
    per_label = {row.label: (row.value, row.f1_overlap) for row in entities.per_label}
    assert per_label == {"ORG": (0.0, 1.0), "PER": (1.0, 1.0)}
    (pair,) = entities.pairs
    assert (pair.annotator_a, pair.annotator_b, pair.shared_units) == ("ann0", "ann1", 2)
    assert pair.value == pytest.approx(2 / 3)


PAIRWISE_YAML = """
name: pairs
item_kind: prompt_responses
objective: {use_case: preference_tuning}
schema:
  fields:
    - {name: better, kind: preference}
    - {name: order, kind: ranking, allow_ties: true}
guidelines: Pick the better response, then rank all three.
"""


def test_preference_and_ranking_fields(db: Database, tmp_path: Path):
    create_project(db, parse_project(PAIRWISE_YAML, "pairs.yaml"))
    rows = [{"id": f"p{i}", "prompt": f"Q{i}?", "responses": ["a", "b", "c"]} for i in range(4)]
    import_items(db, "pairs", write_jsonl(tmp_path / "pairs.jsonl", rows), ImportOptions())
    users = [add_user(db, NewUser(f"u{i}", None, project="pairs")) for i in range(3)]
    choices = [["a", "a", "b"], ["b", "b", "b"], ["a", "tie", "a"], ["b", "a", None]]
    orders: list[list[Any]] = [
        [[0], [1], [2]],
        [[1], [0, 2]],
        [[2], [1], [0]],
        [[0, 1, 2]],
    ]
    annotate(
        db,
        "pairs",
        {
            (i, user_id): {"better": {"choice": choices[i][u]}, "order": orders[(i + u) % 4]}
            for i in range(4)
            for u, user_id in enumerate(users)
            if choices[i][u] is not None
        },
    )
    report = qa_report(db, "pairs")
    as_json(report)
    better = field_of(report, "better")
    codes = {"a": 0, "b": 1, "tie": 2}
    data = np.array([[np.nan if c is None else codes[c] for c in row] for row in choices]).T
    expected = krippendorff.alpha(reliability_data=data, level_of_measurement="nominal")
    assert better.estimate.value == pytest.approx(expected, abs=1e-12)
    assert [row.label for row in better.per_label] == ["a", "b", "tie"]

    order = field_of(report, "order")
    assert order.statistic == "krippendorff_alpha_ordinal"
    # Units are item x candidate; a candidate's value is its group's position.
    ranks = np.full((3, 12), np.nan)
    for i in range(4):
        for u in range(3):
            if choices[i][u] is None:
                continue
            for position, group in enumerate(orders[(i + u) % 4]):
                for candidate in group:
                    ranks[u, 3 * i + candidate] = position
    expected = krippendorff.alpha(reliability_data=ranks, level_of_measurement="ordinal")
    assert order.n_units == 12
    assert order.estimate.value == pytest.approx(expected, abs=1e-12)


def test_an_empty_project_gives_notes_not_numbers(db: Database, tmp_path: Path):
    create_project(db, parse_project(PROJECT_YAML, "project.yaml"))
    report = qa_report(db, PROJECT)
    assert (report.annotations, report.annotators, report.items) == (0, 0, 0)
    as_json(report)
    for agreement in report.fields:
        assert agreement.estimate.value is None
        assert agreement.estimate.note and "agreement undefined" in agreement.estimate.note
        assert agreement.pairs == [] and agreement.by_window == []
    assert report.gold.note == "no gold items"
    assert report.findings == [] and report.bias.tables == []


def test_to_dict_shape(db: Database, tmp_path: Path):
    build(db, tmp_path, sentiment_world(seed=23))
    data = json.loads(as_json(qa_report(db, PROJECT)))
    assert set(data) == {
        "project",
        "generated_at",
        "window_days",
        "k_anonymity",
        "schema_version",
        "guideline_version",
        "items",
        "annotated_items",
        "annotations",
        "annotators",
        "fields",
        "not_compared",
        "gold",
        "aggregation",
        "findings",
        "bias",
        "notes",
    }
    assert [f["name"] for f in data["fields"]] == ["sentiment", "topics", "stars", "entities"]
    sentiment = data["fields"][0]
    assert set(sentiment["estimate"]) == {"value", "ci_low", "ci_high", "n_boot", "note"}
    assert isinstance(sentiment["values_per_unit"], list)
    assert set(sentiment["pairs"][0]) >= {"annotator_a", "annotator_b", "shared_units", "value"}
    assert set(data["gold"]) == {"gold_items", "answers", "accuracy", "hardest_items", "note"}
    assert set(data["bias"]) == {"k_anonymity", "pool", "tables", "tag_rates", "note"}


def test_only_managers_reviewers_experts_and_admins_may_read_it(db: Database, tmp_path: Path):
    build(db, tmp_path, sentiment_world(seed=29, n_items=10))
    actors = {}
    for name, role in (("boss", "manager"), ("rev", "reviewer"), ("exp", "expert")):
        actors[name] = Actor(add_user(db, NewUser(name, None, project=PROJECT, role=role)), name)
    worker = Actor(add_user(db, NewUser("worker", None, project=PROJECT)), "worker")
    stranger = Actor(add_user(db, NewUser("stranger", None)), "stranger")
    admin = Actor(add_user(db, NewUser("root", None, is_admin=True)), "root", is_admin=True)
    for actor in [*actors.values(), admin]:
        assert qa_report(db, PROJECT, actor).project == PROJECT
    with pytest.raises(Forbidden):
        qa_report(db, PROJECT, worker)
    with pytest.raises(NotFound):
        qa_report(db, PROJECT, stranger)


def test_options_are_checked(db: Database) -> None:
    with pytest.raises(Invalid) as raised:
        qa_report(db, PROJECT, window_days=0, k_anonymity=1)
    assert raised.value.code == "E709"
    assert [d.path for d in raised.value.details] == ["window_days", "k_anonymity"]


TURNS_YAML = """
name: chats
item_kind: conversation
objective: {use_case: conversation_quality}
schema:
  fields:
    - {name: coherence, kind: rating, min: 1, max: 5, per_turn: true, turn_roles: [assistant]}
guidelines: Rate every assistant turn.
"""


def test_per_turn_fields_count_each_turn_as_a_unit(db: Database, tmp_path: Path):
    create_project(db, parse_project(TURNS_YAML, "chats.yaml"))
    rows = [
        {
            "id": f"c{i}",
            "turns": [
                {"role": "user", "content": f"Hi, question {i}"},
                {"role": "assistant", "content": "Hello"},
                {"role": "user", "content": "Bye"},
                {"role": "assistant", "content": "Bye!"},
            ],
        }
        for i in range(3)
    ]
    import_items(db, "chats", write_jsonl(tmp_path / "chats.jsonl", rows), ImportOptions())
    users = [add_user(db, NewUser(f"u{i}", None, project="chats")) for i in range(2)]
    scores = {  # item -> per user {turn: score}
        0: [{"1": 5, "3": 4}, {"1": 5, "3": 2}],
        1: [{"1": 3, "3": 3}, {"1": 4}],
        2: [{"1": 1, "3": 5}, {"1": 1, "3": 5}],
    }
    annotate(
        db,
        "chats",
        {
            (i, user_id): {"coherence": scores[i][u]}
            for i in range(3)
            for u, user_id in enumerate(users)
        },
    )
    coherence = field_of(qa_report(db, "chats"), "coherence")
    units = [(i, turn) for i in range(3) for turn in ("1", "3")]
    data = np.array([[scores[i][u].get(t, np.nan) for i, t in units] for u in range(2)])
    expected = krippendorff.alpha(reliability_data=data, level_of_measurement="ordinal")
    assert (coherence.n_units, coherence.n_pairable_units, coherence.n_values) == (6, 5, 11)
    assert coherence.estimate.value == pytest.approx(expected, abs=1e-12)
    (pair,) = coherence.pairs
    assert pair.shared_units == 5


def test_bias_tag_rates_count_items_tagged_by_anyone(db: Database) -> None:
    from annotary.services.identity.users import NewUser, add_user
    from annotary.services.projects import create_project
    from annotary.storage.db import write_transaction
    from annotary.storage.models import Annotation, Item

    project = parse_project(
        """
name: tags
objective: {use_case: moderation}
schema:
  fields:
    - {name: bias_tags, kind: labels, labels: [gender, age, none]}
guidelines: Tag bias.
""",
        "tags.yaml",
    )
    project_id = create_project(db, project).id
    users = [add_user(db, NewUser(f"t{n}", None, project="tags")) for n in range(2)]
    tagged = [[["gender"], ["gender", "age"]], [["none"], ["none"]], [["age"], ["none"]]]
    with write_transaction(db.sessions) as session:
        for index, answers in enumerate(tagged):
            item = Item(
                project_id=project_id,
                kind="text",
                content={"text": f"x{index}"},
                content_hash=f"h{index}",
                meta={},
            )
            session.add(item)
            session.flush()
            for user, labels in zip(users, answers, strict=True):
                session.add(
                    Annotation(
                        item_id=item.id,
                        user_id=user,
                        project_id=project_id,
                        payload={"bias_tags": labels},
                        schema_version=1,
                        guideline_version=1,
                    )
                )

    rows = {r["tag"]: r for r in qa_report(db, "tags").to_dict()["bias"]["tag_rates"]}

    counts = {tag: (row["items_tagged"], row["items"]) for tag, row in rows.items()}
    assert counts == {"age": (2, 3), "gender": (1, 3), "none": (2, 3)}
    low, high = proportion_confint(2, 3, alpha=0.05, method="wilson")
    assert rows["age"]["rate"] == pytest.approx(2 / 3)
    assert (rows["age"]["low"], rows["age"]["high"]) == pytest.approx((low, high), abs=1e-9)
