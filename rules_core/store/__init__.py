"""The rule store: immutable rule-set versions, proposals and reviews, the active pointer,
a hash-chained audit log; SQLite by default, PostgreSQL through RULEWRIGHT_DATABASE_URL.
The workflow API is ``rules_core.store.workflow.Store``; see docs/store.md."""

from rules_core.store.workflow import (InvalidProposal, Proposal, ProposalDiff, Provenance, Review, Store,
                                       Version, active_rules, repeated_rule_id)

__all__ = ["InvalidProposal", "Proposal", "ProposalDiff", "Provenance", "Review", "Store", "Version",
           "active_rules", "repeated_rule_id"]
