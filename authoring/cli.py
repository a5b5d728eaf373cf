"""``dredconf spec ...``: the spec authoring kit's commands (tables, example, figures, examples)."""
from __future__ import annotations

from pathlib import Path

import click

from dredconf.errors import DredconfError, StreamError
from dredconf.inputs import MODEL_HELP

DOC_FORMATS = click.Choice(["text", "markdown"])


def _model(path: str | None, parts=("stats",)):
    from dredconf.reference.model import load_model

    try:
        return load_model(path, parts=parts)
    except DredconfError as e:
        raise click.ClickException(str(e)) from None


@click.group()
def spec():
    """The spec authoring kit: the drafts' tables, worked examples and syntax figures, generated from the
    schemas and the reference decoder."""


@spec.command()
@click.option("--format", "fmt", type=click.Choice(["markdown", "rfcxml", "csv"]), default="markdown",
              show_default=True, help="Markdown, RFC XML v3 <table> elements, or CSV.")
@click.option("--model", help=MODEL_HELP)
def tables(fmt, model):
    """The DRED header syntax, the quantizer schedule, the per-level entropy parameters and the model (file
    hashes, ids, RDOVAE decoder and FARGAN layers), every number read from spec/ and the model files."""
    from .formats import render_tables
    from .modeltable import model_tables
    from .tables import syntax_tables

    m = _model(model, parts=("stats", "decoder"))
    try:
        click.echo(render_tables(syntax_tables(m.stats) + model_tables(m), fmt), nl=False)
    except DredconfError as e:
        raise click.ClickException(str(e)) from None


def _packet(file: str | None, hex_packet: str | None, packet: int | None) -> tuple[bytes, str]:
    """The packet to work and its title: ``--hex``, or packet N of a stream (libopus test-tool or Ogg Opus)."""
    from dredconf.inputs import read_input
    from dredconf.spec import read_stream

    if hex_packet is not None and (file is not None or packet is not None):
        raise click.UsageError("give either --hex PACKET or a STREAM with --packet N")
    data, raw = read_input(file, hex_packet)
    if raw:
        return data, "The packet given in hex"
    if packet is None:
        raise click.UsageError("give --packet N: which packet of the stream to work")
    count = 0
    for rec in read_stream(data):
        if isinstance(rec, StreamError):
            raise click.ClickException(f"{file}: {rec}")
        if rec.index == packet:
            return rec.packet, f"{Path(file).name}, packet {packet}"
        count += 1
    raise click.ClickException(f"{file}: no packet {packet} (the stream has {count}, numbered from 0)")


@spec.command()
@click.argument("stream", required=False)
@click.option("--packet", "-p", type=click.IntRange(min=0), help="Which packet of STREAM (from 0).")
@click.option("--hex", "hex_packet", metavar="PACKET", help="Work one raw packet given in hex instead.")
@click.option("--format", "fmt", type=DOC_FORMATS, default="text", show_default=True,
              help="Plain text of at most 72 columns (for a draft) or Markdown.")
@click.option("--model", help=MODEL_HELP)
def example(stream, packet, hex_packet, fmt, model):
    """A worked example of one packet's DRED, RFC style: bytes, TOC, frame count byte, padding length, each
    extension's header bits, the DRED envelope, every range-coded field with the coder's state after it, the
    initial state, the first latent and the stop rule."""
    from .example import ExampleError, worked_example
    from .formats import render_doc

    data, title = _packet(stream, hex_packet, packet)
    m = _model(model)
    try:
        click.echo(render_doc(worked_example(data, m.stats, title=title), fmt), nl=False)
    except ExampleError as e:
        raise click.ClickException(str(e)) from None


@spec.command()
@click.option("--format", "fmt", type=click.Choice(["text", "markdown", "rfcxml"]), default="text",
              show_default=True, help="Plain text of at most 72 columns, Markdown, or RFC XML v3 <figure>s.")
def figures(fmt):
    """The syntax figures of both drafts as RFC bit diagrams, drawn from the spec/ schemas."""
    from .figures import figures as all_figures, render_figures

    click.echo(render_figures(all_figures(), fmt), nl=False)


@spec.command()
@click.argument("out", type=click.Path(file_okay=False))
@click.option("--seed", type=click.IntRange(min=0), default=None, help="Corpus seed (default: the generator's).")
@click.option("--format", "fmt", type=DOC_FORMATS, default="text", show_default=True)
@click.option("--model", help=MODEL_HELP)
def examples(out, seed, fmt, model):
    """Write a short curated set of worked examples into OUT, each with its expected JSON, drawn from the
    corpus generator (ids, flags and expectations as in the corpus)."""
    from dredconf.vectors.generate import DEFAULT_SEED

    from .examples import write_examples

    m = _model(model)
    try:
        written = write_examples(out, m, seed=DEFAULT_SEED if seed is None else seed, fmt=fmt)
    except OSError as e:
        raise click.ClickException(f"{out}: {e.strerror or e}") from None
    click.echo(f"{out}: {len(written)} worked examples ({', '.join(e['id'] for e in written)})")
