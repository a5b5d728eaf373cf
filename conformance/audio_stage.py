"""The audio stages: a decoder's 16 kHz PCM judged against libopus's with libopus's audio metric.

* **vocoder** (features → speech): the output against libopus's generic-C FARGAN
  synthesis of the same features, at libopus's thresholds 0.25 / 1.0 / 0.15
  (err4 / err16 / pitch): the working group's "reference vocoder with a
  deviation allowance"; libopus's own SSE build passes it. The metric against
  the original speech is reported beside it, with libopus's own verdict on it
  (``tests/dred_vectors.sh``), as information only: libopus's generic C build
  itself fails it on recorded speech.
* **integration** (a whole decoder, a stream with losses): the output against
  libopus's DRED-concealed decode, at the same thresholds; and per loss burst the
  metric over the burst's span (its lost packets and the first one received),
  next to how far the arriving packet's DRED reaches, so an implementer sees
  which burst went wrong. Only the whole-stream figure is judged: the metric's
  normaliser sums over frames, so a short span scores higher than a whole file
  of the same quality (conformance/audio_metric.py); each burst's
  *stream-equivalent* figure undoes that (err4 and err16 times the square root
  of the span's share of the normaliser), so it reads against the stream's
  thresholds: what the whole stream would score were every frame like the span.

A wrong length is not judged here: the runner gives it the verdict *malformed*.
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from dredconf.conformance.audio_metric import MIN_SAMPLES, AudioFrames, AudioThresholds, audio_frames
from dredconf.conformance.results import AudioScore, BurstScore, LayerSummary
from dredconf.conformance.verdicts import Departure, Layer, Verdict
from dredconf.reference.loss import Burst

RATE_PER_MS = 16  # samples per millisecond at 16 kHz


def pcm(data: bytes) -> np.ndarray:
    """Raw s16le as int16 samples."""
    return np.frombuffer(data, dtype="<i2")


def judge_audio(layer: Layer, actual: np.ndarray, expected: np.ndarray,
                thresholds: AudioThresholds) -> tuple[LayerSummary, AudioFrames]:
    """The stage's verdict: the metric of ``actual`` against ``expected`` (the reference signal, as
    ``dred_compare -audio EXPECTED ACTUAL``), and the per-frame terms for spans. Signals shorter than the
    metric's two analysis frames (a one-frame vocoder item) are both padded with zeros to that length first:
    dred_compare cannot judge them as they are, and equal padding changes nothing else."""
    if len(expected) < MIN_SAMPLES:
        pad = MIN_SAMPLES - len(expected)
        expected, actual = (np.concatenate([np.asarray(x, dtype=np.int16), np.zeros(pad, np.int16)])
                            for x in (expected, actual))
    frames = audio_frames(expected, actual)
    score = AudioScore.of(frames.errors())
    ok = score.passes(thresholds)
    first = None if ok else Departure(layer, "", text=score.describe(thresholds))
    return LayerSummary(Verdict.PASS if ok else Verdict.FAIL, 1, int(not ok), first, required=True, audio=score), frames


def against_original(actual: np.ndarray, original: np.ndarray) -> AudioScore | None:
    """The vocoder's output against the speech its features came from (its first samples: fargan_demo drops half
    a frame at the start and stops at the last whole frame); None when too short for the metric."""
    n = min(len(actual), len(original))
    return AudioScore.of(audio_frames(original[:n], actual[:n]).errors()) if n >= MIN_SAMPLES else None


def burst_scores(frames: AudioFrames, durations_ms: Sequence[float], bursts: Sequence[Burst]) -> list[BurstScore]:
    """The metric over each burst's span (its lost packets and the first packet received after them), and the same
    scaled to the whole stream: err4 and err16 times sqrt(span T2 / stream T2), the normaliser's share."""
    starts = np.concatenate([[0.0], np.cumsum(durations_ms)])
    total_t2 = float(np.sum(frames.t2))
    out = []
    for b in bursts:
        end = b.arriving + 1 if b.arriving is not None else b.first + b.lost
        start_ms, stop_ms = float(starts[b.first]), float(starts[end])
        span = frames.covering(int(start_ms * RATE_PER_MS), int(stop_ms * RATE_PER_MS))
        raw = AudioScore.of(frames.errors(span))
        share = math.sqrt(float(np.sum(frames.t2[span])) / total_t2) if total_t2 > 0 else math.nan
        eq = AudioScore(raw.err4 * share, raw.err16 * share, raw.pitch, raw.frames, raw.pitch_frames)
        out.append(BurstScore(b.first, b.lost, start_ms, stop_ms, raw, b.gap_ms,
                              b.reach_ms if b.dred_offset is not None else None, eq))
    return out
