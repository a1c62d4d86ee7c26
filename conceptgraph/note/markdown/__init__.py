"""The Markdown engines: a note body -> ``MarkdownParts``, positioned in the whole file.

The parts are headings, sections, links, list items, block ids, directives and problems.

- :mod:`.engine` chooses the engine (``--parser``) and runs the chain;
- :mod:`.reference`: markdown-it-py, the reference every other engine is held to;
- :mod:`.plain`: plain notes read line by line;
- :mod:`.fast`: pulldown-cmark through pyromark;
- :mod:`.parts`: what they all give, and the pieces of reading they share.
"""
