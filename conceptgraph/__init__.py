"""conceptgraph: a typed knowledge graph and linter for vaults of Markdown concept notes."""

__version__ = "0.1.0"
