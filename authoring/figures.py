"""Syntax figures as RFC bit diagrams (RFC 6716's ruler style), drawn from the ``spec/`` schemas: a field's width
is its construct's size, its label the draft's term its docs name, and a length code's rule is read by running
the schema, so a figure changes when the schema does."""
from __future__ import annotations

import re
import textwrap
from typing import NamedTuple

import construct as cs

from dredconf.spec.dred import DRAFT as DRED_DRAFT, DRED_EXPERIMENTAL_PREFIX, DRED_EXTENSION_ID
from dredconf.spec.elements import ExtensionHeader, FrameIncrement, LongLength, REPEAT_ID, SEPARATOR_ID
from dredconf.spec.packet import FrameCountByte, PaddingLength, Toc

from .formats import WIDTH

ROW_BITS = 32  # RFC 6716's figures rule 32 bits a row
_TERM = re.compile(r"^(?P<source>[^:]*):\s*(?P<term>[^,]+),\s*(?P<meaning>.*)$")


class Cell(NamedTuple):
    """One field of a diagram: ``bits`` wide (0: it runs on past the end of its row)."""

    label: str
    bits: int


class Figure(NamedTuple):
    title: str
    source: str
    lines: list[str]
    legend: list[str]


def field_docs(field: cs.Renamed) -> tuple[str, str, str]:
    """(source, term, meaning) of a schema field whose docs read '<source>: <term>, <meaning>'."""
    m = _TERM.match(field.docs or "")
    if m is None:
        raise ValueError(f"field {field.name}: docs {field.docs!r} do not read '<source>: <term>, <meaning>'")
    return m.group("source"), m.group("term"), m.group("meaning")


def bit_fields(schema: cs.Construct) -> list[cs.Renamed]:
    """The coded fields of a ``BitStruct``, in order (Computed ones take no bits)."""
    return [f for f in schema.subcon.subcons if f.sizeof()]


def schema_cells(schema: cs.Construct, values: dict | None = None) -> list[Cell]:
    """A BitStruct's fields as cells: each labelled with its value in ``values`` or its draft term."""
    values = values or {}
    return [Cell(str(values[f.name]) if f.name in values else field_docs(f)[1], f.sizeof()) for f in bit_fields(schema)]


def _center(label: str, width: int, odd_left: bool) -> str:
    if len(label) > width:
        raise ValueError(f"label {label!r} does not fit {width} columns")
    pad = width - len(label)
    left = (pad + 1) // 2 if odd_left else pad // 2
    return " " * left + label + " " * (pad - left)


def _rows(cells: list[Cell]) -> list[list[tuple[Cell, int]]]:
    """Cells laid into rows of at most 32 bits: (cell, bits it takes in its row); an open cell ends its row."""
    rows, row, used = [], [], 0
    for c in cells:
        if c.bits > ROW_BITS:
            raise ValueError(f"field {c.label!r} is wider than a row")
        if used + max(c.bits, 1) > ROW_BITS:
            rows.append(row)
            row, used = [], 0
        take = c.bits or ROW_BITS - used
        row.append((c, take))
        used += take
        if not c.bits:
            rows.append(row)
            row, used = [], 0
    return rows + ([row] if row else [])


