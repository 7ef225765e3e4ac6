"""Answers to the assistant's questions.

When a request cannot be drafted without guessing, the assistant asks ("'20' has no unit: is
it a weight, an amount or a number of units?"). The person's next message is then usually an
answer ("lb"), not a new request. ``resolve_offline`` fits the answer into the earlier
request and drafts the result with the offline parser:

- the earlier request with the answer put where the question points: a word the question
  quotes that the request contains ('20' -> '20 lb', 'CA' -> 'California', '12/1' -> 'Dec 1',
  '1500' also where the request wrote '1,500'), or at the end of the request;
- the answer alone, when it restates the request: it keeps every word of the request that the
  question is not about (its client, its conditions, its action), or when the question asked
  for a rephrasing (then only alone: the request could not be read). A short answer that is a
  rule by itself ("ship from TOR", "hold for review") is never taken alone: it would drop what
  the earlier request said.

An answer is read as typed people answer: quotes, "it's", "please" and "thanks" around it do
not count, and a one-word answer is also tried in lower case ("LB"). An answer that brings an
action the request and the question do not mention ("lb, and ship from LAX") is not fitted:
it is not an answer to the question.

It never picks between readings: when the answer fits in several ways that mean different
rules, it asks again; when it fits nowhere, it asks again and says so (an empty answer too).
The model, when one is configured, gets the earlier request, its question and the answer
together as data.
"""

from __future__ import annotations

import json
import re
from typing import Any, Callable

from pydantic import BaseModel

from assistant.offline.reader import NOT_UNDERSTOOD
from rules_core.models import Rule, rule_json

QUOTED = re.compile(r"'([^']{1,60})'")
CURRENCY_SIGNS = ("$", "US$", "C$", "CA$")
WORD = re.compile(r"[\w$]+(?:[.,/-][\w$]+)*")
# Words that carry no content of their own: a restatement may leave them out or change them.
STOP = frozenset("""a an the of to for and or with on in at by from is are be it its it's this that these
those all any every orders order please thanks thank you i we should must can will would just also
then than if when which who""".split())
# Words that start an action: an answer that brings one the request and question lack adds a rule.
ACTIONS = frozenset("""hold ship send use tag flag mark label insure insurance require signature substitute
swap replace route fulfil fulfill exclude never prefer avoid rate shop compare cheapest fastest cheaper faster
quickest quicker disable enable""".split())
CLAUSE_JOINERS = re.compile(r",\s*and\b|;|\band then\b|\.\s+\w", re.IGNORECASE)
MAX_SPAN_FITS = 8  # occurrences of a quoted word tried one by one (all at once is tried too)
MAX_REQUEST_CHARS = 2000
LEADING = re.compile(r"^(?:it'?s|it is|they are|i mean|make it|sorry,?|yes,?|no,?)\s+", re.IGNORECASE)
TRAILING = re.compile(r"[\s,]+(?:please|thanks|thank you|thx)$", re.IGNORECASE)
PHRASES = {"a number of units": "units", "number of units": "units", "a count": "units"}
# Not answers: a fit of these would take "hmm" as a tag or a name.
NON_ANSWERS = frozenset("hmm hm um uh er ok okay yes no yeah nope idk dunno sure maybe what huh ? ok?".split())


class Pending(BaseModel):
    """A question the assistant asked about a request, waiting for its answer."""

    request: str
    question: str
    asked_again: bool = False  # an answer did not fit once
    retry: str | None = None  # an answer that is a request by itself: sent again, it is drafted as one


def words(text: str) -> set[str]:
    return {w.lower() for w in WORD.findall(text)}


def content(text: str) -> set[str]:
    return words(text) - STOP


def clean_answer(answer: str) -> str:
    """The answer without what people put around one: quotes, "it's", "please", end punctuation."""
    ans = answer.strip()
    for _ in range(3):
        before = ans
        ans = ans.strip().rstrip(".!?").strip().strip("\"'“”‘’`").strip()
        ans = LEADING.sub("", ans)
        ans = TRAILING.sub("", ans)
        if ans == before:
            break
    return PHRASES.get(ans.lower(), ans)


def restates(pending: Pending, answer: str) -> bool:
    """The answer keeps every content word of the request the question is not about."""
    kept = content(pending.request) - words(pending.question)
    return bool(kept) and kept <= words(answer)


