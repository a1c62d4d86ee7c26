"""The linter: rules over a vault, an engine that runs them, reporters that print findings."""
