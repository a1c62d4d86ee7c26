"""The editor side: ``conceptgraph server``, a Language Server over stdio.

In: the vault on disk and the unsaved text of the notes open in the editor. Out: the findings
of ``conceptgraph lint`` for that text as diagnostics, with their fixes as code actions; link
completion, navigation and symbols. ``workspace`` holds the vault with its unsaved overlays
(never written to disk); ``diagnostics``, ``completion``, ``navigation`` and ``actions`` answer
from it; ``server`` wires them to the protocol (pygls). Nothing here is imported by ``lint``.
"""
