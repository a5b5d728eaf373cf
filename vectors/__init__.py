"""dredconf.vectors: the vector corpus and the interchange formats (docs/VECTORS.md).

* ``generate``: ``generate(out, seed)`` writes the corpus (streams and manifest), every
  expectation checked against the reference decoder first;
* ``corpus``: the vectors, group by group; ``padding``: the byte-exact padding writer;
  ``dredpayload``: DRED payloads from chosen integers; ``rng``: the seeded random source;
* ``manifest``: the ``manifest.json`` schema, validation and ``verify_corpus``;
* ``flags``: the flag vocabulary; ``coverage``: the coverage table, computed by decoding;
* ``ogg``: Ogg Opus (RFC 7845) ``read_ogg_opus`` / ``write_ogg_opus``;
* ``standalone``: libopus's standalone feature-decoder records;
* ``cli``: ``dredconf vectors ...``.
"""
