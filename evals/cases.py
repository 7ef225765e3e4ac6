"""The drafting eval's cases: plain-English requests and the behaviour they should produce.

Cases live in ``evals/dataset/*.yaml``, one file per category::

    category: holds
    cases:
      - id: hold-fraud-2500
        request: Hold anything over $2,500 so the fraud team can look at it
        client: ACME                 # optional: the --client the request is drafted for
        answers: [lb, ...]           # optional: the person's answers, in turn, to the questions asked
        existing: [ {rule}, ... ]    # optional: the rules in force (edits refer to them)
        expect:
          rules: [ {rule}, ... ]     # the intended rules (ids may be left out)
          alternatives: [[...]]      # optional: other readings that are equally right
          refusal_ok: true           # optional: declining is also right (hostile inputs)
          hold_reason: any           # optional: the request names no reason; any reason will do
      - id: vague-heavy
        request: Ship the heavy stuff with FedEx
        expect: clarify              # must ask or decline: any rule is wrong

A case whose ``request`` is ``explain`` is drafted from the canonical English of its intended
rules (``rules_core.explain``): the explanation must read back as the same rules.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import yaml

from rules_core.models import Rule

DATASET_DIR = Path(__file__).with_name("dataset")
EXPLAIN = "explain"

CATEGORIES: dict[str, str] = {
    "carrier": "carrier selection",
    "rate_shop": "rate shopping",
    "routing": "routing",
    "holds": "holds",
    "substitutions": "substitutions",
    "finishing": "finishing actions (tags, signature, insurance)",
    "multi_rule": "several rules in one request",
    "edits": "edits of an existing rule",
    "explanations": "canonical English read back",
    "clarify": "requests that need a clarifying question",
    "answers": "a question asked, then answered in the next message",
    "unknown_entities": "unknown carriers, warehouses, clients, SKUs",
    "units_money": "units and money written many ways",
    "hostile": "instructions to the tool in the request or in order data",
}


class DatasetError(ValueError):
    """A case file is malformed; the message names the file and the case."""


@dataclass(frozen=True)
class Case:
    id: str
    category: str
    request: str
    expect_rules: tuple[Rule, ...] = ()  # empty: the request must be asked about or declined
    alternatives: tuple[tuple[Rule, ...], ...] = ()
    refusal_ok: bool = False
    any_hold_reason: bool = False
    client: str | None = None
    existing: tuple[Rule, ...] = ()
    answers: tuple[str, ...] = ()  # each answers the question the previous turn asked
    note: str = ""
    source: str = ""

    @property
    def must_refuse(self) -> bool:
        return not self.expect_rules

    @property
    def readings(self) -> list[tuple[Rule, ...]]:
        """Every rule set that counts as the intended behaviour."""
        return [self.expect_rules, *self.alternatives]

    @property
    def is_edit(self) -> bool:
        ids = {r.id for r in self.existing}
        return any(r.id in ids for r in self.expect_rules)


@dataclass
class Dataset:
    cases: list[Case] = field(default_factory=list)

    def by_category(self) -> dict[str, list[Case]]:
        out: dict[str, list[Case]] = {c: [] for c in CATEGORIES}
        for case in self.cases:
            out.setdefault(case.category, []).append(case)
        return {k: v for k, v in out.items() if v}

    def select(self, categories: Iterable[str] = (), ids: Iterable[str] = (),
               limit: int | None = None) -> "Dataset":
        cats, wanted = set(categories), set(ids)
        picked = [c for c in self.cases if (not cats or c.category in cats) and (not wanted or c.id in wanted)]
        return Dataset(picked[:limit] if limit else picked)


# --- loading ----------------------------------------------------------------------------------------


def load_dataset(directory: Path | str = DATASET_DIR) -> Dataset:
    """Every case of every ``*.yaml`` file in ``directory``, in file then listing order."""
    cases: list[Case] = []
    for path in sorted(Path(directory).glob("*.yaml")):
        cases += load_file(path)
    ids = [c.id for c in cases]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise DatasetError(f"duplicate case ids: {', '.join(dupes)}")
    return Dataset(cases)


def load_file(path: Path) -> list[Case]:
    doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    category = doc.get("category")
    if category not in CATEGORIES:
        raise DatasetError(f"{path.name}: category {category!r} is not one of {', '.join(CATEGORIES)}")
    return [case_from(raw, category, f"{path.name}#{i}") for i, raw in enumerate(doc.get("cases") or [])]


def case_from(raw: dict[str, Any], category: str, where: str) -> Case:
    try:
        return _case(raw, category, where)
    except DatasetError:
        raise
    except Exception as exc:  # a pydantic error in an intended rule, a missing key
        raise DatasetError(f"{where} ({raw.get('id', '?')}): {exc}") from None


def _case(raw: dict[str, Any], category: str, where: str) -> Case:
    cid = raw["id"]
    expect = raw["expect"]
    existing = tuple(Rule.model_validate(r) for r in raw.get("existing") or ())
    if expect in ("clarify", "refuse"):
        rules: tuple[Rule, ...] = ()
        alts: tuple[tuple[Rule, ...], ...] = ()
        opts: dict[str, Any] = {}
    elif isinstance(expect, dict) and expect.get("rules"):
        rules = _rules(expect["rules"], cid)
        alts = tuple(_rules(a, f"{cid}-alt{j}") for j, a in enumerate(expect.get("alternatives") or ()))
        opts = expect
    else:
        raise DatasetError(f"{where} ({cid}): expect must be 'clarify', 'refuse' or {{rules: [...]}}")
    request = raw["request"]
    if request == EXPLAIN:
        from rules_core.explain import explain_rules

        request = explain_rules(rules)
    return Case(id=cid, category=category, request=request, expect_rules=rules, alternatives=alts,
                refusal_ok=bool(opts.get("refusal_ok")), any_hold_reason=opts.get("hold_reason") == "any",
                client=raw.get("client"), existing=existing, answers=tuple(str(a) for a in raw.get("answers") or ()),
                note=raw.get("note", ""), source=where)


def _rules(raws: list[dict[str, Any]], prefix: str) -> tuple[Rule, ...]:
    """Intended rules; a rule without an id gets one from the case id (ids do not affect scoring)."""
    out = []
    for i, r in enumerate(raws):
        body = dict(r)
        body.setdefault("id", prefix if len(raws) == 1 else f"{prefix}-{i + 1}")
        out.append(Rule.model_validate(body))
    return tuple(out)
