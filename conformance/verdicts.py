"""The words of a verdict: the judged layers, the verdicts, and a departure (where a decoder first went wrong).

Plain data, no judging: :mod:`.judge` decides, :mod:`.results` collects, the
``report_*`` modules print.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum
from typing import Any

from dredconf.conformance.feature_metric import number


class Layer(str, Enum):
    """What is compared: a packet's four layers in decoding order (a profile's ``dred`` is ``header`` +
    ``latents``), and the audio of the two later stages."""

    FRAMING = "framing"
    HEADER = "header"
    LATENTS = "latents"
    FEATURES = "features"
    VOCODER = "vocoder"
    INTEGRATION = "integration"

    def __str__(self) -> str:
        return self.value


#: The layers of a packet (or standalone record), judged per packet.
LAYERS: tuple[Layer, ...] = (Layer.FRAMING, Layer.HEADER, Layer.LATENTS, Layer.FEATURES)
#: The audio stages: one verdict per vector, libopus's audio metric against the expected PCM.
AUDIO_LAYERS: tuple[Layer, ...] = (Layer.VOCODER, Layer.INTEGRATION)


class Verdict(str, Enum):
    PASS = "pass"
    FAIL = "fail"
    #: Not judged: the decoder does not output it, or (``reason`` NOTHING_TO_TEST) the vector has nothing for it.
    NOT_TESTED = "not-tested"
    #: Nothing judgeable: a crash, hang or malformed output, or the decoder reported the packet as an error.
    ERROR = "error"

    def __str__(self) -> str:
        return self.value


BAD = (Verdict.FAIL, Verdict.ERROR)
#: Why a layer is not tested.
NOT_OUTPUT = "not output by the decoder"
NOTHING_TO_TEST = "nothing to test in this vector"


class _Marker:
    def __init__(self, text: str):
        self.text = text

    def __repr__(self) -> str:
        return self.text


MISSING = _Marker("(missing)")
"""The actual value of a claimed field the decoder left out of a record."""
NOTHING = _Marker("nothing")
"""The expected value of a list entry the decoder added."""


def show(v: Any) -> str:
    """A value as a departure prints it (lists shortened, floats to 4 places)."""
    if isinstance(v, _Marker):
        return v.text
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return number(v)
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k} {show(x)}" for k, x in v.items()) + "}"
    if isinstance(v, (list, tuple)):
        head = ", ".join(show(x) for x in v[:6])
        return f"[{head}, … ({len(v)} items)]" if len(v) > 6 else f"[{head}]"
    return str(v)


def _jsonable(v: Any) -> Any:
    if isinstance(v, _Marker):
        return v.text
    if isinstance(v, float) and not math.isfinite(v):
        return repr(v)
    return v


def _unjson(v: Any) -> Any:
    return MISSING if v == MISSING.text else NOTHING if v == NOTHING.text else v


@dataclass
class Departure:
    """Where a decoder's output first differs from the expected output in one layer of one packet (or vector).

    Either a field with both values (``latents[3][12] = -2, expected -3``) or, for
    metrics and decoder errors, a ``text`` (``tot 0.81 > 0.5 ...``)."""

    layer: Layer
    field: str  # "latents[3][12]", "dred", "features"; "" for a vector-wide metric
    actual: Any = None
    expected: Any = None
    packet: int | None = None
    text: str | None = None
    note: str | None = None  # appended in parentheses

    def what(self) -> str:
        if self.text is not None:
            return f"{self.field}: {self.text}" if self.field else self.text
        tail = f" ({self.note})" if self.note else ""
        return f"{self.field} = {show(self.actual)}, expected {show(self.expected)}{tail}"

    def __str__(self) -> str:
        return (f"packet {self.packet}: " if self.packet is not None else "") + self.what()

    def annotate(self, extra: str) -> "Departure":
        """Adds ``extra`` in parentheses (to the text, or to the note so actual/expected stay structured)."""
        if self.text is not None:
            self.text = f"{self.text} ({extra})"
        else:
            self.note = f"{self.note}; {extra}" if self.note else extra
        return self

    def to_json(self) -> dict:
        d = {"layer": self.layer.value, "packet": self.packet, "field": self.field, "message": str(self)}
        if self.text is not None:
            d["text"] = self.text
        else:
            d["actual"], d["expected"] = _jsonable(self.actual), _jsonable(self.expected)
        if self.note:
            d["note"] = self.note
        return d

    @classmethod
    def from_json(cls, d: dict) -> "Departure":
        return cls(Layer(d["layer"]), d["field"], _unjson(d.get("actual")), _unjson(d.get("expected")), d["packet"],
                   d.get("text"), d.get("note"))
