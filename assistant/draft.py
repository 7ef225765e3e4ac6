"""Drafting: plain English in, a validated and simulated rule proposal out.

``draft`` runs the pipeline of the assistant:

    request ─► offline parser ──(fully understood)──────────────┐
                    │ (not fully understood, model configured)   │
                    └─► model (validator in its repair loop) ────┤
                                                                  ▼
                               validator findings ─► diff against current rules ─► dry-run impact

The result is the contract JSON of ``rulewright draft --json`` (status, rules, english,
findings, question, error, impact, usage) plus ``source`` and ``diff``. Drafting never
saves anything: a proposal is made from a draft by the review workflow, by a person.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from assistant.answers import Pending, ask_again, resolve_offline
from assistant.llm.client import Usage
from assistant.llm.errors import LLMError
from assistant.llm.settings import LLMSettings, load_llm_settings
from rules_core.catalog import Catalog
from rules_core.findings import Finding, has_errors
from rules_core.models import Order, Rule, rule_json

Status = Literal["ok", "clarify", "error"]
Source = Literal["offline", "model"]
DraftMode = Literal["auto", "offline", "llm"]

NO_MODEL_NOTE = "no model configured (RULEWRIGHT_LLM_BASE_URL): answered by the offline parser only"


class RuleChange(BaseModel):
    """One edited rule: its id, the changed leaves (JSON pointers), and both versions."""

    id: str
    changes: list[dict[str, Any]]
    before: dict[str, Any]
    after: dict[str, Any]


class DraftResult(BaseModel):
    status: Status
    rules: list[Rule] = Field(default_factory=list)
    english: str = ""
    findings: list[Finding] = Field(default_factory=list)
    question: str | None = None
    error: str | None = None
    impact: dict[str, Any] | None = None
    usage: Usage = Field(default_factory=Usage)
    source: Source = "offline"
    diff: list[RuleChange] = Field(default_factory=list)
    request: str | None = Field(default=None, description="the request drafted: with an answer to a question "
                                "fitted in, the earlier request completed by it")
    # Shown to people; not part of the JSON contract.
    rationale: str | None = Field(default=None, exclude=True)
    pending: Pending | None = Field(default=None, exclude=True, description="the question asked, for the answer")

    def to_json(self) -> dict[str, Any]:
        out = self.model_dump(mode="json", exclude={"rules", "rationale"})
        out["rules"] = [rule_json(r) for r in self.rules]
        return {k: out[k] for k in CONTRACT_KEYS}


CONTRACT_KEYS = ("status", "rules", "english", "findings", "question", "error", "impact", "usage", "source", "diff",
                 "request")


def active_rules() -> list[Rule]:
    """The active approved rule set (empty while the store is not there)."""
    try:
        from rules_core.store import active_rules as store_active_rules
    except ImportError:
        return []
    return list(store_active_rules())


def draft(text: str, catalog: Catalog, *, client: str | None = None, mode: DraftMode = "auto",
          settings: LLMSettings | None = None, current_rules: list[Rule] | None = None,
          orders: list[Order] | None = None, http_client: Any = None,
          editing: list[Rule] | None = None, answering: Pending | None = None) -> DraftResult:
    """A rule proposal for ``text``. Raises NotConfigured only for mode="llm" without a model.

    ``editing``: rules a follow-up may change ("make it 25 lb"); an edit keeps the rule's id and
    the diff shows the changed fields. Without it, an edit that names an active rule by id,
    client or name ("raise the ACME heavy threshold to 25 lb") changes that rule.

    ``answering``: the question the previous draft asked (``DraftResult.pending``); ``text`` is
    then the answer, fitted into the earlier request (see ``assistant.answers``). A clarify
    result carries its own ``pending`` for the next answer.
    """
    settings = settings or load_llm_settings()
    if mode == "llm":
        settings.require()
    if not text.strip() and answering is not None:  # the question stands
        question, still = ask_again(answering, text)
        return DraftResult(status="clarify", question=question, request=answering.request, pending=still)
    if not text.strip():
        return DraftResult(status="error", error="the request is empty: describe the rule in plain English")
    current = active_rules() if current_rules is None else list(current_rules)
    if answering is not None:
        result = answer(text, answering, catalog, client=client, mode=mode, settings=settings, current=current,
                        http_client=http_client, editing=editing)
    else:
        result = propose(text, catalog, client=client, mode=mode, settings=settings, current=current,
                         http_client=http_client, editing=editing)
    result.request = result.request or text
    if result.status == "clarify" and result.pending is None and result.question:
        result.pending = Pending(request=result.request, question=result.question)
    return finish(result, catalog, current, orders, editing=editing)


def answer(text: str, pending: Pending, catalog: Catalog, *, client: str | None, mode: DraftMode,
           settings: LLMSettings, current: list[Rule], http_client: Any = None,
           editing: list[Rule] | None = None) -> DraftResult:
    """``text`` answers ``pending``'s question: the parser fits it into the earlier request when it
    can (an edit's question into the edit); otherwise the model, when configured, gets the
    request, its question and the answer."""

    def parse(t: str) -> DraftResult:
        edited = edit_result(t, catalog, client, current, editing)
        return edited if edited is not None else offline_result(t, catalog, client, current)

    if pending.retry is not None and text.strip() == pending.retry:  # sent again: a new request after all
        return propose(text, catalog, client=client, mode=mode, settings=settings, current=current,
                       http_client=http_client, editing=editing)
    if mode != "llm":
        resolved = resolve_offline(pending, text, parse)
        if resolved is not None:
            request, result = resolved
            result.request = request
            if result.status == "clarify" and request == pending.request:
                result.pending = pending  # asked again about the same request
            return result
    if mode != "offline" and settings.configured:
        result = model_result(text, catalog, client, current, settings, http_client, earlier=pending)
        result.request = f"{pending.request.strip()} {text.strip()}"
        return result
    question, still = ask_again(pending, text)
    alone = parse(text) if mode != "llm" and text.strip() else None
    if alone is not None and alone.status == "ok" and alone.rules:  # maybe a new request, not an answer
        question += f" If “{text.strip()}” is a new request, send it again and I will draft it on its own."
        still = still.model_copy(update={"retry": text.strip()})
    result = DraftResult(status="clarify", question=question, request=pending.request, pending=still,
                         source="offline")
    if mode == "auto":
        result.usage.note = NO_MODEL_NOTE
    return result


def propose(text: str, catalog: Catalog, *, client: str | None, mode: DraftMode, settings: LLMSettings,
            current: list[Rule], http_client: Any = None, editing: list[Rule] | None = None) -> DraftResult:
    """The rules (or question, or error) from the parser or the model, before checking."""
    if mode != "llm":
        edited = edit_result(text, catalog, client, current, editing)
        if edited is not None and (mode == "offline" or edited.status == "ok" or not settings.configured):
            if edited.status != "ok" and mode == "auto":
                edited.usage.note = NO_MODEL_NOTE
            return edited
        parsed = offline_result(text, catalog, client, current)
        understood = parsed.status == "ok" and bool(parsed.rules)
        if mode == "offline" or understood:
            return parsed
        if not settings.configured:
            parsed.usage.note = NO_MODEL_NOTE
            return parsed
        return model_result(text, catalog, client, current, settings, http_client, fallback=parsed)
    return model_result(text, catalog, client, current, settings, http_client)


# --- the two sources -------------------------------------------------------------------------------


def offline_result(text: str, catalog: Catalog, client: str | None, current: list[Rule]) -> DraftResult:
    from assistant.offline import parse_request

    p = parse_request(text, catalog, client=client, existing=current)
    status, error = p.status, p.error
    # Rules only with "ok": a partial parse carries the rules of the sentences it understood,
    # but proposing them without the rest would change the meaning of the request.
    rules = list(p.rules) if status == "ok" else []
    if status == "ok" and not getattr(p, "complete", True):
        status, rules = "error", []
        error = error or "the offline parser understood only part of the request"
    if status == "error" and getattr(p, "suggestions", None) and "Did you mean" not in (error or ""):
        error = f"{error or 'not understood'} (try: {'; '.join(map(str, p.suggestions))})"
    return DraftResult(status=status, rules=rules, question=p.question if status == "clarify" else None,
                       error=error if status == "error" else None, source="offline")


def edit_result(text: str, catalog: Catalog, client: str | None, current: list[Rule],
                editing: list[Rule] | None) -> DraftResult | None:
    """An offline edit of one of ``editing`` (or of an active rule the text names); None when the
    text is not such an edit."""
    from assistant.offline.edit import parse_edit

    if editing is not None:
        p = parse_edit(text, catalog, editing, client=client)
    else:
        p = parse_edit(text, catalog, current, client=client, named_only=True)
    if p is None:
        return None
    return DraftResult(status=p.status, rules=list(p.rules) if p.status == "ok" else [],
                       question=p.question, error=p.error, source="offline")


def model_result(text: str, catalog: Catalog, client: str | None, current: list[Rule],
                 settings: LLMSettings, http_client: Any = None,
                 fallback: DraftResult | None = None, earlier: Pending | None = None) -> DraftResult:
    """The model's answer. When the endpoint cannot be reached and the parser already has an
    answer (``fallback``: its question or reason), that answer comes back with a note instead
    of a bare error, so a model outage never leaves the user with less than no model at all."""
    from assistant.llm.client import ChatModel
    from assistant.llm.envelope import ClarifyReply, DraftReply
    from assistant.llm.errors import EndpointError

    try:
        md = ChatModel(settings, http_client=http_client).draft(text, catalog, client=client, current=current,
                                                                earlier=earlier)
    except EndpointError as exc:
        if fallback is None:
            return DraftResult(status="error", error=str(exc), findings=exc.findings,
                               usage=exc.usage or Usage(model=settings.model, mode=settings.mode), source="model")
        fallback.usage = exc.usage or Usage(model=settings.model, mode=settings.mode)
        fallback.usage.note = f"the model could not be reached ({exc}); this is the offline parser's answer"
        return fallback
    except LLMError as exc:
        return DraftResult(status="error", error=str(exc), findings=exc.findings,
                           usage=exc.usage or Usage(model=settings.model, mode=settings.mode), source="model")
    reply = md.reply
    if isinstance(reply, DraftReply):
        rules = [Rule.model_validate(r.model_dump(by_alias=True)) for r in reply.rules]
        return DraftResult(status="ok", rules=rules, findings=md.findings, usage=md.usage, source="model",
                           rationale=reply.rationale)
    if isinstance(reply, ClarifyReply):
        return DraftResult(status="clarify", question=reply.question, usage=md.usage, source="model")
    return DraftResult(status="error", error=f"the model declined: {reply.reason}", usage=md.usage, source="model")


# --- checking: findings, diff, impact --------------------------------------------------------------


def finish(result: DraftResult, catalog: Catalog, current: list[Rule], orders: list[Order] | None,
           editing: list[Rule] | None = None) -> DraftResult:
    if result.status != "ok" or not result.rules:
        return result
    from rules_core.explain import explain_rules
    from rules_core.validator import validate

    result.findings = merge_findings(result.findings, validate(result.rules, catalog, existing=current))
    result.english = explain_rules(result.rules)
    result.diff = rule_changes(current + list(editing or []), result.rules)
    if has_errors(result.findings):
        n = sum(f.severity == "error" for f in result.findings)
        first = next(f for f in result.findings if f.severity == "error")
        result.status = "error"
        result.error = f"the draft has {n} validation error{'s' * (n != 1)}: {first}"
        return result
    result.impact = impact(current, result.rules, orders, catalog)
    return result


def merge_findings(first: list[Finding], second: list[Finding]) -> list[Finding]:
    seen = {(f.code, f.path, f.message) for f in first}
    return first + [f for f in second if (f.code, f.path, f.message) not in seen]


def rule_changes(current: list[Rule], proposed: list[Rule]) -> list[RuleChange]:
    """Edits: proposed rules whose id is a current rule, as leaf-level changes."""
    from rules_core.store.diff import field_changes

    by_id = {r.id: rule_json(r) for r in current}
    out = []
    for rule in proposed:
        before, after = by_id.get(rule.id), rule_json(rule)
        if before is not None:
            changes = [c.model_dump(mode="json") for c in field_changes(before, after)]
            out.append(RuleChange(id=rule.id, changes=changes, before=before, after=after))
    return out


def impact(current: list[Rule], proposed: list[Rule], orders: list[Order] | None, catalog: Catalog) -> dict[str, Any]:
    """The dry-run summary on the given orders, or on the catalog's sample orders."""
    from rules_core.samples import sample_orders
    from rules_core.simulate import simulate

    pool = orders if orders is not None else sample_orders(catalog)
    return simulate(current, proposed, pool, catalog).summary()
