"""Offline edits of rules already drafted or in force: "make it 25 lb", "use UPS Ground instead".

    parse_edit(text, catalog, editing, *, client=None, named_only=False) -> ParseResult | None

``editing`` are the rules the follow-up may change. The answer is the changed rule with the
SAME id (never a new rule that looks like an edit), a question, or an error; ``None`` means
the text is not an edit request, so the ordinary parser reads it as a new rule.

What an edit can change, one aspect or several in one request:

* a threshold: "make it 25 lb", "lower it to $1,500", "change the weight to at least 25 lb",
  "change the fraud hold from $2,000 to $3,000", "make it 5-10 lb", "to more than 20 units";
* the rate shop: "make it 3 days" (max transit), "fastest instead";
* the decision: "use UPS Ground instead", "switch to FedEx Ground", "ship from Dallas instead";
* scope: "also for GLOBEX", "only for ACME", "not for INITECH", "for all clients";
* priority: "make it priority 300", "before other rules" (200), "after other rules" (50);
* state: "disable it", "turn off the weekend hold", "enable acme-heavy-far-zones";
* a hold: "change the reason to address check", "put it in the risk queue";
* a tag: "tag them as oversize instead", "change the tag to wholesale-bulk".

Which rule: a rule id in the text; else the words of the request that are not the change
("the ACME heavy threshold", "the fraud hold") must all fit one rule — its clients, id, name
and what it tests and does; else, with a pronoun ("make it 25 lb"), the only rule under edit
the change fits. When more than one rule could be meant, or the rule has several values of
the kind named (two weight thresholds, a range without saying which end), the answer is a
question naming the candidates. ``named_only`` (used for the active rule set) answers only when
the request names its rule by id, client or name words, never by a pronoun alone.

The edited rule keeps its id and everything not edited; its name follows the edit only when it
was the parser's generated summary.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable

from pydantic import ValidationError

from assistant.offline.normalize import Tok, TokenCursor, tokenize
from assistant.offline.parser import ParseResult, _summary
from assistant.offline.reader import GT, GTE, HOSTILE, LT, LTE, UNIT_NOUNS, Refusal
from assistant.offline.vocabulary import Vocabulary, phrase_key, vocabulary
from rules_core.catalog import Catalog
from rules_core.explain import explain, number_text, value_text
from rules_core.models import Rule, rule_json
from rules_core.quantities import Money, Quantity, to_base
from rules_core.registry import FIELDS

Json = dict[str, Any]

# Words that ask for a change (they make a text an edit request when it starts with one).
EDIT_VERBS = frozenset("""make change set update raise increase bump lower decrease reduce switch move edit
    modify adjust alter turn disable deactivate enable reenable reactivate activate pause resume unpause
    put tweak extend restrict limit cut drop remove""".split())
UP_VERBS = frozenset("raise increase bump".split())
DOWN_VERBS = frozenset("lower decrease reduce cut".split())
LEAD_WORDS = frozenset("please now ok okay actually and so then hmm can could would you we i let us want".split())
# Words that carry no choice of rule ("the ACME heavy threshold": threshold says nothing).
NEUTRAL = frozenset("""the a an it its them they this that these those rule rules one ones threshold thresholds
    limit limits cutoff setting condition in on of to for from at be is are should please now ok okay so
    and also too well as by with instead new old current its value amount number level make change set
    update raise increase bump lower decrease reduce switch move edit modify adjust alter put tweak cut
    orders order can could would you we i let us want just apply applies use using ship send via into
    go goes out""".split())
# Plain words for what a rule tests or does, beyond its own names.
TOPIC_WORDS: dict[str, tuple[str, ...]] = {
    "order.weight": ("weight", "heavy", "heavier", "light", "lighter", "lb", "pounds", "weighs"),
    "shipment.weight": ("weight", "heavy"), "shipment.billable_weight": ("weight", "heavy", "billable"),
    "shipment.dim_weight": ("weight", "dim", "dimensional", "bulky", "oversize", "oversized"),
    "order.value": ("value", "expensive", "valuable", "worth", "price", "dollar", "high-value"),
    "order.unit_count": ("units", "unit", "items", "bulk", "count"), "order.line_count": ("lines", "line"),
    "shipment.zone": ("zone", "zones", "far"), "order.weekday": ("weekday", "day", "days"),
    "dest.po_box": ("po", "box"), "dest.residential": ("residential", "home"), "order.hazmat": ("hazmat",),
    "hold": ("hold", "held", "review"), "use_service": ("service", "carrier", "shipping"),
    "rate_shop": ("rate", "shop", "cheapest", "fastest", "service", "carrier"),
    "ship_from": ("routing", "route", "warehouse", "ship"), "prefer_warehouses": ("routing", "route", "warehouse"),
    "exclude_warehouses": ("routing", "warehouse"), "exclude_services": ("service", "carrier"),
    "add_tag": ("tag", "tagging", "label"), "require_signature": ("signature",), "insure": ("insurance", "insure"),
    "substitute": ("substitute", "substitution", "stock"),
}
DISABLE = {("disable",), ("deactivate",), ("pause",), ("turn", "off"), ("switch", "off"), ("turn", "it", "off"),
           ("switch", "it", "off"), ("turn", "them", "off")}
ENABLE = {("enable",), ("reenable",), ("re", "enable"), ("reactivate",), ("activate",), ("resume",), ("unpause",),
          ("turn", "on"), ("switch", "on"), ("turn", "it", "on"), ("turn", "it", "back", "on"),
          ("turn", "back", "on"), ("switch", "it", "back", "on"), ("switch", "it", "on")}
ADD_CLIENT = {("also", "for"), ("also", "cover"), ("also",), ("add",), ("include",), ("extend", "it", "to"),
              ("extend", "to"), ("cover",)}
ONLY_CLIENT = {("only", "for"), ("just", "for"), ("only",), ("restrict", "it", "to"), ("limit", "it", "to"),
               ("restrict", "to"), ("limit", "to")}
DROP_CLIENT = {("not", "for"), ("remove",), ("drop",), ("except", "for"), ("except",), ("exclude",), ("but", "not")}
TOO = {("too",), ("as", "well"), ("also",)}
COMPARATORS = [("gte", GTE), ("lte", LTE), ("gt", GT), ("lt", LT)]


@dataclass
class Amount:
    """A value the request states: the JSON value, the field kind it implies, its comparator."""

    value: Any
    kind: str | None  # "weight" | "money" | "integer" | None (a bare number)
    field: str | None = None  # a count field named by its noun ("20 units")
    op: str | None = None
    bare_dollar: bool = False


@dataclass
class Request:
    """What an edit request says: the changes, and the words that pick the rule."""

    ids: list[str] = field(default_factory=list)
    changes: list[tuple[str, Any]] = field(default_factory=list)
    new: list[Amount] = field(default_factory=list)
    old: list[Amount] = field(default_factory=list)
    old_codes: list[tuple[str, str]] = field(default_factory=list)  # "instead of UPS Ground"
    fields: set[str] = field(default_factory=set)  # field names the request names ("the weight")
    direction: str | None = None  # "up" (raise) | "down" (lower)
    selector: list[Tok] = field(default_factory=list)
    verb: bool = False
    instead: bool = False


# --- reading the request -------------------------------------------------------------------------------


class EditReader(TokenCursor):
    """Reads the tokens of an edit request into a Request; Refusal when a part cannot be read."""

    def __init__(self, toks: list[Tok], vocab: Vocabulary, catalog: Catalog) -> None:
        self.toks, self.vocab, self.catalog = toks, vocab, catalog
        self.i = 0
        self.r = Request()
        self.aspect: str | None = None  # "reason" | "queue" | "tag" | "priority": what "to X" sets

    def entity(self, kind: str) -> str | None:
        t = self.peek()
        hits = [c for k, c in t.cands if k == kind] if t is not None and t.kind == "ENTITY" else []
        return hits[0] if len(hits) == 1 else None

    def clients(self) -> list[str]:
        """Client codes joined by commas, 'and', 'or'."""
        out: list[str] = []
        while (code := self.entity("client")) is not None:
            out.append(code)
            self.i += 1
            save = self.i
            self.skip(",", "and", "or")
            if self.entity("client") is None:
                self.i = save
                break
        return out

    def read(self) -> Request:
        readers: list[Callable[[], bool]] = [
            self.read_state, self.read_priority, self.read_clients, self.read_instead, self.read_from_to,
            self.read_transit, self.read_amount, self.read_objective, self.read_reason, self.read_queue,
            self.read_tag, self.read_decision, self.read_field_word, self.read_verb,
        ]
        while self.peek() is not None:
            if not any(reader() for reader in readers):
                self.r.selector.append(self.toks[self.i])
                self.i += 1
        if self.aspect is not None:
            raise Refusal("clarify", f"Change the {self.aspect} to what? Say e.g. 'change the {self.aspect} to ...'.")
        return self.r

    def read_verb(self) -> bool:
        t = self.peek()
        if t is None or not t.is_word(*EDIT_VERBS):
            return False
        self.r.verb = True
        self.r.direction = "up" if t.text in UP_VERBS else "down" if t.text in DOWN_VERBS else self.r.direction
        self.i += 1
        return True

    def read_state(self) -> bool:
        if self.take_any(DISABLE):
            self.r.changes.append(("enabled", False))
        elif self.take_any(ENABLE):
            self.r.changes.append(("enabled", True))
        elif self.at_words("off") and self.r.verb and self.peek(1) is None:
            self.i += 1
            self.r.changes.append(("enabled", False))
        elif self.take_words("back", "on") or (self.at_words("on") and self.r.verb and self.peek(1) is None and self.take_words("on")):
            self.r.changes.append(("enabled", True))
        else:
            return False
        self.r.verb = True
        return True

    def read_priority(self) -> bool:
        if self.take_words("before", "other", "rules") or self.take_words("ahead", "of", "other", "rules") \
                or self.take_words("before", "the", "other", "rules") or self.take_words("first"):
            self.r.changes.append(("priority_rel", "before"))
            return True
        if self.take_words("after", "other", "rules") or self.take_words("after", "the", "other", "rules") or self.take_words("last"):
            self.r.changes.append(("priority_rel", "after"))
            return True
        if not self.take_words("priority"):
            return False
        self.take_words("to") or self.take_words("of") or self.take_words("=") or self.take_words("at")
        t = self.peek()
        if t is not None and t.kind == "NUM" and float(t.value).is_integer():
            self.i += 1
            self.r.changes.append(("priority", int(t.value)))
        else:
            self.aspect = "priority"
        return True

    def read_clients(self) -> bool:
        save = self.i
        for kind, phrases in (("clients_add", ADD_CLIENT), ("clients_only", ONLY_CLIENT), ("clients_drop", DROP_CLIENT)):
            if self.take_any(phrases):
                self.skip("the", "client", "clients", "for")
                codes = self.clients()
                if codes:
                    self.take_words("only") or self.take_any(TOO)
                    self.r.changes.append((kind, codes))
                    return True
                self.i = save
        if self.take_words("for"):
            codes = self.clients()
            if codes and (self.take_any(TOO) or self.take_words("only")):
                self.r.changes.append(("clients_add" if self.toks[self.i - 1].text != "only" else "clients_only", codes))
                return True
            self.i = save
        if self.take_words("for", "all", "clients") or self.take_words("for", "every", "client") or self.take_words("all", "clients"):
            self.r.changes.append(("clients_all", []))
            return True
        return False

    def read_instead(self) -> bool:
        if not self.take_words("instead"):
            return False
        self.r.instead = True
        if self.take_words("of"):
            self.skip("the")
            amount = self.amount()
            if amount is not None:
                self.r.old.append(amount)
                return True
            t = self.peek()
            if t is not None and t.kind == "ENTITY":
                self.r.old_codes += t.cands
                self.i += 1
        return True

    def read_from_to(self) -> bool:
        """"from $2,000 to $3,000": the old value picks the threshold when there are several."""
        if not self.at_words("from"):
            return False
        save = self.i
        self.i += 1
        old = self.amount()
        if old is None or not self.at_words("to"):
            self.i = save
            return False
        self.r.old.append(old)
        return True

    def read_transit(self) -> bool:
        save = self.i
        self.take_words("within") or self.take_words("in") or self.take_words("max") or self.take_words("at", "most")
        days = self.take_days()
        if days is None:
            self.i = save
            return False
        self.take_words("transit") or self.take_words("in", "transit") or self.take_words("or", "less")
        self.r.changes.append(("transit", days))
        return True

    def read_amount(self) -> bool:
        save = self.i
        op = self.comparator()
        amount = self.amount()
        if amount is None:
            self.i = save
            return False
        amount.op = op or amount.op
        after = self.i
        if op is None and self.take_words("to") and (self.at_comparator() or self.amount() is not None):
            self.i = after  # "change 20 lb to 30 lb": the first is the value being replaced
            self.r.old.append(amount)
            return True
        self.i = after
        self.r.new.append(amount)
        return True

    def at_comparator(self) -> bool:
        save = self.i
        found = self.comparator() is not None
        self.i = save
        return found

    def comparator(self) -> str | None:
        if self.at_words("between"):
            return None
        for op, phrases in COMPARATORS:
            if self.take_any(phrases):
                return op
        return None

    def amount(self) -> Amount | None:
        """A value at the cursor: "25 lb", "$1,500", "20 units", "5-10 lb", "between 5 and 10 lb", "zone 6"."""
        between = self.take_words("between")
        first = self.scalar()
        if first is None:
            return None
        if self.peek() is not None and (self.peek().kind == "DASH" or (between and self.at_words("and"))):  # type: ignore[union-attr]
            save = self.i
            self.i += 1
            second = self.scalar()
            if second is None:
                self.i = save
                return first
            return range_amount(first, second)
        return first

    def scalar(self) -> Amount | None:
        t = self.peek()
        if t is None:
            return None
        if t.kind == "QTY":
            self.i += 1
            return Amount({"value": t.value[0], "unit": t.value[1]}, "weight")
        if t.kind == "MONEY":
            amount, cur = t.value
            if cur == "?":
                raise Refusal("clarify", f"'{t.orig}' names two currencies; which one?")
            self.i += 1
            return Amount({"amount": amount, "currency": self.catalog.spec.currency if cur == "$" else cur}, "money",
                          bare_dollar=cur == "$")
        zone = self.take_words("zones") or self.take_words("zone")
        t = self.peek()
        if t is None or t.kind != "NUM":
            if zone:
                self.i -= 1
            return None
        if self.at_words("days", k=1) or self.at_words("day", k=1) or self.at_words("business", k=1) or self.at_words("transit", k=1):
            return None
        self.i += 1
        n = int(t.value) if float(t.value).is_integer() else t.value
        if zone:
            return Amount(n, "integer", "shipment.zone")
        nxt = self.peek()
        if nxt is not None and nxt.kind == "WORD" and nxt.text in UNIT_NOUNS:
            self.i += 1
            return Amount(n, "integer", UNIT_NOUNS[nxt.text])
        return Amount(n, None)

    def read_objective(self) -> bool:
        self.take_words("for", "the") or self.take_words("for")
        if self.take_words("cheapest") or self.take_words("fastest"):
            self.r.changes.append(("objective", self.toks[self.i - 1].text))
            self.take_words("one") or self.take_words("option") or self.take_words("service")
            return True
        return False

    def rest_text(self) -> str:
        """The words up to 'instead' or the end: a hold reason."""
        t = self.peek()
        if t is not None and t.kind == "STRING":
            self.i += 1
            self.take_words("instead")
            return str(t.value)
        words: list[str] = []
        while (t := self.peek()) is not None and not t.is_word("instead") and t.kind != "PUNCT":
            if t.kind in ("WORD", "ENTITY") and t.text in HOSTILE:
                raise Refusal("error", f"'{t.orig}' cannot be part of a hold reason.")
            words.append(t.orig or t.text)
            self.i += 1
        self.take_words("instead")
        return " ".join(words)

    def read_reason(self) -> bool:
        if self.take_words("reason") or self.take_words("hold", "reason"):
            self.aspect = "reason"
            return True
        if self.aspect == "reason" and (self.take_words("to") or self.take_words(":") or self.take_words("as")):
            return self._set_reason()
        if self.take_words("hold", "them", "for") or self.take_words("hold", "it", "for") or self.take_words("hold", "for") \
                or self.take_words("hold", "orders", "for"):
            return self._set_reason()
        return False

    def _set_reason(self) -> bool:
        reason = self.rest_text()
        if not reason:
            raise Refusal("clarify", "Which reason? Say e.g. 'change the reason to \"address check\"'.")
        self.r.changes.append(("reason", reason))
        self.aspect = None
        return True

    def read_queue(self) -> bool:
        save = self.i
        if self.take_words("in", "the") or self.take_words("into", "the") or self.take_words("to", "the") or self.take_words("in") \
                or self.take_words("into"):
            t = self.peek()
            if t is not None and t.kind in ("WORD", "STRING") and self.at_words("queue", k=1):
                self.i += 2
                self.r.changes.append(("queue", t.value if t.kind == "STRING" else t.orig.lower()))
                return True
            self.i = save
            return False
        if self.take_words("queue"):
            if self.take_words("to") or self.take_words(":"):
                self._queue_word()
            else:
                self.aspect = "queue"
            return True
        if self.aspect == "queue" and self.take_words("to"):
            self._queue_word()
            self.aspect = None
            return True
        return False

    def _queue_word(self) -> None:
        t = self.peek()
        if t is None or t.kind not in ("WORD", "STRING"):
            raise Refusal("clarify", "Which queue? Say e.g. 'put it in the risk queue'.")
        self.i += 1
        self.take_words("queue")
        self.r.changes.append(("queue", t.value if t.kind == "STRING" else t.orig.lower()))

    def read_tag(self) -> bool:
        save = self.i
        if self.take_words("tag") or self.take_words("label") or self.take_words("mark"):
            self.skip("them", "it", "orders", "the")
            if self.take_words("as") or self.take_words("with") or self.take_words("to") or (self.toks[save].text != "tag" and False):
                self.skip("a", "the")
                return self._set_tag()
            if self.toks[save].text == "tag" and self.i == save + 1 and not self.at_words("rule"):
                self.aspect = "tag"
                return True
            self.i = save
            return False
        if self.aspect == "tag" and (self.take_words("to") or self.take_words("as")):
            self.skip("a", "the")
            return self._set_tag()
        return False

    def _set_tag(self) -> bool:
        t = self.peek()
        if t is None or t.kind not in ("WORD", "STRING", "ENTITY") or t.text in NEUTRAL or t.text in HOSTILE:
            raise Refusal("clarify", "Which tag? Say e.g. 'tag them as \"oversize\"'.")
        if t.compound is not None:
            tag = t.compound[0]
            self.i += t.compound[1]
        else:
            tag = str(t.value) if t.kind == "STRING" else (t.orig.lower() if t.orig.isalpha() else t.orig)
            self.i += 1
        self.take_words("tag")
        self.take_words("instead")
        self.r.changes.append(("tag", tag))
        self.aspect = None
        return True

    def read_decision(self) -> bool:
        """A service or warehouse in the place of the new value ("use X", "to X", "X instead")."""
        t = self.peek()
        if t is None or t.kind != "ENTITY":
            return False
        kinds = {k for k, _ in t.cands}
        prev = self.toks[self.i - 1].text if self.i else ""
        nxt = self.peek(1)
        instead = nxt is not None and nxt.is_word("instead")
        out_of = prev == "of" and self.i >= 2 and self.toks[self.i - 2].text == "out"
        slot = prev in ("use", "to", "via", "with", "by", "using", "it", "on", "from") or out_of or instead
        if not slot or not kinds & {"service", "warehouse", "carrier"}:
            return False
        if "service" in kinds:
            self.r.changes.append(("service", self.entity("service")))
        elif "warehouse" in kinds and prev != "via":
            self.r.changes.append(("warehouse", self.entity("warehouse")))
        elif "carrier" in kinds:
            name = self.vocab.display.get(("carrier", t.cands[0][1]), t.orig)
            codes = ", ".join(s.code for s in self.catalog.services.values() if s.carrier == t.cands[0][1])
            raise Refusal("clarify", f"{name} has several services ({codes}). Which one?")
        else:
            return False
        self.i += 1
        return True

    def read_field_word(self) -> bool:
        """A field named in the request ("the weight", "the dim weight") narrows which value changes."""
        for n in (2, 1):
            words = [t.text for t in self.toks[self.i:self.i + n] if t.kind == "WORD"]
            if len(words) == n and (name := FIELD_PHRASES.get(" ".join(words))) is not None:
                self.r.fields.add(name)
                self.r.selector.extend(self.toks[self.i:self.i + n])  # also says which rule
                self.i += n
                return True
        return False


FIELD_PHRASES: dict[str, str] = {
    phrase_key(name): spec.name for spec in FIELDS.values() if spec.kind in ("weight", "money", "integer")
    for name in spec.names if name not in ("day", "items", "lines", "units", "total")
}


def range_amount(lo: Amount, hi: Amount) -> Amount:
    if hi.kind is None and lo.kind == "integer":
        hi = Amount(hi.value, lo.kind, lo.field)
    if lo.kind is None and isinstance(hi.value, dict):
        key = "value" if "value" in hi.value else "amount"
        lo = Amount({**hi.value, key: lo.value}, hi.kind, hi.field)
    if lo.kind != hi.kind:
        raise Refusal("clarify", "The two ends of the range are not of the same kind; give both a unit.")
    return Amount([lo.value, hi.value], hi.kind, hi.field or lo.field, "between", lo.bare_dollar or hi.bare_dollar)


# --- which rule -----------------------------------------------------------------------------------------


def _ids_named(text: str, editing: list[Rule]) -> tuple[list[str], str]:
    """Rule ids written in the text, and the text without them."""
    named = []
    for rid in sorted({r.id for r in editing}, key=len, reverse=True):
        pattern = re.compile(rf"(?<![\w-]){re.escape(rid)}(?![\w-])", re.IGNORECASE)
        if pattern.search(text):
            named.append(rid)
            text = pattern.sub(" ", text)
    return named, text


def _stem(word: str) -> str:
    word = word.lower()
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


def rule_words(rule: Rule, vocab: Vocabulary) -> set[str]:
    """Every word a person may use for the rule: id, name, clients, what it tests and does."""
    raw = rule_json(rule)
    words = set(re.split(r"[^a-z0-9]+", f"{rule.id} {rule.name}".lower()))
    codes: set[str] = set(rule.clients)
    for node in _walk(raw.get("when")):
        words.update(TOPIC_WORDS.get(node["field"], ()))
        words.update(phrase_key(n) for n in FIELDS[node["field"]].names)
        values = node["value"] if isinstance(node["value"], list) else [node["value"]]
        codes.update(str(v) for v in values if isinstance(v, (str, int)) and not isinstance(v, bool))
    for action in raw["then"]:
        words.update(TOPIC_WORDS.get(action["action"], ()))
        for key, v in action.items():
            if key in ("reason", "tag", "queue"):
                words.update(re.split(r"[^a-z0-9]+", str(v).lower()))
            elif key != "action":
                codes.update(v if isinstance(v, list) else [str(v)])
    for code in codes:
        words.add(code.lower())
        for (kind, c), name in vocab.display.items():
            if c == code:
                words.update(phrase_key(name).split())
    return {_stem(w) for w in words if w} | {w for w in words if w}


def _walk(node: Any, path: tuple[Any, ...] = ()) -> list[Json]:
    return [n for n, _ in _slots(node, path)]


def _slots(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Json, tuple[Any, ...]]]:
    """Predicates of a condition tree with their paths under ``when``."""
    if not isinstance(node, dict):
        return []
    if "field" in node:
        return [(node, path)]
    out = []
    for key in ("all", "any"):
        for i, child in enumerate(node.get(key, [])):
            out += _slots(child, (*path, key, i))
    for key in ("not", "any_line", "all_lines"):
        if key in node:
            out += _slots(node[key], (*path, key))
    return out


def _selector_matches(tok: Tok, rule: Rule, words: set[str]) -> bool:
    if tok.kind == "ENTITY":
        clients = [c for k, c in tok.cands if k == "client"]
        if clients:
            return any(c in rule.clients for c in clients)
        return any(c.lower() in words for _, c in tok.cands) or all(_stem(w) in words for w in tok.text.split())
    return _stem(tok.text) in words or tok.text in words


def _content(selector: list[Tok]) -> list[Tok]:
    return [t for t in selector if not (t.kind == "PUNCT" or (t.kind == "WORD" and t.text in NEUTRAL))]


def _names(rules: list[Rule]) -> str:
    return ", ".join(f"{r.id}" + (f" ({r.name})" if r.name else "") for r in rules)


# --- applying a change ----------------------------------------------------------------------------------


def _number(v: Any) -> float:
    if isinstance(v, dict) and "unit" in v:
        return to_base(v["value"], v["unit"])
    if isinstance(v, dict):
        return float(v["amount"])
    return float(v)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, dict) and isinstance(b, dict) and "currency" in a:
        return a == b or (a.get("currency") == b.get("currency") and _number(a) == _number(b))
    try:
        return abs(_number(a) - _number(b)) < 1e-6
    except (TypeError, ValueError, KeyError):
        return a == b


def _shown(field_name: str, v: Any) -> str:
    if isinstance(v, list):
        return " and ".join(_shown(field_name, x) for x in v)
    if isinstance(v, dict):
        v = Quantity(**v) if "unit" in v else Money(**v)
    return value_text(field_name, v)


def _fits(spec_name: str, amount: Amount) -> bool:
    spec = FIELDS[spec_name]
    if amount.field is not None:
        return spec_name == amount.field
    if amount.kind is None:  # a bare number is a count; zones and hours are named ("zone 6")
        return spec_name in ("order.unit_count", "order.line_count", "line.qty")
    return spec.kind == amount.kind


class Editor:
    """Applies a Request's changes to one rule's JSON."""

    def __init__(self, rule: Rule, req: Request, catalog: Catalog) -> None:
        self.rule, self.req, self.catalog = rule, req, catalog
        self.raw = rule_json(rule)

    def value_slots(self) -> list[tuple[Json, tuple[Any, ...]]]:
        new = self.req.new[0]
        slots = [(n, p) for n, p in _slots(self.raw.get("when"))
                 if _fits(n["field"], new) and n["op"] in ("eq", "ne", "gt", "gte", "lt", "lte", "between")]
        if self.req.fields:
            slots = [(n, p) for n, p in slots if n["field"] in self.req.fields
                     or (n["field"].endswith("weight") and "order.weight" in self.req.fields and
                         not {f for f in self.req.fields if f != "order.weight"})]
        return slots

    def applies(self, kind: str) -> bool:
        acts = {a["action"] for a in self.raw["then"]}
        return {
            "value": lambda: bool(self.req.new) and bool(self.value_slots()),
            "transit": lambda: "rate_shop" in acts,
            "objective": lambda: "rate_shop" in acts,
            "service": lambda: bool(acts & {"use_service", "rate_shop"}),
            "warehouse": lambda: bool(acts & {"ship_from", "prefer_warehouses"}),
            "reason": lambda: "hold" in acts, "queue": lambda: "hold" in acts,
            "tag": lambda: "add_tag" in acts,
        }.get(kind, lambda: True)()

    def apply(self) -> Json:
        for kind, payload in self.req.changes:
            getattr(self, f"set_{kind}")(payload)
        if self.req.new:
            self.set_value()
        return self.raw

    def _action(self, kinds: tuple[str, ...], what: str) -> Json:
        found = [a for a in self.raw["then"] if a["action"] in kinds]
        if not found:
            doing = "; ".join(a["action"].replace("_", " ") for a in self.raw["then"])
            raise Refusal("error", f"Rule {self.rule.id} does not {what} (it does: {doing}); "
                          "a rule's actions all belong to one stage, so draft a new rule for that.")
        if len(found) > 1:
            raise Refusal("clarify", f"Rule {self.rule.id} has {len(found)} such actions; which one should change?")
        return found[0]

    def set_enabled(self, on: bool) -> None:
        if self.raw["enabled"] == on:
            raise Refusal("error", f"Rule {self.rule.id} is already {'enabled' if on else 'disabled'}.")
        self.raw["enabled"] = on

    def set_priority(self, n: int) -> None:
        self.raw["priority"] = n

    def set_priority_rel(self, where: str) -> None:
        target = 200 if where == "before" else 50
        now = self.raw["priority"]
        if (where == "before" and now >= target) or (where == "after" and now <= target):
            raise Refusal("clarify", f"Rule {self.rule.id} already has priority {now}; which priority should it "
                          f"have? Say e.g. 'make it priority {now + 100 if where == 'before' else max(now - 10, 0)}'.")
        self.raw["priority"] = target

    def set_clients_add(self, codes: list[str]) -> None:
        if not self.raw["clients"]:
            raise Refusal("clarify", f"Rule {self.rule.id} already applies to every client. Should it apply only to "
                          f"{', '.join(codes)}? Say 'only for {', '.join(codes)}'.")
        have = [c for c in codes if c in self.raw["clients"]]
        if have == codes:
            raise Refusal("error", f"Rule {self.rule.id} already applies to {', '.join(codes)}.")
        self.raw["clients"] = self.raw["clients"] + [c for c in codes if c not in self.raw["clients"]]

    def set_clients_only(self, codes: list[str]) -> None:
        self.raw["clients"] = list(codes)

    def set_clients_drop(self, codes: list[str]) -> None:
        missing = [c for c in codes if c not in self.raw["clients"]]
        if not self.raw["clients"]:
            raise Refusal("clarify", f"Rule {self.rule.id} applies to every client; name the clients it should "
                          "apply to instead ('only for ACME, INITECH').")
        if missing:
            raise Refusal("error", f"Rule {self.rule.id} is not for {', '.join(missing)} "
                          f"(it is for {', '.join(self.raw['clients'])}).")
        left = [c for c in self.raw["clients"] if c not in codes]
        if not left:
            raise Refusal("clarify", f"Without {', '.join(codes)} rule {self.rule.id} would apply to every client. "
                          "Disable it instead ('disable it'), or name the clients it is for.")
        self.raw["clients"] = left

    def set_clients_all(self, _: Any) -> None:
        self.raw["clients"] = []

    def set_transit(self, days: int) -> None:
        self._action(("rate_shop",), "rate shop")["max_transit_days"] = days

    def set_objective(self, objective: str) -> None:
        self._action(("rate_shop",), "rate shop")["objective"] = objective

    def set_reason(self, reason: str) -> None:
        self._action(("hold",), "hold orders")["reason"] = reason

    def set_queue(self, queue: str) -> None:
        self._action(("hold",), "hold orders")["queue"] = queue

    def set_tag(self, tag: str) -> None:
        self._action(("add_tag",), "add a tag")["tag"] = tag

    def set_service(self, code: str) -> None:
        self._set_choice(("use_service", "rate_shop"), "choose a service", "service", code,
                         lambda a: f"Rule {self.rule.id} rate shops; use {code} instead of the rate shop? "
                                   f"Say 'use {code} instead'.")

    def set_warehouse(self, code: str) -> None:
        self._set_choice(("ship_from", "prefer_warehouses"), "choose a warehouse", "warehouse", code,
                         lambda a: f"Rule {self.rule.id} prefers {', then '.join(a['warehouses'])}; ship "
                                   f"from {code} only? Say 'ship from {code} instead'.")

    def _set_choice(self, kinds: tuple[str, str], doing: str, key: str, code: str,
                    question: Callable[[Json], str]) -> None:
        """The rule's decisive ``kinds[0]`` action now picks ``code``; replacing its list form
        (``kinds[1]``: a rate shop, a warehouse preference) needs the word "instead"."""
        action = self._action(kinds, doing)
        self._check_old(action.get(key), key)
        if action["action"] == kinds[1] and not self.req.instead:
            raise Refusal("clarify", question(action))
        action.clear()
        action.update({"action": kinds[0], key: code})

    def _check_old(self, current: str | None, what: str) -> None:
        olds = [c for _, c in self.req.old_codes]
        if olds and current not in olds:
            raise Refusal("error", f"Rule {self.rule.id} does not use the {what} {olds[0]} "
                          f"(it uses {current or 'none'}).")

    def set_value(self) -> None:
        if len(self.req.new) > 1:
            raise Refusal("clarify", "Several new values; change one value at a time, or give a range "
                          "like '5-10 lb'.")
        new = self.req.new[0]
        slots = self.value_slots()
        if not slots and new.kind is None:
            raise Refusal("clarify", f"'{_shown('order.unit_count', new.value)}' has no unit: is it a weight (lb, kg), "
                          "an amount ($, USD, CAD), or a number of units?")
        if not slots:
            raise Refusal("clarify", f"Rule {self.rule.id} has no {self._kind_name(new)} condition to change. "
                          "Do you want to add one? Say the whole condition, e.g. 'only when over 25 lb'.")
        if self.req.old:
            slots = [(n, p) for n, p in slots if self._holds_old(n)]
            if not slots:
                raise Refusal("error", f"Rule {self.rule.id} has no condition with {self._old_text()}.")
        if len(slots) > 1:
            shown = "; ".join(f"the {FIELDS[n['field']].english} {n['op']} {_shown(n['field'], n['value'])}"
                              for n, _ in slots)
            raise Refusal("clarify", f"Rule {self.rule.id} has {len(slots)} {self._kind_name(new)} conditions "
                          f"({shown}). Which one? Say e.g. 'change {_shown(slots[0][0]['field'], slots[0][0]['value'])}"
                          f" to ...'.")
        node = slots[0][0]
        self._set_node(node, new)

    def _kind_name(self, a: Amount) -> str:
        if a.field is not None:
            return FIELDS[a.field].english
        return {"weight": "weight", "money": "value", "integer": "count", None: "number"}[a.kind]

    def _holds_old(self, node: Json) -> bool:
        old = self.req.old[0]
        values = node["value"] if node["op"] == "between" else [node["value"]]
        return any(_same(v, old.value) for v in values) if not isinstance(old.value, list) else \
            node["op"] == "between" and all(_same(a, b) for a, b in zip(node["value"], old.value))

    def _old_text(self) -> str:
        old = self.req.old[0]
        return _shown("order.weight" if old.kind == "weight" else "order.value" if old.kind == "money"
                      else "order.unit_count", old.value)

    def _set_node(self, node: Json, new: Amount) -> None:
        name = node["field"]
        if new.bare_dollar:
            currencies = {v["currency"] for v in (node["value"] if isinstance(node["value"], list) else [node["value"]])}
            if currencies != {self.catalog.spec.currency}:
                raise Refusal("clarify", f"The rule compares in {', '.join(sorted(currencies))}; is '$' "
                              f"{self.catalog.spec.currency}? Write the currency, e.g. '1500 {sorted(currencies)[0]}'.")
        if name in ("order.unit_count", "order.line_count", "shipment.zone", "order.hour", "line.qty"):
            for v in new.value if isinstance(new.value, list) else [new.value]:
                if not float(v).is_integer():
                    raise Refusal("clarify", f"'{number_text(v)}' must be a whole number.")
        if new.op == "between":
            node["op"], node["value"] = "between", new.value
            return
        if node["op"] == "between":
            self._set_end(node, new)
            return
        self._check_direction(node["value"], new.value, name)
        node["value"] = new.value
        if new.op is not None:
            node["op"] = new.op

    def _set_end(self, node: Json, new: Amount) -> None:
        lo, hi = node["value"]
        if not self.req.old:
            raise Refusal("clarify", f"Rule {self.rule.id} tests the {FIELDS[node['field']].english} between "
                          f"{_shown(node['field'], lo)} and {_shown(node['field'], hi)}: which end should be "
                          f"{_shown(node['field'], new.value)}? Say 'change {_shown(node['field'], lo)} to "
                          f"{_shown(node['field'], new.value)}', or give the range.")
        end = 0 if _same(lo, self.req.old[0].value) else 1
        node["value"][end] = new.value

    def _check_direction(self, old: Any, new: Any, name: str) -> None:
        d = self.req.direction
        if d is None:
            return
        try:
            up = _number(new) > _number(old)
        except (TypeError, ValueError, KeyError):
            return
        if (d == "up") != up or _same(old, new):
            word = "raise" if d == "up" else "lower"
            raise Refusal("clarify", f"The {FIELDS[name].english} in rule {self.rule.id} is {_shown(name, old)}; "
                          f"'{word}' to {_shown(name, new)} would not {word} it. Say 'change it to "
                          f"{_shown(name, new)}' if that is meant.")


# --- the entry point ------------------------------------------------------------------------------------


def _is_edit(req: Request, toks: list[Tok]) -> bool:
    first = next((t for t in toks if not (t.kind == "PUNCT" or t.is_word(*LEAD_WORDS))), None)
    starts = first is not None and first.is_word(*EDIT_VERBS, "use", "ship", "tag", "hold", "also", "only", "not",
                                                   "for", "before", "after", "priority", "just", "add", "include",
                                                   "remove", "drop", "cover", "fastest", "cheapest", "within")
    changed = bool(req.changes or req.new)
    scoped = any(k.startswith("clients") or k == "enabled" for k, _ in req.changes)
    return changed and (bool(req.ids) or req.instead or
                        ((starts or scoped) and (req.verb or not _looks_like_rule(toks))))


def _looks_like_rule(toks: list[Tok]) -> bool:
    """A text that reads as a whole new rule rather than a follow-up ("Tag ACME orders over 10 units as bulk")."""
    return any(t.is_word("orders", "order", "anything", "everything", "shipments", "when", "if", "unless")
               for t in toks)


def _pick(req: Request, editing: list[Rule], vocab: Vocabulary, catalog: Catalog, named_only: bool) -> Rule | None:
    """The one rule the request means; Refusal when several could be meant; None (named_only) when
    the request does not name one."""
    if len(req.ids) > 1:
        raise Refusal("clarify", f"The request names {len(req.ids)} rules ({', '.join(req.ids)}); "
                      "edit one rule at a time.")
    if req.ids:
        return next(r for r in editing if r.id == req.ids[0])
    content = _content(req.selector)
    if named_only and not content:
        return None
    candidates = editing
    for tok in content:
        words = {r.id: rule_words(r, vocab) for r in candidates}
        kept = [r for r in candidates if _selector_matches(tok, r, words[r.id])]
        if not kept:
            if named_only:
                return None
            shown = tok.orig or tok.text
            raise Refusal("clarify", f"None of the rules being edited ({_names(candidates)}) fits '{shown}'. "
                          "Which rule do you mean? Name it by its id.")
        candidates = kept
    if named_only and not any(t.kind == "ENTITY" or _name_word(t, candidates) for t in content):
        return None
    kinds = [k for k, _ in req.changes] + (["value"] if req.new else [])
    # A typed change ("25 lb", "UPS Ground") fits only some rules; a bare number fits too much to choose by.
    typed = not (req.new and req.new[0].kind is None)
    if len(candidates) > 1 and typed:
        fitting = [r for r in candidates if all(Editor(r, req, catalog).applies(k) for k in kinds)]
        candidates = fitting or candidates
    if len(candidates) > 1:
        raise Refusal("clarify", f"Which rule should change: {_names(candidates)}? Name it by its id "
                      f"(e.g. 'in rule {candidates[0].id}, ...').")
    return candidates[0]


def _name_word(tok: Tok, rules: list[Rule]) -> bool:
    """The word is part of a rule's id or name (so the rule is named, not merely described)."""
    return any(_stem(tok.text) in {_stem(w) for w in re.split(r"[^a-z0-9]+", f"{r.id} {r.name}".lower()) if w}
               for r in rules)


