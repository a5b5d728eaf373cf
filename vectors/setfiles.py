"""The files a vector set holds, one reader each: a file whole or in parts (``X.00``, ``X.01``, …), expected
records as JSON (gzip-compressed or not), float32 features, PCM raw or FLAC, loss patterns. Each read either gives
the file's content or raises :class:`VectorSetError` naming the file and the rule; ``vectors/sets.py`` builds the
sets and their validation on these."""
from __future__ import annotations

import gzip
import json
import zlib
from glob import escape as glob_escape
from pathlib import Path

from dredconf.errors import DredconfError

SAMPLE_RATE = 16000  # the vocoder's and the integration stage's PCM: 16 kHz s16le mono


class VectorSetError(DredconfError):
    """A vector set that cannot be judged: nothing recognisable, or a file broken, missing or changed."""

    def __init__(self, message: str, *, rule: str):
        super().__init__(message, rule=rule)


def first_of(*paths: Path) -> Path | None:
    """The one of ``paths`` present (a file, or a file shipped in parts: its first part); two present is an error."""
    found = [f for f in map(located, paths) if f is not None]
    if len(found) > 1:
        raise VectorSetError(f"{found[1].parent}: {found[0].name} and {found[1].name} are the same file twice; "
                             "keep one", rule="set-duplicate")
    return found[0] if found else None


#: The first part of a file shipped in parts: ``NAME.00`` (then ``NAME.01``, …).
FIRST_PART = ".00"


def located(path: Path) -> Path | None:
    """``path`` when it is a file, its first part ``path.00`` when it comes in parts, else None."""
    first = path.with_name(path.name + FIRST_PART)
    if path.is_file() and first.is_file():
        raise VectorSetError(f"{path}: both the whole file and its parts ({first.name}, …); keep one",
                             rule="set-duplicate")
    return path if path.is_file() else first if first.is_file() else None


def file_parts(path: Path) -> list[Path]:
    """The files holding ``path``'s bytes: ``[path]``, or for a first part ``X.00`` every part X.00, X.01, … in
    order (a gap in the numbering is a :class:`VectorSetError`)."""
    if not path.name.endswith(FIRST_PART):
        return [path]
    stem = path.name[: -len(FIRST_PART)]
    found = sorted(p.name for p in path.parent.glob(f"{glob_escape(stem)}.[0-9][0-9]"))
    want = [f"{stem}.{i:02d}" for i in range(len(found))]
    if found != want:
        missing = sorted(set(want) - set(found))[0] if set(want) - set(found) else want[-1]
        raise VectorSetError(f"{path.parent / stem}: parts {', '.join(found)}: {missing} is missing", rule="set-parts")
    return [path.with_name(n) for n in found]


def whole_name(path: Path) -> str:
    """The name of the file ``path`` holds (``X.expected.json.gz`` for its part ``X.expected.json.gz.00``)."""
    return path.name[: -len(FIRST_PART)] if path.name.endswith(FIRST_PART) else path.name


def read_whole(path: Path) -> bytes:
    """The bytes of a file, or of a file shipped in parts (from its first part)."""
    return b"".join(p.read_bytes() for p in file_parts(path))


def pcm_file(base: Path) -> Path | None:
    """``base.sw`` or ``base.flac`` (e.g. ``base`` = ``dir/S1.plc-only``), whichever is there; None when neither."""
    return first_of(base.with_name(base.name + ".sw"), base.with_name(base.name + ".flac"))


def broken(path: Path, message: str, *, rule: str) -> VectorSetError:
    """The error for a broken file of a set: its path, what is wrong, the rule."""
    return VectorSetError(f"{path}: {message}", rule=rule)


def read_expected_json(path: Path) -> list[dict]:
    """``{"packets": [...]}``'s list, from JSON, gzip-compressed JSON, or either in parts."""
    try:
        data = read_whole(path)
        obj = json.loads(gzip.decompress(data) if whole_name(path).endswith(".gz") else data)
    except (OSError, EOFError, zlib.error, gzip.BadGzipFile, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise broken(path, f"not readable JSON ({e})", rule="expected-unreadable") from None
    packets = obj.get("packets") if isinstance(obj, dict) else None
    if not isinstance(packets, list):
        raise broken(path, 'not {"packets": [...]}', rule="expected-schema")
    return packets


def read_f32(path: Path) -> bytes:
    """A float32 file's bytes, gzip-compressed or not, whole or in parts."""
    try:
        data = read_whole(path)
        return gzip.decompress(data) if whole_name(path).endswith(".gz") else data
    except (OSError, EOFError, zlib.error, gzip.BadGzipFile) as e:
        raise broken(path, f"not readable ({e})", rule="expected-unreadable") from None


def read_pcm(path: Path, rate: int = SAMPLE_RATE) -> bytes:
    """The s16le samples of raw PCM (``.sw``) or of a FLAC file (``.flac``: 16-bit, mono, at ``rate``)."""
    if path.suffix != ".flac":
        data = path.read_bytes()
        if len(data) % 2:
            raise broken(path, f"{len(data)} bytes: not 16-bit samples (an odd byte count)", rule="pcm-size")
        return data
    import soundfile  # only where a set ships FLAC

    try:
        with soundfile.SoundFile(str(path)) as f:
            form = (f.format, f.subtype, f.channels, f.samplerate)
            samples = f.read(dtype="int16") if form == ("FLAC", "PCM_16", 1, rate) else None
            frames = f.frames
    except RuntimeError as e:  # soundfile.LibsndfileError
        raise broken(path, f"not readable FLAC ({' '.join(str(e).split())})", rule="pcm-format") from None
    if samples is None:
        raise broken(path, f"{form[0]} {form[1]}, {form[2]} channel(s) at {form[3]} Hz; expected FLAC PCM_16, "
                      f"1 channel at {rate} Hz", rule="pcm-format")
    if len(samples) != frames:
        raise broken(path, f"{len(samples)} samples decoded, its header says {frames}", rule="pcm-format")
    return samples.astype("<i2").tobytes()


def read_loss(path: Path, packets: int) -> list[int]:
    """opus_demo's -lossfile: one 0 (received) or 1 (lost) per packet, whitespace separated."""
    try:
        words = path.read_text(encoding="ascii").split()
    except (OSError, UnicodeDecodeError) as e:
        raise broken(path, f"not readable ({e})", rule="loss-syntax") from None
    bad = next((i for i, w in enumerate(words) if w not in ("0", "1")), None)
    if bad is not None:
        raise broken(path, f"entry {bad} is {words[bad][:20]!r}, expected 0 or 1", rule="loss-syntax")
    if len(words) != packets:
        raise broken(path, f"{len(words)} entries for the {packets} packets of the stream", rule="loss-count")
    return [int(w) for w in words]
