"""The reference decoder: packet bytes → the JSON record of the ground-truth schema.

This is where spec (where things are) meets the C core (what the bits say):
``parse_packet`` frames the packet, ``parse_extensions`` walks its padding,
``find_dred`` picks the DRED payload, the core decodes it into integers and,
when asked, the RDOVAE turns those into libopus's features.  A stream's payloads
go to the core in batches (``dc_dred_decode_many``), not one call per packet.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from dredconf.errors import DredconfError, StreamError
from dredconf.spec import find_dred, parse_extensions, parse_packet, read_stream
from dredconf.spec.record import INVALID_PACKET, dred_object, packet_record
from dredconf.reference.model import Model, load_model
from dredconf.reference.payload import DredPayload, decode_dred_payloads

#: Packets whose DRED payloads go to the C core in one call.
BATCH = 256


@dataclass
class PacketResult:
    """Everything the reference learns from one packet, layer by layer."""

    index: int
    data: bytes
    packet: Any = None  # spec.packet.OpusPacket, None when framing failed
    extensions: Any = None  # spec.extensions.ExtensionList
    location: Any = None  # spec.dred.DredLocation
    payload: DredPayload | None = None
    features: np.ndarray | None = None  # (4*latent_count, 20) float32, newest first
    errors: list[DredconfError] = field(default_factory=list)

    def to_json(self, *, with_features: bool) -> dict:
        """The record of ``../shared/vectors/libopus-1.6.1/README.md`` (``packet_error`` only on broken framing)."""
        if self.packet is None:
            return {"index": self.index, "length": len(self.data), "toc": self.data[0] if self.data else None,
                    "packet_error": self.errors[0].rule if self.errors else INVALID_PACKET}
        return packet_record(index=self.index, length=len(self.data), toc=self.data[0],
                             frame_count=self.packet.frame_count, padding_length=self.packet.padding.length,
                             extensions=[(e.id, e.frame, e.length) for e in self.extensions.extensions],
                             extension_error=self.extensions.error is not None,
                             dred=None if self.payload is None else self._dred_json(with_features))

    def _dred_json(self, with_features: bool) -> dict:
        p = self.payload
        return dred_object(frame_offset=p.frame_offset, q0=p.q0, dQ=p.dQ, extra_offset=p.extra_offset,
                           offset=p.offset, qmax=p.qmax, levels=p.levels, state=p.state, latents=p.latents,
                           features=self.features if with_features else None)


class ReferenceDecoder:
    """Packets in, integers (and optionally features) out; bit-exact against libopus 1.6.1."""

    def __init__(self, model: Model | str | Path | None = None, *, features: bool = False, arith: str | None = None):
        parts = ("stats", "decoder") if features else ("stats",)
        self.model = model if isinstance(model, Model) else load_model(model, parts=parts)
        self.features = features
        self._rdovae = None
        if features:
            from dredconf.reference.rdovae import DEFAULT_ARITH, RdovaeDecoder

            self._rdovae = RdovaeDecoder(self.model, arith=arith or DEFAULT_ARITH)

    @property
    def rdovae(self):
        """The RDOVAE decoder (None unless built with ``features=True``)."""
        return self._rdovae

    def _parse(self, data: bytes, index: int) -> PacketResult:
        """Framing, extensions and where the DRED payload is; errors collected, never raised."""
        res = PacketResult(index=index, data=bytes(data))
        try:
            res.packet = parse_packet(res.data)
        except DredconfError as e:
            res.errors.append(e.at(packet=index))
            return res
        res.extensions = parse_extensions(res.packet.padding_bytes, res.packet.frame_count)
        if res.extensions.error is not None:
            res.errors.append(res.extensions.error.at(packet=index, offset_base=res.packet.padding.offset))
        res.location = find_dred(res.packet, res.extensions)
        return res

    def _decode_payloads(self, results: list[PacketResult]) -> None:
        """The DRED payloads of these results, to integers (and features), in one C call."""
        found = [r for r in results if r.location is not None]
        items = [(r.location.payload, r.location.frame_offset) for r in found]
        if self._rdovae is not None:
            for r, (p, f) in zip(found, self._rdovae.decode_many(items)):
                r.payload, r.features = p, f
        else:
            for r, p in zip(found, decode_dred_payloads(items, self.model.stats)):
                r.payload = p

    def decode_packet(self, data: bytes, index: int = 0) -> PacketResult:
        """Decode one packet; errors are collected in the result, never raised."""
        res = self._parse(data, index)
        self._decode_payloads([res])
        return res

    def decode_records(self, data: bytes) -> Iterator[PacketResult | StreamError]:
        """Every packet of a stream file, then the stream error that stopped it, if any (decoded
        ``BATCH`` packets at a time)."""
        batch: list[PacketResult] = []
        for rec in read_stream(data):
            if isinstance(rec, StreamError):
                self._decode_payloads(batch)
                yield from batch
                yield rec
                return
            batch.append(self._parse(rec.packet, rec.index))
            if len(batch) == BATCH:
                self._decode_payloads(batch)
                yield from batch
                batch = []
        self._decode_payloads(batch)
        yield from batch

    def decode_stream(self, data: bytes) -> dict:
        """``{"packets": [...], "errors": [...]}`` for a whole stream file."""
        packets, errors = [], []
        for r in self.decode_records(data):
            if isinstance(r, StreamError):
                errors.append(str(r))
                continue
            packets.append(r.to_json(with_features=self.features))
            errors.extend(str(e) for e in r.errors)
        return {"packets": packets, "errors": errors}
