"""Rewriting a vault's links when a note, folder, heading or block id is renamed.

In: a loaded ``Vault`` and what to rename. Out: a ``Plan`` (:mod:`.plan`): text edits (the
file, the offsets in the text planned against, the new text) and file moves, worked out
without writing anything, so that a language server can turn it into a workspace edit and
the command line can show it as a diff or write it (``apply_plan``).

- :mod:`.plan`: the records, the rewriting of one link in each form it can be written in,
  the diff, and the guarded, atomic writes;
- :mod:`.move`: ``plan_move``, a note or folder to a new path (``plan_moves``: several);
- :mod:`.heading`: ``plan_rename_heading`` and ``plan_rename_block``.
"""

from conceptgraph.edit.heading import plan_rename_block, plan_rename_heading
from conceptgraph.edit.move import plan_move, plan_moves
from conceptgraph.edit.plan import FileMove, Plan, TextEdit, apply_plan, plan_diff

__all__ = [
    "FileMove",
    "Plan",
    "TextEdit",
    "apply_plan",
    "plan_diff",
    "plan_move",
    "plan_moves",
    "plan_rename_block",
    "plan_rename_heading",
]
