"""The fast SHACL engine against pySHACL, the reference: the same results, case by case.

A result is compared by focus node, path, value, constraint component and severity. The cases:
every fixture vault, the hostile-names vault and generated vaults (with defects), each against
the shipped shapes plus house rules that use many more Core constraints; and small shape/data
pairs, one or more for each SHACL Core constraint component (no package ships the W3C test
suite, so these follow its cases: each mixes data that conforms with data that does not).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from rdflib import Graph

from conceptgraph.api import open_vault, shacl_vault
from conceptgraph.rdf import shacl_fast
from conceptgraph.rdf.shacl import load_shapes, packaged, pyshacl_hits, report_hits
from conceptgraph.rdf.triples import vault_rdf
from tests.conftest import FIXTURES, run_conceptgraph, write_vault
from tests.hostile_names import build as build_hostile

REPO = Path(__file__).parent.parent
sys.path.insert(0, str(REPO / "benchmarks"))
from generate_vault import generate_vault  # noqa: E402

Row = tuple[object, ...]

# Rules a vault's owner might add: each Core constraint our export can meet, with a message.
HOUSE_RULES = """\
@prefix cg: <https://w3id.org/conceptgraph/vocab#> .
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix ex: <https://example.org/house#> .

ex:Notes a sh:NodeShape ;
    sh:targetClass cg:Note ;
    sh:property [ sh:path skos:definition ; sh:minCount 1 ; sh:severity sh:Warning ;
                  sh:message "a note has a Definition" ] ,
      [ sh:path skos:prefLabel ; sh:pattern "^[A-Z][a-z]" ;
                  sh:message "a title starts with a word" ] ,
      [ sh:path skos:prefLabel ; sh:maxLength 24 ; sh:severity sh:Info ; sh:message "short" ] ,
      [ sh:path skos:altLabel ; sh:minLength 3 ; sh:message "an alias of 3 letters or more" ] ,
      [ sh:path cg:layer ; sh:in ( "core" "edge" "mechanism" ) ; sh:message "a known layer" ] ,
      [ sh:path cg:dependsOn ; sh:nodeKind sh:IRI ; sh:class cg:Note ;
                  sh:message "a dependency is a note" ] ,
      [ sh:path cg:dependsOn ; sh:disjoint cg:isNot ; sh:message "not what it depends on" ] ,
      [ sh:path cg:line ; sh:maxInclusive 40 ; sh:minExclusive 0 ; sh:message "early title" ] ,
      [ sh:path cg:hasResidual ; sh:node ex:Residual ; sh:message "a residual of the vault" ] ,
      [ sh:path ( cg:dependsOn cg:dependsOn ) ; sh:maxCount 6 ; sh:message "few grandparents" ] ,
      [ sh:path [ sh:inversePath cg:linksTo ] ; sh:minCount 1 ; sh:severity sh:Info ;
                  sh:message "linked from somewhere" ] ,
      [ sh:path [ sh:oneOrMorePath cg:dependsOn ] ; sh:maxCount 12 ;
                  sh:message "a shallow dependency tree" ] ,
      [ sh:path [ sh:alternativePath ( cg:linksTo cg:embeds ) ] ;
                  sh:qualifiedValueShape [ sh:class cg:Attachment ] ; sh:qualifiedMaxCount 1 ;
                  sh:message "at most one attachment" ] .

ex:Residual a sh:NodeShape ;
    sh:or ( [ sh:class cg:Residual ] [ sh:class cg:Note ] [ sh:class skos:Concept ] ) .

ex:Canonical a sh:NodeShape ;
    sh:targetSubjectsOf cg:canonical ;
    sh:xone ( [ sh:path cg:canonical ; sh:hasValue true ]
              [ sh:path cg:canonical ; sh:hasValue false ] ) ;
    sh:message "canonical is true or false" .

ex:Negated a sh:NodeShape ;
    sh:targetObjectsOf cg:negatedConcept ;
    sh:not [ sh:class cg:Residual ] ;
    sh:message "a negation names a concept" .

ex:Mechanism a sh:NodeShape ;
    sh:targetClass cg:Note ;
    sh:and ( [ sh:path cg:conceptType ; sh:maxCount 1 ]
             [ sh:path cg:path ; sh:datatype xsd:string ] ) ;
    sh:message "one type and a path" .

