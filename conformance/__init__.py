"""dredconf.conformance: ``dredconf check``, running a decoder under test on vectors and judging it layer by layer.

| module | responsibility |
|---|---|
| ``adapters`` | the decoder contract (docs/DECODER-CONTRACT.md): cmd, libopus-features, python, reference, mutant; time limits, crashes |
| ``python_dut`` | the child process that runs a Python callable as a DUT |
| ``output_schema`` | a DUT's JSON checked for shape and types (malformed output) |
| ``layers`` | the verdict logic: framing, header, latents, features; the first departing field |
| ``metrics`` | libopus's ``dred_compare -features`` metric and thresholds |
| ``vectorsets`` | vector sets: manifest, plain directory, single file; pluggable loaders |
| ``runner`` | one DUT invocation per vector, serially or in worker processes |
| ``results`` | what a check found, as plain data (JSON both ways) |
| ``report_terminal``, ``report_json``, ``report_junit``, ``report_html`` | the reports |
| ``mutants`` | the reference with one rule broken, to check the runner itself |
| ``cli`` | the ``check`` command |
"""
