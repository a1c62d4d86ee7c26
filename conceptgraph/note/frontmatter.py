"""Find the YAML frontmatter of a note the way Obsidian does, and load it safely with positions.

Obsidian's metadata cache takes frontmatter only when the very first line is exactly ``---``;
it ends at the first later line that starts with ``---``. Without that closing line there is no
frontmatter and the lines are body text, links included.

The YAML is read with PyYAML's safe loader (no tag can construct an object) under YAML 1.2
booleans, because Obsidian's js-yaml reads ``canonical: yes`` as the string "yes", not as true.
The simple frontmatter most concept notes have (words, quoted strings, lists of them) is read
without PyYAML by :mod:`conceptgraph.note.plain_frontmatter`, to the same values and positions.
Duplicate keys are an error, as they are in Obsidian. Before any value is built, the node graph
is measured: aliases that expand it past ``MAX_VALUES`` values (a "billion laughs"), an alias
inside the value it names (a value that contains itself) and nesting deeper than ``MAX_DEPTH``
are refused, so no later step (a rule, an export, pickling between processes) meets a value
that is endless, enormous or too deep to walk.

python-frontmatter is not used: its boundary pattern accepts lines Obsidian does not (``----``,
trailing text) and it cannot say on which line a key stands.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, cast

from conceptgraph.model import Frontmatter, Problem, ProblemKind, Span
from conceptgraph.note.plain_frontmatter import load_simple
from conceptgraph.note.properties import describe

if TYPE_CHECKING:
    import yaml

    ScalarConstructor = Callable[[yaml.SafeLoader, yaml.ScalarNode], object]

    class _Loader(yaml.SafeLoader):
        misread: list[Problem]


@cache
def _loader() -> type[_Loader]:
    """The safe loader with YAML 1.2 booleans (only true/false), like Obsidian's js-yaml.

    Made when first needed: most frontmatter is read without PyYAML (``simpleyaml``), and a
    run over one edited note need not import it.
    """
    import yaml

    base: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's

    class Loader(base):  # type: ignore[valid-type,misc]
        # Scalars that could not be read as their type, kept as text (see _text_if_invalid).
        misread: list[Problem]

    Loader.yaml_implicit_resolvers = {
        first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    Loader.add_implicit_resolver(
        "tag:yaml.org,2002:bool",
        re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
        list("tTfF"),
    )
    for tag, name in (
        ("int", "integer"),
        ("float", "number"),
        ("bool", "boolean"),
        ("null", "null"),
        ("timestamp", "date"),
    ):
        construct = yaml.SafeLoader.yaml_constructors[f"tag:yaml.org,2002:{tag}"]
        Loader.add_constructor(f"tag:yaml.org,2002:{tag}", _text_if_invalid(name, construct))
    return cast("type[_Loader]", Loader)


def _text_if_invalid(name: str, construct: ScalarConstructor) -> ScalarConstructor:
    """A scalar constructor that keeps a value it cannot read as text, and says so.

    PyYAML raises plain ``ValueError`` (or ``KeyError``, ...) for a scalar that looks like its
    type but is not one: ``created: 2024-15-01`` (month 15), an integer of 5,000 digits (past
    Python's conversion limit), ``!!bool maybe``. One mistyped date must not cost the note its
    frontmatter, nor stop the run: the value stays the text it is, and a problem names it.
    """

    def text_if_invalid(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> object:
        try:
            return construct(loader, node)
        except (ValueError, TypeError, KeyError, AttributeError, OverflowError) as exc:
            text = str(node.value)
            shown = repr(text if len(text) <= 40 else text[:40] + "...")
            why = f" ({str(exc)[:80]})" if isinstance(exc, ValueError | OverflowError) else ""
            message = f"YAML value {shown} is not a valid {name}{why}; read as text"
            misread: list[Problem] = getattr(loader, "misread", [])
            misread.append(Problem(ProblemKind.YAML_SYNTAX, _node_span(node), message))
            return text

    return text_if_invalid


# Far beyond any real note's properties, and small enough to walk, copy and pickle at once.
MAX_VALUES = 100_000
MAX_DEPTH = 64


@dataclass(frozen=True, slots=True)
class Split:
    """A note cut into its frontmatter text and its body, with the body's first line number."""

    yaml_text: str | None
    body: str
    body_line: int
    closed: bool


def split(lines: list[str]) -> Split:
    """Cut normalised lines (no line ends) into frontmatter and body."""
    if not lines or lines[0] != "---":
        return Split(None, "\n".join(lines), 1, closed=True)
    for index in range(1, len(lines)):
        if lines[index].startswith("---"):
            return Split("\n".join(lines[1:index]), "\n".join(lines[index + 1 :]), index + 2, True)
    return Split(None, "\n".join(lines), 1, closed=False)


def load(yaml_text: str, end_line: int) -> tuple[Frontmatter | None, list[Problem]]:
    """Load frontmatter text that starts on file line 2 and whose closing fence is ``end_line``."""
    span = Span(1, 1, end_line, 4)
    simple = load_simple(yaml_text)
    if simple is not None:
        return Frontmatter(*simple, span), []
    import yaml

    loader = _loader()(yaml_text)
    loader.misread = []
    try:
        node = loader.get_single_node()
        if node is None:
            return Frontmatter({}, {}, span), []
        problems = _duplicate_keys(node)
        if not problems and ("&" in yaml_text or _could_nest(yaml_text)):
            problems = _measure(node)
        if problems:
            return None, problems
        data = loader.construct_document(node)
    except yaml.constructor.ConstructorError as exc:
        if "could not determine a constructor" in (exc.problem or ""):
            message = f"YAML {_reason(exc)}: tags that construct objects are refused, never run"
            return None, [_problem(ProblemKind.YAML_UNSAFE, exc, message, yaml_text)]
        message = f"YAML value cannot be read: {_reason(exc)}"
        return None, [_problem(ProblemKind.YAML_SYNTAX, exc, message, yaml_text)]
    except yaml.MarkedYAMLError as exc:
        return None, [
            _problem(
                ProblemKind.YAML_SYNTAX, exc, f"YAML does not parse: {_reason(exc)}", yaml_text
            )
        ]
    except yaml.YAMLError as exc:
        return None, [
            Problem(ProblemKind.YAML_SYNTAX, Span.point(2), f"YAML does not parse: {exc}")
        ]
    except (ValueError, TypeError, KeyError, AttributeError, OverflowError, RecursionError) as exc:
        # PyYAML's own errors are YAMLErrors; anything else escaping it is a gap in it, and
        # one note's frontmatter must not stop the run.
        message = f"YAML cannot be read: {type(exc).__name__}: {exc}"
        return None, [Problem(ProblemKind.YAML_SYNTAX, Span.point(2), message)]
    finally:
        loader.dispose()
    if not isinstance(data, dict) or not isinstance(node, yaml.MappingNode):
        message = f"frontmatter is {describe(data)}, not properties (name: value, a line each)"
        return None, [Problem(ProblemKind.YAML_NOT_MAPPING, _node_span(node), message)]
    keys = {
        str(key.value): _node_span(key) for key, _ in node.value if isinstance(key, yaml.ScalarNode)
    }
    values = {str(key): value for key, value in data.items()}
    # Keys merged in with "<<: *base" stand nowhere in this mapping: point at the merge key. A
    # key written as a boolean or a number is named by its text here; keep the two in step.
    merged = keys.get("<<", span)
    for key in values:
        keys.setdefault(key, merged)
    return Frontmatter(values, keys, span), loader.misread


def _could_nest(yaml_text: str) -> bool:
    # Every level of nesting takes a bracket, a brace, a "-" entry, a "?" key or a new line (a
    # nested block mapping starts on its own line): text with fewer of them cannot nest past
    # the limit, and most frontmatter is far below it.
    marks = yaml_text.count("\n") + yaml_text.count("-") + yaml_text.count("?")
    return marks + yaml_text.count("[") + yaml_text.count("{") >= MAX_DEPTH - 1


def _children(node: yaml.Node) -> list[yaml.Node]:
    import yaml

    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def _measure(root: yaml.Node) -> list[Problem]:
    """Refuse a node graph that contains itself, expands too far, or nests too deep.

    One depth-first walk, each node once: aliases make the graph a DAG (or a cycle), and a
    node's expanded size is its own plus its children's, however often they are shared.
    """
    size: dict[int, int] = {}
    depth: dict[int, int] = {}
    open_nodes: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, finished = stack.pop()
        key = id(node)
        children = _children(node)
        if finished:
            open_nodes.discard(key)
            size[key] = 1 + sum(size[id(child)] for child in children)
            depth[key] = 1 + max((depth[id(child)] for child in children), default=0)
            if size[key] > MAX_VALUES:
                message = (
                    f"YAML aliases expand this value past {MAX_VALUES:,} values "
                    "(an alias bomb); refused, never expanded"
                )
                return [Problem(ProblemKind.YAML_UNSAFE, _node_span(node), message)]
            if depth[key] > MAX_DEPTH:
                message = f"YAML nested more than {MAX_DEPTH} levels deep; refused"
                return [Problem(ProblemKind.YAML_UNSAFE, _node_span(node), message)]
            continue
        if key in size:
            continue
        open_nodes.add(key)
        stack.append((node, True))
        for child in children:
            if id(child) in open_nodes:
                message = (
                    "YAML alias inside the value it names: a value containing itself is refused"
                )
                return [Problem(ProblemKind.YAML_UNSAFE, _node_span(child), message)]
            if id(child) not in size:
                stack.append((child, False))
    return []


def string_values(yaml_text: str, budget: int = 10_000) -> list[tuple[str, str, Span]]:
    """Every string scalar under each top-level key, with its span: ``(key, value, span)``.

    Only needed for the few notes with links in properties. Nodes shared through YAML anchors
    are visited once, and at most ``budget`` nodes, so an alias bomb stays cheap.
    """
    import yaml

    root = yaml.compose(yaml_text, Loader=_loader())
    if not isinstance(root, yaml.MappingNode):
        return []
    found: list[tuple[str, str, Span]] = []
    seen: set[int] = set()
    for key, value in root.value:
        if not isinstance(key, yaml.ScalarNode):
            continue
        stack = [value]
        while stack and budget > 0:
            node = stack.pop()
            budget -= 1
            if id(node) in seen:
                continue
            seen.add(id(node))
            if isinstance(node, yaml.ScalarNode) and node.tag.endswith(":str"):
                found.append((str(key.value), str(node.value), _node_span(node)))
            elif isinstance(node, yaml.SequenceNode):
                stack.extend(reversed(node.value))
            elif isinstance(node, yaml.MappingNode):
                stack.extend(v for pair in reversed(node.value) for v in reversed(pair))
    return found


def _duplicate_keys(node: yaml.Node) -> list[Problem]:
    import yaml

    if not isinstance(node, yaml.MappingNode):
        return []
    seen: set[str] = set()
    problems = []
    for key, _ in node.value:
        if not isinstance(key, yaml.ScalarNode):
            continue
        if key.value in seen:
            message = f"YAML does not parse: duplicate key {key.value!r}"
            problems.append(Problem(ProblemKind.YAML_SYNTAX, _node_span(key), message))
        seen.add(key.value)
    return problems


def _node_span(node: yaml.Node) -> Span:
    # Frontmatter text starts on the file's second line, after the opening fence.
    start, end = node.start_mark, node.end_mark
    return Span(start.line + 2, start.column + 1, end.line + 2, end.column + 1)


def _problem(kind: ProblemKind, exc: yaml.MarkedYAMLError, message: str, yaml_text: str) -> Problem:
    mark = exc.problem_mark or exc.context_mark
    if mark is None:
        return Problem(kind, Span.point(2), message)
    lines = yaml_text.split("\n")
    if mark.line >= len(lines):
        # libyaml puts "end of stream" after the text, which is the closing fence: report the
        # end of the last YAML line, where the missing bracket or quote belongs.
        return Problem(kind, Span.point(len(lines) + 1, len(lines[-1]) + 1), message)
    return Problem(kind, Span.point(mark.line + 2, mark.column + 1), message)


def _reason(exc: yaml.MarkedYAMLError) -> str:
    parts = [p for p in (exc.context, exc.problem) if p]
    return ", ".join(parts) if parts else "invalid YAML"
