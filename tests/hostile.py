"""The hostile vault: every kind of broken or strange input a real vault can hold, in one folder.

Most of these files cannot be committed (a symlink loop, a FIFO, names with control characters,
two names that differ only in case or in Unicode normalisation, bytes that git would convert),
so this script makes the vault, byte for byte, wherever it is asked to:

    python -m tests.hostile /tmp/hostile

``build(root)`` returns what each file must produce: the rules that must report it, and the
exact (line, column) of findings where there is one. ``tests/test_hostile.py`` runs the real CLI
over the vault and checks every expectation.
"""

from __future__ import annotations

import codecs
import contextlib
import os
import socket
import sys
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

# A YAML tag that would run a command if any loader constructed it; the command makes this file.
SENTINEL = "yaml-tag-was-executed"


@dataclass
class Expect:
    """What the lint of one vault file must say: rules, and (rule, line, column) exactly."""

    rules: set[str] = field(default_factory=set)
    at: set[tuple[str, int, int]] = field(default_factory=set)


def _laughs(levels: int = 9, width: int = 9) -> bytes:
    """A "billion laughs": 9 lists of 9 aliases each, 9**9 strings once expanded."""
    lines = ["a0: &a0 [" + ", ".join(['"lol"'] * width) + "]"]
    for level in range(1, levels):
        items = ", ".join([f"*a{level - 1}"] * width)
        lines.append(f"a{level}: &a{level} [{items}]")
    lines.append(f"aliases: *a{levels - 1}")
    return ("---\n" + "\n".join(lines) + "\n---\n# Laughs\n").encode()


def _merge_bomb(levels: int = 9, width: int = 9) -> bytes:
    """Merge keys ``<<`` that copy a mapping 9 times, 9 levels deep: 9**9 pairs if flattened."""
    keys = ", ".join(f"k{i}: {i}" for i in range(width))
    lines = [f"m0: &m0 {{{keys}}}"]
    for level in range(1, levels):
        refs = ", ".join([f"*m{level - 1}"] * width)
        lines.append(f"m{level}: &m{level} {{<<: [{refs}]}}")
    return ("---\n" + "\n".join(lines) + "\n---\n# Merge\n").encode()


def _deep_list(depth: int) -> bytes:
    lines = ["# Deep list", ""]
    lines += ["  " * level + "- item" for level in range(depth)]
    lines += ["", "After the list: [[deep-list-missing]]", ""]
    return "\n".join(lines).encode()


def _utf16(text: str, codec: str, bom: bytes) -> bytes:
    return bom + text.encode(codec)


