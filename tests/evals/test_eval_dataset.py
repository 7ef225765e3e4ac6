"""The eval dataset itself: big enough, every category covered, intended rules valid and
discriminating, explanations generated from the rules, and phrased fresh (not the parser's fixtures)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from evals.cases import CATEGORIES, Case, DatasetError, load_dataset, load_file
from rules_core.engine import compile_rules, decide
from evals.scoring import battery
from rules_core.equivalence import AS_OF, outcome
from rules_core.explain import explain_rules
from rules_core.simulate import merge_rules
from rules_core.validator import validate

DATASET = load_dataset()
WITH_RULES = [c for c in DATASET.cases if c.expect_rules]
PARSER_FIXTURES = Path(__file__).resolve().parents[1] / "assistant" / "fixtures"


def test_at_least_200_cases_over_every_category() -> None:
    by_cat = DATASET.by_category()
    assert len(DATASET.cases) >= 200
    assert set(by_cat) == set(CATEGORIES)
    assert all(len(cases) >= 10 for cases in by_cat.values()), {k: len(v) for k, v in by_cat.items()}


def test_both_kinds_of_expectation_are_present() -> None:
    assert sum(c.must_refuse for c in DATASET.cases) >= 40
    assert sum(c.is_edit for c in DATASET.cases) >= 10
    assert sum(bool(c.client) for c in DATASET.cases) >= 8
    assert sum(c.refusal_ok for c in DATASET.cases) >= 5


@pytest.mark.parametrize("case", WITH_RULES, ids=lambda c: c.id)
def test_intended_rules_are_valid(case: Case, catalog: Any) -> None:
    for reading in case.readings:
        errors = [f for f in validate(list(reading), catalog, existing=list(case.existing)) if f.severity == "error"]
        assert not errors, [str(f) for f in errors]


@pytest.mark.parametrize("case", [c for c in DATASET.cases if c.existing], ids=lambda c: c.id)
def test_existing_rules_are_valid(case: Case, catalog: Any) -> None:
    assert not [f for f in validate(list(case.existing), catalog) if f.severity == "error"]


@pytest.mark.parametrize("case", WITH_RULES, ids=lambda c: c.id)
def test_intended_rules_change_some_decision(case: Case, catalog: Any) -> None:
    """A case whose intended rules decide nothing differently could not tell a draft apart."""
    if not case.existing and not any(r.enabled for r in case.expect_rules):
        pytest.skip("a disabled rule read back from its explanation: nothing to decide")
    before = compile_rules(list(case.existing))
    after = compile_rules(merge_rules(list(case.existing), list(case.expect_rules)))
    orders = battery(list(case.existing) + list(case.expect_rules), catalog)
    assert any(outcome(decide(o, before, catalog, as_of=AS_OF)) != outcome(decide(o, after, catalog, as_of=AS_OF))
               for o in orders)


def test_explanation_cases_are_the_canonical_english() -> None:
    cases = DATASET.by_category()["explanations"]
    for case in cases:
        assert case.request == explain_rules(case.expect_rules)
        assert case.request.startswith("Rule ")


def test_edit_cases_keep_the_rule_id() -> None:
    for case in DATASET.by_category()["edits"]:
        if case.expect_rules:
            assert case.is_edit, f"{case.id}: an edit must keep the id of an existing rule"


def _words(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9$]+", text.lower()))


def _strings(node: Any) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [s for v in node.values() for s in _strings(v)]
    if isinstance(node, list):
        return [s for v in node for s in _strings(v)]
    return []


def test_requests_are_not_copied_from_the_parser_fixtures() -> None:
    fixture_texts = {_words(s) for path in PARSER_FIXTURES.glob("*.yaml")
                     for s in _strings(yaml.safe_load(path.read_text(encoding="utf-8")))}
    copied = [c.id for c in DATASET.cases if c.category != "explanations" and _words(c.request) in fixture_texts]
    assert not copied


def test_malformed_case_files_name_the_file_and_case(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("category: holds\ncases:\n  - id: x\n    request: hi\n    expect: {rules: [{then: []}]}\n")
    with pytest.raises(DatasetError, match=r"bad.yaml#0 \(x\)"):
        load_file(bad)
    bad.write_text("category: nonsense\ncases: []\n")
    with pytest.raises(DatasetError, match="category 'nonsense'"):
        load_file(bad)
    bad.write_text("category: holds\ncases:\n  - id: y\n    request: hi\n    expect: maybe\n")
    with pytest.raises(DatasetError, match="expect must be"):
        load_file(bad)


def test_duplicate_ids_are_refused(tmp_path: Path) -> None:
    body = "category: clarify\ncases:\n  - {id: same, request: a, expect: clarify}\n"
    (tmp_path / "a.yaml").write_text(body)
    (tmp_path / "b.yaml").write_text(body)
    with pytest.raises(DatasetError, match="duplicate case ids: same"):
        load_dataset(tmp_path)


def test_select_filters_by_category_id_and_limit() -> None:
    assert {c.category for c in DATASET.select(["holds"]).cases} == {"holds"}
    assert [c.id for c in DATASET.select(ids=["hold-mexico-customs"]).cases] == ["hold-mexico-customs"]
    assert len(DATASET.select(limit=3).cases) == 3
