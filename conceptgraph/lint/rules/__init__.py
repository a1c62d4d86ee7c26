"""Every rule family, imported explicitly so that registering a rule is one visible line."""

from conceptgraph.lint.rules import (
    canonical,
    frontmatter,
    links,
    negation,
    properties,
    quality,
    structure,
    text,
)

FAMILIES = (frontmatter, properties, links, canonical, negation, structure, text, quality)
