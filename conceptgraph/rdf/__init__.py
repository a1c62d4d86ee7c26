"""The RDF services: a vault's graph as triples, queried, validated, served and pushed.

In: a ``Vault``. Out: RDF triples, query results, SHACL findings, an endpoint, a remote graph.

- :mod:`.triples`: the vault -> RDF terms (SKOS and our vocabulary), with no RDF library;
- :mod:`.sparql`: the query safety check, the embedded engine (pyoxigraph), result formats;
- :mod:`.store`: the triples kept on disk between queries, rebuilt only where notes changed;
- :mod:`.shacl`: SHACL validation with pySHACL, violations as findings;
- :mod:`.serve`: the read-only SPARQL 1.1 Protocol endpoint (``conceptgraph serve``);
- :mod:`.push`: the graph into an existing store over the Graph Store Protocol.

``conceptgraph lint`` imports none of these.
"""