def build(root: Path, padding: int = 0) -> dict[str, Expect]:
    """Write the hostile vault under ``root`` (made if needed); return the expectations.

    Keys are vault paths as conceptgraph reports them (NFC, POSIX). Files the system cannot
    make here (a socket on a path too long to bind) are left out, and so are their keys.
    ``padding`` good notes more make the vault large enough to be parsed by a pool of worker
    processes, where a record that cannot be pickled would stop the run. They are named to sort
    last (``zz-pad/``): the pool takes the first notes, this process the last ones.
    """
    root.mkdir(parents=True, exist_ok=True)
    (root / ".obsidian").mkdir(exist_ok=True)
    expect: dict[str, Expect] = {}

    def put(rel: str, data: bytes, *rules_at: tuple[str, int, int] | str) -> None:
        path = root / rel
        folder = root
        for part in Path(rel).parent.parts:  # not mkdir(parents=True): it recurses per level
            folder = folder / part
            folder.mkdir(exist_ok=True)
        path.write_bytes(data)
        record = expect.setdefault(unicodedata.normalize("NFC", rel), Expect())
        for item in rules_at:
            if isinstance(item, str):
                record.rules.add(item)
            else:
                record.rules.add(item[0])
                record.at.add(item)

    # Good notes, linked to each other, each with one broken link whose place is known exactly.
    put(
        "good/alpha.md", b"# Alpha\n\nSee [[beta]] and [[alpha-missing]].\n", ("broken-link", 3, 18)
    )
    put(
        "good/beta.md",
        b"# Beta\n\nBack to [[alpha]], on to [[beta-missing]].\n",
        ("broken-link", 3, 26),
    )

    lead = "See [[good/alpha]] and "
    for number in range(padding):
        text = f"# Pad {number}\n\n{lead}[[pad-missing-{number}]].\n"
        put(f"zz-pad/p{number:04d}.md", text.encode(), ("broken-link", 3, len(lead) + 1))

    # YAML that does not parse, is not a mapping, or holds values of the wrong type.
    put("yaml/unclosed-bracket.md", b"---\naliases: [a, b\n---\n# Unclosed\n", "frontmatter-syntax")
    put("yaml/tab-indent.md", b"---\naliases:\n\t- a\n---\n# Tab\n", "frontmatter-syntax")
    put(
        "yaml/unclosed-fence.md",
        b"---\ntype: x\n\n# No closing fence\n",
        ("frontmatter-syntax", 1, 1),
    )
    put("yaml/duplicate-key.md", b"---\ntype: a\ntype: b\n---\n", ("frontmatter-syntax", 3, 1))
    put("yaml/list.md", b"---\n- a\n- b\n---\nbody\n", ("frontmatter-shape", 2, 1))
    put("yaml/scalar.md", b"---\njust a string\n---\n", ("frontmatter-shape", 2, 1))
    put(
        "yaml/wrong-types.md",
        b"---\ncanonical: yes\naliases: 3\ntags: {a: 1}\n---\n# Wrong types\n",
        ("frontmatter-shape", 2, 1),
        ("frontmatter-shape", 3, 1),
        ("frontmatter-shape", 4, 1),
    )
    # An empty item is Obsidian's empty entry, no finding (issue 24); the number is one.
    put(
        "yaml/aliases-null.md",
        b"---\naliases:\n  -\n  - ok\n  - 42\n---\n",
        ("frontmatter-shape", 2, 1),
    )
    put(
        "yaml/aliases-null-concept.md",
        b"---\ntype: mechanism\naliases:\n---\n# Aliases null concept\n",
        ("missing-key", 3, 1),
    )
    sentinel = (root.parent / SENTINEL).as_posix()
    put(
        "yaml/python-apply.md",
        f'---\nx: !!python/object/apply:os.system ["touch {sentinel}"]\n---\n'.encode(),
        ("frontmatter-syntax", 2, 4),
    )
    put(
        "yaml/python-name.md",
        b"---\nx:\n  y: !!python/name:os.system\n---\n",
        ("frontmatter-syntax", 3, 6),
    )
    put(
        "yaml/python-new.md",
        f'---\n!!python/object/new:subprocess.Popen [["touch", "{sentinel}"]]\n---\n'.encode(),
        ("frontmatter-syntax", 2, 1),
    )
    put("yaml/billion-laughs.md", _laughs(), ("frontmatter-syntax", 7, 5))
    put("yaml/merge-bomb.md", _merge_bomb(), ("frontmatter-syntax", 6, 14))
    put("yaml/recursive.md", b"---\naliases: &a [x, *a]\n---\n", ("frontmatter-syntax", 2, 10))
    deep = b"[" * 70 + b"]" * 70
    put("yaml/deep.md", b"---\nx: " + deep + b"\n---\n", ("frontmatter-syntax", 2, 9))
    # Within libyaml's own limit (1,000) but past what pickling between processes can take.
    put("yaml/deeper.md", b"---\nx: " + b"[" * 990 + b"]" * 990 + b"\n---\n", "frontmatter-syntax")
    put(
        "yaml/bad-values.md",
        b"---\ncreated: 2024-15-01\nn: "
        + b"9" * 5000
        + b"\nok: !!bool maybe\ncanonical: yes\n---\n",
        ("frontmatter-syntax", 2, 10),
        ("frontmatter-syntax", 3, 4),
        ("frontmatter-syntax", 4, 5),
        # The rest of the frontmatter still counts: canonical is read, and is of the wrong type.
        ("frontmatter-shape", 5, 1),
    )
    put(
        "yaml/merged-keys.md",
        b"---\nbase: &b {canonical: yes}\n<<: *b\n---\n",
        ("frontmatter-shape", 2, 11),
    )

    # Bytes that are not UTF-8 text.
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01"
    put("bytes/binary.md", png, ("invalid-encoding", 3, 1))
    put(
        "bytes/nul.md",
        b"# Nul\n\nSome text\x00 more [[nul-missing]]\n",
        ("invalid-encoding", 3, 10),
    )
    put(
        "bytes/latin1.md",
        b"# Caf\xe9\n\nSee [[latin1-missing]].\n",
        ("invalid-encoding", 1, 6),
        ("broken-link", 3, 5),
    )
    text16 = "# Sixteen\n\nSee [[utf16-missing]].\n"
    put(
        "bytes/utf16-le-bom.md",
        _utf16(text16, "utf-16-le", codecs.BOM_UTF16_LE),
        "invalid-encoding",
    )
    put(
        "bytes/utf16-be-bom.md",
        _utf16(text16, "utf-16-be", codecs.BOM_UTF16_BE),
        "invalid-encoding",
    )
    put("bytes/utf16-le.md", _utf16(text16, "utf-16-le", b""), ("invalid-encoding", 1, 2))
    put("bytes/utf16-be.md", _utf16(text16, "utf-16-be", b""), ("invalid-encoding", 1, 1))
    put(
        "bytes/utf8-bom.md",
        codecs.BOM_UTF8 + b"---\ntags: [bom]\n---\n# BOM\n\nSee [[bom-missing]].\n",
        ("broken-link", 6, 5),
    )
    put("bytes/crlf.md", b"# CRLF\r\n\r\nSee [[crlf-missing]].\r\n", ("broken-link", 3, 5))
    put(
        "bytes/lone-cr.md",
        b"# CR\r\rSee [[cr-missing]].\r",
        ("line-endings", 1, 5),
        ("broken-link", 3, 5),
    )
    put(
        "bytes/mixed-ends.md",
        b"# Mixed\n\nOne\r\nSee [[mixed-missing]].\n",
        ("line-endings", 3, 4),
        ("broken-link", 4, 5),
    )
    put("bytes/empty.md", b"", ("orphan-note", 1, 1))
    put(
        "bytes/frontmatter-only.md",
        b'---\ntags: [a]\nrelated: "[[fm-missing]]"\n---',
        ("broken-link", 3, 10),
    )
    put(
        "bytes/controls.md",
        b"# Controls\x07\x1b[31m\n\nSee [[ctl\x01\x7f-missing]].\n",
        ("broken-link", 3, 5),
    )

    # Sizes and depths that break naive parsers.
    long_line = b"x" * 5_000_000 + b" [[long-missing]]"
    put("size/long-line.md", long_line, ("broken-link", 1, 5_000_002))
    dense = b"[[dense-missing]] " * 50_000
    put("size/dense-links.md", dense, ("broken-link", 1, 1), ("broken-link", 1, 18 * 49_999 + 1))
    put("size/deep-list.md", _deep_list(2000), ("broken-link", 2004, 17))
    quote = b">" * 2000 + b" [[quote-missing]]\n\nAfter: [[quote-after-missing]]\n"
    put("size/deep-quote.md", quote, ("broken-link", 3, 8))
    brackets = b"[[" * 50_000 + b"\n\nSee [[brackets-missing]].\n" + b"[[\n" * 50_000
    put("size/unclosed-brackets.md", brackets, ("broken-link", 3, 5))
    nested = b"[" * 20_000 + b"[[nested-missing]]" + b"]" * 20_000 + b"\n"
    put("size/nested-brackets.md", nested, ("broken-link", 1, 20_001))

    # A folder tree 1,200 levels deep: a recursive walk would exhaust Python's recursion limit.
    put(
        "deep/" + "d/" * 1200 + "bottom.md",
        b"# Bottom\n\nSee [[bottom-missing]].\n",
        ("broken-link", 3, 5),
    )

    # Names: bidi and control characters, NFD, and names that differ only in case or form.
    put("names/\u202eevil\u202c.md", "See [[\u202etxt.exe]].\n".encode(), "unsafe-file-name")
    put("names/bell\x07.md", b"# Bell\n", "unsafe-file-name")
    put("names/new\nline.md", b"# Newline\n", "unsafe-file-name")
    put("names/tab\tname.md", b"# Tab\n", "unsafe-file-name")
    put("names/has#hash.md", b"# Hash\n", "unsafe-file-name")
    put(
        unicodedata.normalize("NFD", "names/r\u00e9sum\u00e9.md"),
        "# R\u00e9sum\u00e9\n\nSee [[r\u00e9sum\u00e9-missing]].\n".encode(),
        ("broken-link", 3, 5),
    )
    put(
        "names/linker.md",
        b"See [[Note]], [[note]], [[caf\xc3\xa9]] and [[names/\xe2\x80\xaeevil\xe2\x80\xac]].\n",
    )
    put("names/Note.md", b"# Note\n", "name-collision")
    put("names/note.md", b"# note\n", "name-collision")
    put("names/caf\u00e9.md", b"# NFC\n", "name-collision")
    put("names/cafe\u0301.md", b"# NFD\n", "name-collision")
    expect["names/linker.md"].rules.add("ambiguous-link")

    # The file system misbehaving: loops, dangling links, things that are not files.
    (root / "loops").mkdir()
    os.symlink("..", root / "loops" / "up", target_is_directory=True)
    os.symlink(".", root / "loops" / "self", target_is_directory=True)
    os.symlink("loop-a.md", root / "loop-b.md")
    os.symlink("loop-b.md", root / "loop-a.md")
    expect["loop-a.md"] = Expect({"unreadable-file"}, {("unreadable-file", 1, 1)})
    expect["loop-b.md"] = Expect({"unreadable-file"}, {("unreadable-file", 1, 1)})
    os.symlink("no-such-note.md", root / "dangling.md")
    expect["dangling.md"] = Expect({"unreadable-file"}, {("unreadable-file", 1, 1)})
    put("folder.md/inside.md", b"# Inside\n\nSee [[inside-missing]].\n", ("broken-link", 3, 5))
    os.mkfifo(root / "fifo.md")
    expect["fifo.md"] = Expect({"unreadable-file"}, {("unreadable-file", 1, 1)})
    if os.path.exists("/dev/zero"):
        # Out of the vault: not followed, so not read (test_hostile reads one where allowed).
        os.symlink("/dev/zero", root / "device.md")
        expect["device.md"] = Expect({"symlink-out-of-vault"}, {("symlink-out-of-vault", 1, 1)})
    if _bind_socket(root / "socket.md"):
        expect["socket.md"] = Expect({"unreadable-file"}, {("unreadable-file", 1, 1)})
    return expect


def remove_tree(root: Path) -> None:
    """Remove a folder tree too deep for ``shutil.rmtree``, which recurses once per level.

    The hostile vault's 1,200-level folder would otherwise stay behind in the temp folders, and
    stop pytest's own cleanup of them.
    """
    folders = [root]
    index = 0
    while index < len(folders):
        with os.scandir(folders[index]) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    folders.append(Path(entry.path))
                else:
                    os.unlink(entry.path)
        index += 1
    for folder in reversed(folders):
        os.rmdir(folder)


def _bind_socket(path: Path) -> bool:
    """Leave a Unix socket file at ``path``; False where the path is too long or sockets fail."""
    if not hasattr(socket, "AF_UNIX"):
        return False
    with contextlib.closing(socket.socket(socket.AF_UNIX)) as sock:
        try:
            sock.bind(str(path))
        except OSError:
            return False
    return True


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python -m tests.hostile FOLDER")
    for name in sorted(build(Path(sys.argv[1]))):
        print(repr(name))
