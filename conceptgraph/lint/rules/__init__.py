"""Every rule family, imported explicitly so that registering a rule is one visible line."""

from conceptgraph.lint.rules import canonical, frontmatter, links, negation, structure, text

FAMILIES = (frontmatter, links, canonical, negation, structure, text)
