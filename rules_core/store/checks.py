"""What a proposal is checked with before it is shown and again before it is approved:
the validator's findings and the dry-run impact on the sample orders.

The store depends on this small protocol, not on the validator and simulator themselves,
so tests and benchmarks can swap in their own and the store imports them only when used.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

from rules_core.errors import StoreError
from rules_core.findings import Finding
from rules_core.models import Rule


class Checker(Protocol):
    def findings(self, changed: list[Rule], others: list[Rule]) -> list[Finding]:
        """Findings for ``changed`` rules, in the company of the ``others`` that stay."""

    def impact(self, current: list[Rule], proposed: list[Rule]) -> dict[str, Any]:
        """Dry-run summary of replacing ``current`` with the complete set ``proposed``."""


class DryRun:
    """The real checks: ``rules_core.validator`` and ``rules_core.simulate`` on the sample orders."""

    def __init__(self, catalog_dir: Path | None = None, catalog: Any = None, orders: list[Any] | None = None) -> None:
        self._catalog_dir, self._catalog, self._orders = catalog_dir, catalog, orders

    @property
    def catalog(self) -> Any:
        if self._catalog is None:
            from rules_core.catalog import load_catalog

            self._catalog = load_catalog(self._catalog_dir)
        return self._catalog

    @property
    def orders(self) -> list[Any]:
        if self._orders is None:
            from rules_core.samples import sample_orders

            self._orders = sample_orders(self.catalog)
        return self._orders

    def findings(self, changed: list[Rule], others: list[Rule]) -> list[Finding]:
        try:
            from rules_core.validator import validate
        except ImportError:
            raise StoreError("the rule validator is not available in this installation") from None
        return list(validate(changed, self.catalog, existing=others))

    def impact(self, current: list[Rule], proposed: list[Rule]) -> dict[str, Any]:
        from rules_core.simulate import simulate

        return dict(simulate(current, proposed, self.orders, self.catalog, full=True).summary())
