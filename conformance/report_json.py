"""``--json FILE`` (``-``: standard output): the whole check as JSON, for machines and for diffing runs.

Top level: ``decoder``, ``vectors``, ``profile``, ``options`` (thresholds,
feature scope, timeout, jobs), ``environment`` (dredconf version, host,
platform, model hashes), ``conforms``, ``verdict`` (the verdict line),
``exit_status``, ``counts`` and ``results``: per vector its ``verdict``,
``headline``, ``untested`` (what the profile needed and did not get), ``dut``
(argv, exit status, time, stderr tail, failure), ``layers`` (verdict, packets
tested and failed, first departure with field/actual/expected, untested and
skipped fields, the feature metric), ``packets`` (each packet's verdicts and
departures; a failing packet also its ``packet`` bytes as hex, and its
``expected_failure`` reason when ``--expect-fail`` lists it) and
``feature_traces`` (the worst packets' rows). Corpus packets carry their
vector ``id`` and ``result`` class, acceptable ones their ``alternatives``
and the ``behaviour`` matched.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from dredconf.conformance.run_report import CheckReport


def dumps(report: CheckReport) -> str:
    return json.dumps(report.to_json(), indent=1, allow_nan=False)


def write_json(report: CheckReport, path: str | Path) -> None:
    """Write the report to ``path``, or to standard output for ``-``."""
    if str(path) == "-":
        sys.stdout.write(dumps(report) + "\n")
        sys.stdout.flush()
        return
    Path(path).write_text(dumps(report) + "\n", encoding="utf-8")


def read_json(path: str | Path) -> CheckReport:
    return CheckReport.from_json(json.loads(Path(path).read_text(encoding="utf-8")))
