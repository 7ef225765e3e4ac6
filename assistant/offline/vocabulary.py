"""The offline parser's vocabulary, generated from the field registry and the catalog.

Every name a request may use for a catalog entry (codes, names, aliases, warehouse cities,
country and region names) maps to its candidates ``(kind, code)``; a phrase that names
several things keeps all of them and the parser asks when context does not decide. Two-letter
codes (states, provinces, countries) match only when written in capitals, so "in", "or" and
"on" stay words. Built once per catalog and cached.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from rules_core.catalog import Catalog
from rules_core.registry import FIELDS

# Adjectives ops people use for destination countries.
DEMONYMS = {"canadian": "CA", "american": "US", "mexican": "MX", "british": "GB", "german": "DE",
            "french": "FR", "japanese": "JP", "australian": "AU"}
COUNTRY_EXTRAS = {"usa": "US", "united states of america": "US", "uk": "GB", "the us": "US"}

Candidate = tuple[str, str]  # (kind, code)


def phrase_key(text: str) -> str:
    """How phrases are compared: lower case, hyphens/underscores/slashes as spaces, one space."""
    text = re.sub(r"[-_/]", " ", text.lower()).replace(".", "").replace("'", "")
    return " ".join(text.split())


@dataclass
class Vocabulary:
    phrases: dict[str, list[Candidate]] = field(default_factory=dict)  # phrase key -> candidates
    capital_codes: dict[str, list[Candidate]] = field(default_factory=dict)  # "CA" -> candidates
    max_words: int = 1
    display: dict[Candidate, str] = field(default_factory=dict)  # (kind, code) -> human name

    def add(self, phrase: str, cand: Candidate) -> None:
        key = phrase_key(phrase)
        if not key:
            return
        bucket = self.phrases.setdefault(key, [])
        if cand not in bucket:
            bucket.append(cand)
        self.max_words = max(self.max_words, len(key.split()))

    def add_capital(self, code: str, cand: Candidate) -> None:
        bucket = self.capital_codes.setdefault(code, [])
        if cand not in bucket:
            bucket.append(cand)

    def all_names(self) -> list[str]:
        return sorted(self.phrases)


def _build(catalog: Catalog) -> Vocabulary:
    vocab = Vocabulary()
    for kind, entries in catalog.names().items():
        for code, names in entries.items():
            cand = (kind, code)
            vocab.display[cand] = names[0] if names else code
            if kind in ("country", "region") and len(code) <= 3:
                vocab.add_capital(code, cand)
            else:
                vocab.add(code, cand)
            for name in names:
                if len(name) <= 3 and name.isupper() and kind in ("warehouse",):
                    vocab.add_capital(name, cand)  # "LA" the warehouse, only in capitals
                else:
                    vocab.add(name, cand)
                if kind == "sku" and name.islower() and not name.endswith("s"):
                    vocab.add(name + "s", cand)  # "blue mugs" as well as "blue mug"
    for word, code in {**DEMONYMS, **COUNTRY_EXTRAS}.items():
        if code in catalog.countries:
            vocab.add(word, ("country", code))
    return vocab


_CACHE: dict[int, tuple[Catalog, Vocabulary]] = {}


def vocabulary(catalog: Catalog) -> Vocabulary:
    """The vocabulary of ``catalog`` (cached per catalog object)."""
    hit = _CACHE.get(id(catalog))
    if hit is not None and hit[0] is catalog:
        return hit[1]
    vocab = _build(catalog)
    if len(_CACHE) > 8:
        _CACHE.clear()
    _CACHE[id(catalog)] = (catalog, vocab)
    return vocab


def field_names() -> dict[str, str]:
    """Registry plain-English names (every alias) -> field name."""
    out: dict[str, str] = {}
    for spec in FIELDS.values():
        for name in spec.names:
            out.setdefault(phrase_key(name), spec.name)
    return out
