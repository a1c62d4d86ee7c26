"""Every rule family, imported explicitly so that registering a rule is one visible line."""

from conceptgraph.lint.rules import frontmatter, links, text

FAMILIES = (frontmatter, links, text)
