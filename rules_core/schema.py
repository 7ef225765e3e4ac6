"""The JSON Schema of a rule and of a rule set, generated from the pydantic models.

``Rule.model_json_schema`` is the source; it is post-processed so that it is usable on its
own by a JSON Schema validator and by a model filling it in:

* every action names itself: ``action`` is required (the models default it, which would let
  ``{"reason": "x"}`` pass as a hold in a ``oneOf``);
* ``field`` lists the registry's field names, each described, so the schema teaches the
  vocabulary instead of accepting any string.
"""

from __future__ import annotations

import copy
import functools
from typing import Any

from rules_core.models import ACTION_STAGE, Rule
from rules_core.registry import FIELDS

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


@functools.lru_cache(maxsize=1)
def _rule_schema() -> dict[str, Any]:
    schema = Rule.model_json_schema(by_alias=True)
    defs = schema.get("$defs", {})
    for definition in defs.values():
        _require_action_name(definition)
    predicate = defs.get("Predicate", {}).get("properties", {})
    if "field" in predicate:
        predicate["field"] = _field_property()
    schema["$schema"] = SCHEMA_DIALECT
    schema["title"] = "Rule"
    schema["description"] = (
        "One rulewright rule: when the condition holds for an order of the listed clients, "
        "the actions apply (all actions of one stage; at most one decisive action)."
    )
    return schema


def _require_action_name(definition: dict[str, Any]) -> None:
    action = definition.get("properties", {}).get("action", {})
    if action.get("const") in ACTION_STAGE:
        required = definition.setdefault("required", [])
        if "action" not in required:
            required.insert(0, "action")


def _field_property() -> dict[str, Any]:
    lines = [f"{name}: {spec.description} ({spec.kind})" for name, spec in FIELDS.items()]
    return {
        "title": "Field",
        "type": "string",
        "enum": list(FIELDS),
        "description": "the fact tested; line.* fields only inside any_line / all_lines.\n"
        + "\n".join(lines),
    }


def rule_schema() -> dict[str, Any]:
    """The JSON Schema of one rule (a fresh copy; callers may change it)."""
    return copy.deepcopy(_rule_schema())


def ruleset_schema() -> dict[str, Any]:
    """The JSON Schema of a rules document: ``{"rules": [rule, ...]}``."""
    rule = rule_schema()
    defs = rule.pop("$defs", {})
    rule.pop("$schema", None)
    defs["Rule"] = rule
    return {
        "$schema": SCHEMA_DIALECT,
        "title": "RuleSet",
        "description": "A rules document: a list of rules under `rules`.",
        "type": "object",
        "additionalProperties": False,
        "properties": {"rules": {"type": "array", "items": {"$ref": "#/$defs/Rule"}}},
        "required": ["rules"],
        "$defs": defs,
    }
