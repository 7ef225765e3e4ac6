"""Exceptions of the rules core.

    RulewrightError                 root: every error a user can cause, with a one-line message
     ├── InputError                 a file or JSON value the user gave cannot be read
     │    └── OrderError            an order is malformed (names the order and the place)
     ├── QuantityError              a quantity, unit or currency is malformed
     ├── CatalogError               a catalog file is missing or invalid (names file and entry)
     ├── RuleSetError               rules cannot be compiled (they have error findings)
     └── StoreError                 the rule store refused an operation
          ├── NotFound              no such proposal, version or user
          ├── PermissionDenied      the acting user may not do this (four eyes, role)
          └── Conflict              the store moved on (stale base, concurrent approval)

Findings (validation results) are data, not exceptions: see ``rules_core.findings``.
"""

from __future__ import annotations


class RulewrightError(Exception):
    """Root of the errors a user can cause; ``str(err)`` is a one-line message."""


class InputError(RulewrightError):
    pass


class OrderError(InputError):
    pass


class QuantityError(RulewrightError):
    pass


class CatalogError(RulewrightError):
    pass


class RuleSetError(RulewrightError):
    def __init__(self, message: str, findings: list | None = None) -> None:
        super().__init__(message)
        self.findings = findings or []


class StoreError(RulewrightError):
    pass


class NotFound(StoreError):
    pass


class PermissionDenied(StoreError):
    pass


class Conflict(StoreError):
    pass
