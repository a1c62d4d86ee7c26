"""How names compare: file names as Obsidian folds them, concepts, and headings.

Three comparisons, three functions, so every rule and index agrees on what "the same name"
means.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache


def fold(name: str) -> str:
    """The form Obsidian compares file names in: NFC (macOS writes NFD) and lower case."""
    if name.isascii():
        return name.lower()  # already NFC: indexes fold every file name of the vault
    return unicodedata.normalize("NFC", name).lower()


# Rules ask for the same few thousand names and headings over and over.
@lru_cache(maxsize=1 << 16)
def concept_key(text: str) -> str:
    """The form concept names and aliases are compared in.

    Case, spaces, hyphens, underscores and a leading article do not make two concepts differ:
    "The Erasure-cost" and "erasure cost" are one concept.
    """
    words = unicodedata.normalize("NFC", text).casefold().replace("-", " ").replace("_", " ")
    parts = words.split()
    if len(parts) > 1 and parts[0] in ("a", "an", "the"):
        parts = parts[1:]
    return "".join(parts)


# Obsidian's stripHeading: these characters count as spaces when a link's heading is compared.
_HEADING_PUNCTUATION = re.compile(r"[!\"#$%&()*+,.:;<=>?@^`{|}~/\[\]\\\r\n]")


@lru_cache(maxsize=1 << 16)
def heading_key(text: str) -> str:
    """The form Obsidian compares a heading and a link's heading part in."""
    return " ".join(_HEADING_PUNCTUATION.sub(" ", text).split()).lower()


_COMMENT = re.compile(r"<!--.*?(?:-->|$)|%%.*?(?:%%|$)", re.DOTALL)


def strip_comments(text: str) -> str:
    """Text without its HTML (``<!-- -->``) and Obsidian (``%% %%``) comments.

    Comments name nothing; an unclosed one runs to the end of the text.
    """
    if "<!--" not in text and "%%" not in text:
        return text  # as most text is: spared the regex
    return _COMMENT.sub("", text)
