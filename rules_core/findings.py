"""Findings: what validation says about rules, as data shown to people, models and tests."""

from __future__ import annotations

import difflib
from typing import Iterable, Literal

from pydantic import BaseModel

Severity = Literal["error", "warning"]


class Finding(BaseModel):
    code: str
    severity: Severity
    message: str
    path: str = ""  # JSON pointer into the rule or rule set
    hint: str | None = None

    def __str__(self) -> str:
        where = f" at {self.path}" if self.path else ""
        hint = f" ({self.hint})" if self.hint else ""
        return f"{self.severity}: {self.code}{where}: {self.message}{hint}"


def did_you_mean(name: str, choices: Iterable[str]) -> str | None:
    """'did you mean `UPS_GROUND`?' for a misspelt code, or None when nothing is close."""
    pool = list(choices)
    folded = {c.upper().replace("-", "_").replace(" ", "_"): c for c in pool}
    key = name.upper().replace("-", "_").replace(" ", "_")
    if key in folded:
        return f"did you mean `{folded[key]}`?"
    close = difflib.get_close_matches(key, list(folded), n=3, cutoff=0.6)
    if not close:
        return None
    names = " or ".join(f"`{folded[c]}`" for c in close)
    return f"did you mean {names}?"


def has_errors(findings: Iterable[Finding]) -> bool:
    return any(f.severity == "error" for f in findings)


def pointer(*parts: object) -> str:
    """A JSON pointer from path parts (RFC 6901 escaping)."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)
