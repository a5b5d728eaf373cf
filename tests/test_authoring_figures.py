"""``dredconf spec figures``: the diagrams drawn from the spec/ schemas match the RFC's and the draft's own figures
bit for bit, follow the schemas when they change, and fit 72 columns."""
from __future__ import annotations

import textwrap
import xml.etree.ElementTree as ET

import construct as cs
from click.testing import CliRunner

from dredconf.authoring.figures import diagram, figures, schema_cells
from dredconf.cli import main

# RFC 6716 §3.1, Figure 1, as the RFC prints it (its page indentation kept).
RFC6716_FIGURE_1 = """
                              0
                              0 1 2 3 4 5 6 7
                             +-+-+-+-+-+-+-+-+
                             | config  |s| c |
                             +-+-+-+-+-+-+-+-+

                          Figure 1: The TOC Byte
"""

# RFC 6716 §3.2.5, Figure 5, as the RFC prints it.
RFC6716_FIGURE_5 = """
                              0
                              0 1 2 3 4 5 6 7
                             +-+-+-+-+-+-+-+-+
                             |v|p|     M     |
                             +-+-+-+-+-+-+-+-+

                      Figure 5: The frame count byte
"""

# The extension draft's figure of an extension (header byte, optional length, content), as its authors drew it
# (draft-valin-opus-extension-01, presented at IETF 117, the draft draft-ietf-mlcodec-opus-extension continues);
# the header byte is its first 8 bits.
EXTENSION_DRAFT_FIGURE = """
    0                   1                   2                   3
    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
   |      ID     |L| Length (opt.) |    extension content...       |
   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               |
"""


def _diagram_lines(figure_text: str) -> list[str]:
    """The diagram of a figure as printed: its lines up to the caption, the common indentation removed."""
    body = figure_text.strip("\n").split("\n\n")[0]
    return textwrap.dedent(body).splitlines()


def _figure(title: str) -> list[str]:
    (f,) = [f for f in figures() if f.title == title]
    return f.lines


def test_toc_figure_is_rfc6716_figure_1():
    assert _figure("The TOC byte") == _diagram_lines(RFC6716_FIGURE_1)


def test_frame_count_byte_figure_is_rfc6716_figure_5():
    assert _figure("The frame count byte (code 3)") == _diagram_lines(RFC6716_FIGURE_5)


def test_extension_header_figure_is_the_drafts():
    drafts = _diagram_lines(EXTENSION_DRAFT_FIGURE)
    header_byte = [line[:17].rstrip() for line in drafts]  # bits 0..7: 17 columns
    assert _figure("The extension header byte") == header_byte
    assert header_byte[3] == "|      ID     |L|"


def test_figures_follow_the_schema():
    """Widths come from the construct, labels from its docs: a changed schema draws a changed figure."""
    wider = cs.BitStruct("config" / cs.BitsInteger(4) * "RFC 6716 §3.1: config, x",
                         "stereo" / cs.Flag * "RFC 6716 §3.1: s, y", "code" / cs.BitsInteger(3) * "RFC 6716 §3.1: c, z")
    assert diagram(schema_cells(wider))[3] == "|config |s|  c  |"
    assert diagram(schema_cells(wider, {"code": 5}))[3] == "|config |s|  5  |"


def test_every_figure_is_drawn_from_a_schema_and_fits_72_columns():
    r = CliRunner().invoke(main, ["spec", "figures"])
    assert r.exit_code == 0
    lines = r.output.splitlines()
    assert max(map(len, lines)) <= 72 and r.output.isascii()
    titles = [f.title for f in figures()]
    assert len(titles) == 9 and all(f"Figure {i}: {t}" in r.output for i, t in enumerate(titles, 1))
    for f in figures():  # every diagram: a ruler, then rows between borders of '+-+'
        assert f.lines[2].startswith("+-+") and f.lines[-1].startswith("+-+")
    ET.fromstring(CliRunner().invoke(main, ["spec", "figures", "--format", "rfcxml"]).output)
    assert "```" in CliRunner().invoke(main, ["spec", "figures", "--format", "markdown"]).output
