"""Reading one ops sentence ("Hold orders over $2,000 for fraud review") into a Clause.

A recursive-descent reader over the tokens of ``normalize``: at each position it tries the
phrase readers (exceptions, actions, scope, priority, dates, conditions, filler words) and
stops with a ``Refusal`` at the first token none of them accounts for. Nothing is skipped
silently: a word the reader does not know makes the whole sentence a question, never a guess.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Callable, Literal, cast

from assistant.offline.normalize import Tok, TokenCursor, month_day
from assistant.offline.vocabulary import Vocabulary, phrase_key
from rules_core.catalog import Catalog
from rules_core.registry import WEEKDAYS

Node = dict[str, Any]


NOT_UNDERSTOOD = "I do not understand"  # how the question about an unreadable word starts


class Refusal(Exception):
    """The sentence cannot be turned into rules without guessing."""

    def __init__(self, status: Literal["clarify", "error"], message: str,
                 suggestions: list[str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.suggestions = suggestions or []


@dataclass
class Clause:
    """What one sentence says: scope, conditions (all of them hold), actions, window, priority."""

    clients: list[str] = field(default_factory=list)
    conds: list[Node] = field(default_factory=list)
    actions: list[Node] = field(default_factory=list)
    priority: int | None = None
    eff_from: date | None = None
    eff_until: date | None = None
    refers_back: bool = False
    bare_from: str | None = None  # "from W" without a verb: origin condition or elided ship_from
    sub_source: str | None = None  # "if X is out of stock"
    pending_tag: bool = False
    route_verb: bool = False  # "ship"/"fulfil"/"route" waiting for its warehouse
    neg_pending: bool = False  # "never ship ..." waiting for a warehouse, service or carrier
    words: list[str] = field(default_factory=list)  # key words for ids


# --- word lists ----------------------------------------------------------------------------------

FILLERS = frozenset("""
    please the a an orders order shipments shipment packages package parcels parcel anything
    everything all any every that which who whose is are be being been should must always will
    need needs to it they them their its these those ones one we our any customer customers
    goes go going should also then if when where whenever of and get gets sent placed
    items item ship ships shipped
""".split())
# Words with a meaning the reader does not express, with the question to ask.
VAGUE = {
    "heavy": "What weight counts as heavy? Say e.g. 'over 20 lb'.",
    "heavier": "Heavier than what? Say e.g. 'heavier than 20 lb'.",
    "light": "What weight counts as light? Say e.g. 'under 2 lb'.",
    "lightweight": "What weight counts as light? Say e.g. 'under 2 lb'.",
    "big": "What makes an order big: a weight ('over 20 lb'), a value ('over $500') or a unit count ('more than 10 units')?",
    "large": "What makes an order large: a weight ('over 20 lb'), a value ('over $500') or a unit count ('more than 10 units')?",
    "small": "What makes an order small: a weight ('under 2 lb'), a value ('under $50') or a unit count?",
    "bulky": "What counts as bulky? Say e.g. 'dimensional weight over 30 lb'.",
    "oversized": "What counts as oversized? Say e.g. 'dimensional weight over 30 lb'.",
    "expensive": "What value counts as expensive? Say e.g. 'over $500'.",
    "valuable": "What value counts as valuable? Say e.g. 'over $500'.",
    "pricey": "What value counts as pricey? Say e.g. 'over $500'.",
    "cheap": "Which services count as cheap? Name them, or say 'rate shop for the cheapest'.",
    "fast": "Which services count as fast? Name them, or say 'rate shop for the fastest'.",
    "quick": "Which services count as quick? Name them, or say 'rate shop for the fastest'.",
    "far": "Which zones count as far? Say e.g. 'zones 5-8'.",
    "remote": "Which destinations count as remote? Name the states, or ZIP prefixes.",
    "rural": "Which destinations count as rural? Name the states, or ZIP prefixes.",
    "international": "Which countries count as international? Name them, e.g. 'to Canada or Mexico'.",
    "domestic": "Which countries count as domestic? Name them, e.g. 'to the US'.",
    "overseas": "Which countries count as overseas? Name them.",
    "suspicious": "What makes an order suspicious? Say e.g. 'over $2,000' or 'tagged fraud'.",
    "risky": "What makes an order risky? Say e.g. 'over $2,000' or 'tagged fraud'.",
    "best": "Best by what measure? Say 'cheapest' or 'fastest', and which services.",
    "appropriate": "Which service is appropriate? Name it.",
    "reasonable": "What counts as reasonable? Give a number with a unit.",
    "express": "Which service or service level is express? Name the service (e.g. 'UPS Next Day Air') or say 'overnight orders'.",
    "soon": "From which date? Say e.g. 'from 2026-12-01'.",
}
NOT_RULES = {"approve", "ignore", "disregard", "forget", "instructions", "prompt", "password",
             "jailbreak", "pretend", "bypass", "delete", "export", "admin", "sudo", "publish",
             "deploy", "free", "previous", "system", "everyone", "reset", "shutdown", "execute"}
# Words that instruct the tool rather than describe orders: never part of a hold reason or tag.
HOSTILE = frozenset("""approve ignore disregard forget instructions prompt password jailbreak pretend
    bypass delete sudo execute shutdown reset""".split())
COND_STOP = frozenset("""
    if when unless except over under above below more less than between with containing from to
    for in on via tagged and or but only not no never before after until till through starting
    effective priority as
""".split())
SUBJECTS = frozenset("orders order all any anything everything shipments packages parcels every deliveries".split())
OUT_OF_STOCK = {("is", "out", "of", "stock"), ("out", "of", "stock"), ("runs", "out"), ("run", "out"),
                ("is", "unavailable"), ("are", "unavailable"), ("is", "oos"), ("is", "sold", "out"),
                ("are", "sold", "out"), ("goes", "out", "of", "stock"), ("go", "out", "of", "stock"),
                ("are", "out", "of", "stock"), ("is", "not", "in", "stock"), ("has", "no", "stock"),
                ("is", "out"), ("are", "out"), ("is", "gone"), ("are", "gone"), ("cannot", "be", "filled"),
                ("can", "not", "be", "filled"), ("is", "not", "available"), ("are", "not", "available")}
GT = {("over",), ("above",), ("more", "than"), ("greater", "than"), ("exceeding",), ("exceeds",),
      (">",), ("beyond",), ("bigger", "than"), ("larger", "than"), ("higher", "than")}
GTE = {("at", "least"), ("minimum",), ("min",), ("no", "less", "than"), (">", "="), ("or", "more")}
LT = {("under",), ("below",), ("less", "than"), ("fewer", "than"), ("<",), ("lower", "than"),
      ("smaller", "than")}
LTE = {("at", "most"), ("up", "to"), ("maximum",), ("max",), ("no", "more", "than"), ("<", "="),
       ("or", "less"), ("not", "more", "than"), ("not", "over")}
EQ = {("exactly",), ("equal", "to"), ("equals",), ("=",)}
WEEKDAY_WORDS = {"monday": "mon", "tuesday": "tue", "wednesday": "wed", "thursday": "thu",
                 "friday": "fri", "saturday": "sat", "sunday": "sun", "mon": "mon", "tue": "tue",
                 "tues": "tue", "wed": "wed", "thu": "thu", "thur": "thu", "thurs": "thu",
                 "fri": "fri", "sat": "sat", "sun": "sun"}
UNIT_NOUNS = {"unit": "order.unit_count", "units": "order.unit_count", "items": "order.unit_count",
              "item": "order.unit_count", "pieces": "order.unit_count", "piece": "order.unit_count",
              "pcs": "order.unit_count", "lines": "order.line_count", "line": "order.line_count",
              "skus": "order.line_count"}
FIELD_WORDS = {"value": "order.value", "worth": "order.value", "valued": "order.value",
               "total": "order.value", "subtotal": "order.value", "priced": "order.value",
               "weight": "order.weight", "weighs": "order.weight", "weighing": "order.weight",
               "weigh": "order.weight"}
# Verbs after which a service may describe the orders ("orders shipped via UPS Ground") rather
# than tell them what to use.
DESCRIBING_VERBS = frozenset({("with",), ("via",), ("by",), ("on",), ("using",), ("uses",), ("ships",),
                              ("ships", "via"), ("ships", "with"), ("shipped",), ("shipped", "via"),
                              ("shipped", "with"), ("goes",), ("go",)})
SHIPMENT_WEIGHTS = {("shipment", "weight"): "shipment.weight", ("package", "weight"): "shipment.weight",
                    ("parcel", "weight"): "shipment.weight", ("actual", "weight"): "shipment.weight",
                    ("dim", "weight"): "shipment.dim_weight", ("dimensional", "weight"): "shipment.dim_weight",
                    ("billable", "weight"): "shipment.billable_weight",
                    ("billed", "weight"): "shipment.billable_weight"}
SERVICE_LEVELS = {"standard": "standard", "expedited": "expedited", "overnight": "overnight",
                  "next-day": "overnight"}
DEFAULT_HOLD_REASON = "manual review"
# Words the reader knows that a person may capitalise mid-sentence.
KNOWN_WORDS = frozenset("""
    hold ship use tag require insure never rate shop substitute prefer exclude zone zones po box
    boxes residential commercial unless except monday tuesday wednesday thursday friday saturday
    sunday weekends weekdays dec december jan january feb february mar march apr april may jun june
    jul july aug august sep sept september oct october nov november utc gmt hazmat signature zip
    zips dg put route send fulfil fulfill prefer try insure""".split()) | frozenset("""
    avoid exclude require add mark label orders order anything everything for if when do dont
