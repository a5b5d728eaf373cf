"""libopus's dred_compare -audio metric (conformance/audio_metric.py): README figures, invariants, inputs, spans."""
from __future__ import annotations

import math

import numpy as np
import pytest
import soundfile

from dredconf.conformance import audio_metric as A
from dredconf.conformance.audio_metric import AudioInputError, AudioThresholds, audio_errors, read_audio, read_pair
from tests.helpers.shared import pcm

# Figures printed (4 decimals) in the shared READMEs, measured there with dred_compare -audio REF TEST.
VOCODER_README = {  # "expected vs original": REF = X.orig.sw cut to the expected length, TEST = X.expected.sw
    "slt_16k": (0.1460, 0.4159, 0.0205),
    "alsaA_16k": (0.3155, 0.9482, 0.0464),
}
INTEGRATION_README = {  # "plc-only vs expected": REF = X.expected.sw, TEST = X.plc-only.sw
    "S1": (1.1071, 3.1411, 0.0854),
    "S2": (2.0631, 4.2705, 0.3235),
    "S3": (1.1019, 2.6622, 0.0001),
    "S1L": (1.0292, 3.4533, 0.0179),
    "S4": (1.8187, 5.2556, 0.0522),
}


def _figures(e: A.AudioErrors) -> tuple[float, float, float]:
    return e.err4, e.err16, e.pitch