def _rename(old: Rule, new: Rule) -> Rule:
    if old.name and old.name == _summary(old):
        return new.model_copy(update={"name": _summary(new)})
    return new


def _check_client(raw: Json, before: Rule, client: str | None) -> None:
    if client is None:
        return
    added = [c for c in raw["clients"] if c not in before.clients and c != client]
    if added or (not raw["clients"] and before.clients):
        named = ", ".join(added) or "every client"
        raise Refusal("error", f"The request names {named} but the draft is for {client}.")


def parse_edit(text: str, catalog: Catalog, editing: list[Rule], *, client: str | None = None,
               named_only: bool = False) -> ParseResult | None:
    """The edited rule (same id), a question or an error; None when ``text`` is not an edit request
    of one of ``editing`` (with ``named_only``: not one that names its rule)."""
    if not editing or not text.strip() or text.lstrip().startswith("Rule "):
        return None
    ids, rest = _ids_named(text, editing)
    vocab = vocabulary(catalog)
    toks = tokenize(rest, vocab)
    try:
        req = EditReader(toks, vocab, catalog).read()
    except Refusal as r:
        return _refused(r) if (ids or _asks_for_edit(toks)) else None
    req.ids = ids
    if not _is_edit(req, toks):
        return None
    try:
        rule = _pick(req, editing, vocab, catalog, named_only)
        if rule is None:
            return None
        raw = Editor(rule, req, catalog).apply()
        _check_client(raw, rule, client)
        edited = _rename(rule, Rule.model_validate(raw))
    except Refusal as r:
        return _refused(r)
    except ValidationError as exc:
        return ParseResult(status="error", error=f"could not edit the rule: {str(exc).splitlines()[0]}")
    if rule_json(edited) == rule_json(rule):
        return ParseResult(status="error", error=f"Rule {rule.id} already says that; nothing changed.")
    return ParseResult(status="ok", rules=[edited], english=explain(edited), complete=True)


def _asks_for_edit(toks: list[Tok]) -> bool:
    first = next((t for t in toks if not (t.kind == "PUNCT" or t.is_word(*LEAD_WORDS))), None)
    return (first is not None and first.is_word(*EDIT_VERBS)) or any(t.is_word("instead") for t in toks)


def _refused(r: Refusal) -> ParseResult:
    return ParseResult(status=r.status, question=r.message if r.status == "clarify" else None,
                       error=r.message if r.status == "error" else None, suggestions=r.suggestions)


