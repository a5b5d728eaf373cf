"""The ``dredconf`` command line."""
import click


@click.group()
def main() -> None:
    """Conformance suite for Opus DRED."""
