"""libopus's audio metric (``dnn/dred_compare.c -audio``, libopus 1.6.1) and its thresholds.

``dred_compare -audio REF TEST`` reads two 16 kHz mono signals (REF first: it is the one whose
spectrum sets the floors, the normalisation and the pitch lags) and reports err4, err16 and pitch.
Line numbers below are those of dnn/dred_compare.c at v1.6.1.

1. **High-pass** (read_pcm, :104-105, :161; biquad :71-82): each whole file goes through
   ``y[n] = x[n] - 2x[n-1] + x[n-2] + 1.97354 y[n-1] - 0.97417 y[n-2]`` (a second-order
   high-pass: a double zero at DC, poles of radius 0.987 near 55 Hz) before anything else.
2. **Frames** (:397): ``nframes = (n - 640 + 160) // 160``; frame i covers samples
   ``[160 i, 160 i + 640)``.
3. **Spectrum** (spectrum(), :165-208): a 640-point real FFT of the frame times a
   half-sample-shifted 4-term Blackman-Harris window
   ``0.35875 - 0.48829 cos 2πt + 0.14128 cos 4πt - 0.01168 cos 6πt``, ``t = (k + ½)/640``
   (:177-181, π as the float 3.14159265f); power ``|X_k|² + 0.1`` for bins 0..319 (the Nyquist
   bin is dropped; 25 Hz per bin).
4. **Frequency spreading** (:229-249, :430-451): per bin k at f = 25 k Hz,
   ``deriv = 25 (8.288e-8 f / (3.4225e-16 f⁴ + 1) + 0.009694 / (5.476e-7 f² + 1) + 1e-4)``
   (the derivative of Vorbis's Bark scale, in bins), ``decayR = 0.1^deriv`` (-10 dB/Bark upward),
   ``decayL = 0.0031623^deriv`` (-25 dB/Bark downward). Each frame's power is smoothed upward
   ``P[k] += decayR[k] P[k-1]`` (k = 1..319), then downward ``P[k] += decayL[k] P[k+1]``
   (k = 318..0), then divided by the same smoothing of an all-ones spectrum (``norm``).
5. **Floor and temporal masking** (:453-478): per frame, both spectra are floored at 1e-8 times
   the REFERENCE frame's maximum (80 dB); then forward masking ``P[i] += 0.5 P[i-1]``
   (i = 1..n-1, recursive) and backward masking ``P[i] += 0.1 P[i+1]`` for i = n-3 down to 0
   (libopus's loop starts at n-3: frame n-2 gets nothing from frame n-1).
6. **Loudness error** (:480-535): 17 bands ``BANDS`` (:213-215, CELT-like, 8 to 48 bins wide),
   per bin a threshold ``th = 0.1 / (0.0225 + f²)``, ``f = π k / 960`` (a de-emphasis-shaped
   floor), loudness exponent L = 0.2f (:281). With ``w = 1/width``, per band b of frame i:
   ``Eb2 = Σ w ((Y+th)^L - (X+th)^L)² / width``, ``Eb4`` the same with 10 th, and
   ``Tb2 = Σ w (X+th)^(2L) / width``. Per frame: ``Ef2 = mean_b Eb2``,
   ``Ef4 = (mean_b Eb4²)²``, ``Tf2 = mean_b Tb2``. Then (:538-539)
   ``err4 = 100 (mean_i Ef2²)^(1/4) / sqrt(Σ_i Tf2)`` and
   ``err16 = 100 (mean_i Ef4²)^(1/16) / sqrt(Σ_i Tf2)``. Note the normaliser sums Tf2 over frames
   rather than averaging it: for the same per-frame error, err4 and err16 shrink as 1/sqrt(frames).
7. **Pitch error** (compute_xcorr :262-279, loop :401-419): for frames i = 2 .. n-3, on the
   pre-emphasised signal ``e[m] = x[m] - 0.8 x[m-1]``, the normalised correlation of the 320
   samples from 160 i with the 320 samples ``lag`` earlier,
   ``c(lag) = Σ e[t] e[t-lag] / sqrt(Σ e[t]² · Σ e[t-lag]² + 320)``. The lag in 32..256 maximising
   the REFERENCE's c (first maximum) is its pitch; if that c > 0.7 the frame counts, adding
   ``|c_ref(lag) - c_test(lag)|``. ``pitch`` is the mean over counted frames (0/0 = NaN when none,
   which fails every threshold, as in C).

The metric is not symmetric: swapping REF and TEST changes the 80 dB floors, the normaliser T2 and
the pitch lags, so all three figures change (pitch most: the lags and the frames counted are the
reference's).

Lengths (:383-396): dred_compare silently uses only the first len(REF) samples of a longer TEST,
fails "Sample counts do not match" for a shorter TEST, fails "Insufficient sample data" below 640
samples, and reads out of bounds (crashes) for 640..799 samples (a single frame: its loops at :401
and :473 start from size_t(-1)). It ignores an odd trailing byte and assumes 16 kHz without
checking. Here unequal lengths raise :class:`AudioInputError` saying what to trim, unless
``truncate_test=True`` asks for dred_compare's truncation; fewer than 800 samples raise.
(dred_compare's ``-skip N``, dropping TEST's first N samples, is not mirrored: slice the array.)

Precision: libopus keeps the signal, spectra, spreading, masking and correlations in float32 (with
double intermediates), accumulates err4, err16 and T2 in double and the pitch error in float32
(sequential sums throughout). This module reproduces the high-pass bit for bit in float32 (its
near-unit poles amplify rounding, and for signals a few LSB apart libopus's figures are mostly that
rounding) and computes everything after it in float64 with numpy's FFT. Measured against
dred_compare on the shared vocoder and integration pairs (both ways) and on libopus SSE-build
outputs against them, the figures agree within 1e-6. The pitch error is the one discontinuous
part: where the reference's correlation has two lags tied to float32 rounding (an exactly periodic
synthetic tone) or sits at 0.7 to rounding, libopus's float32 sums and these float64 ones may
choose differently.
"""
from __future__ import annotations