ex:Closed a sh:NodeShape ;
    sh:targetClass cg:Residual ;
    sh:closed true ;
    sh:ignoredProperties ( <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> ) ;
    sh:property [ sh:path rdfs:label ] , [ sh:path cg:path ] , [ sh:path cg:line ] ;
    sh:message "a residual has a label and a place" .

ex:NotItself a sh:NodeShape ;
    sh:targetClass cg:Note ;
    sh:sparql [
        sh:message "a note says it is not what it links to: {?value}" ;
        sh:select \"\"\"
            PREFIX cg: <https://w3id.org/conceptgraph/vocab#>
            SELECT $this ?value WHERE { $this cg:isNot ?value ; cg:linksTo ?value . }
        \"\"\" ;
    ] .

ex:Off a sh:NodeShape ; sh:targetClass cg:Note ; sh:deactivated true ;
    sh:property [ sh:path cg:role ; sh:minCount 5 ] .
"""


def _norm(hits: list[shacl_fast.Hit]) -> set[Row]:
    return {(h.focus, h.path, h.value, h.component, h.severity) for h in hits}


def _both(vault: Path, extra: Path) -> tuple[set[Row], set[Row]]:
    shapes = load_shapes([extra])
    rdf = vault_rdf(open_vault(vault))
    vocab = Graph().parse(data=packaged("vocab.ttl"), format="turtle")
    compiled = shacl_fast.Shapes(shacl_fast.Data(shacl_fast.graph_triples(shapes)))
    assert compiled.unsupported == {}
    data = shacl_fast.Data(shacl_fast.graph_triples(vocab), grouped=rdf.triples)
    from conceptgraph.rdf.shacl import _store

    data.sparql = shacl_fast.SparqlData(lambda: _store(rdf, vocab))
    return _norm(shacl_fast.validate(compiled, data)), _norm(pyshacl_hits(rdf, shapes, vocab))


@pytest.fixture(scope="module")
def house(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("shapes") / "house.ttl"
    path.write_text(HOUSE_RULES, encoding="utf-8")
    return path


def _fixture_vaults() -> list[Path]:
    return sorted({p.parent for p in FIXTURES.rglob("*.md")})


@pytest.mark.parametrize("vault", _fixture_vaults(), ids=lambda p: str(p.relative_to(FIXTURES)))
def test_fixture_vaults_give_the_same_results(vault: Path, house: Path) -> None:
    fast, reference = _both(vault, house)
    assert fast == reference


def test_the_hostile_names_vault_gives_the_same_results(tmp_path: Path, house: Path) -> None:
    build_hostile(tmp_path / "hostile")
    fast, reference = _both(tmp_path / "hostile", house)
    assert reference  # the house rules find something here: the comparison is not empty
    assert fast == reference


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_generated_vaults_give_the_same_results(tmp_path: Path, house: Path, seed: int) -> None:
    vault = tmp_path / "generated"
    generate_vault(vault, notes=120, seed=seed, defects=True)
    fast, reference = _both(vault, house)
    components = {row[3] for row in reference}
    assert len(components) >= 4, components
    assert fast == reference


def _odd(root: Path) -> Path:
    """A vault that breaks the house rules the generated vaults keep."""
    return write_vault(
        root,
        {
            "a.md": "---\ncanonical: true\nlayer: edge\n---\n# Alpha\n\n"
            "## Structural dependencies\n- [[ghost]]\n- [[b]]\n\n"
            "## Residuals\n- [[pic.png|residuals]]\n\n"
            "## What this is NOT\n- Not [[b]] (it is).\n",
            "b.md": "---\ncanonical: false\ncanonical_of: '[[a]]'\n---\n# Beta\n\nSee [[a]].\n",
            "pic.png": "",
        },
    )


def test_an_odd_vault_gives_the_same_results(tmp_path: Path, house: Path) -> None:
    fast, reference = _both(_odd(tmp_path / "odd"), house)
    assert fast == reference


def test_every_house_rule_is_met_somewhere(tmp_path: Path, house: Path) -> None:
    """The vault cases reach the constraints: each component of the house rules is hit once."""
    found: set[object] = set()
    for seed in (0, 1, 2):
        vault = tmp_path / f"g{seed}"
        generate_vault(vault, notes=120, seed=seed, defects=True)
        found |= {row[3] for row in _both(vault, house)[1]}
    build_hostile(tmp_path / "hostile")
    found |= {row[3] for row in _both(tmp_path / "hostile", house)[1]}
    sh = "http://www.w3.org/ns/shacl#"
    found |= {row[3] for row in _both(_odd(tmp_path / "odd"), house)[1]}
    for name in ("MinCount", "Pattern", "MaxLength", "In", "Class", "Disjoint", "Node", "SPARQL"):
        assert f"{sh}{name}ConstraintComponent" in found, name


def test_the_command_says_the_same_with_either_engine(tmp_path: Path, house: Path) -> None:
    vault = tmp_path / "generated"
    generate_vault(vault, notes=60, seed=3, defects=True)
    fast = shacl_vault(vault, [house])
    reference = shacl_vault(vault, [house], engine="pyshacl")
    # Every shape here has a message, so even the text is the same.
    assert fast.findings == reference.findings
    assert fast.conforms == reference.conforms
    assert fast.notes == ()


# ------------------------------------------------------------------ shape and data pairs

_PREFIXES = """\
@prefix ex: <http://example.org/> .
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
"""

# name: (shapes, data). Each data graph has focus nodes that pass and ones that fail.
CASES: dict[str, tuple[str, str]] = {
    "class-and-subclass": (
        "ex:S a sh:NodeShape ; sh:targetClass ex:Person ; sh:property "
        "[ sh:path ex:pet ; sh:class ex:Animal ] .",
        "ex:Dog rdfs:subClassOf ex:Animal . ex:Student rdfs:subClassOf ex:Person . "
        "ex:a a ex:Person ; ex:pet ex:rex , ex:rock , 3 . ex:rex a ex:Dog . "
        "ex:b a ex:Student ; ex:pet ex:rock . ex:rock a ex:Stone .",
    ),
    "datatype": (
        "ex:S a sh:NodeShape ; sh:targetSubjectsOf ex:age ; sh:property "
        "[ sh:path ex:age ; sh:datatype xsd:integer ] , [ sh:path ex:name ; sh:datatype "
        "xsd:string ]"
        " , [ sh:path ex:ok ; sh:datatype xsd:boolean ] , "
        "[ sh:path ex:label ; sh:datatype rdf:langString ] .",
        'ex:a ex:age 3 , "x" , "4"^^xsd:integer , "four"^^xsd:integer , ex:iri ; ex:name "n" , '
        '"n"@en , 5 ; ex:ok true , "1"^^xsd:boolean , "no" ; ex:label "l"@en , "l" .',
    ),
    "node-kind": (
        "ex:S a sh:NodeShape ; sh:targetSubjectsOf ex:p ; sh:property "
        "[ sh:path ex:p ; sh:nodeKind sh:IRI ] , [ sh:path ex:q ; sh:nodeKind sh:Literal ] , "
        "[ sh:path ex:r ; sh:nodeKind sh:BlankNodeOrIRI ] , "
        "[ sh:path ex:s ; sh:nodeKind sh:IRIOrLiteral ] .",
        'ex:a ex:p ex:x , "lit" , [ ex:z 1 ] ; ex:q "y" , ex:y ; ex:r ex:y , [ ex:z 2 ] , "no" ; '
        "ex:s [ ex:z 3 ] , 4 .",
    ),
    "counts": (
        "ex:S a sh:NodeShape ; sh:targetClass ex:T ; sh:property "
        "[ sh:path ex:p ; sh:minCount 1 ; sh:maxCount 2 ] , [ sh:path ex:q ; sh:minCount 0 ] .",
        "ex:a a ex:T ; ex:p 1 . ex:b a ex:T . ex:c a ex:T ; ex:p 1 , 2 , 3 . ex:d a ex:T ; "
        'ex:p "1" , 1 .',
    ),
    "value-ranges": (
        "ex:S a sh:NodeShape ; sh:targetSubjectsOf ex:n ; sh:property "
        "[ sh:path ex:n ; sh:minInclusive 1 ; sh:maxExclusive 10 ] , "
        "[ sh:path ex:d ; sh:minExclusive 0.5 ; sh:maxInclusive 2.5 ] , "
        '[ sh:path ex:day ; sh:minInclusive "2020-01-01"^^xsd:date ] , '
        '[ sh:path ex:w ; sh:maxInclusive "m" ] .',
        'ex:a ex:n 1 , 0 , 10 , 9 , "5" , 5.5 , ex:x ; ex:d 0.5 , 1 , 2.5 , 3.0e0 , '
        '"1.5"^^xsd:double'
        ' ; ex:day "2021-05-01"^^xsd:date , "2019-12-31"^^xsd:date ; ex:w "a" , "z" , 3 .',
    ),
    "string-length-and-pattern": (
        "ex:S a sh:NodeShape ; sh:targetSubjectsOf ex:s ; sh:property "
        "[ sh:path ex:s ; sh:minLength 2 ; sh:maxLength 4 ] , "
        '[ sh:path ex:code ; sh:pattern "^ab+c$" ] , '
        '[ sh:path ex:ci ; sh:pattern "^x" ; sh:flags "i" ] .',
        'ex:a ex:s "a" , "ab" , "abcde" , 12 , ex:ab , [ ex:z 1 ] ; ex:code "abbc" , "ac" , '
        '"abc"@en , 7 ; ex:ci "X1" , "y" .',
    ),
    "languages": (
        "ex:S a sh:NodeShape ; sh:targetSubjectsOf ex:label ; sh:property "
        '[ sh:path ex:label ; sh:languageIn ( "en" "fr" ) ; sh:uniqueLang true ] .',
        'ex:a ex:label "a"@en , "b"@en-GB , "c"@de , "d" , "e"@fr . ex:b ex:label "x"@fr .',
    ),
    "property-pairs": (
        "ex:S a sh:NodeShape ; sh:targetSubjectsOf ex:start ; sh:property "
        "[ sh:path ex:start ; sh:lessThan ex:end ] , [ sh:path ex:low ; sh:lessThanOrEquals "
        "ex:high ]"
        " , [ sh:path ex:p ; sh:equals ex:q ] , [ sh:path ex:p ; sh:disjoint ex:r ] .",
        "ex:a ex:start 1 ; ex:end 2 ; ex:low 3 ; ex:high 3 ; ex:p 1 , 2 ; ex:q 2 , 3 ; ex:r 2 . "
        'ex:b ex:start 5 , "x" ; ex:end 2 ; ex:low 4 ; ex:high 3 .',
    ),
    "node-level-pairs": (
        "ex:S a sh:NodeShape ; sh:targetNode ex:a , ex:b ; sh:equals ex:same ; "
        "sh:disjoint ex:other .",
        "ex:a ex:same ex:a ; ex:other ex:x . ex:b ex:same ex:c ; ex:other ex:b .",
    ),
    "logic": (
        "ex:S a sh:NodeShape ; sh:targetClass ex:T ; "
        "sh:not [ sh:path ex:banned ; sh:minCount 1 ] ; "
        "sh:or ( [ sh:path ex:email ; sh:minCount 1 ] [ sh:path ex:phone ; sh:minCount 1 ] ) ; "
        "sh:xone ( [ sh:path ex:kind ; sh:hasValue ex:a ] [ sh:path ex:kind ; sh:hasValue ex:b ] "
        ") ; "
        "sh:and ( [ sh:path ex:n ; sh:maxCount 1 ] [ sh:path ex:n ; sh:datatype xsd:integer ] ) .",
        "ex:x a ex:T ; ex:email 1 ; ex:kind ex:a ; ex:n 1 . "
        "ex:y a ex:T ; ex:banned 1 ; ex:kind ex:a , ex:b ; ex:n 1 , 2 . "
        'ex:z a ex:T ; ex:phone 2 ; ex:n "x" .',
    ),
    "node-and-nested-property": (
        "ex:S a sh:NodeShape ; sh:targetClass ex:T ; sh:property [ sh:path ex:address ; "
        "sh:node ex:Address ; sh:property [ sh:path ex:zip ; sh:minCount 1 ; "
        "sh:severity sh:Warning ] ] . "
        "ex:Address a sh:NodeShape ; sh:property [ sh:path ex:city ; sh:minCount 1 ] .",
        "ex:x a ex:T ; ex:address ex:h1 , ex:h2 . ex:h1 ex:city 1 ; ex:zip 2 . ex:h2 ex:zip 3 . "
        "ex:y a ex:T ; ex:address [ ex:city 4 ] .",
    ),
    "qualified": (
        "ex:S a sh:NodeShape ; sh:targetClass ex:T ; sh:property "
        "[ sh:path ex:part ; sh:qualifiedValueShape [ sh:class ex:Wheel ] ; "
        "sh:qualifiedMinCount 2 ; sh:qualifiedMaxCount 3 ; sh:qualifiedValueShapesDisjoint true ]"
        " , [ sh:path ex:part ; sh:qualifiedValueShape [ sh:class ex:Seat ] ; "
        "sh:qualifiedMaxCount 1 ; sh:qualifiedValueShapesDisjoint true ] .",
        "ex:x a ex:T ; ex:part ex:w1 , ex:w2 , ex:s1 . ex:w1 a ex:Wheel . ex:w2 a ex:Wheel . "
        "ex:s1 a ex:Seat . ex:y a ex:T ; ex:part ex:w1 , ex:s1 , ex:s2 , ex:ws . ex:s2 a ex:Seat . "
        "ex:ws a ex:Wheel , ex:Seat .",
    ),
    "closed": (
        "ex:S a sh:NodeShape ; sh:targetClass ex:T ; sh:closed true ; "
        "sh:ignoredProperties ( rdf:type ) ; sh:property [ sh:path ex:a ] .",
        "ex:x a ex:T ; ex:a 1 . ex:y a ex:T ; ex:a 1 ; ex:b 2 , 3 .",
    ),
    "has-value-and-in": (
        "ex:S a sh:NodeShape ; sh:targetSubjectsOf ex:color ; sh:property "
        "[ sh:path ex:color ; sh:in ( ex:red ex:green 1 ) ] , [ sh:path ex:tag ; sh:hasValue "
        "ex:t ] ."
        " ex:N a sh:NodeShape ; sh:targetNode ex:red , ex:blue ; sh:in ( ex:red ) .",
        'ex:a ex:color ex:red , ex:blue , 1 , "1" ; ex:tag ex:t . ex:b ex:color ex:green .',
    ),
    "paths": (
        "ex:S a sh:NodeShape ; sh:targetNode ex:a ; sh:property "
        "[ sh:path [ sh:inversePath ex:parent ] ; sh:maxCount 1 ] , "
        "[ sh:path ( ex:parent ex:parent ) ; sh:class ex:Old ] , "
        "[ sh:path [ sh:zeroOrMorePath ex:parent ] ; sh:maxCount 2 ] , "
        "[ sh:path [ sh:oneOrMorePath ex:parent ] ; sh:nodeKind sh:Literal ] , "
        "[ sh:path [ sh:zeroOrOnePath ex:parent ] ; sh:minCount 3 ] , "
        "[ sh:path [ sh:alternativePath ( ex:parent ex:friend ) ] ; sh:maxCount 1 ] , "
        "[ sh:path ( [ sh:inversePath ex:parent ] ex:friend ) ; sh:minCount 2 ] .",
        "ex:b ex:parent ex:a . ex:c ex:parent ex:a ; ex:friend ex:z . ex:a ex:parent ex:p ; "
        "ex:friend ex:f . ex:p ex:parent ex:q . ex:q ex:parent ex:a .",
    ),
    "implicit-class-target-and-severity": (
        "ex:Person a rdfs:Class , sh:NodeShape ; sh:severity sh:Info ; sh:property "
        "[ sh:path ex:name ; sh:minCount 1 ; sh:severity sh:Warning ] , "
        "[ sh:path ex:age ; sh:maxCount 0 ] .",
        'ex:a a ex:Person ; ex:age 3 . ex:b a ex:Person ; ex:name "b" .',
    ),
    "deactivated": (
        "ex:S a sh:NodeShape ; sh:targetClass ex:T ; sh:property [ sh:path ex:p ; sh:minCount 1 ; "
        "sh:deactivated true ] , [ sh:path ex:q ; sh:minCount 1 ] ; sh:node ex:Off . "
        "ex:Off a sh:NodeShape ; sh:deactivated true ; sh:property [ sh:path ex:r ; sh:minCount "
        "1 ] .",
        "ex:x a ex:T . ex:y a ex:T ; ex:q 1 .",
    ),
    "sparql": (
        "ex:S a sh:NodeShape ; sh:targetClass ex:T ; sh:sparql [ sh:select "
        '"SELECT $this ?value WHERE { $this ex:p ?value . FILTER (?value > 2) }" ; '
        "sh:prefixes ex:decl ] . "
        'ex:decl sh:declare [ sh:prefix "ex" ; sh:namespace "http://example.org/"^^xsd:anyURI ] . '
        "ex:P a sh:NodeShape ; sh:targetClass ex:T ; sh:property [ sh:path ex:q ; sh:sparql [ "
        'sh:select "SELECT ?value WHERE { $this $PATH ?value . FILTER (isIRI(?value)) }" ] ] .',
        "ex:x a ex:T ; ex:p 1 , 3 , 4 ; ex:q 1 . ex:y a ex:T ; ex:p 2 ; ex:q ex:z .",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_core_cases_give_the_same_results(case: str) -> None:
    import pyshacl

    shapes_text, data_text = CASES[case]
    shapes = Graph().parse(data=_PREFIXES + shapes_text, format="turtle")
    data = Graph().parse(data=_PREFIXES + data_text, format="turtle")
    compiled = shacl_fast.Shapes(shacl_fast.Data(shacl_fast.graph_triples(shapes)))
    assert compiled.unsupported == {}
    fast_data = shacl_fast.Data(shacl_fast.graph_triples(data))

    def store() -> object:
        import pyoxigraph as ox

        made = ox.Store()
        made.load(data.serialize(format="nt", encoding="utf-8"), ox.RdfFormat.N_TRIPLES)
        return made

    fast_data.sparql = shacl_fast.SparqlData(store)  # type: ignore[arg-type]
    fast = _norm(shacl_fast.validate(compiled, fast_data))
    _, report, _ = pyshacl.validate(
        data, shacl_graph=shapes, advanced=True, allow_infos=True, allow_warnings=True
    )
    assert isinstance(report, Graph)
    reference = _norm(report_hits(report))
    assert reference, "each case has data that fails"
    assert fast == reference


# ------------------------------------------------------------------ what goes to pySHACL

ADVANCED = """\
@prefix cg: <https://w3id.org/conceptgraph/vocab#> .
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix ex: <https://example.org/shapes#> .