""".split())


# What the word before an unknown name says it is: "with Canpar" names a carrier or service,
# "from Chicago" a warehouse. Suggestions of those kinds come first.
CONTEXT_KINDS: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(("with", "via", "using", "use", "by", "on", "carrier", "service"), ("carrier", "service")),
    **dict.fromkeys(("from", "at", "warehouse", "dc"), ("warehouse",)),
    **dict.fromkeys(("to", "in", "into"), ("country", "region")),
    **dict.fromkeys(("client", "brand", "customer"), ("client",)),
    **dict.fromkeys(("sku", "item", "items", "product"), ("sku",)),
    **dict.fromkeys(("channel",), ("channel",)),
}
LIST_ALL_UP_TO = 8  # names of a kind listed in full when none is close


def _name(vocab: Vocabulary, cand: tuple[str, str]) -> str:
    return f"{vocab.display.get(cand, cand[1])} ({cand[1]})"


def _suggest(word: str, vocab: Vocabulary, kinds: tuple[str, ...] = ()) -> list[str]:
    """Catalog names close to ``word``; with ``kinds`` (from the words before it), names of those
    kinds first, and when none of them is close, every name of the first kind if there are few."""
    keys = difflib.get_close_matches(phrase_key(word), vocab.all_names(), n=8, cutoff=0.5)
    close = [cand for k in keys for cand in vocab.phrases[k]]
    if kinds:
        wanted = [c for c in close if c[0] in kinds]
        if not wanted:  # none close: all names of the first kind, when there are few
            every = sorted({c for cands in vocab.phrases.values() for c in cands if c[0] == kinds[0]})
            if len(every) <= LIST_ALL_UP_TO:
                wanted = every
        close = wanted or close
    out: list[str] = []
    for cand in close:
        name = _name(vocab, cand)
        if name not in out:
            out.append(name)
    return out[:LIST_ALL_UP_TO if kinds else 5]


class SentenceReader(TokenCursor):
    """Reads one sentence's tokens into a Clause, or raises Refusal."""

    def __init__(self, toks: list[Tok], vocab: Vocabulary, catalog: Catalog, today: date,
                 previous: Clause | None) -> None:
        self.toks, self.vocab, self.catalog, self.today = toks, vocab, catalog, today
        self.i = 0
        self.c = Clause()
        self.previous = previous
        self.negate_next_action = False
        self.rate_shop: Node | None = None
        self.pending_or = False
        self.list_joiners: set[str] = set()  # the words that joined the last entity_list
        self.route_word = ""  # the routing verb waiting for its warehouse
        self.described_service: str | None = None  # "shipped via UPS Ground": an action, or the orders?

    def entity(self, *kinds: str, k: int = 0) -> tuple[str, str] | None:
        """The entity at the cursor when exactly one of its candidates is of ``kinds``."""
        t = self.peek(k)
        if t is None or t.kind != "ENTITY":
            return None
        hits = [c for c in t.cands if c[0] in kinds]
        if len(hits) > 1:
            names = " or ".join(f"{self.vocab.display.get(h, h[1])} ({h[0]} {h[1]})" for h in hits)
            raise Refusal("clarify", f"'{t.orig}' could mean {names}. Which one?")
        return hits[0] if hits else None

    def entity_list(self, *kinds: str) -> list[tuple[str, str]]:
        """Entities of ``kinds`` joined by commas, slashes, 'or', 'and', 'then'."""
        out: list[tuple[str, str]] = []
        first = self.entity(*kinds)
        if first is None:
            return out
        out.append(first)
        self.i += 1
        self.list_joiners = set()
        while True:
            save = self.i
            sep = False
            words: set[str] = set()
            while self.peek() is not None and (self.at_words(",") or self.at_words("/") or self.at_words("or")
                                               or self.at_words("and") or self.at_words("then")):
                words.add(self.peek().text)  # type: ignore[union-attr]
                self.i += 1
                sep = True
            if self.at_words("either") or self.at_words("the"):
                self.i += 1
            nxt = self.entity(*kinds) if sep else None
            if nxt is None:
                self.i = save
                return out
            self.list_joiners |= words
            out.append(nxt)
            self.i += 1

    # --- the loop ----------------------------------------------------------------------------

    def read(self) -> Clause:
        readers: list[Callable[[], bool]] = [
            self.read_punct, self.read_exception, self.read_negated_action, self.read_action,
            self.read_fallback, self.read_and_action, self.read_subject_prep, self.read_scope, self.read_priority,
            self.read_window, self.read_for, self.read_queue, self.read_tag_at_end,
            self.read_condition_chunk, self.read_from, self.read_as_tag, self.read_route_verb,
            self.read_filler,
        ]
        order: list[str] = []  # "A" when a phrase added an action, "C" when it added a condition
        try:
            while self.peek() is not None:
                n_actions, n_conds, n_clients = len(self.c.actions), len(self.c.conds), len(self.c.clients)
                was_pending = self.c.pending_tag
                start = self.i
                if not any(reader() for reader in readers):
                    self.unknown(self.peek())  # type: ignore[arg-type]
                if len(self.c.conds) != n_conds:
                    order.append("C")
                elif len(self.c.clients) != n_clients and "A" in order:
                    # a client named after an action goes with some action, like a condition: "F" when
                    # a preposition leads it ("... for GLOBEX orders"), which may be shared by all
                    order.append("F" if self.toks[start].is_word("for", "from") else "C")
                if any(t.is_word(*SUBJECTS) for t in self.toks[start:self.i]):
                    order.append("S")  # "orders", "everything": the object a verb acts on
                # A tag action stands where its verb is ("tag every Amazon order amazon"), not where
                # the tag word comes: the conditions between belong to it.
                if self.c.pending_tag and not was_pending:
                    order.append("A")
                elif len(self.c.actions) != n_actions and not (was_pending and not self.c.pending_tag):
                    order.append("A")
            self.check_condition_placement("".join(order))
        except Refusal:
            # A name the catalog does not have explains most misreadings: report it first.
            unknown = next((t for t in self.toks if t.kind == "UNKNOWN"), None)
            if unknown is not None:
                self.unknown(unknown)
            raise
        others = [a for a in self.c.actions if a["action"] not in ("use_service", "ship_from", "prefer_warehouses",
                                                                   "exclude_warehouses")]
        if self.described_service is not None and (others or self.c.pending_tag):
            raise Refusal("clarify", f"'{self.described_service}': should these orders use that service (a second "
                          "rule), or does it describe the orders this rule is for? A rule cannot test which service "
                          "an order ships with. Write the service choice as its own sentence, e.g. 'Use UPS Ground "
                          "for orders over 5 lb.'")
        if self.c.neg_pending:
            raise Refusal("clarify", "Never ... what? Name the warehouse ('from LAX'), service or carrier "
                          "('with DHL') to exclude.")
        return self.c

    def check_condition_placement(self, order: str) -> None:
        """Conditions in one place apply to every action: before them ("for orders over $500,
        insure and require a signature"), between them ("hold orders to PO boxes and tag them"),
        or after them ("insure and require a signature on orders over $500"). Conditions in two
        places may each belong to one action only ("insure over $500 and require a signature
        over $1,000"): reading them as shared would be a guess."""
        first_a, last_a = order.find("A"), order.rfind("A")
        if first_a == -1:
            return
        scoped = order.replace("F", "C")
        places = ["C" in scoped[:first_a], "C" in scoped[first_a:last_a], "C" in scoped[last_a:]]
        tail = order[last_a:]
        # After the last action, conditions before its object ("and hold hazmat orders") describe
        # that object; conditions after it ("and hold them on orders over $500") may be shared. An
        # earlier action with an object of its own ("insure everything and ...") shares nothing.
        own_object = "C" in tail and (tail.find("S") == -1 or tail.find("C") < tail.find("S"))
        first_has_object = "S" in order[first_a:last_a]
        last_has_object = "S" in tail and "C" not in scoped[last_a:]  # "... and insure everything"
        if order.count("A") > 1 and (sum(places) > 1 or (places[2] and (own_object or first_has_object))
                                     or ((places[0] or places[1]) and last_has_object)):
            raise Refusal("clarify", "Some conditions stand between two actions, so it is not clear which "
                          "action they apply to. Please write one sentence per action, each with its "
                          "own conditions.")
        actions = [repr(sorted(a.items())) for a in self.c.actions]
        if len(actions) != len(set(actions)):
            raise Refusal("clarify", "The same action is repeated. Please say it once, with the orders it "
                          "applies to.")

    def read_and_action(self) -> bool:
        if not (self.at_words("and") or self.at_words(",")):
            return False
        save = self.i
        self.i += 1
        self.take_words("then") or self.take_words("also")
        if self.read_negated_action() or self.read_action():
            return True
        self.i = save
        return False

    def read_subject_prep(self) -> bool:
        """"for orders", "on orders", "to anything": a preposition before the subject."""
        t = self.peek(1)
        if (self.at_words("for") or self.at_words("on") or self.at_words("to")) and t is not None \
                and t.kind == "WORD" and t.text in SUBJECTS:
            self.i += 2
            return True
        # "on ACME orders", "on Amazon orders", "on California orders": the scope or a condition follows
        if self.at_words("on") and t is not None and t.kind == "ENTITY" \
                and {k for k, _ in t.cands} & {"client", "channel", "region", "country"}:
            self.i += 1
            return True
        return False

    def read_queue(self) -> bool:
        if not any(a["action"] == "hold" for a in self.c.actions):
            return False
        save = self.i
        self._hold_queue()
        return self.i != save

    def read_fallback(self) -> bool:
        """", else hold" / "falling back to EWR" after a warehouse choice."""
        prefer = next((a for a in self.c.actions if a["action"] in ("prefer_warehouses", "ship_from")), None)
        if prefer is None:
            return False
        save = self.i
        if self.take_words("otherwise", "hold") or self.take_words("else", "hold") or self.take_words("or", "else", "hold"):
            self.skip("it", "them", "the", "order", "orders")
            if prefer["action"] != "prefer_warehouses":
                raise Refusal("clarify", "Hold when the warehouse cannot fill the order? The engine already holds "
                              "with an exception then; say 'prefer X, else hold' for a list of warehouses.")
            prefer["fallback"] = "hold"
            return True
        if prefer["action"] == "prefer_warehouses" and (
                self.take_words("falling", "back", "to", "the", "default") or self.take_words("fall", "back", "to", "the", "default")
                or self.take_words("otherwise", "route", "as", "usual") or self.take_words("otherwise", "as", "usual")):
            prefer["_default_said"] = True  # the default fallback, said out loud
            return True
        if self.take_words("and", "hold", "the", "order", "if", "neither", "can", "fill", "it") \
                or self.take_words("hold", "the", "order", "if", "neither", "can", "fill", "it") \
                or self.take_words("hold", "if", "neither", "has", "stock") \
                or self.take_words("hold", "if", "neither", "can", "fill", "it"):
            if prefer["action"] != "prefer_warehouses" or len(prefer["warehouses"]) != 2:
                self.i = save
                return False
            if prefer.get("_default_said"):
                raise Refusal("clarify", "Fall back to the default warehouse, or hold the order? Both were said.")
            prefer["fallback"] = "hold"
            return True
        if self.take_words("falling", "back", "to") or self.take_words("fall", "back", "to") \
                or self.take_words("then") or self.take_words("otherwise") or self.take_words("else"):
            self.skip("try", "the", "from", "ship")
            more = self.entity_list("warehouse")
            if more:
                self.take_words("warehouse")
                if prefer["action"] == "ship_from":
                    first = prefer.pop("warehouse")
                    prefer.update({"action": "prefer_warehouses", "warehouses": [first] + [c for _, c in more],
                                   "fallback": "default"})
                else:
                    prefer["warehouses"] += [c for _, c in more]
                return True
        self.i = save
        return False

    def read_route_verb(self) -> bool:
        """A routing verb whose warehouse comes later ("Fulfil GLOBEX orders ... from TOR")."""
        if self.peek() is not None and self.peek().is_word("ship", "send", "fulfil", "fulfill", "route", "ships",  # type: ignore[union-attr]
                                                           "fulfilled", "routed", "sent"):
            self.c.route_verb = True
            self.route_word = self.peek().text  # type: ignore[union-attr]
            self.i += 1
            return True
        return False

    def unknown(self, t: Tok) -> None:
        t = next((a for a in self.toks if a.kind == "AMBIGUOUS"), t)
        name = self.unknown_name() if t.kind != "AMBIGUOUS" else None
        if name is not None:
            t = name
        word = t.orig or t.text
        low = t.text.lower()
        if low in NOT_RULES:
            raise Refusal("error", f"'{word}': this is not something a rule can do. A rule says when "
                          "to hold, substitute, route, pick a carrier, tag, require a signature or insure.")
        if low in VAGUE and VAGUE[low]:
            raise Refusal("clarify", f"'{word}' is vague. {VAGUE[low]}")
        if name is not None or t.kind == "UNKNOWN" or (t.kind == "WORD" and any(ch.isupper() for ch in word[1:])):
            sugg = _suggest(word, self.vocab, self.context_kinds(t))
            hint = f" Did you mean {', '.join(sugg)}?" if sugg else ""
            raise Refusal("error", f"unknown name '{word}': it is not in the catalog.{hint}", sugg)
        if t.kind == "AMBIGUOUS":
            raise Refusal("clarify", f"In '{word}', is the dot a decimal point or a thousands separator? "
                          "Write e.g. '5,000' or '5.00'.")
        if t.kind == "NUM":
            raise Refusal("clarify", f"'{word}' has no unit: is it a weight (lb, kg), an amount ($, USD, CAD), "
                          "or a number of units?")
        sugg = _suggest(word, self.vocab)
        raise Refusal("clarify", f"{NOT_UNDERSTOOD} '{word}' here. Could you rephrase it with the "
                      "names of fields, services, warehouses or SKUs?", sugg)

    def context_kinds(self, t: Tok) -> tuple[str, ...]:
        """The kinds of name the word before ``t`` calls for ("with" a carrier, "from" a warehouse)."""
        j = next((k for k, x in enumerate(self.toks) if x is t), 0)
        before = self.toks[j - 1] if j > 0 else None
        return CONTEXT_KINDS.get(before.text, ()) if before is not None and before.kind == "WORD" else ()

    def unknown_name(self) -> Tok | None:
        """The first token of the sentence that looks like a name the catalog does not have."""
        for j in range(self.i, len(self.toks)):
            t = self.toks[j]
            if t.kind == "UNKNOWN":
                return t
            if t.kind == "WORD" and t.text not in FILLERS and t.text not in COND_STOP and t.text not in NOT_RULES \
                    and t.text not in VAGUE and t.text not in KNOWN_WORDS and t.text.rstrip("s") not in WEEKDAY_WORDS \
                    and (any(ch.isupper() for ch in t.orig[1:]) or (j > 0 and t.orig[:1].isupper())):
                return t
        return None

    def read_punct(self) -> bool:
        t = self.peek()
        if t is not None and t.kind == "PUNCT" and t.text in (",", ":", "!", "("):
            self.i += 1
            return True
        if t is not None and t.kind == "PUNCT" and t.text in (")",):
            self.i += 1
            return True
        return False

    def read_filler(self) -> bool:
        # "have to go out", "with a soundbar in them": words that add nothing to the rule
        if self.take_words("have", "to") or self.take_words("has", "to") or self.take_words("in", "them") \
                or self.take_words("in", "it"):
            return True
        t = self.peek()
        if t is None or t.kind != "WORD" or t.text not in FILLERS:
            return False
        if t.text in ("ones", "those", "these") and self.previous is not None:
            self.c.refers_back = True
        if t.text == "or" or t.text == "and":
            return False
        self.i += 1
        return True

    # --- exceptions and "or" -------------------------------------------------------------------

    def read_exception(self) -> bool:
        if not (self.take_words("unless") or self.take_words("except", "for") or self.take_words("except", "when")
                or self.take_words("except", "if") or self.take_words("except") or self.take_words("excluding")
                or self.take_words("but", "not")):
            return False
        self.skip("it", "is", "they", "are", "the", "order", "orders", "ones", "those", "when", "if", "for",
                  "goes", "go", "going", "ships", "contains", "has")
        nodes = self.condition_group()
        if not nodes:
            raise Refusal("clarify", "Unless what? I could not read the exception as a condition.")
        inner = nodes[0] if len(nodes) == 1 else {"all": nodes}
        self.c.conds.append({"not": inner})
        return True

    def condition_group(self) -> list[Node]:
        """Conditions joined by and/or (a mix needs brackets, so it is refused)."""
        first = self.condition()
        if first is None:
            return []
        items, joiner = [first], None
        while True:
            save = self.i
            self.skip(",")
            word = "or" if self.at_words("or") else "and" if self.at_words("and") else None
            if word is None:
                self.i = save
                break
            self.i += 1
            self.skip("it", "is", "they", "are", "if", "when", "the", "order", "orders")
            nxt = self.condition()
            if nxt is None:
                self.i = save
                break
            if joiner and joiner != word:
                raise Refusal("clarify", "The conditions mix 'and' and 'or'; which go together? "
                              "Split them into separate sentences or group them.")
            joiner = word
            if word == "or":
                self._no_not_or(items[-1])
            items.append(nxt)
        if joiner == "or":
            return [{"any": items}]
        return items

    def read_condition_chunk(self) -> bool:
        nodes = self.condition_group()
        if not nodes:
            return False
        if self.pending_or and self.c.conds:
            prev = self.c.conds.pop()
            merged = prev["any"] if "any" in prev else [prev]
            self.c.conds.append({"any": merged + nodes})
            self.pending_or = False
        else:
            self.c.conds.extend(nodes)
        if self.at_words("or") and self.peek(1) is not None:
            save = self.i
            self.i += 1
            self.skip("if", "when", "the", "orders", "order", "to", "it", "is")
            nxt = self.condition_group()
            if nxt:
                prev = self.c.conds.pop()
                self._no_not_or(prev)
                self.c.conds.append({"any": [prev, *nxt]})
            else:
                self.i = save
        return True

    @staticmethod
    def _no_not_or(node: Node) -> None:
        """"not to Texas or to California" reads as "neither" to most people, but as "(not Texas)
        or California" to the rule engine: a negated condition before 'or' is asked about."""
        if "not" in node:
            raise Refusal("clarify", "'not ... or ...' can mean 'neither ... nor ...' or '(not ...) or ...'. "
                          "Say 'unless A or B' for neither, or write one sentence per case.")

    # --- conditions --------------------------------------------------------------------------

    def condition(self) -> Node | None:
        save = self.i
        if self.at_words("for") and not self.at_words("for", "the", "cheapest") and not self.at_words("for", "the", "fastest"):
            self.i += 1
            node = self.condition()
            if node is None:
                self.i = save
            return node
        negate = False
        if self.take_words("not") or self.take_words("non"):
            negate = True
        node = None
        for reader in (self.cond_line_quantifier, self.cond_comparison, self.cond_zone, self.cond_destination, self.cond_po_box,
                       self.cond_residential, self.cond_postal, self.cond_channel, self.cond_lines,
                       self.cond_hazmat, self.cond_service_level, self.cond_tags, self.cond_weekday,
                       self.cond_hour, self.cond_origin, self.cond_date):
            node = reader()
            if node is not None:
                break
            self.i = save + (1 if negate else 0)
        if node is None:
            self.i = save
            return None
        return {"not": node} if negate else node

    def comparator(self) -> str | None:
        self.skip("is", "are", "be", "of", "was")
        if self.take_any(GTE):
            return "gte"
        if self.take_any(LTE):
            return "lte"
        if self.take_any(GT):
            return "gt"
        if self.take_any(LT):
            return "lt"
        if self.take_any(EQ):
            return "eq"
        if self.at_words("between"):
            return "between"
        return None

    def money_value(self, t: Tok | None) -> Node | None:
        if t is None or t.kind != "MONEY":
            return None
        amount, cur = t.value
        if cur == "?":
            raise Refusal("clarify", f"'{t.orig}' names two currencies; which one?")
        return {"amount": amount, "currency": self.catalog.spec.currency if cur == "$" else cur}

    def scalar(self, field: str | None) -> tuple[str | None, Any] | None:
        """A value token at the cursor: (field it implies or None, JSON value)."""
        t = self.peek()
        if t is None:
            return None
        if t.kind == "MONEY":
            self.i += 1
            return "order.value", self.money_value(t)
        if t.kind == "QTY":
            self.i += 1
            return "order.weight", {"value": t.value[0], "unit": t.value[1]}
        if t.kind == "NUM":
            self.i += 1
            n = t.value
            value: Any = int(n) if float(n).is_integer() else n
            nxt = self.peek()
            if nxt is not None and nxt.kind == "WORD" and nxt.text in UNIT_NOUNS:
                if nxt.text in ("line", "lines") and self.at_words("items", k=1):
                    self.i += 1
                self.i += 1
                return UNIT_NOUNS[nxt.text], value
            if nxt is not None and nxt.kind == "WORD" and nxt.text in ("different",) and self.at_words("skus", k=1):
                self.i += 2
                return "order.line_count", value
            return None, value
        return None

    def cond_comparison(self) -> Node | None:
        field = None
        self.take_words("with") or self.take_words("having") or self.take_words("that", "have") \
            or self.take_words("that", "has") or self.take_words("that", "are") or self.take_words("that", "is")
        self.skip("a", "an", "the")
        t = self.peek()
        shipment_field = next((f for words, f in SHIPMENT_WEIGHTS.items() if self.take_words(*words)), None)
        if shipment_field is not None:
            # "shipment weight", "dim weight": the shipment's, not the order's (was: order.weight)
            self.take_words("at")
            self.skip("is", "are", "of")
            return self._compare(shipment_field, None)
        if t is not None and t.kind == "WORD" and t.text in FIELD_WORDS:
            field = FIELD_WORDS[t.text]
            self.i += 1
            self.take_words("at")
            self.skip("is", "are", "of", "the", "order")
        elif self.take_words("heavier", "than"):
            field, forced = "order.weight", "gt"
            return self._compare(field, forced)
        elif self.take_words("lighter", "than"):
            return self._compare("order.weight", "lt")
        elif self.take_words("cheaper", "than"):
            return self._compare("order.value", "lt")
        elif self.at_words("number", "of"):
            self.i += 2
            w = self.peek()
            if w is None or not w.is_word(*UNIT_NOUNS):
                return None
            field = UNIT_NOUNS[w.text]
            self.i += 1
        return self._compare(field, None)

    def _compare(self, field: str | None, op: str | None) -> Node | None:
        op = op or self.comparator()
        if op is None:
            # "$500 or more", "20 lb and up", "10+ units", "weighing 150 lb or more"
            node = self._postfix_comparison()
            if node is not None and field is not None and node["field"] != field:
                return None
            return node
        if op == "between":
            self.i += 1
            lo = self.scalar(field)
            if lo is None:
                return None
            self.take_words("and") or self.take_words("to") or self.take_words("-")
            if self.peek() is not None and self.peek().kind == "DASH":  # type: ignore[union-attr]
                self.i += 1
            hi = self.scalar(field)
            if hi is None:
                return None
            return self._range(field, lo, hi)
        vstart = self.i
        val = self.scalar(field)
        if val is None:
            return None
        implied, value = val
        # a range written "5-10 lb" after a comparator is refused: which end?
        name = self._field_for(field, implied, value)
        if self.peek() is not None and self.peek().kind == "DASH":  # type: ignore[union-attr]
            return self._finish_range(name, value)
        start = self.i
        if self.take_words("or", "more") or self.take_words("or", "higher") or self.take_words("and", "up") \
                or self.take_words("or", "above"):
            if op not in ("eq", "gte"):  # "over 20 lb or more": over, or at least? "under 5 or more"?
                amount = " ".join(x.orig or x.text for x in self.toks[vstart:start])
                said = " ".join(x.orig or x.text for x in self.toks[start:self.i])
                raise Refusal("clarify", f"'{amount} {said}' after a comparison: is {amount} itself included? "
                              f"Say 'over {amount}' or 'at least {amount}'.")
            op = "gte"
        return {"field": name, "op": op, "value": self._typed(name, value)}

    def _postfix_comparison(self) -> Node | None:
        t = self.peek()
        if t is None or t.kind not in ("MONEY", "QTY", "NUM"):
            return None
        save = self.i
        val = self.scalar(None)
        if val is None:
            return None
        implied, value = val
        if self.peek() is not None and self.peek().kind == "DASH":  # type: ignore[union-attr]
            if implied is None and t.kind == "NUM":
                # "5-10 lb": the unit comes with the upper end
                self.i += 1
                hi = self.scalar(None)
                if hi is None or hi[0] is None:
                    self.i = save
                    return None
                return self._range(None, (None, value), hi)
            return self._finish_range(self._field_for(None, implied, value), value)
        op = None
        weight_word = self.at_words("or", "heavier") or self.at_words("or", "lighter")
        if self.take_words("or", "more") or self.take_words("and", "up") or self.take_words("or", "above") \
                or self.take_words("+") or self.take_words("or", "over") or self.take_words("or", "higher") \
                or self.take_words("or", "heavier"):
            op = "gte"
        elif self.take_words("or", "less") or self.take_words("or", "under") or self.take_words("and", "under") \
                or self.take_words("or", "fewer") or self.take_words("and", "below") or self.take_words("or", "lighter"):
            op = "lte"
        if weight_word and implied not in (None, "order.weight"):
            raise Refusal("clarify", "'lighter' and 'heavier' compare weights; give a weight (e.g. '5 lb or lighter') "
                          "or say 'or less' / 'or more'.")
        if op is None:
            self.i = save
            return None
        nxt = self.peek()
        if implied is None and nxt is not None and nxt.kind == "WORD" and nxt.text in UNIT_NOUNS:
            implied = UNIT_NOUNS[nxt.text]
            self.i += 1
        name = self._field_for(None, implied, value)
        return {"field": name, "op": op, "value": self._typed(name, value)}

    def _finish_range(self, name: str, lo: Any) -> Node | None:
        self.i += 1  # the dash
        hi = self.scalar(name)
        if hi is None:
            return None
        return self._range(name, (name, lo), hi)

    def _range(self, field: str | None, lo: tuple[str | None, Any], hi: tuple[str | None, Any]) -> Node:
        name = self._field_for(field, hi[0] or lo[0], hi[1])
        lo_v, hi_v = lo[1], hi[1]
        if isinstance(hi_v, dict) and not isinstance(lo_v, dict) and lo_v is not None:
            lo_v = {**hi_v, ("value" if "value" in hi_v else "amount"): lo_v}
        if lo_v is None:
            raise Refusal("clarify", "I could not read the low end of the range; write it like '5-10 lb'.")
        return {"field": name, "op": "between", "value": [self._typed(name, lo_v), self._typed(name, hi_v)]}

    def _field_for(self, field: str | None, implied: str | None, value: Any) -> str:
        if field is None and implied is None:
            raise Refusal("clarify", f"'{value}' has no unit: is it a weight (lb, kg), an amount ($, USD, CAD), "
                          "or a number of units?")
        if field is not None and implied is not None and field != implied and not (
                field.endswith("weight") and implied == "order.weight"):
            raise Refusal("clarify", f"The value does not fit the {field.split('.')[-1]}; give it a matching unit.")
        return field or implied  # type: ignore[return-value]

    def _typed(self, field: str, value: Any) -> Any:
        if field == "order.value" and not isinstance(value, dict):
            raise Refusal("clarify", f"'{value}': in which currency? Say e.g. '${value}' or '{value} CAD'.")
        if field.endswith("weight") and not isinstance(value, dict):
            raise Refusal("clarify", f"'{value}': in which unit? Say e.g. '{value} lb' or '{value} kg'.")
        if field in ("order.unit_count", "order.line_count", "shipment.zone", "line.qty") and isinstance(value, dict):
            raise Refusal("clarify", "A count cannot have a unit or currency.")
        if field in ("order.unit_count", "order.line_count", "shipment.zone", "line.qty") and not float(value).is_integer():
            raise Refusal("clarify", f"'{value}' must be a whole number.")
        return value

    def cond_zone(self) -> Node | None:
        self.take_words("in") or self.take_words("to") or self.take_words("for")
        if not (self.take_words("zones") or self.take_words("zone")):
            return None
        op = self.comparator()
        nums: list[int] = []
        if op == "between":
            self.i += 1
        t = self.peek()
        if t is None or t.kind != "NUM":
            return None
        nums.append(self._zone_number(t))
        self.i += 1
        if self.take_words("+") or self.take_words("or", "higher") or self.take_words("or", "more") \
                or self.take_words("and", "up") or self.take_words("or", "above") or self.take_words("and", "above"):
            return {"field": "shipment.zone", "op": "gte", "value": nums[0]}
        if self.take_words("or", "lower") or self.take_words("or", "less") or self.take_words("and", "below") \
                or self.take_words("or", "below"):
            return {"field": "shipment.zone", "op": "lte", "value": nums[0]}
        if (self.peek() is not None and cast(Tok, self.peek()).kind == "DASH") or self.at_words("through") \
                or self.at_words("thru") or (op == "between" and self.at_words("and")) or self.at_words("to"):
            self.i += 1
            hi = self.peek()
            if hi is None or hi.kind != "NUM":
                return None
            self.i += 1
            return {"field": "shipment.zone", "op": "between", "value": [nums[0], self._zone_number(hi)]}
        while self.at_words(",") or self.at_words("or") or self.at_words("and") or self.at_words("/"):
            t2 = self.peek(1)
            if t2 is None or t2.kind != "NUM":
                break
            self.i += 2
            nums.append(self._zone_number(t2))
        if op in (None, "eq"):
            return {"field": "shipment.zone", "op": "eq", "value": nums[0]} if len(nums) == 1 else \
                {"field": "shipment.zone", "op": "in", "value": nums}
        if len(nums) > 1:
            return None
        return {"field": "shipment.zone", "op": op, "value": nums[0]}

    def _zone_number(self, t: Tok) -> int:
        if not float(t.value).is_integer() or not 1 <= t.value <= 8:
            raise Refusal("clarify", f"Zones run from 1 to 8; '{t.orig}' is not a zone.")
        return int(t.value)

    def cond_destination(self) -> Node | None:
        lead = (self.take_words("going", "to") or self.take_words("shipping", "to") or self.take_words("headed", "to")
                or self.take_words("heading", "to") or self.take_words("bound", "for") or self.take_words("destined", "for")
                or self.take_words("delivered", "to") or self.take_words("delivering", "to") or self.take_words("ship", "to")
                or self.take_words("sent", "to") or self.take_words("to") or self.take_words("in") or self.take_words("into")
                or self.take_words("for"))
        self.skip("the")
        if lead and (self.take_words("destination", "city") or self.take_words("city")):
            # the city named in quotes, as the clarifying questions suggest
            t = self.peek()
            if t is None or t.kind != "STRING" or not t.value.strip():
                raise Refusal("clarify", "Which city? Put its name in quotes, e.g. 'to the destination city "
                              "\"Los Angeles\"'.")
            self.i += 1
            self.c.words.append("city")
            return {"field": "dest.city", "op": "eq", "value": t.value.strip()}
        t = self.peek()
        if t is None or t.kind != "ENTITY":
            return None
        kinds = {k for k, _ in t.cands}
        if lead and "warehouse" in kinds and kinds & {"region", "country"}:
            # "to LA": Louisiana, or Los Angeles where the LAX warehouse is?
            place = next(c for c in t.cands if c[0] in ("region", "country"))
            wh = next(c for c in t.cands if c[0] == "warehouse")
            raise Refusal("clarify", f"'{t.orig}' could mean {self.vocab.display.get(place, place[1])} ({place[0]} "
                          f"{place[1]}) or the city of the {wh[1]} warehouse. Name the {place[0]} in full, or say "
                          "'to the destination city \"...\"'.")
        if not kinds & {"region", "country"}:
            if lead and "warehouse" in kinds and self.toks[self.i - 1].text == "to" and not self.c.route_verb:
                raise Refusal("clarify", f"'{t.orig}' is a warehouse. Do you mean ship from it, or orders going "
                              "to that city (say 'to the destination city \"...\"')?")
            return None
        if not lead and {"warehouse", "carrier", "service", "client", "channel", "sku"} & kinds:
            return None
        places = self.entity_list("region", "country")
        if not places:
            return None
        kinds_found = {k for k, _ in places}
        if len(kinds_found) > 1:
            raise Refusal("clarify", "The places mix countries and states or provinces; split them into two rules.")
        kind = kinds_found.pop()
        codes = [c for _, c in places]
        fieldname = "dest.region" if kind == "region" else "dest.country"
        self.c.words.append(codes[0].lower())
        if self.take_words("addresses") or self.take_words("address"):
            pass
        return {"field": fieldname, "op": "eq", "value": codes[0]} if len(codes) == 1 else \
            {"field": fieldname, "op": "in", "value": codes}

    def cond_po_box(self) -> Node | None:
        self.take_words("to") or self.take_words("for") or self.take_words("going", "to") or self.take_words("shipping", "to")
        self.skip("a", "the")
        if not (self.take_words("po", "boxes") or self.take_words("po", "box") or self.take_words("pobox")
                or self.take_words("p", "o", "box") or self.take_words("p", "o", "boxes")):
            return None
        self.take_words("addresses") or self.take_words("address") or self.take_words("destinations")
        self.c.words.append("po-box")
        return {"field": "dest.po_box", "op": "eq", "value": True}

    def cond_residential(self) -> Node | None:
        self.take_words("shipping", "to") or self.take_words("going", "to") or self.take_words("delivered", "to") \
            or self.take_words("to") or self.take_words("for")
        self.skip("a", "the")
        if self.take_words("residential") or self.take_words("residences") or self.take_words("homes") \
                or self.take_words("home", "addresses"):
            self.take_words("addresses") or self.take_words("address") or self.take_words("deliveries") \
                or self.take_words("delivery")
            self.c.words.append("residential")
            return {"field": "dest.residential", "op": "eq", "value": True}
        if self.take_words("commercial") or self.take_words("business", "addresses") or self.take_words("businesses"):
            self.take_words("addresses") or self.take_words("address") or self.take_words("deliveries")
            self.c.words.append("commercial")
            return {"field": "dest.residential", "op": "eq", "value": False}
        return None

    def cond_postal(self) -> Node | None:
        self.take_words("to") or self.take_words("for") or self.take_words("in")
        self.skip("the")
        if not (self.take_words("zip", "codes") or self.take_words("zip", "code") or self.take_words("zips")
                or self.take_words("zip") or self.take_words("postal", "codes") or self.take_words("postal", "code")
                or self.take_words("postcodes") or self.take_words("postcode")):
            return None
        starts = (self.take_words("starting", "with") or self.take_words("beginning", "with")
                  or self.take_words("that", "start", "with") or self.take_words("that", "begin", "with")
                  or self.take_words("starting") or self.take_words("beginning") or self.take_words("prefix")
                  or self.take_words("prefixes") or self.take_words("with", "prefix") or self.take_words("with", "prefixes")
                  or self.take_words("that", "start") or self.take_words("that", "begin"))
        values: list[str] = []
        while True:
            t = self.peek()
            if t is None:
                break
            if t.kind == "NUM" and float(t.value).is_integer():
                values.append(t.orig.replace(",", ""))
            elif t.kind == "STRING":
                values.append(t.value)
            elif t.kind == "WORD" and any(ch.isdigit() for ch in t.text):
                values.append(t.orig.upper())
            else:
                break
            self.i += 1
            if (self.at_words(",") or self.at_words("or") or self.at_words("/")) and self.peek(1) is not None \
                    and self.peek(1).kind in ("NUM", "STRING"):  # type: ignore[union-attr]
                self.i += 1
            else:
                break
        if not values:
            raise Refusal("clarify", "Which postal codes? Say e.g. 'ZIP codes starting with 967'.")
        self.c.words.append("zip")
        if starts:
            return {"field": "dest.postal_code", "op": "starts_with", "value": values if len(values) > 1 else values[0]}
        return {"field": "dest.postal_code", "op": "eq", "value": values[0]} if len(values) == 1 else \
            {"field": "dest.postal_code", "op": "in", "value": values}

    def cond_channel(self) -> Node | None:
        (self.take_words("from") or self.take_words("on") or self.take_words("via") or self.take_words("through")
         or self.take_words("sold", "on") or self.take_words("placed", "on") or self.take_words("placed", "through")
         or self.take_words("coming", "from") or self.take_words("that", "came", "from"))
        self.skip("the")
        items = self.entity_list("channel")
        if not items:
            return None
        codes = [c for _, c in items]
        self.take_words("channel") or self.take_words("marketplace")
        self.c.words.append(codes[0].lower())
        return {"field": "channel", "op": "eq", "value": codes[0]} if len(codes) == 1 else \
            {"field": "channel", "op": "in", "value": codes}

    def cond_lines(self) -> Node | None:
        every = False
        if (self.take_words("containing") or self.take_words("contain") or self.take_words("contains")
                or self.take_words("that", "contain") or self.take_words("that", "include")
                or self.take_words("including") or self.take_words("includes") or self.take_words("include")
                or self.take_words("with") or self.take_words("having") or self.take_words("that", "have")
                or self.take_words("that", "has") or self.take_words("has") or self.take_words("have")):
            if self.take_words("only") or self.take_words("nothing", "but"):
                every = True
        elif self.at_words("all") and self.peek(2) is not None and cast(Tok, self.peek(2)).is_word(*SUBJECTS):
            self.i += 1  # "all hazmat orders", "all TV orders": every such order, not every item
        elif self.take_words("only") or self.take_words("all") or self.take_words("nothing", "but") \
                or self.take_words("entirely") or self.take_words("exclusively"):
            every = True
        self.skip("a", "an", "any", "some", "at", "least", "one")
        t = self.peek()
        if t is None:
            return None
        if t.kind == "ENTITY":
            skus = None
            try:
                skus = self.entity_list("sku")
            except Refusal:
                raise
            if skus:
                codes = [c for _, c in skus]
                self.c.words.append(codes[0].lower())
                return self._contents("line.sku", codes, every)
            cats = self.entity_list("category")
            if cats:
                codes = [c for _, c in cats]
                self.take_words("items") or self.take_words("products") or self.take_words("item") \
                    or self.take_words("lines") or self.take_words("goods")
                self.c.words.append(codes[0])
                return self._contents("line.category", codes, every)
            return None
        if every and (self.take_words("hazmat") or self.take_words("hazardous")):
            self.take_words("items") or self.take_words("products") or self.take_words("goods")
            return {"all_lines": {"field": "line.hazmat", "op": "eq", "value": True}}
        return None

    def _contents(self, field: str, codes: list[str], every: bool) -> Node:
        """What the lines hold: "containing A or B" is one of them, "containing A and B" both of
        them, "containing only A and B" nothing else."""
        joiners = self.list_joiners if len(codes) > 1 else set()
        if "and" in joiners and "or" in joiners:
            raise Refusal("clarify", f"'{' '.join(codes)}' are joined by both 'and' and 'or': must the order "
                          "contain all of them, or any one of them?")
        if len(codes) == 1:
            inner: Node = {"field": field, "op": "eq", "value": codes[0]}
        else:
            inner = {"field": field, "op": "in", "value": codes}
        if every:
            return {"all_lines": inner}
        if "and" in joiners:
            return {"all": [{"any_line": {"field": field, "op": "eq", "value": c}} for c in codes]}
        if "," in joiners and "or" not in joiners:
            raise Refusal("clarify", f"Must the order contain all of {', '.join(codes)}, or any one of them? "
                          "Join them with 'and' or with 'or'.")
        return {"any_line": inner}

    # "every item is", "all (of the) items are", "each line is", "any item is", "an item is"
    _EVERY_LEADS = [(q, *the, noun) for q, nouns in (("every", ("item", "line", "product", "sku", "unit")),
                                                      ("each", ("item", "line", "product", "sku", "unit")),
                                                      ("all", ("items", "lines", "products", "skus", "units")))
                    for the in ((), ("of", "the"), ("the",)) if q == "all" or not the for noun in nouns]
    _ANY_LEADS = [(q, noun) for q in ("any", "an", "a", "some", "one") for noun in ("item", "line", "product", "sku")] + \
        [("at", "least", "one", noun) for noun in ("item", "line", "product", "sku")]

    def cond_line_quantifier(self) -> Node | None:
        """A condition on the items themselves ("where every item is apparel"): every or any line
        has a SKU, a category or hazmat; anything else about single items is refused, since
        reading it as a whole-order fact would be a different rule."""
        save = self.i
        self.take_words("where") or self.take_words("in", "which") or self.take_words("whose") \
            or self.take_words("if") or self.take_words("when")
        every = None
        for lead in sorted(self._EVERY_LEADS, key=len, reverse=True):
            if self.take_words(*lead):
                every = True
                break
        else:
            for lead in sorted(self._ANY_LEADS, key=len, reverse=True):
                if self.take_words(*lead):
                    every = False
                    break
        if every is None:
            self.i = save
            return None
        lead_text = " ".join(t.orig or t.text for t in self.toks[save:self.i])
        self.skip("in", "the", "order", "orders")
        self.take_words("is") or self.take_words("are") or self.take_words("is", "a") or self.take_words("are", "all")
        self.skip("a", "an", "from", "in", "of", "the", "category")
        negate = self.take_words("not") or self.take_words("non")
        node: Node | None = None
        t = self.peek()
        if t is not None and t.kind == "ENTITY":
            skus = self.entity_list("sku")
            if skus:
                node = {"field": "line.sku", "op": "eq", "value": skus[0][1]} if len(skus) == 1 else \
                    {"field": "line.sku", "op": "in", "value": [c for _, c in skus]}
            else:
                cats = self.entity_list("category")
                if cats:
                    self.take_words("items") or self.take_words("products") or self.take_words("goods")
                    node = {"field": "line.category", "op": "eq", "value": cats[0][1]} if len(cats) == 1 else \
                        {"field": "line.category", "op": "in", "value": [c for _, c in cats]}
            if node is not None and isinstance(node["value"], list) and "and" in self.list_joiners:
                raise Refusal("clarify", f"'{lead_text} ... and ...': one item cannot be two things; did you "
                              "mean 'or'?")
        elif self.take_words("hazmat") or self.take_words("hazardous") or self.take_words("dangerous", "goods"):
            node = {"field": "line.hazmat", "op": "eq", "value": True}
        if node is None:
            raise Refusal("clarify", f"'{lead_text} ...': a rule can test each item's SKU, category or hazmat "
                          "flag, and the whole order's weight, value and unit count. Say e.g. 'orders where "
                          "every item is apparel' or 'orders over 5 lb'.")
        if negate:
            node = {"not": node}
        self.c.words.append("lines")
        return {"all_lines" if every else "any_line": node}

    def cond_hazmat(self) -> Node | None:
        negate = False
        if self.take_words("without") or self.take_words("no") or self.take_words("non"):
            negate = True
        else:
            self.take_words("containing") or self.take_words("with") or self.take_words("contain") \
                or self.take_words("that", "contain") or self.take_words("including") or self.take_words("that", "include") \
                or self.take_words("that", "are") or self.take_words("that", "is")
        self.skip("any", "a", "an", "some")
        if not (self.take_words("hazmat") or self.take_words("hazardous", "materials") or self.take_words("hazardous")
                or self.take_words("dangerous", "goods") or self.take_words("hazmats")):
            return None
        self.take_words("items") or self.take_words("item") or self.take_words("products") \
            or self.take_words("goods") or self.take_words("materials") or self.take_words("lines")
        self.c.words.append("hazmat")
        return {"field": "order.hazmat", "op": "eq", "value": not negate}

    def cond_service_level(self) -> Node | None:
        self.take_words("with") or self.take_words("for") or self.take_words("on")
        self.skip("the", "an", "a")
        t = self.peek()
        if t is None or t.kind != "WORD" or t.text not in SERVICE_LEVELS:
            if self.at_words("next", "day") and not self.at_words("air", k=2):
                self.i += 2
                level = "overnight"
            else:
                return None
        else:
            level = SERVICE_LEVELS[t.text]
            self.i += 1
        self.take_words("shipping") or self.take_words("service", "level") or self.take_words("service") \
            or self.take_words("delivery")
        self.c.words.append(level)
        return {"field": "order.service_level", "op": "eq", "value": level}

    def cond_tags(self) -> Node | None:
        if self.take_words("tagged") or self.take_words("with", "tag") or self.take_words("with", "the", "tag") \
                or self.take_words("having", "tag") or self.take_words("with", "a", "tag") or self.take_words("that", "have", "tag") \
                or self.take_words("with", "tags"):
            self.take_words("as")
            tags, joiner = self._tag_values()
            if not tags:
                raise Refusal("clarify", "Which tag? Say e.g. 'tagged \"vip\"'.")
        elif self.take_words("with", "the") or self.take_words("with", "a") or self.take_words("with"):
            t = self.peek()
            if t is None or t.kind not in ("WORD", "STRING") or not self.at_words("tag", k=1):
                return None
            tags, joiner = [t.value if t.kind == "STRING" else t.orig], None
            self.i += 2
        else:
            return None
        self.c.words.append(tags[0].lower())
        if len(tags) == 1:
            return {"field": "order.tags", "op": "contains", "value": tags[0]}
        return {"field": "order.tags", "op": "contains_all" if joiner == "and" else "contains_any", "value": tags}

    def _tag_values(self) -> tuple[list[str], str | None]:
        tags: list[str] = []
        joiner = None
        while True:
            t = self.peek()
            if t is None or t.kind not in ("WORD", "STRING") or (t.kind == "WORD" and (t.text in COND_STOP or t.text in FILLERS)):
                break
            if t.compound is not None:
                tags.append(t.compound[0])
                self.i += t.compound[1]
            else:
                tags.append(t.value if t.kind == "STRING" else t.orig)
                self.i += 1
            after = self.peek(1)
            if (self.at_words("or") or self.at_words("and")) and after is not None and after.kind == "ENTITY":
                raise Refusal("clarify", f"'{tags[-1]} {self.peek().text} {after.orig}': is '{after.orig}' "  # type: ignore[union-attr]
                              "a tag too, or a catalog name? Quote the tags, e.g. 'tagged \"vip\" or "
                              f"\"{after.orig.lower()}\"', or repeat the verb, e.g. 'tagged vip or from ...'.")
            if (self.at_words("or") or self.at_words("and") or self.at_words(",")) and self.peek(1) is not None \
                    and self.peek(1).kind in ("WORD", "STRING") and not (self.peek(1).kind == "WORD" and (self.peek(1).text in COND_STOP or self.peek(1).text in FILLERS)):  # type: ignore[union-attr]
                word = self.peek().text  # type: ignore[union-attr]
                if word in ("or", "and"):
                    if joiner and joiner != word:
                        raise Refusal("clarify", "Tags joined by both 'and' and 'or': which is meant?")
                    joiner = word
                self.i += 1
            else:
                break
        return tags, joiner

    def cond_weekday(self) -> Node | None:
        self.take_words("placed", "on") or self.take_words("created", "on") or self.take_words("received", "on") \
            or self.take_words("on") or self.take_words("placed") or self.take_words("over") or self.take_words("during")
        self.skip("the", "a")
        if self.take_words("weekends") or self.take_words("weekend") or self.take_words("saturdays", "and", "sundays"):
            self.take_words("orders")
            self.c.words.append("weekend")
            return {"field": "order.weekday", "op": "in", "value": ["sat", "sun"]}
        if self.take_words("weekdays") or self.take_words("weekday") or self.take_words("business", "days"):
            self.c.words.append("weekdays")
            return {"field": "order.weekday", "op": "in", "value": ["mon", "tue", "wed", "thu", "fri"]}
        days: list[str] = []
        while True:
            t = self.peek()
            if t is None or t.kind != "WORD" or t.text.rstrip("s") not in WEEKDAY_WORDS and t.text not in WEEKDAY_WORDS:
                break
            days.append(WEEKDAY_WORDS.get(t.text, WEEKDAY_WORDS.get(t.text.rstrip("s"), "")))
            self.i += 1
            last = self.weekday_range_end(t)
            if last is not None:  # "Mon-Fri", "Monday through Friday": every day from one to the other
                start = WEEKDAYS.index(days.pop())
                span = (WEEKDAYS.index(last) - start) % 7
                days += [WEEKDAYS[(start + k) % 7] for k in range(span + 1)]
            if (self.at_words("or") or self.at_words("and") or self.at_words(",")) and self.peek(1) is not None \
                    and self.peek(1).kind == "WORD" and (self.peek(1).text in WEEKDAY_WORDS or self.peek(1).text.rstrip("s") in WEEKDAY_WORDS):  # type: ignore[union-attr]
                self.i += 1
            else:
                break
        if not days:
            return None
        self.c.words.append(days[0])
        return {"field": "order.weekday", "op": "eq", "value": days[0]} if len(days) == 1 else \
            {"field": "order.weekday", "op": "in", "value": days}

    def weekday_range_end(self, first: Tok) -> str | None:
        """The last day of a range after the day ``first`` ("-Fri" of "Mon-Fri", "through Friday"),
        consuming it; None when no range follows."""
        def day(t: Tok | None) -> str | None:
            if t is None or t.kind != "WORD":
                return None
            return WEEKDAY_WORDS.get(t.text, WEEKDAY_WORDS.get(t.text.rstrip("s")))

        if first.compound is not None and first.compound[1] == 2 and day(self.peek()):
            end = day(self.peek())
            self.i += 1
            return end
        for word in ("through", "thru", "to", "until", "till"):
            if self.at_words(word) and day(self.peek(1)):
                end = day(self.peek(1))
                self.i += 2
                return end
        return None

    def cond_hour(self) -> Node | None:
        self.take_words("placed") or self.take_words("received") or self.take_words("created")
        if self.take_words("after") or self.take_words("from"):
            op = "gte"
        elif self.take_words("before"):
            op = "lt"
        else:
            return None
        t = self.peek()
        if t is None:
            return None
        if t.kind == "TIME":
            h, m = t.value
        elif t.kind == "WORD" and t.text in ("noon", "midday"):
            h, m = 12, 0
        elif t.kind == "WORD" and t.text == "midnight":
            h, m = 0, 0
        else:
            return None
        self.i += 1
        if not (self.take_words("utc") or self.take_words("gmt") or self.take_words("z")):
            raise Refusal("clarify", f"Order times are compared in UTC. Is '{t.orig}' UTC? If so, say "
                          f"'{t.orig} UTC'; otherwise give the time in UTC.")
        if m:
            raise Refusal("clarify", "Order times are compared by whole hours; give a time on the hour.")
        if op == "gte" and self.toks[self.i - 3].text == "after" if self.i >= 3 else False:
            pass
        self.c.words.append(f"{h}h")
        return {"field": "order.hour", "op": op, "value": h}

    def cond_origin(self) -> Node | None:
        if not (self.take_words("shipping", "from") or self.take_words("shipped", "from") or self.take_words("leaving")
                or self.take_words("going", "out", "of") or self.take_words("shipping", "out", "of")
                or self.take_words("originating", "from") or self.take_words("originating", "at")):
            return None
        self.skip("the")
        items = self.entity_list("warehouse")
        if not items:
            return None
        self.take_words("warehouse")
        codes = [c for _, c in items]
        return {"field": "shipment.origin", "op": "eq", "value": codes[0]} if len(codes) == 1 else \
            {"field": "shipment.origin", "op": "in", "value": codes}

    def cond_date(self) -> Node | None:
        return None  # dates are effective windows (read_window)

    # --- scope, priority, dates ----------------------------------------------------------------

    def read_scope(self) -> bool:
        save = self.i
        lead = self.take_words("for") or self.take_words("only", "for") or self.take_words("from")
        self.skip("client", "clients", "brand")
        items = self.entity_list("client")
        if not items:
            self.i = save
            return False
        self.take_words("client") or self.take_words("brand")
        for _, code in items:
            if code not in self.c.clients:
                self.c.clients.append(code)
        del lead
        return True

    def read_priority(self) -> bool:
        if self.take_words("before", "other", "rules") or self.take_words("before", "all", "other", "rules") \
                or self.take_words("ahead", "of", "other", "rules") or self.take_words("takes", "priority") \
                or self.take_words("take", "priority") or self.take_words("overrides", "other", "rules") \
                or self.take_words("override", "other", "rules") or self.take_words("with", "top", "priority") \
                or self.take_words("with", "high", "priority") or self.take_words("highest", "priority") \
                or self.take_words("before", "any", "other", "rule") or self.take_words("first", "of", "all"):
            self.c.priority = 200
            return True
        if self.take_words("after", "other", "rules") or self.take_words("as", "a", "fallback") \
                or self.take_words("lowest", "priority") or self.take_words("with", "low", "priority") \
                or self.take_words("after", "all", "other", "rules"):
            self.c.priority = 50
            return True
        save = self.i
        if self.take_words("with", "priority") or self.take_words("priority") or self.take_words("at", "priority"):
            t = self.peek()
            if t is not None and t.kind == "NUM" and float(t.value).is_integer():
                self.c.priority = int(t.value)
                self.i += 1
                return True
            self.i = save
        return False

    def date_at(self) -> date | None:
        t = self.peek()
        if t is None:
            return None
        if t.kind == "DATE":
            self.i += 1
            return t.value
        if t.kind == "SLASHDATE":
            raise Refusal("clarify", f"'{t.orig}' could be month/day or day/month; write it as "
                          "2026-12-01 or Dec 1.")
        hit = month_day(self.toks, self.i, self.today)
        if hit is None:
            return None
        when, used, passed = hit
        if passed is not None:
            written = " ".join(x.orig or x.text for x in self.toks[self.i:self.i + used])
            raise Refusal("clarify", f"'{written}' passed on {passed.isoformat()}: do you mean that day (the rule "
                          f"applies from now on), or {when.isoformat()} next year? Write the year, e.g. "
                          f"'{written} {passed.year}'.")
        self.i += used
        return when

    def read_window(self) -> bool:
        save = self.i
        kind = None
        if self.c.eff_from is not None and self.c.eff_until is None and self.at_words("and") \
                and self.peek(1) is not None and cast(Tok, self.peek(1)).is_word("before", "until", "through", "till"):
            self.i += 1  # "starting Dec 20 and before Jan 4": the window's end
        if self.take_words("starting", "on") or self.take_words("starting", "from") or self.take_words("starting") \
                or self.take_words("beginning", "on") or self.take_words("beginning") or self.take_words("as", "of") \
                or self.take_words("effective", "from") or self.take_words("effective") or self.take_words("on", "or", "after") \
                or self.take_words("from") or self.take_words("placed", "from") or self.take_words("placed", "on", "or", "after"):
            kind = "from"
        elif self.take_words("placed", "after") or self.take_words("after"):
            kind = "after"
        elif self.take_words("placed", "before") or self.take_words("before"):
            kind = "before"
        elif self.take_words("until") or self.take_words("till") or self.take_words("through") \
                or self.take_words("thru") or self.take_words("up", "to", "and", "including") or self.take_words("to") \
                or self.take_words("ending"):
            kind = "through"
        else:
            return False
        self.skip("the")
        d = self.date_at()
        if d is None:
            self.i = save
            return False
        if kind == "from":
            self.c.eff_from = d
        elif kind == "after":
            self.c.eff_from = d + timedelta(days=1)
        elif kind == "before":
            self.c.eff_until = d
        else:
            if self.c.eff_until is not None:
                raise Refusal("clarify", "Two end dates were given; which one applies?")
            self.c.eff_until = d + timedelta(days=1)
        return True

    # --- "for ..." -------------------------------------------------------------------------------

    def read_for(self) -> bool:
        if not self.at_words("for"):
            return False
        if self.at_words("the", "cheapest", k=1) or self.at_words("cheapest", k=1) or self.at_words("the", "fastest", k=1) \
                or self.at_words("fastest", k=1):
            if self.rate_shop is None:
                return False
            self.i += 1
            self.skip("the")
            self.rate_shop["objective"] = self.peek().text  # type: ignore[union-attr]
            self.i += 1
            self.take_words("option") or self.take_words("service") or self.take_words("rate") or self.take_words("one")
            return True
        hold = next((a for a in self.c.actions if a["action"] == "hold"), None)
        if hold is None or hold.get("_reason_set"):
            return False
        save = self.i
        if self.condition() is not None:
            self.i = save
            return False
        self.i = save + 1
        words: list[str] = []
        while self.peek() is not None and cast(Tok, self.peek()).kind == "WORD" \
                and cast(Tok, self.peek()).text not in COND_STOP \
                and self.peek().text not in ("orders", "order", "all", "any", "every", "them", "it"):  # type: ignore[union-attr]
            if self.peek().text in HOSTILE:  # type: ignore[union-attr]
                break
            words.append(self.peek().orig)  # type: ignore[union-attr]
            self.i += 1
        if self.peek() is not None and self.peek().kind == "STRING":  # type: ignore[union-attr]
            words.append(self.peek().value)  # type: ignore[union-attr]
            self.i += 1
        if not words:
            self.i = save
            return False
        hold["reason"] = " ".join(words)
        hold["_reason_set"] = True
        return True

    def read_from(self) -> bool:
        """A bare "from W": an elided ship-from or an origin condition, settled by the caller."""
        to = self.at_words("to") and self.c.route_verb
        if not (self.at_words("from") or self.at_words("out", "of") or to):
            return False
        save = self.i
        self.i += 1 if (self.at_words("from") or to) else 2
        self.skip("the")
        wh = self.entity("warehouse")
        if wh is None:
            self.i = save
            return False
        if to and self.route_word not in ("route", "routed"):
            # "ship orders to Toronto" names where they go, not the warehouse that ships them
            t = self.peek()
            place = t.orig  # type: ignore[union-attr]
            raise Refusal("clarify", f"'{self.route_word} ... to {place}': does 'to {place}' mean ship from the "
                          f"{wh[1]} warehouse (say 'from {wh[1]}'), or orders going to that city (say 'to the "
                          f"destination city \"{place}\"')?")
        more = self.entity_list("warehouse")
        self.take_words("warehouse") or self.take_words("dc") or self.take_words("warehouses")
        if self.c.neg_pending:
            self.c.actions.append({"action": "exclude_warehouses", "warehouses": [c for _, c in more]})
            self.c.neg_pending = False
            return True
        if len(more) > 1:
            raise Refusal("clarify", "Several warehouses: should the first that has stock be used "
                          f"('prefer {' then '.join(c for _, c in more)}')?")
        if self.c.route_verb:
            self.c.actions.append({"action": "ship_from", "warehouse": wh[1]})
            self.c.route_verb = False
            return True
        if self.c.bare_from is not None:
            raise Refusal("clarify", "Two warehouses follow 'from'; which one?")
        self.c.bare_from = wh[1]
        return True

    def read_tag_at_end(self) -> bool:
        """"Tag hazmat orders dg", "tag them b2b": one last word, right after the orders, is the tag."""
        if self.c.pending_tag and not (self.at_words("as") or self.at_words("with")):
            t, after = self.peek(), self.peek(1)
            # the sentence (or this action) ends after the word; "dg, b2b" would be two tags, or a condition
            ends = after is None or (after.kind == "PUNCT" and after.text in (".", ";")) or after.is_word("and")
            if t is not None and ends and self.i > 0 and (t.kind in ("WORD", "ENTITY") and " " not in t.orig
                                                          and t.text not in FILLERS and t.text not in HOSTILE
                                                          and t.text not in COND_STOP and t.text not in NOT_RULES):
                prev = self.toks[self.i - 1]
                if prev.is_word("them", "it", *SUBJECTS):
                    channel = t.kind == "ENTITY" and {k for k, _ in t.cands} == {"channel"}
                    save = self.i
                    starts_condition = not channel and self.condition() is not None
                    self.i = save
                    if starts_condition:  # "tag orders hazmat": the tag "hazmat", or tag hazmat orders?
                        raise Refusal("clarify", f"'{t.orig}' names orders as well as a tag. Say 'tag {t.orig} "
                                      f"orders as \"...\"', or 'tag them as \"{t.orig.lower()}\"'.")
                    self.i += 1
                    self._set_tag(t.orig.lower() if t.orig.isalpha() else t.orig)
                    return True
        return False

    def read_as_tag(self) -> bool:
        if not self.c.pending_tag or not (self.at_words("as") or self.at_words("with")):
            return False
        save = self.i
        self.i += 1
        self._skip_tag_noun()
        tag = self._tag_word(explicit=True)
        if tag is None:
            self.i = save
            return False
        self.take_words("tag")
        self._set_tag(tag)
        return True

    def _skip_tag_noun(self) -> None:
        """Before a tag after "as"/"with": the article, and the word "tag" when a tag follows it
        ("with the tag priority-pack")."""
        self.skip("a", "the")
        if self.at_words("tag") and self.peek(1) is not None:
            self.i += 1

    def _tag_word(self, explicit: bool = False) -> str | None:
        """A tag: quoted text, a hyphenated word, or one word; after "as" any word but a filler."""
        t = self.peek()
        if t is None:
            return None
        if t.kind == "STRING":
            self.i += 1
            return t.value
        if t.compound is not None:
            self.i += t.compound[1]
            return t.compound[0]
        if explicit and t.kind in ("WORD", "ENTITY") and " " not in t.orig and t.text not in FILLERS \
                and t.text not in HOSTILE:
            self.i += 1
            return t.orig.lower() if t.orig.isalpha() else t.orig
        if t.kind == "WORD" and t.text not in COND_STOP and t.text not in FILLERS and t.text not in NOT_RULES \
                and t.text not in VAGUE:
            self.i += 1
            return t.orig.lower() if t.orig.isalpha() else t.orig
        return None

    def _set_tag(self, tag: str) -> None:
        self.c.actions.append({"action": "add_tag", "tag": tag})
        self.c.pending_tag = False
        self.c.words.append(f"tag-{tag}")

    # --- actions ---------------------------------------------------------------------------------

    def read_negated_action(self) -> bool:
        save = self.i
        if not (self.take_words("never") or self.take_words("do", "not") or self.take_words("dont")
                or self.take_words("not") or self.take_words("no") or self.take_words("avoid")
                or self.take_words("exclude") or self.take_words("block") or self.take_words("disallow")
                or self.take_words("skip") or self.take_words("stop", "using")):
            return False
        neg_word = self.toks[save].text
        self.take_words("ever")
        verb = None
        for v in (("use",), ("ship", "with"), ("ship", "via"), ("ship", "by"), ("send", "with"), ("send", "via"),
                  ("ship", "from"), ("send", "from"), ("fulfil", "from"), ("fulfill", "from"), ("route", "to"),
                  ("route", "through"), ("ship", "out", "of"), ("ship", "on"), ("go", "via"), ("go", "with"),
                  ("go", "by"), ("go",), ("goes",), ("ship",), ("send",), ("using",), ("uses",), ("fulfil",),
                  ("fulfill",),
                  ("offer",), ("allow",)):
            if self.take_words(*v):
                verb = v
                break
        self.skip("the", "a", "an", "any")
        wh = self.entity_list("warehouse") if verb is None or verb[-1] in ("from", "of", "to", "through") else []
        if wh:
            self.take_words("warehouse") or self.take_words("warehouses")
            self.c.actions.append({"action": "exclude_warehouses", "warehouses": [c for _, c in wh]})
            self.c.words.append("no-" + wh[0][1].lower())
            return True
        pool = self.entity_list("service", "carrier")
        if pool:
            self.take_words("services") or self.take_words("service")
            services = [c for k, c in pool if k == "service"]
            carriers = [c for k, c in pool if k == "carrier"]
            action: Node = {"action": "exclude_services"}
            if services:
                action["services"] = services
            if carriers:
                action["carriers"] = carriers
            self.c.actions.append(action)
            self.c.words.append("no-" + pool[0][1].lower().replace("_", "-"))
            return True
        if neg_word in ("not", "no") or (verb is None and neg_word in ("avoid", "skip")):
            self.i = save
            return False
        if verb is not None and verb[0] in ("ship", "send", "fulfil", "fulfill", "use", "using", "route", "go", "goes", "uses"):
            self.c.neg_pending = True
            return True
        nxt = self.peek()
        what = nxt.orig if nxt else "that"
        raise Refusal("error", f"I cannot express 'never/do not ... {what}': rules can exclude services, "
                      "carriers and warehouses, but not forbid other actions. Say what should happen instead.")

    def read_action(self) -> bool:
        for reader in (self.act_hold, self.act_substitute, self.act_rate_shop, self.act_prefer,
                       self.act_ship_from, self.act_use_service, self.act_tag, self.act_signature,
                       self.act_insure, self.act_transit):
            if reader():
                return True
        return False

    def act_hold(self) -> bool:
        if self.peek() is not None and self.peek().is_word("put", "place") and any(  # type: ignore[union-attr]
                t.is_word("hold") for t in self.toks[self.i:]):
            self.i += 1
            return True
        if not (self.take_words("hold") or self.take_words("put", "on", "hold") or self.take_words("place", "on", "hold")
                or self.take_words("park") or self.take_words("stop") or self.take_words("pause")
                or self.take_words("held") or self.take_words("on", "hold")):
            return False
        self.c.actions.append({"action": "hold", "reason": DEFAULT_HOLD_REASON})
        self.c.words.append("hold")
        self.skip("them", "it", "all", "any", "every")
        self._hold_queue()
        return True

    def _hold_queue(self) -> None:
        save = self.i
        if self.take_words("in", "the") or self.take_words("to", "the") or self.take_words("into", "the") \
                or self.take_words("in") or self.take_words("to"):
            t = self.peek()
            if t is not None and t.kind in ("WORD", "STRING") and self.at_words("queue", k=1):
                hold = next(a for a in self.c.actions if a["action"] == "hold")
                hold["queue"] = t.value if t.kind == "STRING" else t.orig.lower()
                self.i += 2
                return
        self.i = save

    def read_queue_later(self) -> bool:
        return False

    def _out_of_stock(self) -> bool:
        """The words after a SKU that say it is out of stock ("is out", "can't be filled")."""
        return self.take_any(OUT_OF_STOCK)

    def _source_clause(self) -> str | None:
        """"if X is out of stock", "when X runs out", "if we're out of X": the SKU, or None."""
        save = self.i
        if self.at_words("if") or self.at_words("when") or self.at_words("whenever"):
            self.i += 1
        if self.take_words("we", "are", "out", "of") or self.take_words("we", "run", "out", "of") \
                or self.take_words("we", "have", "no"):
            self.skip("the", "a", "an", "any")
            sku = self.entity("sku")
            if sku is not None:
                self.i += 1
                self.take_words("left") or self.take_words("in", "stock")
                return sku[1]
            self.i = save
            return None
        self.skip("the")
        sku = self.entity("sku")
        if sku is not None:
            self.i += 1
            if self._out_of_stock():
                return sku[1]
        self.i = save
        return None

    def _replaced_by(self) -> list[str] | None:
        """After an out-of-stock SKU: "get replaced with Y", "is swapped for Y"; the SKUs Y."""
        save = self.i
        self.take_words("get") or self.take_words("gets") or self.take_words("are") or self.take_words("is") \
            or self.take_words("should", "be")
        if (self.take_words("replaced") or self.take_words("swapped") or self.take_words("substituted")) \
                and (self.take_words("with") or self.take_words("by") or self.take_words("for")):
            self.skip("the", "a", "an")
            subs = self.entity_list("sku")
            if subs:
                self.take_words("ones") or self.take_words("one") or self.take_words("instead")
                return [c for _, c in subs]
        self.i = save
        return None

    def act_substitute(self) -> bool:
        save = self.i
        # "if X is out of stock" / "when X runs out" / "if we're out of X"
        source = self._source_clause()
        if source is not None:
            done = next((a for a in self.c.actions if a["action"] == "substitute"), None)
            if done is not None and done["sku"] != source:
                raise Refusal("clarify", f"The substitution replaces {done['sku']}, but the condition says {source} "
                              f"is out of stock. Which SKU runs out, and which one is sent instead?")
            self.c.sub_source = source
            return True
        # "out-of-stock X get replaced with Y"
        if self.take_words("out", "of", "stock"):
            sku = self.entity("sku")
            if sku is not None:
                self.i += 1
                replacing = self._replaced_by()
                if replacing:
                    return self._substitute(sku[1], replacing)
            self.i = save
        # "send Y when X is unavailable": the action first, the SKU it stands in for after it
        if self.c.sub_source is None and (self.take_words("ship") or self.take_words("send")
                                          or self.take_words("use")):
            self.skip("the", "a", "an")
            subs = self.entity_list("sku")
            if subs:
                joined = set(self.list_joiners)
                self.take_words("instead")
                source = self._source_clause()
                if source is not None:
                    self.list_joiners = joined  # how the substitutes were joined, not the source
                    return self._substitute(source, [c for _, c in subs])
            self.i = save
        # "... the red mug goes out instead", after "if we're out of the blue mug"
        if self.c.sub_source is not None and not any(a["action"] == "substitute" for a in self.c.actions):
            self.skip("the", "a", "an")
            subs = self.entity_list("sku")
            if subs and (self.take_words("goes", "out") or self.take_words("ships") or self.take_words("is", "sent")
                         or self.take_words("goes")):
                self.take_words("instead")
                return self._substitute(self.c.sub_source, [c for _, c in subs])
            self.i = save
        if self.take_words("swap") or self.take_words("exchange") or self.take_words("trade"):
            # "swap X for Y": X goes, Y comes (unlike "substitute Y for X")
            self.skip("out", "the", "a", "an")
            first = self.entity_list("sku")
            if first and len(first) == 1 and (self.take_words("for") or self.take_words("with")):
                self.skip("the", "a", "an")
                second = self.entity_list("sku")
                if second:
                    return self._substitute(first[0][1], [c for _, c in second])
            raise Refusal("clarify", "Swap which SKU for which? Name both SKUs, e.g. "
                          "'swap ACME-MUG-BLUE for ACME-MUG-RED when it is out of stock'.")
        if self.take_words("substitute") or self.take_words("sub") or self.take_words("replace"):
            self.skip("out", "of", "stock")
            self.skip("it", "them", "with", "the", "a", "an")
            first = self.entity_list("sku")
            first_joined = set(self.list_joiners)
            if not first:
                raise Refusal("clarify", "Substitute which SKU with which? Name both SKUs, e.g. "
                              "'substitute ACME-MUG-BLUE with ACME-MUG-RED'.")
            if self.take_words("with") or self.take_words("by") or self.take_words("for", "out", "of", "stock") \
                    or self.take_words("to"):
                self.skip("a", "an", "the")
                second = self.entity_list("sku")
                if not second or len(first) != 1:
                    raise Refusal("clarify", "Substitute which SKU with which? Name both SKUs.")
                return self._substitute(first[0][1], [c for _, c in second])
            if self.take_words("for"):
                if self.toks[save].is_word("replace"):  # "replace A for B": which one goes?
                    raise Refusal("clarify", "'Replace ... for ...' can be read both ways. Say 'replace "
                                  "ACME-MUG-BLUE with ACME-MUG-RED' (the first is the one out of stock).")
                self.skip("the", "a", "an")
                second = self.entity_list("sku")
                if not second or len(second) != 1:
                    raise Refusal("clarify", "Substitute which SKU for which? Name both SKUs.")
                self.list_joiners = first_joined  # the substitutes are the first list
                return self._substitute(second[0][1], [c for _, c in first])
            if self.c.sub_source is not None:
                self.list_joiners = first_joined
                return self._substitute(self.c.sub_source, [c for _, c in first])
            raise Refusal("clarify", f"Substitute {first[0][1]} for which SKU when it is out of stock?")
        if self.c.sub_source is not None and (self.take_words("ship") or self.take_words("send") or self.take_words("use")
                                              or self.take_words("use", "the")):
            self.skip("the", "a", "an")
            subs = self.entity_list("sku")
            if subs:
                self.take_words("instead")
                return self._substitute(self.c.sub_source, [c for _, c in subs])
            self.i = save
        return False

    def _substitute(self, sku: str, subs: list[str]) -> bool:
        if len(subs) > 1 and "and" in self.list_joiners:  # "with the red mug and the t-shirt"
            raise Refusal("clarify", f"Send {' and '.join(subs)} together, or the first of them that is in "
                          f"stock? A substitution sends one SKU; say e.g. 'with {subs[0]}, then {subs[1]}'.")
        self.c.actions.append({"action": "substitute", "sku": sku, "with": subs})
        self.c.sub_source = sku
        self.c.words.append("sub-" + sku.lower())
        self.take_words("instead")
        # "when out of stock", "when we run out", "when it is unavailable", "when blue is out":
        # they repeat what a substitution means; a SKU named there must be the one replaced.
        save = self.i
        if self.take_words("when") or self.take_words("if") or self.take_words("whenever"):
            if self.take_words("out", "of", "stock") or self.take_words("we", "run", "out") \
                    or self.take_words("we", "are", "out") or self.take_words("it", "runs", "out") \
                    or self.take_words("they", "run", "out"):
                return True
            if self.take_words("it") or self.take_words("they") or self.take_words("that"):
                if self._out_of_stock():
                    return True
            else:
                self.skip("the")
                named = self.entity("sku")
                if named is not None and named[1] == sku:
                    self.i += 1
                    if self._out_of_stock():
                        return True
            self.i = save
        return True

    def _objective_words(self) -> str | None:
        """"whichever is cheapest", "the cheaper one", "cheapest wins": the rate shop's objective."""
        for words, objective in ((("whichever", "is", "cheapest"), "cheapest"), (("whichever", "is", "cheaper"), "cheapest"),
                                 (("whichever", "is", "fastest"), "fastest"), (("whichever", "is", "faster"), "fastest"),
                                 (("whichever", "is", "quickest"), "fastest"), (("the", "cheaper", "one"), "cheapest"),
                                 (("the", "faster", "one"), "fastest"), (("the", "cheapest", "one"), "cheapest"),
                                 (("the", "fastest", "one"), "fastest"), (("the", "cheapest"), "cheapest"),
                                 (("the", "fastest"), "fastest"), (("cheapest", "wins"), "cheapest"),
                                 (("fastest", "wins"), "fastest"), (("whichever", "is", "quicker"), "fastest"),
                                 (("the", "quicker", "one"), "fastest"), (("the", "quickest", "one"), "fastest"),
                                 (("the", "quickest"), "fastest"), (("the", "least", "expensive"), "cheapest"),
                                 (("least", "expensive"), "cheapest"), (("cheapest",), "cheapest"),
                                 (("fastest",), "fastest"), (("quickest",), "fastest")):
            if self.take_words(*words):
                self.take_words("wins") or self.take_words("option") or self.take_words("rate")
                return objective
        return None

    def act_rate_shop(self) -> bool:
        save = self.i
        objective = None
        whichever = False  # the objective was said "whichever is cheapest"
        # a second objective phrase for the rate shop already read ("rate shop FedEx and USPS, cheapest")
        if self.rate_shop is not None and not self.rate_shop.get("_objective_said"):
            found = self._objective_words()
            if found is not None:
                self.rate_shop["objective"] = found
                self.rate_shop["_objective_said"] = True
                return True
        if self.take_words("compare") or self.take_words("shop") or self.take_words("whichever", "of"):
            # "compare A and B and use the cheaper one", "shop UPS against FedEx and take whichever is
            # cheapest", "whichever of A, B or C is fastest"
            pool = self.entity_list("service", "carrier")
            if self.take_words("against") or self.take_words("versus") or self.take_words("vs"):
                pool += self.entity_list("service", "carrier")
            if not pool and not (self.take_words("all", "carriers") or self.take_words("all", "services")):
                self.i = save
                return False
            self.take_words("is") or self.take_words(",")
            self.take_words("and", "use") or self.take_words("and", "take") or self.take_words("and", "pick") \
                or self.take_words("and", "ship") or self.take_words("use") or self.take_words("take")
            objective = self._objective_words()
            if objective is None and not self.at_words("for"):
                self.i = save
                return False
            self._rate_shop(pool, objective)
            if not cast(Node, self.rate_shop).get("_objective_said"):  # "compare UPS and FedEx for ACME"
                raise Refusal("clarify", "Compare them for what: the cheapest or the fastest? Say e.g. 'compare "
                              "UPS and FedEx and use the cheaper one'.")
            return True
        if self.take_words("rate", "shop") or self.take_words("rateshop") or self.take_words("rate", "shopping"):
            self.take_words("between") or self.take_words("among") or self.take_words("across")
            self.skip("the")
        elif (self.take_words("ship", "with") or self.take_words("ship", "via") or self.take_words("send", "with")
              or self.take_words("send", "via") or self.take_words("ship") or self.take_words("use")
              or self.take_words("pick") or self.take_words("choose") or self.take_words("send") or self.take_words("go")
              or self.take_words("goes") or self.take_words("with") or self.take_words("via") or True) \
                and not (self.i > save and save > 0 and self.toks[save - 1].is_word("that", "which", "who")) and \
                (self.take_words("the", "cheapest") or self.take_words("cheapest") or self.take_words("the", "fastest")
                 or self.take_words("fastest") or self.take_words("whichever", "is", "cheapest")
                 or self.take_words("whichever", "is", "fastest") or self.take_words("whichever", "is", "cheaper")
                 or self.take_words("whichever", "is", "faster")):
            objective = "fastest" if "fast" in self.toks[self.i - 1].text else "cheapest"
            whichever = self.i - save >= 3 and self.toks[self.i - 3].is_word("whichever")
            verb = self.i > save and not self.toks[save].is_word("whichever", "cheapest", "fastest", "the")
            level = self.peek()
            if level is not None and level.is_word("overnight", "expedited", "standard") \
                    and self.peek(1) is not None and cast(Tok, self.peek(1)).is_word("service", "services", "option"):
                raise Refusal("clarify", f"'the {objective} {level.text} service': among which services? Name them, "
                              f"e.g. 'the {objective} of UPS Next Day Air and FedEx Standard Overnight'.")
            after = self.peek()
            follows = after is not None and (after.kind == "ENTITY" or after.is_word(
                "option", "service", "rate", "carrier", "one", "of", "among", "between", "from", "available"))
            if not verb and not follows:  # "hold the cheapest orders", "Fastest." alone
                self.i = save
                return False
            self.take_words("option") or self.take_words("service") or self.take_words("rate") \
                or self.take_words("carrier") or self.take_words("one")
            self.take_words("available")
            self.take_words("of") or self.take_words("among") or self.take_words("between") or self.take_words("from")
            self.skip("the", "either")
        else:
            self.i = save
            return False
        pool = self.entity_list("service", "carrier")
        if whichever and not pool and self.toks[self.i - 1].is_word("cheapest", "fastest", "cheaper", "faster"):
            raise Refusal("clarify", "Whichever of which services or carriers? Name them, e.g. 'whichever of UPS "
                          "Ground and FedEx Ground is cheapest'.")
        return self._rate_shop(pool, objective)

    def _rate_shop(self, pool: list[tuple[str, str]], objective: str | None) -> bool:
        if {k for k, _ in pool} == {"service", "carrier"}:  # "FedEx or UPS Ground": all FedEx, or its ground?
            names = ", ".join(c for _, c in pool)
            raise Refusal("clarify", f"'{names}' mixes carriers and services: every service of the carriers, or "
                          "only some? Name the services, e.g. 'UPS Ground or FedEx Ground'.")
        action: Node = {"action": "rate_shop"}
        services = [c for k, c in pool if k == "service"]
        carriers = [c for k, c in pool if k == "carrier"]
        if services:
            action["services"] = services
        if carriers:
            action["carriers"] = carriers
        self.take_words("services") or self.take_words("carriers") or self.take_words("service")
        said = objective is not None
        if objective is None:
            if self.take_words("for", "the", "cheapest") or self.take_words("for", "cheapest") or self.take_words("on", "price") \
                    or self.take_words("by", "price") or self.take_words("for", "price"):
                objective = "cheapest"
            elif self.take_words("for", "the", "fastest") or self.take_words("for", "fastest") or self.take_words("for", "speed") \
                    or self.take_words("by", "speed"):
                objective = "fastest"
            self.take_words("option") or self.take_words("rate") or self.take_words("service")
            said = objective is not None
        action["objective"] = objective or "cheapest"
        if said:
            action["_objective_said"] = True
        self.c.actions.append(action)
        self.rate_shop = action
        self.c.words.append("rate-shop")
        return True

    def act_transit(self) -> bool:
        save = self.i
        if not (self.take_words("delivered", "within") or self.take_words("delivering", "within") or self.take_words("within")
                or self.take_words("arriving", "within") or self.take_words("in") or self.take_words("with", "max")
                or self.take_words("max") or self.take_words("at", "most") or self.take_words("no", "more", "than")
                or self.take_words("that", "deliver", "within") or self.take_words("that", "arrive", "within")
                or self.take_words("that", "can", "deliver", "within") or self.take_words("that", "still", "gets", "there", "in")
                or self.take_words("that", "still", "gets", "there", "within") or self.take_words("that", "gets", "there", "in")
                or self.take_words("that", "gets", "there", "within") or self.take_words("can", "deliver", "within")):
            return False
        days = self.take_days()
        if days is None:
            self.i = save
            return False
        self.take_words("or", "less") or self.take_words("or", "fewer") or self.take_words("in", "transit") \
            or self.take_words("transit")
        if self.rate_shop is None:
            raise Refusal("error", "A delivery time limit works only with a rate shop; say e.g. "
                          "'rate shop UPS Ground and FedEx Ground for the cheapest, delivered within 3 days'.")
        if "max_transit_days" in self.rate_shop:
            raise Refusal("clarify", "Two delivery time limits were given; which one applies?")
        if days < 1:
            raise Refusal("error", f"A delivery time limit of {days} days cannot be met; give at least 1 day.")
        self.rate_shop["max_transit_days"] = days
        return True

    def act_prefer(self) -> bool:
        save = self.i
        if not (self.take_words("prefer") or self.take_words("try")):
            return False
        self.skip("the", "shipping", "from", "to", "ship")
        items = self.entity_list("warehouse")
        if not items:
            self.i = save
            return False
        self.take_words("first")
        codes = [c for _, c in items]
        while True:
            s2 = self.i
            self.skip(",")
            if self.take_words("then") or self.take_words("falling", "back", "to") or self.take_words("fall", "back", "to") \
                    or self.take_words("and", "then") or self.take_words("otherwise") or self.take_words("else"):
                self.skip("try", "the", "from")
                more = self.entity_list("warehouse")
                if more:
                    codes += [c for _, c in more]
                    continue
                self.i = s2
            break
        fallback = "default"
        s3 = self.i
        self.skip(",", "and")
        if self.take_words("otherwise", "hold") or self.take_words("else", "hold") or self.take_words("or", "hold") \
                or self.take_words("if", "none", "can", "hold") or self.take_words("if", "neither", "can", "hold") \
                or self.take_words("otherwise", "put", "on", "hold") or self.take_words("if", "none", "has", "stock", "hold"):
            self.skip("it", "them", "the", "order", "orders")
            fallback = "hold"
        elif self.take_words("otherwise", "default") or self.take_words("otherwise", "use", "the", "default") \
                or self.take_words("else", "default"):
            self.take_words("warehouse") or self.take_words("routing")
        else:
            self.i = s3
        self.c.actions.append({"action": "prefer_warehouses", "warehouses": codes, "fallback": fallback})
        self.c.words.append("prefer-" + codes[0].lower())
        return True

    def act_ship_from(self) -> bool:
        save = self.i
        if not (self.take_words("ship", "from") or self.take_words("ship", "out", "of") or self.take_words("send", "from")
                or self.take_words("fulfil", "from") or self.take_words("fulfill", "from") or self.take_words("route", "to")
                or self.take_words("route", "through") or self.take_words("fulfilled", "from") or self.take_words("ships", "from")
                or self.take_words("come", "from") or self.take_words("comes", "from") or self.take_words("routed", "to")
                or self.take_words("ship", "them", "from") or self.take_words("ship", "it", "from")
                or self.take_words("should", "ship", "from") or self.take_words("go", "out", "of")
                or self.take_words("goes", "out", "of") or self.take_words("fulfill", "out", "of")):
            return False
        self.skip("the")
        wh = self.entity_list("warehouse")
        if not wh:
            self.i = save
            return False
        self.take_words("warehouse") or self.take_words("dc")
        if len(wh) > 1:
            raise Refusal("clarify", "Several warehouses: should the first that has stock be used "
                          f"('prefer {', then '.join(c for _, c in wh)}')?")
        self.c.actions.append({"action": "ship_from", "warehouse": wh[0][1]})
        self.c.words.append("from-" + wh[0][1].lower())
        return True

    def act_use_service(self) -> bool:
        save = self.i
        verbs = (("use",), ("ship", "via"), ("ship", "with"), ("ship", "by"), ("ship", "using"), ("send", "via"),
                 ("send", "with"), ("send", "by"), ("ship", "on"), ("goes",), ("go",), ("via",), ("with",),
                 ("ship",), ("send",), ("using",), ("should", "go"), ("switch", "to"), ("upgrade", "to"),
                 ("book",), ("by",), ("on",), ("ships", "via"), ("ships", "with"), ("ships",), ("shipped", "via"),
                 ("shipped", "with"), ("shipped",), ("uses",))
        verb = next((v for v in verbs if self.take_words(*v)), None)
        if verb is None:
            # "Ship hazmat orders UPS Ground": the service right after the orders the verb began
            t = self.peek()
            if not (t is not None and t.kind == "ENTITY" and self.c.route_verb and not self.c.actions
                    and self.route_word in ("ship", "send", "ships") and {k for k, _ in t.cands} == {"service"}):
                return False
        before = self.toks[save - 1] if save > 0 else None
        describes = verb in DESCRIBING_VERBS or (before is not None and before.is_word("that", "which"))
        self.skip("the", "a", "an", "them", "it", "out", "via", "with")
        t = self.peek()
        if t is None or t.kind != "ENTITY":
            self.i = save
            return False
        kinds = {k for k, _ in t.cands}
        if self.c.neg_pending and kinds & {"service", "carrier"}:
            pool = self.entity_list("service", "carrier")
            action: Node = {"action": "exclude_services"}
            if [c for k, c in pool if k == "service"]:
                action["services"] = [c for k, c in pool if k == "service"]
            if [c for k, c in pool if k == "carrier"]:
                action["carriers"] = [c for k, c in pool if k == "carrier"]
            self.c.actions.append(action)
            self.c.neg_pending = False
            return True
        if "service" in kinds:
            svc = self.entity("service")
            assert svc is not None
            self.i += 1
            if self.at_words("or") or self.at_words("and") or self.at_words("/"):
                more = self.peek(1)
                if more is not None and more.kind == "ENTITY" and {k for k, _ in more.cands} & {"service", "carrier"}:
                    raise Refusal("clarify", "Several services: should the cheapest or the fastest of them be used? "
                                  "Say e.g. 'rate shop UPS Ground and FedEx Ground for the cheapest'.")
            if describes:
                self.described_service = f"{' '.join(t.orig for t in self.toks[save:self.i])}"
            self.c.actions.append({"action": "use_service", "service": svc[1]})
            self.c.words.append(svc[1].lower().replace("_", "-"))
            return True
        if "carrier" in kinds and verb is not None and verb != ("with",) or ("carrier" in kinds and verb == ("with",)
                                                                              and self.c.actions == []):
            start = self.i
            carrier = self.entity("carrier")
            assert carrier is not None
            codes = [s.code for s in self.catalog.services.values() if s.carrier == carrier[1]]
            shown = self.vocab.display.get(carrier, carrier[1])
            carrier_word = " ".join(x.orig or x.text for x in self.toks[start:self.i]) or shown
            if len(codes) == 1:  # naming the carrier is not naming its service: a second one may come
                svc_name = self.vocab.display.get(("service", codes[0]), codes[0])
                raise Refusal("clarify", f"A rule names a service, not a carrier: '{carrier_word}' has one service "
                              f"here, {svc_name} ({codes[0]}). Say 'use {svc_name}', or 'rate shop {shown} for "
                              "the cheapest' to take whichever of its services is cheapest.")
            raise Refusal("clarify", f"'{carrier_word}' has several services ({', '.join(codes)}). "
                          f"Which one? Or say 'rate shop {shown} for the cheapest'.")
        self.i = save
        return False

    def act_tag(self) -> bool:
        save = self.i
        # "gets a bulk tag", "get the dg tag", "put a fragile tag on": the word before "tag"
        if self.take_words("gets") or self.take_words("get") or self.take_words("put"):
            self.skip("a", "an", "the")
            tag = self._tag_word()
            if tag is not None and self.take_words("tag"):
                self.take_words("on")
                self._set_tag(tag)
                return True
            self.i = save
        if self.take_words("add", "a", "tag") or self.take_words("add", "the", "tag") or self.take_words("add", "tag") \
                or self.take_words("apply", "the", "tag") or self.take_words("apply", "tag"):
            tag = self._tag_word()
            if tag is None:
                raise Refusal("clarify", "Which tag? Say e.g. 'add tag \"bulk\"'.")
            self._set_tag(tag)
            return True
        if self.take_words("add", "a") or self.take_words("add", "the") or self.take_words("add") \
                or self.take_words("apply", "a") or self.take_words("apply", "the"):
            tag = self._tag_word()
            if tag is not None and self.take_words("tag"):
                self._set_tag(tag)
                return True
            self.i = save
            return False
        if self.take_words("tag") or self.take_words("label") or self.take_words("mark") or self.take_words("flag"):
            if self.toks[save].text == "flag" and not self.at_words("as"):
                word = self.toks[save].orig or self.toks[save].text
                raise Refusal("clarify", f"'{word}' how: hold the order for review, or add a tag? Say 'hold ... "
                              "for review' or 'tag ... as \"review\"'.")
            self.skip("it", "them")
            if self.take_words("as") or self.take_words("with"):
                self._skip_tag_noun()
                tag = self._tag_word()
                if tag is None:
                    raise Refusal("clarify", "Which tag? Say e.g. 'tag as \"bulk\"'.")
                self.take_words("tag")
                self._set_tag(tag)
                return True
            t = self.peek()
            s_cond = self.i
            starts_condition = self.condition() is not None
            self.i = s_cond
            if not starts_condition and t is not None and (t.kind == "STRING" or (t.kind == "WORD" and t.text not in FILLERS
                                                         and t.text not in COND_STOP and t.text not in VAGUE
                                                         and t.text not in NOT_RULES and t.text not in UNIT_NOUNS)):
                tag = self._tag_word()
                nxt = self.peek()
                if tag is not None and nxt is not None and nxt.kind == "WORD" and nxt.text in SUBJECTS:
                    # "Tag VIP orders": VIP describes the orders; the tag itself is not said.
                    raise Refusal("clarify", f"Tag '{tag}' orders with which tag, and what makes an order "
                                  f"'{tag}'? Say e.g. 'tag orders tagged vip as \"priority\"'.")
                if tag is not None:
                    self._set_tag(tag)
                    return True
            self.c.pending_tag = True
            return True
        return False

    def act_signature(self) -> bool:
        save = self.i
        if self.take_words("require") or self.take_words("requires") or self.take_words("need") \
                or self.take_words("needs") or self.take_words("get") or self.take_words("collect") \
                or self.take_words("ask", "for") or self.take_words("add") or self.take_words("with") \
                or self.take_words("must", "have") or self.take_words("should", "have") or self.take_words("request"):
            self.skip("a", "an", "the")
            if self.take_words("signature") or self.take_words("signatures"):
                self.take_words("confirmation") or self.take_words("on", "delivery") or self.take_words("required")
                return self._signature()
            if self.at_words("adult", "signature") or self.at_words("direct", "signature"):
                raise Refusal("error", f"A rule can require a signature, but not a specific kind "
                              f"('{self.peek().orig} signature').")  # type: ignore[union-attr]
            self.i = save
            return False
        if self.take_words("signature", "required") or self.take_words("signature", "confirmation") \
                or self.take_words("signature", "needed") or self.take_words("signature", "on", "delivery"):
            return self._signature()
        return False

    def _signature(self) -> bool:
        self.c.actions.append({"action": "require_signature"})
        self.c.words.append("signature")
        return True

    def act_insure(self) -> bool:
        save = self.i
        if self.take_words("insure") or self.take_words("insured") or self.take_words("insure", "them"):
            self.skip("them", "it", "the", "shipment", "shipments", "package", "packages")
            return self._insure()
        if self.take_words("add") or self.take_words("buy") or self.take_words("get") or self.take_words("purchase") \
                or self.take_words("with") or self.take_words("require") or self.take_words("include") \
                or self.take_words("need") or self.take_words("needs") or self.take_words("gets"):
            self.skip("shipping", "carrier", "declared", "value")
            if self.take_words("insurance"):
                return self._insure()
            self.i = save
        return False

    def _insure(self) -> bool:
        self.c.actions.append({"action": "insure"})
        self.c.words.append("insure")
        return True
