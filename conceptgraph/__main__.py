"""Allow ``python -m conceptgraph``."""

from conceptgraph.cli import main

main()
