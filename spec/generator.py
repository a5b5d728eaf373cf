"""libopus's extension generator (src/extensions.c ``opus_packet_extensions_generate``), ported: the elements
it writes for ``(frame, id, payload)`` triples, and the padding they make."""
from __future__ import annotations

from typing import Iterable

from .elements import (
    FIRST_LONG_ID, FIRST_SHORT_ID, MAX_ID, Element, ExtensionElement, FrameSeparator, PaddingByte, PaddingRest,
    RepeatTheseExtensions,
)
from .extensions import build_elements

def plan_extensions(extensions: Iterable[tuple[int, int, bytes]], nb_frames: int, *, repeat: bool = True,
                    last_l0: bool = True, separator: str = "auto") -> list[Element]:
    """The elements libopus's opus_packet_extensions_generate writes for (frame, id, payload).

    ``repeat`` False never uses Repeat These Extensions; ``last_l0`` False codes every
    length (no L=0 last long extension, no L=0 RTE); ``separator`` "auto" uses 0x02 for
    the next frame and 0x03 n otherwise, "long" always 0x03 n.
    """
    items = [(int(f), int(i), p if isinstance(p, bytes) else bytes(p)) for f, i, p in extensions]  # bytes kept as given
    if not 0 <= nb_frames <= 48:
        raise ValueError(f"{nb_frames} frames: 0..48 allowed")
    for f, i, p in items:
        if not 0 <= f < nb_frames:
            raise ValueError(f"frame {f} outside 0..{nb_frames - 1}")
        if not FIRST_SHORT_ID <= i <= MAX_ID:
            raise ValueError(f"extension ID {i} is not 3..127")
        if i < FIRST_LONG_ID and len(p) > 1:
            raise ValueError(f"short extension {i} carries at most one byte")
    per_frame = [[(i, p) for f, i, p in items if f == g] for g in range(nb_frames)]
    start = [0] * nb_frames  # per frame: how many of its extensions earlier RTEs already carried
    total, written, current = len(items), 0, 0
    elements: list[Element] = []
    for f in range(nb_frames):
        mine = per_frame[f][start[f]:]
        later = range(f + 1, nb_frames)
        count = _repeatable_prefix(per_frame, start, mine, later) if repeat else 0
        longs = [k for k in range(count) if mine[k][0] >= FIRST_LONG_ID]
        for k, (ext_id, payload) in enumerate(mine):
            if f != current:
                step = f - current
                elements.append(FrameSeparator(None if step == 1 and separator == "auto" else step))
                current = f
            last = last_l0 and written == total - 1
            L = len(payload) if ext_id < FIRST_LONG_ID else int(not last)
            elements.append(ExtensionElement(ext_id, payload, L))
            written += 1
            if count and k == count - 1:
                # L=0 when nothing follows the repeats, or (no long repeated) to skip a separator
                rte_last = last_l0 and (written + count * len(later) == total
                                        or (not longs and k + 1 >= len(mine)))
                payloads = tuple(tuple(per_frame[g][start[g] + j][1] for j in range(count)) for g in later)
                elements.append(RepeatTheseExtensions(L=int(not rte_last), payloads=payloads))
                written += count * len(later)
                for g in later:
                    start[g] += count
                if rte_last:
                    current += 1
    return elements


def _repeatable_prefix(per_frame, start, mine, later) -> int:
    """How many of this frame's first extensions every later frame starts with (same ID, and
    same length for short ones): those are coded once and repeated."""
    if not later:
        return 0
    count = 0
    for k, (ext_id, payload) in enumerate(mine):
        for g in later:
            pos = start[g] + k
            if pos >= len(per_frame[g]):
                return count
            other_id, other = per_frame[g][pos]
            if other_id != ext_id or (ext_id < FIRST_LONG_ID and len(other) != len(payload)):
                return count
        count += 1
    return count


def build_extensions(extensions: Iterable[tuple[int, int, bytes]], nb_frames: int, *, repeat: bool = True,
                     last_l0: bool = True, separator: str = "auto", pad_to: int | None = None,
                     pad_style: str = "prefix") -> bytes:
    """Padding carrying (frame, id, payload) extensions, as libopus's generator writes it.

    ``pad_to`` fills up to that many bytes: "prefix" puts 0x01 bytes first (libopus),
    "suffix" ends with 0x00 and zeros (then no L=0 last long extension). Parsing the
    result gives the same extensions in frame order (``ExtensionList.in_frame_order``).
    """
    items = list(extensions)
    if pad_style not in ("prefix", "suffix"):
        raise ValueError(f"pad_style {pad_style!r}: 'prefix' or 'suffix'")
    if separator not in ("auto", "long"):
        raise ValueError(f"separator {separator!r}: 'auto' or 'long'")
    suffix = pad_to is not None and pad_style == "suffix"
    elements = plan_extensions(items, nb_frames, repeat=repeat, last_l0=last_l0 and not suffix,
                               separator=separator)
    data = build_elements(elements, nb_frames)
    if pad_to is None or pad_to == len(data):
        return data
    if pad_to < len(data):
        raise ValueError(f"{len(data)} bytes of extensions do not fit in {pad_to}")
    fill = pad_to - len(data)
    if suffix:
        return data + build_elements([PaddingRest(bytes(fill - 1))])
    return build_elements([PaddingByte()] * fill) + data


