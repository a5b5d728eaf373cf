"""dredconf.conformance: ``dredconf check``, running a decoder under test on vectors and judging it layer by layer.

| module | responsibility |
|---|---|
| ``cli`` | the ``check`` command: every usage error found before a decoder runs |
| ``profile`` | conformance profiles: the layers a decoder claims, and the record fields each layer owns |
| ``adapters`` | the decoder contract (docs/DECODER-CONTRACT.md): cmd, libopus-features, python, reference, mutant |
| ``process`` | a decoder as a child process: no shell, time limit, output cap, crashes |
| ``python_dut`` | the child process that runs a Python callable (and the reference) as a decoder |
| ``output_schema`` | a decoder's JSON or feature file checked for shape (malformed output) |
| ``verdicts`` | the words of a verdict: layers, verdicts, a departure |
| ``exact`` | the exact comparison of the integer layers: the first departing field |
| ``feature_metric`` | libopus's ``dred_compare -features`` metric, its thresholds, one score type |
| ``audio_metric`` | libopus's ``dred_compare -audio`` metric |
| ``judge`` | the verdict logic: each packet and each layer of a vector, against the profile |
| ``results`` | what a check found per packet, layer and vector, as plain data (JSON both ways) |
| ``run_report`` | the whole run and its conformance verdict: failures, untested layers, expected failures |
| ``audio_stage`` | the vocoder and integration stages: PCM judged with the audio metric, loss bursts |
| ``runner`` | one decoder invocation per vector, serially or in worker processes |
| ``expect_fail`` | ``--expect-fail``: known failures by stable id |
| ``report_terminal``, ``report_json``, ``report_junit``, ``report_html`` | the reports |
| ``mutants`` | the reference with one rule broken, to check the runner itself |

Vector sets (what ``--vectors`` recognises and validates) are :mod:`dredconf.vectors.sets`.
"""
