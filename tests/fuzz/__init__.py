"""Fuzzing the parsers and the C core (docs/FUZZING.md).

``targets`` holds one function per input surface, each checking the contract
(only ``DredconfError`` kinds are raised, results satisfy their invariants);
``seeds`` builds their seed corpora from ``../shared`` and generated vectors;
``run`` drives them (atheris when installed, else a mutation-based random
driver); ``sanitizer`` builds the C core with ASan and UBSan and swaps it in.
"""
