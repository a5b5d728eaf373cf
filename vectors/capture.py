"""Recording integration expectations: a trusted decoder run on streams and loss patterns, kept as a vector set.

``dredconf vectors capture --decoder 'cmd:opus_demo -d 16000 1 -lossfile {loss} {input} {output}' --streams DIR
--losses DIR OUT`` writes, for every ``X.bit`` with an ``X.loss``, the three files of an integration vector
(``X.bit``, ``X.loss``, ``X.expected.sw``: what the decoder wrote), a ``SHA256SUMS`` and ``capture.json``: each
file's SHA-256, the decoder's template and what it reported as its version (the first line of its standard
error: opus_demo prints ``libopus 1.6.1``), the thresholds to judge against and the dredconf version. ``check``
and ``vectors verify`` then take OUT like ``../shared/vectors/libopus-1.6.1-integration``. This is how vector
makers regenerate the integration set when libopus or the model changes.
"""
from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import asdict
from pathlib import Path

from dredconf import __version__
from dredconf.conformance.adapters import CmdAdapter, Invocation
from dredconf.conformance.audio_metric import AudioThresholds
from dredconf.vectors.sets import CAPTURE_NAME, CAPTURE_SCHEMA, INTEGRATION, Vector, packet_bytes, stream_samples
from dredconf.vectors.setfiles import VectorSetError, read_loss
from dredconf.sums import SUMS_NAME, format_sums, sha256_file


class CaptureError(ValueError):
    """A capture that cannot be made (the message names the stream and why)."""


def capture(template: str, streams: Path, losses: Path, out: Path, *, thresholds: AudioThresholds = AudioThresholds(),
            timeout: float = 600.0) -> dict:
    """Run ``template`` on every stream with a loss pattern and write the integration set; returns capture.json."""
    adapter = CmdAdapter(template)
    adapter.preflight()
    adapter.check_kinds({INTEGRATION})
    pairs = [(s, losses / f"{s.name[:-4]}.loss") for s in sorted(streams.glob("*.bit"))]
    pairs = [(s, l) for s, l in pairs if l.is_file()]
    if not pairs:
        raise CaptureError(f"no X.bit in {streams} with an X.loss in {losses}")
    out.mkdir(parents=True, exist_ok=True)
    reported = None
    for stream, loss in pairs:
        name = stream.name[:-4]
        vector = Vector(name, INTEGRATION, stream, None, loss=loss)
        try:
            units = packet_bytes(vector)
            read_loss(loss, len(units))
        except VectorSetError as e:
            raise CaptureError(str(e)) from None
        with tempfile.TemporaryDirectory(prefix=f"dredconf-capture-{name}-") as wd:
            run = adapter.run(Invocation(vector, stream, len(units), [], Path(wd), timeout,
                                         samples=stream_samples(stream, units), loss=loss))
        if run.failure is not None:
            raise CaptureError(f"{name}: the decoder failed: {run.failure} ({run.stderr.strip()[-300:]})")
        reported = reported or next((l.strip() for l in run.stderr.splitlines() if l.strip()), "")
        shutil.copyfile(stream, out / f"{name}.bit")
        shutil.copyfile(loss, out / f"{name}.loss")
        (out / f"{name}.expected.sw").write_bytes(run.pcm)
    files = sorted(p.name for p in out.iterdir() if p.is_file() and p.name not in (SUMS_NAME, CAPTURE_NAME))
    sums = {f: sha256_file(out / f) for f in files}
    (out / SUMS_NAME).write_text(format_sums(sums), encoding="utf-8")
    manifest = {"schema": CAPTURE_SCHEMA, "kind": INTEGRATION, "decoder": template, "decoder_reported": reported,
                "thresholds": asdict(thresholds), "dredconf": __version__,
                "files": [{"path": f, "sha256": h, "bytes": (out / f).stat().st_size} for f, h in sums.items()]}
    (out / CAPTURE_NAME).write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    return manifest
