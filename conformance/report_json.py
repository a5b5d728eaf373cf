"""``--json FILE``: the whole check as JSON (``CheckReport.to_json``), for machines and for diffing runs.

Top level: ``decoder``, ``vectors``, ``options`` (thresholds, timeout, jobs),
``verdict`` ("pass"/"fail"), ``exit_status``, ``counts`` and ``results``: per
vector its ``verdict``, ``first_departing_layer``, ``headline``, ``dut`` (argv,
exit status, time, stderr tail, failure), ``layers`` (verdict, packets tested
and failed, first departure with field/actual/expected, skipped fields, the
feature metric), ``packets`` (every packet's per-layer verdicts and
departures), ``feature_traces`` (the worst packets' rows) and
``result_counts`` (packets per result class, when the set gives them).

With a corpus manifest each packet also carries its vector ``id`` and
``result`` (valid, invalid, acceptable); an acceptable packet carries its
``alternatives`` (their labels), ``behaviour`` (``"matched expected"``,
``"matched alternative 1: ..."``, or null when it fails) and ``matched``
(layer -> alternative number, for the layers that passed on an alternative).
"""
from __future__ import annotations

import json
from pathlib import Path

from dredconf.conformance.results import CheckReport


def dumps(report: CheckReport) -> str:
    return json.dumps(report.to_json(), indent=1, allow_nan=False)


def write_json(report: CheckReport, path: str | Path) -> None:
    Path(path).write_text(dumps(report) + "\n", encoding="utf-8")


def read_json(path: str | Path) -> CheckReport:
    return CheckReport.from_json(json.loads(Path(path).read_text(encoding="utf-8")))