def ruler(bits: int) -> list[str]:
    """RFC 6716's ruler: the tens over every tenth bit, then each bit's units digit."""
    tens = [" "] * (2 * bits)
    for b in range(0, bits, 10):
        tens[1 + 2 * b] = str(b // 10)
    return ["".join(tens).rstrip(), " " + " ".join(str(b % 10) for b in range(bits))]


def diagram(cells: list[Cell], *, odd_left: bool = False) -> list[str]:
    """The diagram's lines: ruler, then each row between '+-+' borders; ``odd_left`` centres a label with its odd
    space on the left, as the extension draft draws them (RFC 6716 leaves it on the right)."""
    rows = _rows(cells)
    widths = [sum(take for _, take in r) for r in rows]
    lines = ruler(max(8, -(-max(widths) // 8) * 8))
    border = lambda bits: "+" + "-+" * bits  # noqa: E731
    lines.append(border(widths[0]))
    for i, r in enumerate(rows):
        text = "|"
        for c, take in r:
            text += _center(c.label, 2 * take - 1, odd_left) + (":" if not c.bits else "|")
        lines.append(text)
        lines.append(border(max(widths[i], widths[i + 1] if i + 1 < len(rows) else 0)))
    return lines


def length_rule(schema: cs.Construct) -> tuple[int, int]:
    """(byte value that continues, what it adds), read by running the length schema."""
    cont = next(b for b in range(256) if _needs_more(schema, bytes([b])))
    return cont, schema.parse(bytes([cont, 0]))


def _needs_more(schema: cs.Construct, data: bytes) -> bool:
    try:
        schema.parse(data)
    except cs.StreamError:
        return True
    return False


def _length_cells(schema: cs.Construct) -> tuple[list[Cell], str]:
    cont, step = length_rule(schema)
    cells = [Cell(str(cont), 8), Cell("...", 8), Cell(f"0..{cont - 1}", 8)]
    return cells, (f"each length byte {cont} adds {step} and another length byte follows; the last byte "
                   f"(0..{cont - 1}) adds its value")


def _header(values: dict) -> list[Cell]:
    return schema_cells(ExtensionHeader, values)


def _legend(schema: cs.Construct) -> list[str]:
    out = []
    for f in bit_fields(schema):
        _, term, meaning = field_docs(f)
        out.append(f"{term}: {meaning}")
    return out


def figures() -> list[Figure]:
    """The syntax figures of both drafts, in reading order."""
    rfc, _, _ = field_docs(bit_fields(Toc)[0])
    count_src = field_docs(bit_fields(FrameCountByte)[0])[0]
    ext_src = field_docs(bit_fields(ExtensionHeader)[0])[0]
    pad_cells, pad_rule = _length_cells(PaddingLength)
    long_cells, long_rule = _length_cells(LongLength)
    ext = True  # the extension draft's figures centre an odd-width label one column left, RFC 6716's do not
    d, version = DRED_EXPERIMENTAL_PREFIX[0], DRED_EXPERIMENTAL_PREFIX[1]
    inc = Cell("increment", FrameIncrement.sizeof() * 8)
    return [
        Figure("The TOC byte", rfc, diagram(schema_cells(Toc)), _legend(Toc)),
        Figure("The frame count byte (code 3)", count_src, diagram(schema_cells(FrameCountByte)),
               _legend(FrameCountByte)),
        Figure("The padding length (code 3, p = 1)", count_src, diagram(pad_cells), [pad_rule]),
        Figure("The extension header byte", ext_src, diagram(_header({}), odd_left=ext), _legend(ExtensionHeader)),
        Figure("A long extension (ID 32..127) with L = 1: its length", ext_src,
               diagram(_header({"L": 1}) + long_cells + [Cell("payload (length bytes)...", 0)], odd_left=ext),
               [long_rule, "with L = 0 no length follows: the payload runs to the end of the padding"]),
        Figure("Frame separator: next frame (L = 0)", ext_src,
               diagram(_header({"id": SEPARATOR_ID, "L": 0}), odd_left=ext), []),
        Figure("Frame separator: advance by increment frames (L = 1)", ext_src,
               diagram(_header({"id": SEPARATOR_ID, "L": 1}) + [inc], odd_left=ext),
               ["an increment of 0 changes nothing"]),
        Figure("Repeat These Extensions", ext_src,
               diagram(_header({"id": REPEAT_ID}) + [Cell("repeated payloads, frame by frame...", 0)], odd_left=ext),
               ["the extensions coded in this frame since the last separator or repeat are repeated for every "
                "later frame: only their payloads follow (short ones keep their size, long ones carry a length, "
                "but with L = 0 the last long one of the last frame); with L = 0 the frame then advances by one"]),
        Figure("The DRED extension payload start", DRED_DRAFT,
               diagram(_header({"id": DRED_EXTENSION_ID, "L": 1}) + [Cell("length", 8), Cell(f"{d:#04x} '{chr(d)}'", 8),
                       Cell(f"version {version}", 8), Cell("range-coded DRED bits...", 0)], odd_left=ext),
               [f"ID {DRED_EXTENSION_ID} is the experimental DRED ID; '{chr(d)}' and the version byte {version} "
                "precede the range-coded bits (the final standard assigns an ID and drops both); the length is "
                "coded as in a long extension, or absent with L = 0"]),
    ]


def render_figures(figs: list[Figure], fmt: str) -> str:
    from xml.sax.saxutils import escape

    out = []
    for i, f in enumerate(figs, 1):
        caption = f"Figure {i}: {f.title}"
        legend = [ln for item in f.legend for ln in textwrap.wrap(item.replace("§", "Section "), WIDTH,  # ASCII
                                                                  subsequent_indent="  ")]
        if fmt == "markdown":
            out += [f"### {caption} ({f.source})", "", "```"] + f.lines + ["```", ""] + [f"- {x}" for x in f.legend] + [""]
        elif fmt == "rfcxml":
            out += [f"<figure><name>{escape(f.title)} ({escape(f.source)})</name><artwork><![CDATA["] + f.lines
            out += ["]]></artwork></figure>"] + [f"<t>{escape(x)}</t>" for x in f.legend]
        else:
            source = f.source.replace("§", "Section ")
            out += f.lines + ["", _centered(caption), _centered(f"({source})"), ""] + legend + ([""] if legend else [])
    if fmt == "rfcxml":
        out = ['<?xml version="1.0" encoding="utf-8"?>', "<section><name>Syntax figures</name>"] + out + ["</section>"]
    return "\n".join(out).rstrip("\n") + "\n"


def _centered(text: str) -> str:
    if len(text) > WIDTH:
        raise ValueError(f"caption {text!r} is over {WIDTH} columns")
    return text.center(WIDTH).rstrip()
