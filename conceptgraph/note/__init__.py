"""Reading one note: a file's bytes -> ``NoteRecord``, with problems recorded, never raised.

In: a vault path and bytes. Out: a :class:`conceptgraph.model.NoteRecord` (text, frontmatter,
headings, sections, links, list items, block ids, directives, problems).

- :mod:`.parse`: the steps in order (:func:`~conceptgraph.note.parse.parse_note`);
- :mod:`.decode`: bytes -> text as Obsidian reads it;
- :mod:`.frontmatter` and :mod:`.plain_frontmatter`: the YAML block, found as Obsidian finds it;
- :mod:`.markdown`: the Markdown engines and the one module that chooses between them;
- :mod:`.wikilinks`: the ``[[target#sub|text]]`` syntax;
- :mod:`.negation`: the items of a "What this is NOT" section;
- :mod:`.properties`: property values as Obsidian types them (text, list, number, date, ...)
  and the types a vault declares (`.obsidian/types.json`).
"""