ex:Targeted a sh:NodeShape ;
    sh:target [ a sh:SPARQLTarget ; sh:select \"\"\"
        PREFIX cg: <https://w3id.org/conceptgraph/vocab#>
        SELECT ?this WHERE { ?this a cg:Note }\"\"\" ] ;
    sh:property [ sh:path skos:definition ; sh:minCount 1 ;
                  sh:message "every note has a Definition section" ] .

ex:Core a sh:NodeShape ;
    sh:targetClass cg:Note ;
    sh:property [ sh:path cg:layer ; sh:minCount 1 ; sh:message "a note has a layer" ] .
"""


def test_a_shape_the_fast_engine_cannot_run_goes_to_pyshacl_and_the_run_says_so(
    tmp_path: Path,
) -> None:
    vault = write_vault(
        tmp_path / "vault",
        {"a.md": "---\nlayer: core\n---\n# A\n", "b.md": "# B\n\n## Definition\nA b.\n"},
    )
    shapes = tmp_path / "advanced.ttl"
    shapes.write_text(ADVANCED, encoding="utf-8")
    fast = shacl_vault(vault, [shapes])
    reference = shacl_vault(vault, [shapes], engine="pyshacl")
    assert fast.findings == reference.findings
    assert {(f.path, f.message) for f in fast.findings} == {
        ("a.md", "skos:definition: every note has a Definition section"),
        ("b.md", "cg:layer: a note has a layer"),
    }
    assert len(fast.notes) == 1
    assert "pySHACL validated 1 shape(s)" in fast.notes[0]
    assert "<https://example.org/shapes#Targeted>: sh:target" in fast.notes[0]
    done = run_conceptgraph("shacl", vault, "--shapes", shapes)
    assert done.returncode == 1
    assert "shacl: pySHACL validated 1 shape(s) the fast engine cannot" in done.stderr
    assert len(done.stdout.splitlines()) == 2


def test_the_engine_is_chosen_on_the_command_line(tmp_path: Path) -> None:
    vault = write_vault(tmp_path / "vault", {"a.md": '---\ncanonical: "yes"\n---\n# A\n'})
    outputs = {e: run_conceptgraph("shacl", vault, "--engine", e) for e in ("fast", "pyshacl")}
    assert {done.returncode for done in outputs.values()} == {1}
    assert outputs["fast"].stdout == outputs["pyshacl"].stdout
    assert "shacl-datatype" in outputs["fast"].stdout
    from conceptgraph.cli import shacl
    from conceptgraph.rdf.shacl import ENGINES

    engine = next(p for p in shacl.params if p.name == "engine")
    assert tuple(engine.type.choices) == ENGINES  # type: ignore[attr-defined]
    wrong = run_conceptgraph("shacl", vault, "--engine", "jena")
    assert wrong.returncode == 2
    assert "'jena' is not one of 'fast', 'pyshacl'" in wrong.stderr


def test_a_shape_without_a_message_gets_a_sentence(tmp_path: Path) -> None:
    vault = write_vault(tmp_path / "vault", {"a.md": "---\nlayer: edge\n---\n# A\n"})
    shapes = tmp_path / "bare.ttl"
    shapes.write_text(
        "@prefix cg: <https://w3id.org/conceptgraph/vocab#> .\n"
        "@prefix sh: <http://www.w3.org/ns/shacl#> .\n"
        "@prefix skos: <http://www.w3.org/2004/02/skos/core#> .\n"
        "<https://example.org/S> a sh:NodeShape ; sh:targetClass cg:Note ;\n"
        "  sh:property [ sh:path skos:definition ; sh:minCount 1 ] , "
        '[ sh:path cg:layer ; sh:in ( "core" ) ] .\n',
        encoding="utf-8",
    )
    found = {(f.rule, f.message) for f in shacl_vault(vault, [shapes]).findings}
    assert found == {
        ("shacl-in", "cg:layer: Value is not in ('core') (value 'edge')"),
        ("shacl-min-count", "skos:definition: Less than 1 values"),
    }


@pytest.mark.parametrize(
    ("shape", "reason"),
    [
        ("ex:S sh:targetClass ex:T ; sh:rule [ a sh:TripleRule ] .", "sh:rule"),
        ("ex:S sh:targetClass ex:T ; sh:node ex:S .", "refers to itself"),
        (
            "ex:S sh:targetClass ex:T ; sh:property [ sh:path [ sh:inversePath ( ex:p ex:q ) ] ;"
            " sh:minCount 1 ] .",
            "sh:inversePath of a path that is not a predicate",
        ),
        (
            'ex:S sh:targetClass ex:T ; sh:sparql [ sh:select "SELECT $this WHERE { '
            '$this ?p ?o . FILTER EXISTS { GRAPH $shapesGraph { ?o ?p ?o } } }" ] .',
            "$shapesGraph",
        ),
        (
            "ex:C a sh:ConstraintComponent ; sh:parameter [ sh:path ex:even ] . "
            "ex:S sh:targetClass ex:T ; ex:even true .",
            "a constraint component the shapes declare",
        ),
    ],
)
def test_what_the_fast_engine_leaves_to_pyshacl(shape: str, reason: str) -> None:
    shapes = Graph().parse(data=_PREFIXES + shape, format="turtle")
    compiled = shacl_fast.Shapes(shacl_fast.Data(shacl_fast.graph_triples(shapes)))
    assert [s.node for s in compiled.top] == []
    assert list(compiled.unsupported) == [shacl_fast.IRI("http://example.org/S")]
    assert reason in compiled.unsupported[shacl_fast.IRI("http://example.org/S")]


def test_a_blank_node_shape_left_to_pyshacl_takes_every_shape_there(tmp_path: Path) -> None:
    vault = write_vault(tmp_path / "vault", {"a.md": '---\ncanonical: "yes"\n---\n# A\n'})
    shapes = tmp_path / "blank.ttl"
    shapes.write_text(
        "@prefix cg: <https://w3id.org/conceptgraph/vocab#> .\n"
        "@prefix sh: <http://www.w3.org/ns/shacl#> .\n"
        "[] sh:targetClass cg:Note ; sh:rule [ a sh:TripleRule ; sh:subject sh:this ;\n"
        "  sh:predicate cg:checked ; sh:object true ] .\n",
        encoding="utf-8",
    )
    fast = shacl_vault(vault, [shapes])
    assert fast.findings == shacl_vault(vault, [shapes], engine="pyshacl").findings
    assert [f.rule for f in fast.findings] == ["shacl-datatype"]
    assert len(fast.notes) == 1
    assert fast.notes[0].startswith("pySHACL validated all shapes, as the fast engine cannot: ")
