"""``--expect-fail FILE``: known failures an implementer's CI tracks, by stable id, each with its reason.

One id per line, then the reason; ``#`` starts a comment::

    S1#17    levels off by one at high dQ (issue 42)
    S4       integration: first recovery not primed yet

``VECTOR#N`` is packet (or record) N of a vector, ``VECTOR`` the whole vector.
A listed failure still shows in every report, marked expected, and does not
make the exit status non-zero; a listed id that does not fail is reported too
(it now passes: take it off the list).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

_ID = re.compile(r"^([^\s#]+?)(?:#(\d+))?$")


class ExpectFailError(ValueError):
    """An ``--expect-fail`` file that cannot be read (the message names the line)."""


@dataclass(frozen=True)
class ExpectedFailures:
    path: str
    #: stable id -> reason
    reasons: dict[str, str]

    def reason(self, vector: str, index: int | None = None) -> str | None:
        return self.reasons.get(vector if index is None else f"{vector}#{index}")


def read_expect_fail(path: str | Path) -> ExpectedFailures:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ExpectFailError(f"{p}: not readable ({e})") from None
    reasons: dict[str, str] = {}
    for n, line in enumerate(text.splitlines(), 1):
        line = line.split(" #", 1)[0].strip() if not line.lstrip().startswith("#") else ""
        if not line:
            continue
        ident, *rest = line.split(None, 1)
        reason = rest[0] if rest else ""
        if not _ID.match(ident):
            raise ExpectFailError(f"{p}, line {n}: {ident!r} is not VECTOR or VECTOR#PACKET")
        reasons[ident] = reason.strip() or "(no reason given)"
    return ExpectedFailures(str(p), reasons)
