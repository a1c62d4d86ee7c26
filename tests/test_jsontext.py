"""The fast indented JSON writer gives the bytes json.dumps(indent=2) gives."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conceptgraph.jsontext import dumps

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True)
    | st.text()
    | st.text(alphabet='"\\\n\t\x00\x1f\u2028é😀<>&')
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=5)
        | st.tuples(inner, inner)
        | st.dictionaries(st.text(max_size=8), inner, max_size=5)
        | st.dictionaries(st.integers() | st.booleans() | st.none(), inner, max_size=3)
    ),
    max_leaves=40,
)


@settings(max_examples=800, deadline=None)
@given(values, st.sampled_from([0, 1, 2, 4]), st.booleans(), st.booleans())
def test_the_same_text_as_json_dumps(
    value: object, indent: int, sort_keys: bool, allow_nan: bool
) -> None:
    options = {"indent": indent, "sort_keys": sort_keys, "allow_nan": allow_nan}
    try:
        expected = json.dumps(value, ensure_ascii=False, **options)  # type: ignore[arg-type]
    except (ValueError, TypeError) as error:
        with pytest.raises(type(error)):
            dumps(value, indent, sort_keys, allow_nan)
        return
    assert dumps(value, indent, sort_keys, allow_nan) == expected


def test_a_jsonld_shaped_document() -> None:
    document = {
        "@context": {"skos": "http://www.w3.org/2004/02/skos/core#"},
        "@graph": [
            {"@id": "urn:a", "@type": ["skos:Concept", "cg:Mechanism"], "cg:weight": 3},
            {"@id": "urn:b", "cg:links": [{"@id": "urn:a"}], "cg:draft": False, "x": {}},
            {"@id": 'urn:"c"', "cg:aliases": [], "cg:note": "line\nnext\u2028"},
        ],
    }
    assert dumps(document) == json.dumps(document, ensure_ascii=False, indent=2)


def test_a_value_written_deeper_in_a_document() -> None:
    # A writer that streams a document's items writes each at its depth.
    items = [{"b": [1, {"c": "x"}], "a": None}, {}, []]
    whole = json.dumps({"k": items}, ensure_ascii=False, indent=1, sort_keys=True)
    parts = ",\n  ".join(dumps(item, 1, sort_keys=True, depth=2) for item in items)
    assert whole == '{\n "k": [\n  ' + parts + "\n ]\n}"
