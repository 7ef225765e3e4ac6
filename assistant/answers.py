"""Answers to the assistant's questions.

When a request cannot be drafted without guessing, the assistant asks ("'20' has no unit: is
it a weight, an amount or a number of units?"). The person's next message is then usually an
answer ("lb"), not a new request. ``resolve_offline`` fits the answer into the earlier
request and drafts the result with the offline parser:

- the earlier request with the answer put where the question points: a word the question
  quotes that the request contains ('20' -> '20 lb', 'CA' -> 'California', '12/1' -> 'Dec 1'),
  or at the end of the request;
- the answer alone, when it restates the request (most of the request's words are in it), or
  when the question asked for a rephrasing (then only alone: the request could not be read),
  or when the person was asked again and invited to restate it. A short answer that happens to
  be a rule by itself ("ship from TOR") is not taken alone: it would drop what the earlier
  request said (its client, its conditions).

It never picks between readings: when the answer fits in several ways that mean different
rules, it asks again; when it fits nowhere, it asks again and says so. The model, when one is
configured, gets the earlier request, its question and the answer together as data.
"""

from __future__ import annotations

import re
from typing import Any, Callable

from pydantic import BaseModel

from assistant.offline.reader import NOT_UNDERSTOOD
from rules_core.models import Rule, rule_json

QUOTED = re.compile(r"'([^']{1,60})'")
CURRENCY_SIGNS = ("$", "US$", "C$", "CA$")


class Pending(BaseModel):
    """A question the assistant asked about a request, waiting for its answer."""

    request: str
    question: str
    asked_again: bool = False  # the answer did not fit once: a restatement is welcome


RESTATES = 0.6  # share of the request's words an answer repeats when it restates the request


def _words(text: str) -> set[str]:
    return set(re.findall(r"[\w$.,/-]+", text.lower()))


def restates(pending: Pending, answer: str) -> bool:
    words = _words(pending.request)
    return bool(words) and len(words & _words(answer)) / len(words) >= RESTATES


def quoted_spans(question: str, request: str) -> list[str]:
    """Words the question quotes that occur in the request (what it asks about), longest first."""
    spans = {q.strip() for q in QUOTED.findall(question)}
    return sorted((s for s in spans if s and _occurrences(s, request)), key=len, reverse=True)


def _occurrences(span: str, text: str) -> list[tuple[int, int]]:
    pattern = r"(?<![\w$])" + re.escape(span) + r"(?!\w)"
    return [(m.start(), m.end()) for m in re.finditer(pattern, text, flags=re.IGNORECASE)]


def candidates(pending: Pending, answer: str) -> list[str]:
    """The earlier request with the answer fitted in, each way it may fit (no duplicates)."""
    req = pending.request.strip()
    ans = answer.strip().rstrip(".!?").strip()
    if not ans:
        return []
    out: list[str] = []
    for span in quoted_spans(pending.question, req):
        for start, end in _occurrences(span, req):
            before, word, after = req[:start], req[start:end], req[end:]
            out.append(before + ans + after)  # a choice or a rewrite: 'CA' -> 'California'
            out.append(f"{before}{word} {ans}{after}")  # a unit: '20' -> '20 lb'
            if ans in CURRENCY_SIGNS:
                out.append(f"{before}{ans}{word}{after}")  # '20' -> '$20'
    body = req.rstrip(" .;")
    out.append(f"{body} {ans}")
    return list(dict.fromkeys(c for c in out if c != req))


def behaviour_key(rules: list[Rule]) -> str:
    """Rules compared by what they do: ids and names are generated from the text."""
    import json

    keyed = []
    for r in rules:
        data = rule_json(r)
        data.pop("id", None)
        data.pop("name", None)
        keyed.append(json.dumps(data, sort_keys=True))
    return "\n".join(sorted(keyed))


def resolve_offline(pending: Pending, answer: str, parse: Callable[[str], Any]) -> tuple[str, Any] | None:
    """The request the answer completes and its parse, or None when the answer does not fit.

    ``parse(text)`` returns a result with ``status`` ("ok", "clarify", "error"), ``rules`` and
    ``question`` (the draft pipeline's offline result). The returned parse is "ok" (one
    reading), or "clarify" with a new question when the answer settled the first question and
    the request still has another one, or "clarify" asking again when the answer fits in
    several ways that mean different rules.
    """
    rephrase = pending.question.startswith(NOT_UNDERSTOOD)  # "could you rephrase it": a new wording
    if rephrase or pending.asked_again or restates(pending, answer):
        alone = parse(answer)
        if alone.status == "ok" and alone.rules:
            return answer, alone
        if rephrase:
            return None  # the request could not be read; pieces of it are no base to fit into
    understood: dict[str, tuple[str, Any]] = {}
    further: dict[str, tuple[str, Any]] = {}
    # A further question counts only when it is about something else than the first one (the
    # first may have come from the model, worded differently from the parser's own).
    asked = {pending.question, parse(pending.request).question}
    for text in candidates(pending, answer):
        result = parse(text)
        if result.status == "ok" and result.rules:
            understood.setdefault(behaviour_key(result.rules), (text, result))
        elif (result.status == "clarify" and result.question and result.question not in asked
              and not result.question.startswith(NOT_UNDERSTOOD)):  # that one: the fit broke the sentence
            further.setdefault(result.question, (text, result))
    if len(understood) == 1:
        return next(iter(understood.values()))
    if len(understood) > 1:
        readings = [text for text, _ in understood.values()]
        first = understood[next(iter(understood))][1]
        first.status, first.rules = "clarify", []
        first.question = ("The answer fits the request in more than one way: "
                          + " / ".join(f"“{t}”" for t in readings) + ". Which one do you mean? "
                          "Please restate the whole request.")
        return pending.request, first
    if len(further) == 1:  # the answer settled the question; the request has another one
        return next(iter(further.values()))
    return None


def ask_again(pending: Pending, answer: str) -> tuple[str, Pending]:
    """The question again, saying the answer did not fit, and the pending question it leaves."""
    question = (f"I could not fit “{answer.strip()}” into the request “{pending.request.strip()}”. "
                f"{pending.question} You can also restate the whole request.")
    return question, pending.model_copy(update={"asked_again": True})
