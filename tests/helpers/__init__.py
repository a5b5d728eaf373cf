"""Helpers for the tests and the fuzz targets, imported as ``tests.helpers.*`` (never from a test module or conftest).

* ``shared``: where ``../shared`` is, and the rule for a missing piece (fail in CI, skip elsewhere);
* ``corpus``: one generated corpus per seed and session;
* ``dred_oracle``: a small pure-Python DRED payload reader, independent of the C core;
* ``libopus_vec``: libopus vec.h's activations in numpy.
"""
