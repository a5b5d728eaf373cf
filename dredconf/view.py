"""The human views of `dredconf inspect` and `dredconf model info`, rendered with rich."""
from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from dredconf.spec import DRED_EXTENSION_ID

_console = Console(highlight=False, soft_wrap=True)


def _toc_line(p) -> str:
    ms = p.frame_samples / 48
    return (f"TOC 0x{p.toc:02x}: config {p.config} ({p.mode} {p.bandwidth} {ms:g} ms), "
            f"{'stereo' if p.stereo else 'mono'}, code {p.code}{' VBR' if p.vbr and p.code == 3 else ''}")


def _ext_note(r, i: int) -> str:
    e = r.extensions.extensions[i]
    if r.location is not None and r.location.extension_index == i:
        return "DRED (used)"
    if e.id != DRED_EXTENSION_ID:
        return ""
    if r.location is not None and i > r.location.extension_index:
        return "DRED, ignored: an earlier one wins"
    return "ignored: no 'D' + version prefix"


def _dred_summary(d) -> str:
    return (f"q0 {d.q0}  dQ {d.dQ}  extra_offset {d.extra_offset}  offset {d.offset}  qmax {d.qmax}  "
            f"dred_offset {d.dred_offset}  frame_offset {d.frame_offset}  latents {d.latent_count}  "
            f"levels {list(d.levels)}")


def _summary_parts(r) -> list[tuple[str, str | None]]:
    """A packet's summary block as (text, style) pieces: the TOC line, a line per extension, the extension error,
    the DRED. Every piece is numbers, fixed words or an error message (control characters already escaped)."""
    p = r.packet
    first = f"packet {r.index}  {len(r.data)} B  "  # the first line is bold
    if p is None:
        return [(first, "bold"), ("unparsable: ", "bold red"), (str(r.errors[0]) if r.errors else "", "bold")]
    first += f"{_toc_line(p)}  {p.frame_count} frame{'s' if p.frame_count != 1 else ''}"
    if p.padding.length:
        first += f"  padding {p.padding.length} B @{p.padding.offset}"
    out: list[tuple[str, str | None]] = [(first, "bold")]
    base = p.padding.offset
    for i, e in enumerate(r.extensions.extensions):
        start = base + e.offset
        rep = " (repeated)" if e.repeated else ""
        out.append((f"\n    ext {e.id:3d}  frame {e.frame:2d}  bytes {start}..{start + e.length} ({e.length} B){rep}  "
                    f"{_ext_note(r, i)}", None))
    if r.extensions.error is not None:
        out += [("\n    ", None), ("extension error:", "red"), (f" {r.errors[-1]}", None)]
    if r.payload is not None:
        out.append((f"\n    DRED  {_dred_summary(r.payload)}", None))
    return out


def _summary(r) -> None:
    _console.print(Text.assemble(*_summary_parts(r)))


def _detail(r) -> None:
    _summary(r)
    p = r.packet
    if p is None:
        return
    t = Table(title="frames", title_justify="left")
    for col in ("frame", "offset", "length"):
        t.add_column(col, justify="right")
    for i, f in enumerate(p.frames):
        t.add_row(str(i), str(f.offset), str(f.length))
    _console.print(t)
    if r.extensions.extensions:
        t = Table(title="extensions (bitstream order, Repeat-These-Extensions expanded)", title_justify="left")
        for col in ("#", "id", "frame", "coded at", "payload bytes", "length", "repeated", "note"):
            t.add_column(col)
        for i, e in enumerate(r.extensions.extensions):
            start = p.padding.offset + e.offset
            t.add_row(str(i), str(e.id), str(e.frame), str(p.padding.offset + e.header_offset), f"{start}..{start + e.length}",
                      str(e.length), "yes" if e.repeated else "", _ext_note(r, i))
        _console.print(t)
    if r.payload is None:
        return
    d = r.payload
    t = Table(title=f"DRED payload @{r.location.payload_offset} ({len(r.location.payload)} B, {8 * len(r.location.payload)} bits): "
                    "range-coded fields with their bit positions (ec_tell)", title_justify="left")
    for col in ("field", "value", "bits"):
        t.add_column(col)
    values = {"q0": d.q0, "dQ": d.dQ, "extra_flag": int(d.extra_flag), "extra_offset": d.extra_offset, "offset": d.offset,
              "qmax": d.qmax, "state": "50 values"}
    values.update({f"latent{k}": f"level {lv}" for k, lv in enumerate(d.levels)})
    for name, (start, end) in d.fields.items():
        t.add_row(name, str(values.get(name, "")), f"{start}..{end}")
    t.add_row("dred_offset", f"{d.dred_offset} = 16 - {d.offset} - 32·{d.extra_offset} + {d.frame_offset}", "derived")
    t.add_row("bits used", str(d.bits_total), "")
    _console.print(t)
    _console.print(f"state (level q0 = {d.q0}): {list(d.state)}")
    t = Table(title="latents, newest first", title_justify="left")
    t.add_column("k")
    t.add_column("level")
    t.add_column("25 quantized values")
    for k, (level, lat) in enumerate(zip(d.levels, d.latents)):
        t.add_row(str(k), str(level), " ".join(f"{v:d}" for v in lat))
    _console.print(t)


