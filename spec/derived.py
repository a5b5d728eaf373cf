"""Fast readers derived from the declarative schemas, made once at import: the schemas stay the only statement
of each syntax, and the hot paths (``inspect``) look their answers up
instead of running construct's generic parse for every byte.

- :func:`byte_table`: a piece's parse of every one-byte coding (``ExtensionHeader``, ``Toc``, a length byte
  below its continuation values...); where the piece needs more than one byte, the caller parses with the
  schema itself.
- :func:`struct_of`: the ``struct`` format of a ``Struct`` of fixed-size numbers (a stream record header).

And :func:`maker`, which fills the frozen records a packet's parse returns without the generated ``__init__``'s
cost per field.

``tests/test_spec_derived.py`` holds each table and format equal to its schema's parse, on every byte value
and every shared packet.
"""
from __future__ import annotations

import dataclasses
import io
import struct
from typing import Callable

import construct as cs


def _leaf(sc: cs.Construct) -> cs.Construct:
    """Under its names and docs (``"name" / piece * "doc"`` wraps a piece in ``Renamed``, which parses as it)."""
    while type(sc) is cs.Renamed:
        sc = sc.subcon
    return sc


def byte_table(piece: cs.Construct) -> tuple:
    """``table[b]``: the schema's parse of the one-byte coding ``b``, or None where ``b`` is the start of a longer
    coding (the parse runs out of bytes). A piece that parses a byte without reading exactly it is refused."""
    table = []
    for b in range(256):
        stream = io.BytesIO(bytes([b]))
        try:
            value = piece.parse_stream(stream)
        except cs.StreamError:
            table.append(None)
            continue
        if stream.tell() != 1 or value is None:
            raise TypeError(f"{piece!r} does not read one byte into a value (byte {b}: {value!r}, "
                            f"{stream.tell()} read)")
        table.append(value)
    return tuple(table)


def struct_of(schema: cs.Struct) -> struct.Struct:
    """The ``struct.Struct`` that unpacks ``schema``'s fields in order: each a fixed-size number of one byte
    order (``FormatField``); anything else is refused, not approximated."""
    formats = []
    for sc in schema.subcons:
        leaf = _leaf(sc)
        if type(leaf) is not cs.FormatField:
            raise TypeError(f"field {sc.name!r} of {schema!r} is not a fixed-size number: {leaf!r}")
        formats.append(leaf.fmtstr)
    orders = {f[0] for f in formats}
    if len(orders) != 1 or not orders <= set("<>=!"):
        raise TypeError(f"{schema!r} mixes or omits byte orders: {formats}")
    return struct.Struct(orders.pop() + "".join(f[1:] for f in formats))


def maker(cls: type) -> Callable:
    """A constructor for the frozen dataclass ``cls`` taking every field (by position or name), that fills the
    instance's ``__dict__`` in one step instead of the generated ``__init__``'s one ``object.__setattr__`` per
    field; the instance is the same (equal, same repr and hash). For the records a packet makes several of."""
    if not dataclasses.is_dataclass(cls) or not cls.__dataclass_params__.frozen or hasattr(cls, "__post_init__") \
            or "__slots__" in cls.__dict__:
        raise TypeError(f"{cls!r} is not a frozen dataclass with a __dict__ and no __post_init__")
    names = [f.name for f in dataclasses.fields(cls) if f.init]
    if len(names) != len(dataclasses.fields(cls)):
        raise TypeError(f"{cls!r} has fields outside __init__")
    namespace = {"new": object.__new__, "cls": cls}
    exec(f"def make({', '.join(names)}):\n"
         f"    obj = new(cls)\n"
         f"    obj.__dict__.update({{{', '.join(f'{n!r}: {n}' for n in names)}}})\n"
         f"    return obj\n", namespace)
    make = namespace["make"]
    make.__qualname__ = make.__name__ = f"make_{cls.__name__}"
    return make
