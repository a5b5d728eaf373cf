"""The reference decoder: packet bytes → the JSON record of the ground-truth schema.

This is where spec (where things are) meets the C core (what the bits say):
``parse_packet`` frames the packet, ``parse_extensions`` walks its padding,
``find_dred`` picks the DRED payload, the core decodes it into integers and,
when asked, the RDOVAE turns those into libopus's features.  A stream's payloads
go to the core in batches (``dc_dred_decode_many``), not one call per packet.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import numpy as np

from dredconf.errors import DredconfError, StreamError
from dredconf.spec import find_dred, parse_extensions, parse_packet
from dredconf.spec.stream import iter_records
from dredconf.spec.record import INVALID_PACKET, dred_object, packet_record
from dredconf.reference.model import Model, load_model
from dredconf.reference.payload import CStats, DredPayload, decode_dred_arrays

#: Packets whose DRED payloads go to the C core in one call.
BATCH = 256


class PacketResult:
    """Everything the reference learns from one packet, layer by layer.

    ``payload`` and ``features`` come from the batch the packet's DRED payload was decoded in
    (``payload.DredBatch``), made when first read; ``to_json`` builds the record from the batch's arrays
    without them. Both may also be given (or set) directly."""

    __slots__ = ("index", "data", "packet", "extensions", "location", "errors", "_payload", "_features", "_batch",
                 "_row")

    def __init__(self, index: int, data: bytes, packet: Any = None, extensions: Any = None, location: Any = None,
                 payload: DredPayload | None = None, features: np.ndarray | None = None,
                 errors: list[DredconfError] | None = None):
        self.index = index
        self.data = data
        self.packet = packet  # spec.packet.OpusPacket, None when framing failed
        self.extensions = extensions  # spec.extensions.ExtensionList
        self.location = location  # spec.dred.DredLocation
        self._payload = payload
        self._features = features  # (4*latent_count, 20) float32, newest first
        self.errors = [] if errors is None else errors
        self._batch = None  # the DredBatch holding this packet's decoded payload, and its row there
        self._row = 0

    @property
    def payload(self) -> DredPayload | None:
        if self._payload is None and self._batch is not None:
            self._payload = self._batch.payload(self._row)
        return self._payload

    @payload.setter
    def payload(self, value: DredPayload | None) -> None:
        self.features  # what the batch holds is kept: only the payload changes
        self._payload, self._batch = value, None

    @property
    def features(self) -> np.ndarray | None:
        if self._features is None and self._batch is not None:
            self._features = self._batch.features(self._row)
        return self._features

    @features.setter
    def features(self, value: np.ndarray | None) -> None:
        self.payload  # what the batch holds is kept: only the features change
        self._features, self._batch = value, None

    def __repr__(self) -> str:
        return (f"PacketResult(index={self.index!r}, data={self.data!r}, packet={self.packet!r}, "
                f"extensions={self.extensions!r}, location={self.location!r}, payload={self.payload!r}, "
                f"features={self.features!r}, errors={self.errors!r})")

    def to_json(self, *, with_features: bool) -> dict:
        """The record of ``../shared/vectors/libopus-1.6.1/README.md`` (``packet_error`` only on broken framing)."""
        if self.packet is None:
            return {"index": self.index, "length": len(self.data), "toc": self.data[0] if self.data else None,
                    "packet_error": self.errors[0].rule if self.errors else INVALID_PACKET}
        if self._batch is not None:
            dred = self._batch.dred_object(self._row, with_features=with_features)
        else:
            dred = None if self._payload is None else self._dred_json(with_features)
        return packet_record(index=self.index, length=len(self.data), toc=self.data[0],
                             frame_count=len(self.packet.frames), padding_length=self.packet.padding.length,
                             extensions=[(e.id, e.frame, e.length) for e in self.extensions.extensions],
                             extension_error=self.extensions.error is not None, dred=dred)

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
        self._stats = CStats(self.model.stats)  # the C form of the quantizer tables, made at the first decode
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
        res = PacketResult(index, bytes(data))
        try:
            packet = res.packet = parse_packet(res.data)
        except DredconfError as e:
            res.errors.append(e.at(packet=index))
            return res
        extensions = res.extensions = parse_extensions(packet.padding_bytes, len(packet.frames))
        if extensions.error is not None:
            res.errors.append(extensions.error.at(packet=index, offset_base=packet.padding.offset))
        res.location = find_dred(packet, extensions)
        return res

    def _decode_payloads(self, results: list[PacketResult]) -> None:
        """The DRED payloads of these results, to integers (and features), in one C call; each result keeps
        the batch and its row in it."""
        found = [r for r in results if r.location is not None]
        if not found:
            return
        items = [(r.location.payload, r.location.frame_offset) for r in found]
        if self._rdovae is not None:
            batch = self._rdovae.decode_batch(items)
        else:
            if self._stats.stats is not self.model.stats:  # the model's tables were replaced
                self._stats = CStats(self.model.stats)
            batch = decode_dred_arrays(items, self._stats)
        for row, r in enumerate(found):
            r._batch, r._row = batch, row

    def decode_packet(self, data: bytes, index: int = 0) -> PacketResult:
        """Decode one packet; errors are collected in the result, never raised."""
        res = self._parse(data, index)
        self._decode_payloads([res])
        return res

    def _batches(self, data: bytes) -> Iterator[tuple[list[PacketResult], StreamError | None]]:
        """A stream file's packets ``BATCH`` at a time, decoded, each batch with the stream error that ends the
        stream after it, if any."""
        batch: list[PacketResult] = []
        parse = self._parse
        for rec in iter_records(data):
            if type(rec) is not tuple:
                self._decode_payloads(batch)
                yield batch, rec
                return
            batch.append(parse(rec[3], rec[0]))  # the packet bytes, its index
            if len(batch) == BATCH:
                self._decode_payloads(batch)
                yield batch, None
                batch = []
        self._decode_payloads(batch)
        yield batch, None

    def decode_records(self, data: bytes) -> Iterator[PacketResult | StreamError]:
        """Every packet of a stream file, then the stream error that stopped it, if any (decoded
        ``BATCH`` packets at a time)."""
        for batch, error in self._batches(data):
            yield from batch
            if error is not None:
                yield error

    def decode_stream(self, data: bytes) -> dict:
        """``{"packets": [...], "errors": [...]}`` for a whole stream file."""
        packets, errors = [], []
        with_features = self.features
        for batch, error in self._batches(data):
            for r in batch:
                packets.append(r.to_json(with_features=with_features))
                if r.errors:
                    errors.extend(str(e) for e in r.errors)
            if error is not None:
                errors.append(str(error))
        return {"packets": packets, "errors": errors}
