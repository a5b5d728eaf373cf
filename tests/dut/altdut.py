"""Python DUTs for the acceptable / invalid vectors of the generated corpus (``python:altdut:NAME``, with this
directory on PYTHONPATH): the reference decoder with one behaviour changed."""
from dredconf.conformance.mutants import Mutant, _Base
from dredconf.reference.payload import decode_dred_payload
from dredconf.spec import DRED_EXPERIMENTAL_PREFIX
from dredconf.spec.dred import frame_offset, is_dred


def _dreds(res) -> list:
    """The extensions holding a DRED payload ('D', 12, at least one DRED byte), in bitstream order."""
    if res.extensions is None:
        return []
    return [e for e in res.extensions.extensions if is_dred(e.id, e.data)]


class _Redred(_Base):
    """Re-decodes another DRED extension of the packet than the one the reference used."""

    def __init__(self):
        super().__init__(Mutant(type(self).__name__, "test DUT", None))

    def use(self, res, ext) -> dict:
        offset = frame_offset(ext.frame, res.packet.frame_samples)
        p = decode_dred_payload(ext.data[len(DRED_EXPERIMENTAL_PREFIX):], offset, self.decoder.model.stats)
        return self.dred_json(p)


class StrictDraft(_Redred):
    """The other allowed reading of the draft: a packet with two DREDs on one frame (MUST NOT be sent) has its
    DRED ignored, and "the first one found" is read in frame order (the DRED of the earliest frame)."""

    def mutate(self, res, rec, index):
        found = _dreds(res)
        frames = [e.frame for e in found]
        if len(set(frames)) < len(frames):
            rec["dred"] = None
        elif found and min(found, key=lambda e: e.frame) is not found[0]:
            rec["dred"] = self.use(res, min(found, key=lambda e: e.frame))
        return rec


class LastOfTwo(_Redred):
    """Two DREDs on one frame: uses the last (neither libopus's first nor the allowed 'ignore the packet's DRED')."""

    def mutate(self, res, rec, index):
        found = _dreds(res)
        frames = [e.frame for e in found]
        if len(set(frames)) < len(frames):
            rec["dred"] = self.use(res, found[-1])
        return rec


class NoExtensionError(_Redred):
    """Lists the extensions before a padding error, but reports no error."""

    def mutate(self, res, rec, index):
        rec["extension_error"] = None
        return rec
