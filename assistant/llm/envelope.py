"""The reply envelope: what the model must return, and where its draft is validated.

The model answers with exactly one of three replies, told apart by ``kind``:

- ``draft``: one or more rules in the canonical schema plus a short rationale;
- ``clarify``: one question, when the request cannot become rules without guessing;
- ``refuse``: a reason, when the request is not something rules can do (or asks to
  approve, save or export, which the model never does).

The rules core's validator runs inside the envelope's validation (through instructor's
validation context), so a finding such as "unknown service `UPS_GRND`; did you mean
`UPS_GROUND`?" fails validation, goes back to the model in the re-ask, and the model
repairs its reply. The schema is kept grammar-friendly for llama.cpp's json_object+schema
mode: every array is typed, nothing is ``Any``, and ``when`` is required.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, model_validator

from rules_core.findings import Finding
from rules_core.models import Condition, Rule


class ModelRule(Rule):
    """A rule as the model writes it: the canonical rule with ``when`` required."""

    when: Condition = Field(description="the condition tree; required (use a client predicate to match a whole client)")


class DraftReply(BaseModel):
    """Rules that carry out the request."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["draft"]
    rationale: str = Field(description="one or two sentences: how the rules carry out the request")
    rules: list[ModelRule] = Field(min_length=1, description="the proposed rules; an edit keeps the rule's id")

    @model_validator(mode="after")
    def _validate_rules(self, info: ValidationInfo) -> "DraftReply":
        ctx = info.context if isinstance(info.context, dict) else None
        if ctx is None or ctx.get("catalog") is None:
            return self
        rules = [scoped(r, ctx.get("client")) for r in self.rules]
        self.rules = rules
        findings = rule_findings(rules, ctx)
        ctx["findings"] = findings
        ctx["attempts"] = ctx.get("attempts", 0) + 1
        errors = [f for f in findings if f.severity == "error"]
        if errors:
            raise ValueError(findings_text(errors))
        return self


class ClarifyReply(BaseModel):
    """One question to the user when the request cannot become rules without guessing."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["clarify"]
    question: str = Field(min_length=1, description="one short question that would settle the ambiguity")


class RefuseReply(BaseModel):
    """A refusal: the request is not something rules can do, or asks for something outside drafting."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["refuse"]
    reason: str = Field(min_length=1, description="why no rule is proposed")


Reply = Annotated[Union[DraftReply, ClarifyReply, RefuseReply], Field(discriminator="kind")]


class AssistantReply(BaseModel):
    """The reply to a rule request: a draft, a clarifying question, or a refusal."""

    model_config = ConfigDict(extra="forbid")
    reply: Reply

    @classmethod
    def model_json_schema(cls, *args: Any, **kwargs: Any) -> dict[str, Any]:  # type: ignore[override]
        # instructor builds the tool / response_format / prompt schema from this method.
        return compact_schema(super().model_json_schema(*args, **kwargs))


# --- validation inside the envelope ----------------------------------------------------


def scoped(rule: ModelRule, client: str | None) -> ModelRule:
    """The rule scoped to the user's client when the model left the scope empty."""
    if client and not rule.clients:
        return rule.model_copy(update={"clients": [client]})
    return rule


def rule_findings(rules: list[ModelRule], ctx: dict[str, Any]) -> list[Finding]:
    from rules_core.validator import validate  # written alongside; imported when used

    findings = list(validate(list(rules), ctx["catalog"], existing=ctx.get("existing")))
    return findings + scope_findings(rules, ctx.get("client"))


def scope_findings(rules: list[ModelRule], client: str | None) -> list[Finding]:
    """The user set the client scope: a rule for any other client is an error."""
    if not client:
        return []
    return [
        Finding(code="client_scope", severity="error", path=f"/{i}/clients",
                message=f"the request is for client {client}, but the rule names {', '.join(r.clients)}",
                hint=f'set "clients": ["{client}"]')
        for i, r in enumerate(rules) if r.clients != [client]
    ]


def finding_line(f: Finding) -> str:
    where = f" at {f.path}" if f.path else ""
    hint = f"; {f.hint}" if f.hint else ""
    return f"- {f.severity} {f.code}{where}: {f.message}{hint}"


def findings_text(findings: list[Finding]) -> str:
    """Findings as the model reads them in a re-ask (paths point into the ``rules`` list)."""
    lines = "\n".join(finding_line(f) for f in findings)
    return f"the rules have validation errors; fix them and reply again:\n{lines}"


# --- the model-facing schema -------------------------------------------------------------

_CONDITION_NODES = ("AllOf", "AnyOf", "NotOf", "AnyLine", "AllLines", "Predicate")


def reply_schema() -> dict[str, Any]:
    """The JSON Schema the model fills (also what llama.cpp turns into a grammar)."""
    return AssistantReply.model_json_schema()


def compact_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """The pydantic schema made smaller and stricter for models and grammar converters.

    Titles and null defaults go (they cost tokens and say nothing); the condition union is
    defined once as ``Condition``; ``action`` is required in every action (it discriminates);
    ``field`` is an enum of the registry's fields, so a grammar cannot invent one.
    """
    from rules_core.registry import FIELDS

    top = {k: schema[k] for k in ("title", "description") if k in schema}
    out = _strip(schema)
    defs = out.setdefault("$defs", {})
    condition = {"oneOf": [{"$ref": f"#/$defs/{n}"} for n in _CONDITION_NODES]}
    out = _hoist(out, condition["oneOf"])
    defs = out["$defs"]
    defs["Condition"] = condition
    for d in defs.values():
        props = d.get("properties", {})
        if "action" in props and "const" in props["action"]:
            props["action"].pop("default", None)
            d["required"] = ["action", *[r for r in d.get("required", []) if r != "action"]]
    defs["Predicate"]["properties"]["field"] = {"type": "string", "enum": list(FIELDS)}
    for name, d in defs.items():
        if name not in _DESCRIBED:  # the prompt explains the rule language; the schema only shapes it
            _drop_descriptions(d)
    return {**top, **out}


_DESCRIBED = ("DraftReply", "ClarifyReply", "RefuseReply")


def _drop_descriptions(node: Any) -> None:
    if isinstance(node, dict):
        if isinstance(node.get("description"), str):
            del node["description"]
        for v in node.values():
            _drop_descriptions(v)
    elif isinstance(node, list):
        for v in node:
            _drop_descriptions(v)


def _strip(node: Any, in_properties: bool = False) -> Any:
    if isinstance(node, list):
        return [_strip(x) for x in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for k, v in node.items():
        if not in_properties and k == "title" and isinstance(v, str):
            continue
        if not in_properties and (k == "discriminator" or (k == "default" and v is None)):
            continue
        out[k] = _strip(v, in_properties=(k in ("properties", "$defs") and not in_properties))
    return out


def _hoist(node: Any, union: list[dict[str, str]]) -> Any:
    """Replace every inline copy of the condition union with a reference to ``Condition``."""
    if isinstance(node, list):
        return [_hoist(x, union) for x in node]
    if not isinstance(node, dict):
        return node
    if node.get("oneOf") == union:
        rest = {k: v for k, v in node.items() if k != "oneOf"}
        return {**rest, "$ref": "#/$defs/Condition"} if rest else {"$ref": "#/$defs/Condition"}
    return {k: _hoist(v, union) for k, v in node.items()}