def adds_action(pending: Pending, answer: str) -> bool:
    """The answer brings an action (or a clause) of its own: "lb, and mark them fragile"."""
    if CLAUSE_JOINERS.search(answer.strip().rstrip(".!?")):
        return True
    return bool((words(answer) & ACTIONS) - words(pending.request) - words(pending.question))


def may_replace(pending: Pending, span: str, answer: str) -> bool:
    """Whether the answer may take the place of the quoted word, rather than only complete it.

    It may when it still contains the word ("20 lb" for '20'), is one of the options the
    question names ("California", "UPS_GROUND"), is a value for a number, date or vague word
    the question is about ("$5,000" for '$5.000', "over 30 lb" for 'heavy'), or is made of
    the words of a suggestion the question makes that does not itself contain the word
    ("hold for review" for "'Flag' how ... say 'hold ... for review'"). Otherwise "cheapest"
    for 'UPS' or "Texas" for 'CA' would silently change what the request said.
    """
    ans, q = answer.strip(), pending.question
    if words(span) <= words(ans):
        return True
    options = {name.strip().lower() for name, _ in OPTION.findall(q)}
    options |= {c.strip().lower() for group in re.findall(r"\(([A-Z0-9_, ]+)\)", q) for c in group.split(",")}
    if ans.lower() in options:
        return True
    if any(ch.isdigit() for ch in ans) and (any(ch.isdigit() for ch in span) or "is vague" in q):
        return True
    for suggestion in QUOTED.findall(q):  # the answer's words: the suggestion's, or the request's own
        if suggestion.strip() and words(span).isdisjoint(words(suggestion)) \
                and content(ans) - words(pending.request) and content(ans) <= words(suggestion) | words(pending.request):
            return True
    return False


def quoted_spans(question: str, request: str) -> list[str]:
    """Words the question quotes that occur in the request (what it asks about), longest first."""
    spans = {q.strip() for q in QUOTED.findall(question)}
    return sorted((s for s in spans if s and _occurrences(s, request)), key=len, reverse=True)


def _span_pattern(span: str) -> str:
    if span.isdigit() and len(span) > 3:  # the question says '1500' where the request wrote '1,500'
        head, groups = span[: len(span) % 3 or 3], re.findall(r"\d{3}", span[len(span) % 3 or 3:])
        return re.escape(head) + "".join(f",?{g}" for g in groups)
    return re.escape(span)


def _occurrences(span: str, text: str) -> list[tuple[int, int]]:
    pattern = r"(?<![\w$])" + _span_pattern(span) + r"(?![\w,]\d|\w)"
    return [(m.start(), m.end()) for m in re.finditer(pattern, text, flags=re.IGNORECASE)]


# A choice the question offers as "Canada (country CA) or California (region CA)": answered
# "the country", "the state", "the province".
OPTION = re.compile(r"((?:[A-Z][\w.-]*)(?: [A-Z][\w.-]*)*) \((country|region) [A-Z0-9]{1,3}\)")
KIND_WORDS = {"country": "country", "nation": "country", "state": "region", "province": "region",
              "region": "region", "territory": "region"}


def chosen_option(question: str, answer: str) -> str | None:
    """The option an answer like "the state" picks among the question's named options."""
    kinds = {KIND_WORDS[w] for w in words(answer) if w in KIND_WORDS}
    if len(kinds) != 1 or len(words(answer) - STOP - set(KIND_WORDS)) > 0:
        return None
    picked = [name.strip() for name, kind in OPTION.findall(question) if kind in kinds]
    return picked[0] if len(picked) == 1 else None


