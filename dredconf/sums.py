"""``SHA256SUMS``: the file ``sha256sum`` writes (``HASH  NAME`` per line), checked before use.

Vector sets (libopus-truth sets in ``../shared/vectors/*``, the shipped sets) and model directories carry one;
``check`` and ``vectors verify`` refuse a set whose listed file is missing or has another hash, so a vector that was
edited or truncated is never judged, and the model loader refuses a model file whose hash is not the one listed.
One reader for both (``dredconf.reference`` and ``dredconf.vectors`` import it; it imports neither).
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Mapping

SUMS_NAME = "SHA256SUMS"
_LINE = re.compile(r"^([0-9a-fA-F]{64}) [ *](.+)$")


class SumsError(ValueError):
    """A ``SHA256SUMS`` file that cannot be read as one (the message names the line)."""


def sha256_file(path: Path) -> str:
    """The file's SHA-256, read in blocks (a set may hold large PCM files)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def parse_sums(text: str, where: str) -> dict[str, str]:
    """Relative file name -> lowercase SHA-256, from the text of a ``SHA256SUMS`` file (``where`` names it in
    errors); blank lines and ``#`` comments are skipped, a name outside the folder is refused."""
    out: dict[str, str] = {}
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        m = _LINE.match(line)
        if not m:
            raise SumsError(f"{where}, line {n}: not 'SHA256  NAME'")
        name = m.group(2).strip()
        rel = PurePosixPath(name)
        if rel.is_absolute() or ".." in rel.parts:
            raise SumsError(f"{where}, line {n}: {name!r} is not a path inside the set")
        out[name] = m.group(1).lower()
    return out


def format_sums(hashes: Mapping[str, str]) -> str:
    """The text of a ``SHA256SUMS`` file listing ``name -> SHA-256`` in the given order (as ``sha256sum`` writes it)."""
    return "".join(f"{h}  {name}\n" for name, h in hashes.items())


def read_sums(path: Path) -> dict[str, str]:
    """``parse_sums`` of a ``SHA256SUMS`` file."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise SumsError(f"{path}: not readable ({e})") from None
    return parse_sums(text, str(path))


@dataclass
class SumsCheck:
    """What a set's files look like against its ``SHA256SUMS``."""

    checked: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)  # "NAME (sha256 abc..., listed def...)"

    @property
    def ok(self) -> bool:
        return not (self.missing or self.changed)

    def problems(self) -> list[str]:
        return [f"{n}: listed in {SUMS_NAME} but missing" for n in self.missing] + self.changed


def check_sums(directory: Path, only: set[str] | None = None) -> SumsCheck | None:
    """Every file listed in ``DIR/SHA256SUMS`` (or those of them in ``only``) hashed and compared; None when the
    set has no such file."""
    sums_path = directory / SUMS_NAME
    if not sums_path.is_file():
        return None
    result = SumsCheck()
    for name, want in read_sums(sums_path).items():
        if only is not None and name not in only:
            continue
        p = directory / name
        if not p.is_file():
            result.missing.append(name)
            continue
        got = sha256_file(p)
        result.checked.append(name)
        if got != want:
            result.changed.append(f"{name}: sha256 {got[:16]}..., {SUMS_NAME} says {want[:16]}...")
    return result
