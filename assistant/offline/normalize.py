"""Tokens of an ops request: money, weights, numbers, dates, times, quoted text, catalog names.

Loose spellings become value tokens at the edge ("$1,500", "1500 USD", "CA$40", "$40 CAD",
"20 pounds", "2 kg", "Dec 1", "3pm"); runs of words that name a catalog entry become one
ENTITY token carrying every candidate ``(kind, code)``; everything else is a lower-case WORD.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from assistant.offline.vocabulary import Candidate, Vocabulary, phrase_key

WEIGHT_WORDS = {"lb": "lb", "lbs": "lb", "pound": "lb", "pounds": "lb", "#": "lb", "oz": "oz",
                "ounce": "oz", "ounces": "oz", "kg": "kg", "kgs": "kg", "kilo": "kg", "kilos": "kg",
                "kilogram": "kg", "kilograms": "kg", "g": "g", "gram": "g", "grams": "g"}
CURRENCY_WORDS = {"usd": "USD", "cad": "CAD", "eur": "EUR", "gbp": "GBP", "mxn": "MXN",
                  "dollars": "$", "dollar": "$", "bucks": "$"}
CURRENCY_PREFIX = {"$": "$", "us$": "USD", "ca$": "CAD", "c$": "CAD", "€": "EUR", "£": "GBP"}
MONTHS = {m: i + 1 for i, m in enumerate(
    "jan feb mar apr may jun jul aug sep oct nov dec".split())}
MONTHS.update({"january": 1, "february": 2, "march": 3, "april": 4, "june": 6, "july": 7,
               "august": 8, "september": 9, "sept": 9, "october": 10, "november": 11, "december": 12})
CONTRACTIONS = {"don't": "do not", "doesn't": "does not", "isn't": "is not", "aren't": "are not",
                "won't": "will not", "can't": "cannot", "shouldn't": "should not", "it's": "it is",
                "they're": "they are", "that's": "that is", "let's": "let us", "we're": "we are",
                "there's": "there is", "what's": "what is"}

_NUM = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_MONEY_PRE = r"(?:US\$|CA\$|C\$|\$|€|£)"
_CUR = r"(?:USD|CAD|EUR|GBP|MXN|usd|cad|eur|gbp|mxn|dollars?|bucks)"
_TOKEN = re.compile(rf"""
    (?P<string>"[^"]*"|“[^”]*”)
  | (?P<iso>\d{{4}}-\d{{2}}-\d{{2}})
  | (?P<slashdate>\d{{1,2}}/\d{{1,2}}(?:/\d{{2,4}})?)
  | (?P<money>(?P<mpre>{_MONEY_PRE})\s?(?P<mnum>{_NUM})(?P<mk>[kK])?(?:\s?(?P<mcur>{_CUR})\b)?
       | (?P<cpre>USD|CAD|EUR|GBP)\s?(?P<cnum>{_NUM})
       | (?P<pnum>{_NUM})(?P<pk>[kK])?\s?(?P<pcur>{_CUR})\b)
  | (?P<time>(?P<th>\d{{1,2}})(?::(?P<tm>\d{{2}}))?\s?(?P<ampm>am|pm|a\.m\.|p\.m\.)(?![a-z])
       | (?P<th24>\d{{1,2}}):(?P<tm24>\d{{2}})(?!\d))
  | (?P<qty>(?P<qnum>{_NUM})\s?(?P<qunit>lbs?|pounds?|oz|ounces?|kgs?|kilos?|kilograms?|grams?|g)(?![a-z]))
  | (?P<dash>(?<=\d)\s?[-–]\s?(?=[\d$]))
  | (?P<num>(?:{_NUM})(?![A-Za-z\d]|-[A-Za-z]))(?P<plus>\+)?
  | (?P<word>[A-Za-z0-9][A-Za-z0-9'’]*(?:[-_/][A-Za-z0-9]+)*)
  | (?P<punct>[,;.:()!?&+<>=])
  | (?P<space>\s+)
  | (?P<other>.)
""", re.VERBOSE)


@dataclass
class Tok:
    kind: str  # WORD ENTITY CAPS NUM MONEY QTY DATE TIME STRING PUNCT DASH AMBIGUOUS OTHER
    text: str  # lower-case text for words; original otherwise
    value: Any = None
    cands: list[Candidate] = field(default_factory=list)
    orig: str = ""
    compound: tuple[str, int] | None = None  # first part of "soft-goods": (whole word, parts)

    def is_word(self, *words: str) -> bool:
        return self.kind == "WORD" and self.text in words

    def __repr__(self) -> str:
        return f"{self.kind}:{self.orig or self.text}"



class TokenCursor:
    """A position in a sentence's tokens, with the look-ahead the readers share."""

    toks: list[Tok]
    i: int

    def peek(self, k: int = 0) -> Tok | None:
        j = self.i + k
        return self.toks[j] if j < len(self.toks) else None

    def at_words(self, *words: str, k: int = 0) -> bool:
        """The words (or punctuation) at the cursor, ``k`` tokens on."""
        for n, w in enumerate(words):
            t = self.peek(k + n)
            if t is None or t.kind not in ("WORD", "PUNCT") or t.text != w:
                return False
        return True

    def take_words(self, *words: str) -> bool:
        if self.at_words(*words):
            self.i += len(words)
            return True
        return False

    def take_any(self, phrases: set[tuple[str, ...]]) -> bool:
        """The longest of ``phrases`` at the cursor, taken."""
        return any(self.take_words(*ph) for ph in sorted(phrases, key=len, reverse=True))

    def skip(self, *words: str) -> None:
        while self.peek() is not None and self.peek().is_word(*words):  # type: ignore[union-attr]
            self.i += 1

    def take_days(self) -> int | None:
        """"3 days", "2 business days", "5 transit days" at the cursor: the whole number, taken."""
        save = self.i
        t = self.peek()
        if t is None or t.kind != "NUM" or not float(t.value).is_integer():
            return None
        self.i += 1
        self.take_words("business") or self.take_words("transit")
        if not (self.take_words("days") or self.take_words("day")):
            self.i = save
            return None
        return int(t.value)

def _number(text: str, thousands: str | None = None) -> float:
    n = float(text.replace(",", ""))
    return n * 1000 if thousands else n


def _money(m: re.Match[str]) -> tuple[float, str]:
    if m.group("mnum"):
        pre = CURRENCY_PREFIX[m.group("mpre").lower()]
        suffix = CURRENCY_WORDS.get((m.group("mcur") or "").lower())
        if pre == "$":
            cur = suffix or "$"
        else:
            cur = pre if suffix in (None, "$", pre) else "?"
        return _number(m.group("mnum"), m.group("mk")), cur
    if m.group("cnum"):
        return _number(m.group("cnum")), m.group("cpre")
    return _number(m.group("pnum"), m.group("pk")), CURRENCY_WORDS[m.group("pcur").lower()]


def _time(m: re.Match[str]) -> tuple[int, int] | None:
    if m.group("th24"):
        h, mi = int(m.group("th24")), int(m.group("tm24"))
    else:
        h, mi = int(m.group("th")), int(m.group("tm") or 0)
        if not 1 <= h <= 12:
            return None
        pm = m.group("ampm").startswith("p")
        h = (h % 12) + (12 if pm else 0)
    return (h, mi) if 0 <= h <= 23 and 0 <= mi <= 59 else None


def _expand(text: str) -> str:
    text = text.replace("’", "'").replace("‘", "'")
    for short, long in CONTRACTIONS.items():
        text = re.sub(rf"\b{re.escape(short)}\b", long, text, flags=re.IGNORECASE)
    text = re.sub(r"\bP\.\s?O\.", "PO", text, flags=re.IGNORECASE)
    return text


_DOT_THOUSANDS = re.compile(r"(?<![\d,.])[1-9]\d{0,2}\.\d{3}(?![\d])")


def raw_tokens(text: str) -> list[Tok]:
    out: list[Tok] = []
    for m in _TOKEN.finditer(_expand(text)):
        kind = m.lastgroup
        s = m.group(0)
        if m.group("space"):
            continue
        if (m.group("money") or m.group("qty") or m.group("num")) and _DOT_THOUSANDS.search(s):
            # "$5.000" is 5,000 in much of the world and 5 in the US: never pick one
            out.append(Tok("AMBIGUOUS", s, orig=s))
            continue
        if m.group("string") is not None:
            out.append(Tok("STRING", s[1:-1], s[1:-1], orig=s))
        elif m.group("iso"):
            try:
                out.append(Tok("DATE", s, date.fromisoformat(s), orig=s))
            except ValueError:
                out.append(Tok("OTHER", s, orig=s))
        elif m.group("slashdate"):
            out.append(Tok("SLASHDATE", s, orig=s))
        elif m.group("money"):
            out.append(Tok("MONEY", s, _money(m), orig=s))
        elif m.group("time"):
            t = _time(m)
            out.append(Tok("TIME", s, t, orig=s) if t else Tok("OTHER", s, orig=s))
        elif m.group("qty"):
            out.append(Tok("QTY", s, (_number(m.group("qnum")), WEIGHT_WORDS[m.group("qunit").lower()]), orig=s))
        elif m.group("dash"):
            out.append(Tok("DASH", "-", orig=s))
        elif m.group("num"):
            out.append(Tok("NUM", s, _number(m.group("num")), orig=s))
            if m.group("plus"):
                out.append(Tok("PUNCT", "+", orig="+"))
        elif kind == "word" or m.group("word"):
            word = m.group("word")
            low = word.lower()
            if low.endswith("'s") or low.endswith("’s"):
                word, low = word[:-2], low[:-2]
            out.append(Tok("WORD", low, orig=word))
        elif m.group("punct"):
            out.append(Tok("PUNCT", s, orig=s))
        else:
            out.append(Tok("OTHER", s, orig=s))
    return out


def _split_compound(toks: list[Tok]) -> list[Tok]:
    """Hyphenated or underscored words become their parts ("ACME-MUG-BLUE" -> acme mug blue)."""
    out: list[Tok] = []
    for t in toks:
        if t.kind == "WORD" and re.search(r"[-_/]", t.orig):
            start = len(out)
            for p in re.split(r"([-_/])", t.orig):
                if p == "/":
                    out.append(Tok("PUNCT", "/", orig="/"))
                elif p and p not in "-_":
                    out.append(Tok("WORD", p.lower(), orig=p))
            if "/" not in t.orig and len(out) > start:
                out[start].compound = (t.orig, len(out) - start)
        else:
            out.append(t)
    return out


def looks_like_code(word: str) -> bool:
    """SKU- or service-code-like: capitals with a hyphen or underscore (ACME-MUG-GREEN)."""
    return bool(re.search(r"[-_]", word)) and sum(c.isupper() for c in word) >= 3 and "/" not in word


def _entity_at(toks: list[Tok], i: int, vocab: Vocabulary) -> tuple[int, list[Candidate]] | None:
    """The longest run of words from ``i`` that names catalog entries: (length, candidates)."""
    words: list[str] = []
    best = None
    for j in range(i, min(len(toks), i + vocab.max_words)):
        if toks[j].kind != "WORD":
            break
        words.append(toks[j].orig)
        cands = vocab.phrases.get(phrase_key(" ".join(words)))
        if cands:
            best = (j - i + 1, cands)
    if best is None and toks[i].kind == "WORD" and toks[i].orig in vocab.capital_codes:
        best = (1, vocab.capital_codes[toks[i].orig])
    elif best is not None and best[0] == 1 and toks[i].orig in vocab.capital_codes:
        best = (1, best[1] + [c for c in vocab.capital_codes[toks[i].orig] if c not in best[1]])
    return best


def tokenize(text: str, vocab: Vocabulary) -> list[Tok]:
    """Tokens of a request, with catalog names merged into ENTITY tokens."""
    toks = raw_tokens(text)
    # Compound words are looked up whole first (codes like ACME-MUG-BLUE), then in parts.
    out: list[Tok] = []
    for t in toks:
        if t.kind == "WORD" and re.search(r"[-_/]", t.orig):
            cands = vocab.phrases.get(phrase_key(t.orig))
            if cands:
                out.append(Tok("ENTITY", t.text, cands=list(cands), orig=t.orig))
                continue
            if looks_like_code(t.orig):
                out.append(Tok("UNKNOWN", t.text, orig=t.orig))
                continue
            out += _split_compound([t])
        else:
            out.append(t)
    merged: list[Tok] = []
    i = 0
    while i < len(out):
        compound = out[i].compound
        lower_compound = compound is not None and compound[0].islower()
        hit = _entity_at(out, i, vocab) if out[i].kind == "WORD" and not lower_compound else None
        if lower_compound:
            merged += out[i:i + out[i].compound[1]]  # type: ignore[index]
            i += out[i].compound[1]  # type: ignore[index]
            continue
        if hit:
            n, cands = hit
            orig = " ".join(t.orig for t in out[i:i + n])
            merged.append(Tok("ENTITY", orig.lower(), cands=list(cands), orig=orig))
            i += n
        else:
            merged.append(out[i])
            i += 1
    return merged


RECENTLY_PASSED_DAYS = 31  # a yearless date passed this recently may mean this year's: ask


def month_day(toks: list[Tok], i: int, today: date) -> tuple[date, int, date | None] | None:
    """A date written "Dec 1", "December 1st, 2026", "1 Dec" at ``i``: (date, tokens used, this
    year's date when the text gives no year and that day passed less than a month ago, so the
    next one is a guess)."""
    def num(t: Tok) -> int | None:
        if t.kind == "NUM" and float(t.value).is_integer():
            return int(t.value)
        m = re.fullmatch(r"(\d{1,2})(st|nd|rd|th)", t.text) if t.kind == "WORD" else None
        return int(m.group(1)) if m else None

    def year_at(j: int) -> tuple[int | None, int]:
        k = j + 1 if j < len(toks) and toks[j].kind == "PUNCT" and toks[j].text == "," else j
        if k < len(toks) and toks[k].kind == "NUM" and 2000 <= toks[k].value <= 2100:
            return int(toks[k].value), k + 1 - j
        return None, 0

    if i + 1 < len(toks) and toks[i].kind == "WORD" and toks[i].text.rstrip(".") in MONTHS:
        month, day = MONTHS[toks[i].text.rstrip(".")], num(toks[i + 1])
        used = 2
    elif i + 1 < len(toks) and num(toks[i]) is not None and toks[i + 1].kind == "WORD" \
            and toks[i + 1].text.rstrip(".") in MONTHS:
        month, day = MONTHS[toks[i + 1].text.rstrip(".")], num(toks[i])
        used = 2
    else:
        return None
    if day is None:
        return None
    year, extra = year_at(i + used)
    passed: date | None = None
    try:
        if year is None:
            d = date(today.year, month, day)
            if d < today:
                if (today - d).days <= RECENTLY_PASSED_DAYS:
                    passed = d
                d = date(today.year + 1, month, day)
        else:
            d = date(year, month, day)
    except ValueError:
        return None
    return d, used + extra, passed