import math
from array import array
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

RATE = 16000
WINDOW = 640                 # TEST_WIN_SIZE (:62)
STEP = 160                   # TEST_WIN_STEP (:63)
NFREQS = 320                 # bins compared (:61)
MIN_SAMPLES = WINDOW + STEP  # two frames: dred_compare crashes on one
BANDS = (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 272, 320)
LOUDNESS = float(np.float32(0.2))      # 0.2f
PITCH_MIN, PITCH_MAX, PITCH_FRAME = 32, 256, 320
VOICED = 0.7
RAW_EXTENSIONS = (".sw", ".raw", ".pcm")

# libopus tests/dred_vectors.sh: dred_compare -audio -thresholds 0.25 1.0 0.15
ERR4_THRESHOLD = 0.25
ERR16_THRESHOLD = 1.0
PITCH_THRESHOLD = 0.15

_F32_PI = float(np.float32(3.14159265))     # OPUS_PI (:35)


class AudioInputError(ValueError):
    """An input the audio metric cannot compare (rate, channels, length, encoding); one line."""


@dataclass(frozen=True)
class AudioThresholds:
    """Limits for err4, err16 and pitch; ``judge`` is libopus's test (each <= its limit; NaN fails)."""
    err4: float = ERR4_THRESHOLD
    err16: float = ERR16_THRESHOLD
    pitch: float = PITCH_THRESHOLD

    def judge(self, err: "AudioErrors") -> bool:
        return bool(err.err4 <= self.err4 and err.err16 <= self.err16 and err.pitch <= self.pitch)


@dataclass(frozen=True)
class AudioErrors:
    """dred_compare -audio figures over a selection of frames (all of them by default)."""
    err4: float
    err16: float
    pitch: float                 # NaN when no frame counted (as in libopus)
    frames: int                  # analysis frames in the selection
    pitch_count: int             # of those, the voiced ones the pitch error averages
    per_frame: "AudioFrames" = field(repr=False, compare=False)

    def passes(self, limits: AudioThresholds | None = None) -> bool:
        """libopus's test against ``limits`` (default 0.25 / 1.0 / 0.15); a NaN fails, as in C."""
        return (limits or AudioThresholds()).judge(self)

    def span(self, frames) -> "AudioErrors":
        """The same metric over other frames of the same comparison (see :meth:`AudioFrames.errors`)."""
        return self.per_frame.errors(frames)

    def __str__(self) -> str:
        return f"err4 = {self.err4:f}, err16 = {self.err16:f}, pitch = {self.pitch:f}"


