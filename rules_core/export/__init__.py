"""Exporters of an approved rule set for runtime engines (JDM graph, bundle)."""