def candidates(pending: Pending, answer: str) -> list[str]:
    """The earlier request with the answer fitted in, each way it may fit (no duplicates)."""
    req = pending.request.strip()
    ans = clean_answer(answer)
    if not ans:
        return []
    ans = chosen_option(pending.question, ans) or ans
    variants = [ans] + ([ans.lower()] if " " not in ans and ans.lower() != ans else [])
    out: list[str] = []
    spans = quoted_spans(pending.question, req) if len(req) <= MAX_REQUEST_CHARS else []
    for a in variants:
        for span in spans:
            places = _occurrences(span, req)
            if len(places) > 1:  # the same word twice ("over 20 ... over 20"): all of them at once
                out += _fill_all(req, places, a, may_replace(pending, span, a))
            for start, end in places[:MAX_SPAN_FITS]:
                before, word, after = req[:start], req[start:end], req[end:]
                if may_replace(pending, span, a):
                    out.append(before + a + after)  # a choice or a rewrite: 'CA' -> 'California'
                out.append(f"{before}{word} {a}{after}")  # a unit: '20' -> '20 lb'
                if a in CURRENCY_SIGNS:
                    out.append(f"{before}{a}{word}{after}")  # '20' -> '$20'
        out.append(f"{req.rstrip(' .;')} {a}")
        if "tag" in words(pending.question) and '"' not in a and len(a.split()) <= 3:
            out.append(f'{req.rstrip(" .;")} as "{a}"')  # "Which tag?" -- "bulk"
    return list(dict.fromkeys(c for c in out if c != req))


def _fill_all(req: str, places: list[tuple[int, int]], answer: str, replace: bool) -> list[str]:
    """The request with every occurrence of the quoted word completed (and replaced, if allowed)."""
    ways = [lambda w: f"{w} {answer}"] + ([lambda w: answer] if replace else [])
    if answer in CURRENCY_SIGNS:
        ways.append(lambda w: f"{answer}{w}")
    out = []
    for way in ways:
        text, last = [], 0
        for start, end in places:
            text += [req[last:start], way(req[start:end])]
            last = end
        out.append("".join(text) + req[last:])
    return out


def behaviour_key(rules: list[Rule]) -> str:
    """Rules compared by what they do: ids and names are generated from the text."""
    keyed = []
    for r in rules:
        data = rule_json(r)
        data.pop("id", None)
        data.pop("name", None)
        keyed.append(json.dumps(data, sort_keys=True))
    return "\n".join(sorted(keyed))


def _further_ok(pending: Pending, answer: str, question: str) -> bool:
    """A new question after fitting the answer counts only when it is about something the first
    question and the answer are not: else the fit broke the request rather than completed it."""
    if question.startswith(NOT_UNDERSTOOD):
        return False
    about = {q.strip().lower() for q in QUOTED.findall(question)}
    before = {q.strip().lower() for q in QUOTED.findall(pending.question)}
    return not (about & before) and not any(w in words(answer) for q in about for w in words(q))


def resolve_offline(pending: Pending, answer: str, parse: Callable[[str], Any]) -> tuple[str, Any] | None:
    """The request the answer completes and its parse, or None when the answer does not fit.

    ``parse(text)`` returns a result with ``status`` ("ok", "clarify", "error"), ``rules`` and
    ``question`` (the draft pipeline's offline result). The returned parse is "ok" (one
    reading), or "clarify" with a new question when the answer settled the first question and
    the request still has another one, or "clarify" asking again when the answer fits in
    several ways that mean different rules.
    """
    rephrase = pending.question.startswith(NOT_UNDERSTOOD)  # "could you rephrase it": a new wording
    cleaned = clean_answer(answer)
    if rephrase or restates(pending, answer):
        alone = parse(cleaned)
        if alone.status == "ok" and alone.rules:
            return cleaned, alone
    if rephrase or adds_action(pending, answer) or cleaned.lower() in NON_ANSWERS:
        return None  # a request that could not be read, or an answer that is not one
    understood: dict[str, tuple[str, Any]] = {}
    further: dict[str, tuple[str, Any]] = {}
    # The first question may have come from the model, worded differently from the parser's own.
    asked = {pending.question, parse(pending.request).question}
    for text in candidates(pending, answer):
        result = parse(text)
        if result.status == "ok" and result.rules:
            understood.setdefault(behaviour_key(result.rules), (text, result))
        elif (result.status == "clarify" and result.question and result.question not in asked
              and _further_ok(pending, answer, result.question)):
            further.setdefault(result.question, (text, result))
    if len(understood) == 1:
        return next(iter(understood.values()))
    if len(understood) > 1:
        readings = [" and ".join(r.name or r.id for r in result.rules) for _, result in understood.values()]
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
    said = f"“{answer.strip()}”" if answer.strip() else "an empty answer"
    question = (f"I could not fit {said} into the request “{pending.request.strip()}”. "
                f"{pending.question} You can also restate the whole request.")
    return question, pending.model_copy(update={"asked_again": True})