SUMMARIES_PER_WRITE = 256  # a stream's summaries go out in blocks: the cost is per write, not per line


def render(results, *, detail: bool) -> None:
    """Print each packet result: one block each, or everything about one packet. Styles only on a terminal:
    elsewhere the same text is written as it is, without rich's per-piece work."""
    if detail:
        for r in results:
            _detail(r)
        return
    styled = _console.is_terminal
    block: list = []
    for r in results:
        block.append(_summary_parts(r))
        if len(block) == SUMMARIES_PER_WRITE:
            _write_summaries(block, styled)
            block = []
    if block:
        _write_summaries(block, styled)


def _write_summaries(block: list, styled: bool) -> None:
    if styled:
        _console.print(Text("\n").join(Text.assemble(*parts) for parts in block))
    else:
        _console.file.write("\n".join("".join(text for text, _ in parts) for parts in block) + "\n")


def render_features(results) -> None:
    """``decode`` without --json or -o: one line per DRED packet (latents, rows, the newest row's first values)."""
    t = Table(title="DRED features (fec_features order: row 0 is the newest 10 ms)", title_justify="left")
    for c in ("packet", "dred_offset", "latents", "rows", "row 0: c0 c1 c2 ... pitch corr"):
        t.add_column(c, justify="right" if c != "row 0: c0 c1 c2 ... pitch corr" else "left")
    n = 0
    for r in results:
        if r.payload is None or r.features is None:
            continue
        n += 1
        f = r.features
        head = " ".join(f"{x:+.3f}" for x in f[0, :3]) + f" ... {f[0, 18]:+.3f} {f[0, 19]:+.3f}" if len(f) else ""
        t.add_row(str(r.index), str(r.payload.dred_offset), str(r.payload.latent_count), str(len(f)), head)
    _console.print(t)
    _console.print(f"{n} packets with DRED; --json prints every record with its features, -o FILE writes the "
                   "rows as float32", style="dim")


def _runs(indices: list[int]) -> str:
    """``[3, 4, 5, 9]`` -> ``3-5, 9``."""
    out, start = [], None
    for i, k in enumerate(indices):
        if start is None:
            start = k
        if i + 1 == len(indices) or indices[i + 1] != k + 1:
            out.append(f"{start}" if start == k else f"{start}-{k}")
            start = None
    return ", ".join(out) or "-"


def render_bursts(bursts, packets: int) -> None:
    """``inspect --loss``: per burst, the gap against the reach of the next arriving packet's DRED."""
    t = Table(title=f"{len(bursts)} loss bursts in {packets} packets, against the DRED of the next packet (ms)",
              title_justify="left")
    for c in ("lost", "gap", "next", "dred_offset", "latents", "reach", "covered", "DRED misses"):
        t.add_column(c, justify="left" if c in ("lost", "DRED misses") else "right", no_wrap=c == "lost")
    for b in bursts:
        full, part, none = b.reached()
        misses = ", ".join(x for x in (_runs(none) if none else "", f"part of {_runs(part)}" if part else "") if x)
        t.add_row(f"{b.first}-{b.first + b.lost - 1}", f"{b.gap_ms:g}", "end" if b.arriving is None else str(b.arriving),
                  "-" if b.dred_offset is None else str(b.dred_offset), "-" if b.dred_offset is None else str(b.latent_count),
                  f"{b.reach_ms:g}", f"{b.covered_ms:g}", misses or "-")
    _console.print(t)
    lost, covered = sum(b.gap_ms for b in bursts), sum(b.covered_ms for b in bursts)
    _console.print(f"lost {lost:g} ms, of which DRED covers {covered:g} ms ({100 * covered / lost:.0f} %). "
                   "reach = latents x 40 ms - dred_offset x 2.5 ms; covered: within the gap and the 1 s opus_demo "
                   "asks for; misses: the lost packets (by index) no DRED reaches" if lost else "no packet lost",
                   style="dim")


def render_model_info(info: dict) -> None:
    """Print `Model.info()` as a few short tables."""
    t = Table(title=f"model {info.get('model_id', '')}", title_justify="left")
    t.add_column("key")
    t.add_column("value")
    for k, v in info.items():
        if not isinstance(v, (dict, list)):
            t.add_row(k, escape(str(v)))  # a path may hold [brackets]: text, not markup
    _console.print(t)
    for k, v in info.items():
        if isinstance(v, dict) and v and all(isinstance(x, dict) for x in v.values()):
            cols = sorted({c for x in v.values() for c in x})
            t = Table(title=k, title_justify="left")
            t.add_column("name")
            for c in cols:
                t.add_column(c)
            for name, row in v.items():
                t.add_row(escape(name), *(escape(str(row.get(c, ""))) for c in cols))
            _console.print(t)
        elif isinstance(v, dict):
            t = Table(title=k, title_justify="left")
            t.add_column("name")
            t.add_column("value")
            for name, val in v.items():
                t.add_row(escape(str(name)), escape(str(val)))
            _console.print(t)
