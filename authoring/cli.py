"""``dredconf spec ...``: the spec authoring kit's commands (tables, figures)."""
from __future__ import annotations

import click

from dredconf.errors import DredconfError

MODEL_HELP = "Model directory or opus_data-*.tar.gz (else $DREDCONF_MODEL, the user cache, ../shared/model/opus-1.6.1)."


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


@spec.command()
@click.option("--format", "fmt", type=click.Choice(["text", "markdown", "rfcxml"]), default="text",
              show_default=True, help="Plain text of at most 72 columns, Markdown, or RFC XML v3 <figure>s.")
def figures(fmt):
    """The syntax figures of both drafts as RFC bit diagrams, drawn from the spec/ schemas."""
    from .figures import figures as all_figures, render_figures

    click.echo(render_figures(all_figures(), fmt), nl=False)