def _voiced(n: int = 32000, seed: int = 0) -> np.ndarray:
    """A speech-like voiced signal: 29 harmonics of a gliding 100..180 Hz pitch, a syllable envelope, a little noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(n) / A.RATE
    phase = 2 * np.pi * np.cumsum(140 + 40 * np.sin(2 * np.pi * 0.7 * t)) / A.RATE
    s = sum(np.sin(h * phase) / h for h in range(1, 30))
    return np.round(6000 * (0.6 + 0.4 * np.sin(2 * np.pi * 3 * t)) * s + 30 * rng.standard_normal(n)).astype(np.int16)


def _i16(a) -> np.ndarray:
    return np.clip(np.round(a), -32768, 32767).astype(np.int16)


def _raw(path, samples) -> str:
    np.asarray(samples, dtype="<i2").tofile(path)
    return str(path)


# --- (1) the figures in the shared READMEs ------------------------------------------------------------

@pytest.mark.shared
@pytest.mark.parametrize("item", sorted(VOCODER_README))
def test_vocoder_readme_figures(vocoder_dir, item):
    d = vocoder_dir
    expected, _ = read_audio(pcm(d / f"{item}.expected"))
    orig, _ = read_audio(pcm(d / f"{item}.orig"))
    e = audio_errors(orig[:expected.size], expected)
    assert _figures(e) == pytest.approx(VOCODER_README[item], abs=5e-5)
    # libopus's own verdict at 0.25 / 1.0 / 0.15: slt passes, alsaA fails on err4 (README)
    assert e.passes() is (item == "slt_16k")


@pytest.mark.shared
@pytest.mark.parametrize("stream", sorted(INTEGRATION_README))
def test_integration_readme_figures(integration_dir, stream):
    d = integration_dir
    e = audio_errors(*read_pair(pcm(d / f"{stream}.expected"), pcm(d / f"{stream}.plc-only")))
    assert _figures(e) == pytest.approx(INTEGRATION_README[stream], abs=5e-5)
    assert not e.passes()          # a decoder ignoring DRED fails libopus's thresholds


@pytest.mark.shared
def test_readme_length_message_and_libopus_truncation(vocoder_dir):
    d = vocoder_dir
    # 93058 and 92800 bytes: 46529 and 46400 samples
    with pytest.raises(AudioInputError, match=r"^test has 46529 samples, reference 46400: compare the first 46400 "
                                              r"samples \(trim 129 from the end of test\)$"):
        read_pair(pcm(d / "alsaA_16k.expected"), pcm(d / "alsaA_16k.orig"))
    # dred_compare itself silently compares only the first len(REF) samples of a longer TEST
    x, y = read_pair(pcm(d / "alsaA_16k.expected"), pcm(d / "alsaA_16k.orig"), truncate_test=True)
    full, _ = read_audio(pcm(d / "alsaA_16k.orig"))
    assert (x.size, y.size, full.size) == (46400, 46400, 46529) and np.array_equal(y, full[:x.size])
    assert _figures(audio_errors(x, full, truncate_test=True)) == _figures(audio_errors(x, y))


# --- (2) invariants -------------------------------------------------------------------------------------

def test_identical_signals_score_zero_and_pass():
    v = _voiced()
    e = audio_errors(v, v)
    assert _figures(e) == (0.0, 0.0, 0.0)
    assert e.pitch_count > 0 and e.passes()


def test_silence_has_no_pitch_frames_so_nan_fails():
    z = np.zeros(16000, np.int16)
    e = audio_errors(z, z)
    assert (e.err4, e.err16) == (0.0, 0.0) and math.isnan(e.pitch) and e.pitch_count == 0
    assert not e.passes()                                  # dred_compare: "-nan", Comparison FAILED
    assert not AudioThresholds(1e9, 1e9, 1e9).judge(e)


def test_larger_gain_error_gives_larger_err4_err16():
    v = _voiced()
    errs = [audio_errors(v, _i16(v * g)) for g in (1.0, 0.95, 0.9, 0.7, 0.5)]
    for a, b in zip(errs, errs[1:]):
        assert a.err4 < b.err4 and a.err16 < b.err16


def test_larger_delay_gives_larger_errors():
    v = _voiced()
    errs = [audio_errors(v, np.concatenate([np.zeros(d, np.int16), v[:v.size - d]])) for d in (0, 1, 4, 16, 64, 128)]
    for a, b in zip(errs, errs[1:]):
        assert a.err4 < b.err4 and a.err16 < b.err16 and a.pitch < b.pitch


def test_more_noise_gives_larger_errors():
    v = _voiced()
    noise = np.random.default_rng(5).standard_normal(v.size)
    errs = [audio_errors(v, _i16(v + s * noise)) for s in (0, 3, 30, 300, 1000)]
    for a, b in zip(errs, errs[1:]):
        assert a.err4 < b.err4 and a.err16 < b.err16 and a.pitch < b.pitch


def test_asymmetry_is_dred_compares():
    v = _voiced()
    quiet = _i16(v * 0.5)
    fwd, back = audio_errors(v, quiet), audio_errors(quiet, v)
    assert fwd.err4 != back.err4
    # the normaliser T2 is the reference's alone (:506-507): any test gives the same per-frame t2
    other = audio_errors(v, _i16(v + 500 * np.random.default_rng(1).standard_normal(v.size)))
    np.testing.assert_array_equal(fwd.per_frame.t2, other.per_frame.t2)
    # the pitch lags come from the reference: a noise reference has no voiced frame, a voiced one has many
    noise = _i16(3000 * np.random.default_rng(2).standard_normal(v.size))
    assert audio_errors(v, noise).pitch_count > 0
    assert audio_errors(noise, v).pitch_count == 0 and math.isnan(audio_errors(noise, v).pitch)


def test_highpass_is_read_pcms_biquad_in_float32():
    x = np.round(np.random.default_rng(3).standard_normal(3000) * 3000)
    a0, a1 = np.float32(-1.97354), np.float32(0.97417)          # a_hp, b_hp = {-2, 1} (dred_compare.c:104-105)
    y, m0, m1 = np.empty(x.size, np.float32), np.float32(0), np.float32(0)
    for i, xi in enumerate(x.astype(np.float32)):                # biquad() (:71-82) with numpy scalars
        yi = np.float32(xi + m0)
        m0 = np.float32(np.float64(m1) + (np.float64(-2) * np.float64(xi) - np.float64(a0) * np.float64(yi)))
        m1 = np.float32(np.float64(1) * np.float64(xi) - np.float64(a1) * np.float64(yi))
        y[i] = yi
    np.testing.assert_array_equal(A._highpass(x), y.astype(np.float64))


# --- (3) inputs -----------------------------------------------------------------------------------------

def _one_line(excinfo) -> str:
    msg = str(excinfo.value)
    assert isinstance(excinfo.value, ValueError) and "\n" not in msg
    return msg


def test_length_messages(tmp_path):
    v = _voiced(2000)
    with pytest.raises(AudioInputError) as ei:
        audio_errors(v[:1900], v)
    assert _one_line(ei) == ("test has 2000 samples, reference 1900: compare the first 1900 samples "
                             "(trim 100 from the end of test)")
    with pytest.raises(AudioInputError) as ei:
        read_pair(_raw(tmp_path / "r.sw", v), _raw(tmp_path / "t.sw", v[:1990]))
    assert _one_line(ei) == ("test has 1990 samples, reference 2000: compare the first 1990 samples "
                             "(trim 10 from the end of reference)")
    # dred_compare's truncation only ever shortens the test
    assert audio_errors(v[:1900], v, truncate_test=True).frames == audio_errors(v[:1900], v[:1900]).frames
    with pytest.raises(AudioInputError, match="trim 10 from the end of reference"):
        audio_errors(v, v[:1990], truncate_test=True)


def test_too_short(tmp_path):
    v = _voiced(2000)
    with pytest.raises(AudioInputError) as ei:
        audio_errors(v[:799], v[:799])             # one frame: dred_compare reads out of bounds
    assert _one_line(ei) == "799 samples: the audio metric needs at least 800 (50 ms at 16 kHz)"
    assert audio_errors(v[:800], v[:800]).frames == 2


def test_rates_channels_and_bytes(tmp_path):
    v = _voiced(4000)
    w16, w48 = tmp_path / "a16.wav", tmp_path / "a48.wav"
    soundfile.write(w16, v, 16000, subtype="PCM_16")
    soundfile.write(w48, v, 48000, subtype="PCM_16")
    with pytest.raises(AudioInputError) as ei:
        read_pair(w16, w48)
    assert "different sample rates: reference 16000 Hz, test 48000 Hz" in _one_line(ei)
    with pytest.raises(AudioInputError) as ei:
        read_pair(_raw(tmp_path / "a.sw", v), w48)         # raw files are 16 kHz by definition
    assert "different sample rates" in _one_line(ei)
    with pytest.raises(AudioInputError) as ei:
        read_pair(w48, w48)
    assert "both files are at 48000 Hz" in _one_line(ei)
    stereo = tmp_path / "st.wav"
    soundfile.write(stereo, np.stack([v, v], axis=1), 16000, subtype="PCM_16")
    with pytest.raises(AudioInputError) as ei:
        read_audio(stereo)
    assert "2 channels" in _one_line(ei)
    odd = tmp_path / "odd.sw"
    odd.write_bytes(v.tobytes() + b"\x01")
    with pytest.raises(AudioInputError) as ei:
        read_audio(odd)
    assert _one_line(ei).endswith("8001 bytes, not a whole number of 16-bit samples")
    junk = tmp_path / "junk.wav"
    junk.write_bytes(b"RIFF\x00\x01junk\n" * 5)
    with pytest.raises(AudioInputError) as ei:
        read_audio(junk)
    assert "unreadable by soundfile" in _one_line(ei)
    with pytest.raises(AudioInputError) as ei:
        audio_errors(np.stack([v, v]), np.stack([v, v]))
    assert "mono" in _one_line(ei)


def test_wav_flac_and_raw_read_alike(tmp_path):
    v = _voiced(4000)
    raw, _ = read_audio(_raw(tmp_path / "a.raw", v))
    for name, subtype in (("a.wav", "PCM_16"), ("a.flac", "PCM_16"), ("b.wav", "PCM_24"), ("c.wav", "FLOAT")):
        soundfile.write(tmp_path / name, v / 32768.0 if subtype == "FLOAT" else v, 16000, subtype=subtype)
        data, rate = read_audio(tmp_path / name)
        assert rate == 16000
        np.testing.assert_array_equal(np.asarray(data, np.float64), raw.astype(np.float64))
    assert raw.dtype == np.int16


# --- (4) per-frame terms and spans ----------------------------------------------------------------------

def test_spans_aggregate_to_the_whole_figure():
    v = _voiced()
    t = _i16(v + 200 * np.random.default_rng(4).standard_normal(v.size))
    e = audio_errors(v, t)
    pf = e.per_frame
    n = pf.count
    assert n == e.frames == (v.size - 480) // 160
    for sel in (slice(None), np.ones(n, bool), np.arange(n)):
        assert _figures(e.span(sel)) == _figures(e)
    assert _figures(audio_errors(v, t, frames=slice(10, 40))) == _figures(e.span(slice(10, 40)))
    # the whole figure from the per-frame terms, as dred_compare :538-539 and :419 combine them
    assert e.err4 == pytest.approx(100 * np.mean(pf.e4) ** 0.25 / math.sqrt(np.sum(pf.t2)), rel=1e-12)
    assert e.err16 == pytest.approx(100 * np.mean(pf.e16) ** (1 / 16) / math.sqrt(np.sum(pf.t2)), rel=1e-12)
    assert e.pitch == pytest.approx(np.nanmean(pf.pitch_diff), rel=1e-12)
    assert e.pitch_count == np.count_nonzero(~np.isnan(pf.pitch_diff))
    assert np.isnan(pf.pitch_diff[[0, 1, n - 2, n - 1]]).all()     # pitch frames are 2 .. n-3 (:401)
    empty = e.span(slice(0, 0))
    assert empty.frames == 0 and all(math.isnan(f) for f in _figures(empty))


def test_covering():
    pf = audio_errors(_voiced(3200), _voiced(3200)).per_frame      # 17 frames
    assert pf.count == 17
    assert pf.covering(0, 1) == slice(0, 1)
    assert pf.covering(639, 640) == slice(0, 4)         # frames 0..3 contain sample 639
    assert pf.covering(640, 800) == slice(1, 5)
    assert pf.covering(3000, 10**6) == slice(15, 17)


@pytest.mark.shared
def test_loss_bursts_carry_the_error(integration_dir):
    """S1 without DRED: the frames over lost packets (20 ms = 320 samples each) hold the error."""
    d = integration_dir
    pf = audio_errors(*read_pair(pcm(d / "S1.expected"), pcm(d / "S1.plc-only"))).per_frame
    lost = np.flatnonzero(np.loadtxt(d / "S1.loss", dtype=int))
    over = np.zeros(pf.count, bool)
    for k in lost:
        over[pf.covering(320 * k, 320 * (k + 1))] = True
    assert pf.e4[over].mean() > 20 * pf.e4[~over].mean()
    whole = pf.errors()
    assert pf.errors(over).err4 > whole.err4 > pf.errors(~over).err4
