"""dredconf.vectors: the vector corpus (docs/VECTORS.md); the container formats it writes live in ``spec``.

* ``generate``: ``generate(out, seed)`` writes the corpus (streams and manifest), every
  expectation checked against the reference decoder first;
* ``corpus``: ``Corpus.add`` turns a case into a vector (packet, expectation, flags, result);
  ``groups/``: the cases, one module per group; ``cases``: what the groups share;
* ``padding``: the padding writer (spec elements to the spec's builder, and their account);
  ``dredpayload``: DRED payloads from chosen integers; ``rng``: the seeded random source;
* ``manifest``: the ``manifest.json`` schema, validation and ``verify_corpus``;
* ``flags``: the flag vocabulary; ``coverage``: the coverage table, computed by decoding;
* ``standalone``: the integers of libopus's standalone records, and ``export-standalone``;
* ``cli``: ``dredconf vectors ...``.
"""