@dataclass(frozen=True)
class AudioFrames:
    """Per-frame terms of one comparison; frame i analyses samples [160 i, 160 i + 640).

    ``e4`` = Ef2², ``e16`` = Ef4², ``t2`` = Tf2 (module docstring, step 6); ``pitch_diff`` is
    |c_ref - c_test| at the reference's lag, NaN for frames the pitch error does not count.
    """
    e4: np.ndarray
    e16: np.ndarray
    t2: np.ndarray
    pitch_diff: np.ndarray

    @property
    def count(self) -> int:
        return len(self.e4)

    def covering(self, start: int, stop: int) -> slice:
        """The frames whose 640-sample window overlaps samples [start, stop) (e.g. a loss burst)."""
        first = max(0, (start - WINDOW) // STEP + 1)
        return slice(min(first, self.count), min(max(0, -(-stop // STEP)), self.count))

    def errors(self, frames=None) -> "AudioErrors":
        """err4, err16 and pitch over ``frames`` (None, a slice, a mask or indices).

        The aggregation is dred_compare's (:538-539, :419) applied to the selected frames only, so
        it is what dred_compare would report for an excerpt of that many frames analysed in the
        whole signal's context; over all frames it is the whole-signal figure. Because the
        normaliser is a sum over frames, a short span scores higher than a long one of equal
        per-frame quality (by sqrt(total / span frames)). An empty selection gives NaN.
        """
        idx = np.arange(self.count)[slice(None) if frames is None else frames]
        n = idx.size
        t2 = float(np.sum(self.t2[idx]))
        with np.errstate(invalid="ignore", divide="ignore"):
            err4 = 100 * (np.sum(self.e4[idx]) / n) ** 0.25 / math.sqrt(t2) if n else math.nan
            err16 = 100 * (np.sum(self.e16[idx]) / n) ** (1 / 16) / math.sqrt(t2) if n else math.nan
        diff = self.pitch_diff[idx]
        counted = diff[~np.isnan(diff)]
        pitch = float(np.sum(counted) / counted.size) if counted.size else math.nan
        return AudioErrors(float(err4), float(err16), pitch, int(n), int(counted.size), self)


def audio_errors(ref, test, *, frames=None, truncate_test: bool = False) -> AudioErrors:
    """``dred_compare -audio ref test``: err4, err16 and pitch of ``test`` against ``ref``.

    ``ref`` and ``test`` are 16 kHz mono signals on the int16 scale (int16 arrays, or floats on
    that scale). ``frames`` restricts the figures to some analysis frames (see
    :meth:`AudioFrames.errors`); the result's ``per_frame`` gives any other span without recomputing.
    """
    return audio_frames(ref, test, truncate_test=truncate_test).errors(frames)


def audio_frames(ref, test, *, truncate_test: bool = False) -> AudioFrames:
    """The per-frame terms of ``dred_compare -audio ref test`` (module docstring, steps 1-7)."""
    x, y = match_lengths(_signal(ref, "reference"), _signal(test, "test"), truncate_test)
    x, y = _highpass(x), _highpass(y)
    nframes = (x.size - WINDOW + STEP) // STEP
    spectra = np.stack([_power(x, nframes), _power(y, nframes)])     # (2, frames, bins)
    e4, e16, t2 = _loudness_terms(_mask(spectra))
    return AudioFrames(e4, e16, t2, _pitch_diff(x, y, nframes))


def match_lengths(x: np.ndarray, y: np.ndarray, truncate_test: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(reference, test) if their lengths are equal and long enough, else :class:`AudioInputError`.

    ``truncate_test`` first cuts a longer test to the reference's length, as dred_compare does (:386).
    """
    if truncate_test and y.size > x.size:
        y = y[:x.size]
    n_ref, n_test = x.size, y.size
    if n_test != n_ref:
        n, longer = min(n_ref, n_test), ("test" if n_test > n_ref else "reference")
        raise AudioInputError(f"test has {n_test} samples, reference {n_ref}: compare the first {n} samples "
                              f"(trim {abs(n_test - n_ref)} from the end of {longer})")
    if n_ref < MIN_SAMPLES:
        raise AudioInputError(f"{n_ref} samples: the audio metric needs at least {MIN_SAMPLES} "
                              f"({MIN_SAMPLES // 16} ms at 16 kHz)")
    return x, y


def _signal(a, name: str) -> np.ndarray:
    a = np.asarray(a)
    if a.ndim != 1:
        raise AudioInputError(f"{name} has shape {a.shape}: the audio metric compares mono signals (one axis)")
    if not np.issubdtype(a.dtype, np.number) or np.iscomplexobj(a):
        raise AudioInputError(f"{name} has dtype {a.dtype}: expected int16 samples (or floats on the int16 scale)")
    a = a.astype(np.float32)                 # dred_compare's samples are floats (:127, :139, :151)
    if not np.all(np.isfinite(a)):
        raise AudioInputError(f"{name} has non-finite samples")
    return a.astype(np.float64)


def _highpass(x: np.ndarray) -> np.ndarray:
    """read_pcm's biquad (:71-82, :104-105, :161) bit for bit: float32 state and output, double products.

    A sequential loop, because each step rounds to float32 (``array('f')`` stores with C's
    double-to-float rounding). The exactness matters: with poles at radius 0.987 a float64 filter
    drifts from libopus's float32 one by ~1e-6 relative, which moves err16 by up to ~5e-5 when the
    two signals differ by a single LSB.
    """
    a0, a1 = float(np.float32(-1.97354)), float(np.float32(0.97417))     # a_hp; b_hp = {-2, 1}
    f32, out = array("f", [0.0]), array("f")
    put = out.append
    mem0 = mem1 = 0.0
    for xi in x.tolist():
        f32[0] = xi + mem0
        yi = f32[0]
        put(yi)
        f32[0] = mem1 + (-2.0 * xi - a0 * yi)
        mem0 = f32[0]
        f32[0] = xi - a1 * yi
        mem1 = f32[0]
    return np.frombuffer(out, dtype=np.float32).astype(np.float64)


def _power(x: np.ndarray, nframes: int) -> np.ndarray:
    """spectrum() (:165-208): windowed 640-point FFT power + 0.1 of each frame, bins 0..319."""
    t = (np.arange(WINDOW) + 0.5) / WINDOW
    window = (0.35875 - 0.48829 * np.cos(2 * _F32_PI * t) + 0.14128 * np.cos(4 * _F32_PI * t)
              - 0.01168 * np.cos(6 * _F32_PI * t))
    frames = np.lib.stride_tricks.sliding_window_view(x, WINDOW)[::STEP][:nframes]
    spec = np.fft.rfft(frames * window, axis=1)[:, :NFREQS]
    return spec.real ** 2 + spec.imag ** 2 + 0.1


def _decays() -> tuple[np.ndarray, np.ndarray]:
    """psydecay_init(decayL, decayR, 320, 16000) (:229-249)."""
    f = np.arange(NFREQS) * (RATE / (2 * NFREQS))
    deriv = (8.288e-8 * f) / (3.4225e-16 * f ** 4 + 1) + 0.009694 / (5.476e-7 * f * f + 1) + 1e-4
    deriv *= RATE / (2 * NFREQS)
    return float(np.float32(0.0031623)) ** deriv, float(np.float32(0.1)) ** deriv


def _spread(p: np.ndarray, decay_l: np.ndarray, decay_r: np.ndarray) -> np.ndarray:
    """The two recursive passes along the bins (:439-446); ``p`` has bins on axis 0."""
    p = p.copy()
    for k in range(1, NFREQS):
        p[k] += decay_r[k] * p[k - 1]
    for k in range(NFREQS - 2, -1, -1):
        p[k] += decay_l[k] * p[k + 1]
    return p


def _mask(spectra: np.ndarray) -> np.ndarray:
    """Frequency spreading, 80 dB floor and temporal masking (:430-478) of (2, frames, bins)."""
    decay_l, decay_r = _decays()
    norm = _spread(np.ones(NFREQS), decay_l, decay_r)
    p = _spread(spectra.transpose(2, 0, 1), decay_l, decay_r).transpose(1, 2, 0) / norm
    floor = 1e-8 * p[0].max(axis=1, initial=0.0)
    p = np.maximum(p, floor[None, :, None])
    p = np.ascontiguousarray(p.transpose(1, 0, 2))                 # (frames, 2, bins)
    for i in range(1, len(p)):
        p[i] += 0.5 * p[i - 1]
    for i in range(len(p) - 3, -1, -1):
        p[i] += 0.1 * p[i + 1]
    return p


def _loudness_terms(p: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-frame Ef2², Ef4² and Tf2 (:480-535) from masked spectra (frames, 2, bins)."""
    f = np.arange(NFREQS) * _F32_PI / 960
    thresh = 0.1 / (0.15 * 0.15 + f * f)
    width = np.diff(BANDS)
    scale = np.repeat(1.0 / (width * width), width)     # w = 1/width per bin, then the band's /width
    x, y = p[:, 0], p[:, 1]

    def per_band(v):            # (frames, 17): Σ over each band's bins of v / width²
        return np.add.reduceat(v * scale, BANDS[:-1], axis=1)

    eb2 = per_band(((y + thresh) ** LOUDNESS - (x + thresh) ** LOUDNESS) ** 2)
    eb4 = per_band(((y + 10 * thresh) ** LOUDNESS - (x + 10 * thresh) ** LOUDNESS) ** 2)
    tb2 = per_band((x + thresh) ** (2 * LOUDNESS))
    ef2 = eb2.mean(axis=1)
    ef4 = (eb4 ** 2).mean(axis=1) ** 2
    return ef2 ** 2, ef4 ** 2, tb2.mean(axis=1)


def _pitch_diff(x: np.ndarray, y: np.ndarray, nframes: int) -> np.ndarray:
    """Per frame |c_ref - c_test| at the reference's pitch lag (:262-279, :401-419); NaN if not counted."""
    out = np.full(nframes, np.nan)
    count = nframes - 4
    if count <= 0:
        return out
    span = PITCH_MAX + PITCH_FRAME                                  # 576 samples per frame
    corr = []
    for s in (x, y):
        e = s.copy()
        e[1:] -= 0.8 * s[:-1]
        win = np.lib.stride_tricks.sliding_window_view(e, span)[2 * STEP - PITCH_MAX::STEP][:count]
        seg = win[:, PITCH_MAX:]
        # xy[lag] = Σ seg[t] win[256 - lag + t]: a correlation, read backwards; yy[lag] likewise
        xy = np.fft.irfft(np.conj(np.fft.rfft(seg, 1024)) * np.fft.rfft(win, 1024), 1024)[:, PITCH_MAX::-1]
        energy = np.concatenate([np.zeros((count, 1)), np.cumsum(win * win, axis=1)], axis=1)
        yy = energy[:, span:PITCH_FRAME - 1:-1] - energy[:, PITCH_MAX::-1]
        xx = yy[:, :1]
        corr.append(xy / np.sqrt(xx * yy + PITCH_FRAME))
    cx, cy = corr
    lag = PITCH_MIN + np.argmax(cx[:, PITCH_MIN:], axis=1)
    rows = np.arange(count)
    at = cx[rows, lag]
    diff = np.abs(at - cy[rows, lag])
    out[2:nframes - 2] = np.where(at > VOICED, diff, np.nan)
    return out


def read_audio(path: str | Path) -> tuple[np.ndarray, int]:
    """One audio file as (samples, rate): raw s16le for .sw/.raw/.pcm (16 kHz assumed), else soundfile.

    16-bit files give int16; other encodings give float64 on the int16 scale (24-bit as
    dred_compare -s24 reads it, float as -f32). Raises :class:`AudioInputError` for an odd byte
    count, more than one channel, or a file soundfile cannot read.
    """
    path = Path(path)
    if path.suffix.lower() in RAW_EXTENSIONS:
        data = path.read_bytes()
        if len(data) % 2:
            raise AudioInputError(f"{path}: {len(data)} bytes, not a whole number of 16-bit samples")
        return np.frombuffer(data, dtype="<i2").astype(np.int16), RATE
    import soundfile

    try:
        info = soundfile.info(str(path))
        if info.channels != 1:
            raise AudioInputError(f"{path}: {info.channels} channels; the audio metric compares mono signals")
        if info.subtype == "PCM_16":
            data, rate = soundfile.read(str(path), dtype="int16")
        else:
            data, rate = soundfile.read(str(path), dtype="float64")
            data = data * 32768.0
    except RuntimeError as e:          # soundfile.LibsndfileError
        msg = " ".join(str(e).split())
        raise AudioInputError(f"{path}: not raw s16le ({', '.join(RAW_EXTENSIONS)}) "
                              f"and unreadable by soundfile: {msg}") from None
    return data, int(rate)


def read_pair(ref: str | Path, test: str | Path, *, truncate_test: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Read a reference and a test file for :func:`audio_errors`, checking rates and lengths."""
    (x, rx), (y, ry) = read_audio(ref), read_audio(test)
    if rx != ry:
        raise AudioInputError(f"different sample rates: reference {rx} Hz, test {ry} Hz; "
                              f"the audio metric needs both at {RATE} Hz")
    if rx != RATE:
        raise AudioInputError(f"both files are at {rx} Hz; the audio metric compares {RATE} Hz signals "
                              "(resample first)")
    return match_lengths(x, y, truncate_test)
