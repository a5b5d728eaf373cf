"""opus-dred-conformance-vectors: the libopus 1.6.1 ground-truth vector sets of opus-dred-conformance (``dredconf``).

Data only. Each set is a directory of ``SETS_DIR`` (its README, PROVENANCE.md and SHA256SUMS inside);
``SETS_DIR/index.json`` names them, with each set's kind and the SHA-256 of its SHA256SUMS. ``dredconf vectors list``
shows them, ``dredconf vectors verify NAME`` checks one, ``dredconf check --vectors NAME`` runs a decoder on one.
Licences: ``LICENSES/`` and each set's PROVENANCE.md.
"""
from pathlib import Path

#: The sets, one directory each, and their ``index.json``.
SETS_DIR = Path(__file__).resolve().parent / "sets"
