"""The vectors distribution (vectors/distribution, ``dredconf_vectors``): what users install is ../shared's ground
truth, rebuilt byte for byte by the script in the repository, held to its index and sums, found by name.

The equality with ../shared is file by file: streams, loss patterns, feature files and gzip files byte-identical
(the expected JSON also identical once decompressed), every FLAC decoding to the exact bytes of its ``.sw``, a file
in parts joined back to the original, and nothing shipped that ../shared does not have but the README, the
provenance and the sums.
"""
from __future__ import annotations

import gzip
import hashlib
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import soundfile
from click.testing import CliRunner

from dredconf.cli import main
from dredconf.vectors.installed import INDEX_NAME, installed_sets, load_installed
from dredconf.vectors.setfiles import VectorSetError, read_pcm
from tests.helpers.shared import model_dir, require

ROOT = Path(__file__).resolve().parent.parent
DIST = ROOT / "vectors" / "distribution"
BUILD = DIST / "build_sets.py"
SETS = ("libopus-1.6.1", "libopus-1.6.1-edge", "libopus-1.6.1-standalone", "libopus-1.6.1-vocoder",
        "libopus-1.6.1-integration")
#: What each set holds, as ``vectors list`` prints it.
HOLDS = {"libopus-1.6.1": ("features", "4 streams, 1,241 packets"),
         "libopus-1.6.1-edge": ("features", "2 streams, 115 packets"),
         "libopus-1.6.1-standalone": ("standalone", "1 record file, 174 records"),
         "libopus-1.6.1-vocoder": ("vocoder", "2 feature files, 1,337 frames, 13.4 s"),
         "libopus-1.6.1-integration": ("integration", "5 streams with losses, 1,694 packets, 37.3 s")}
SHIPPED_TEXT = {"README.md", "PROVENANCE.md", "SHA256SUMS"}


def _run(*args: str):
    r = CliRunner().invoke(main, list(args))
    assert r.exception is None or isinstance(r.exception, SystemExit), r.output
    return r


def _shipped_files(d: Path) -> set[str]:
    return {p.relative_to(d).as_posix() for p in d.rglob("*") if p.is_file()}


# ------------------------------------------------------------------------------------------------ the same data


@pytest.mark.shared
@pytest.mark.parametrize("name", SETS)
def test_package_equals_shared(vector_sets, shared, name):
    src, dst = shared / "vectors" / name, vector_sets / name
    theirs = sorted(p.relative_to(src).as_posix() for p in src.rglob("*") if p.is_file())
    accounted = set(SHIPPED_TEXT)
    for rel in theirs:
        original = (src / rel).read_bytes()
        if rel.endswith(".sw"):
            flac = dst / (rel[:-3] + ".flac")
            rate = 48000 if rel == "source/alsaA_48k.sw" else 16000
            assert soundfile.info(str(flac)).samplerate == rate, rel
            assert read_pcm(flac, rate) == original, f"{flac} does not decode to {rel}"
            accounted.add(flac.relative_to(dst).as_posix())
            continue
        if rel in SHIPPED_TEXT - {"SHA256SUMS"} and (dst / rel).is_file():
            assert (dst / rel).read_bytes() == original, rel  # ../shared's own README ships as it is
            continue
        if rel == "SHA256SUMS":
            continue  # the shipped SHA256SUMS lists the shipped files
        parts = [dst / rel] if (dst / rel).is_file() else sorted(dst.glob(f"{rel}.[0-9][0-9]"))
        assert parts, f"{rel}: not shipped"
        shipped = b"".join(p.read_bytes() for p in parts)
        assert shipped == original, rel
        if rel.endswith(".json.gz"):
            assert json.loads(gzip.decompress(shipped)) == json.loads(gzip.decompress(original)), rel
        accounted |= {p.relative_to(dst).as_posix() for p in parts}
    assert _shipped_files(dst) == accounted  # nothing shipped that ../shared does not have


@pytest.mark.shared
def test_flac_round_trip_covers_every_pcm_file(vector_sets, shared):
    """Every PCM file of ../shared ships as FLAC and decodes to its bytes: 16 files, 3,857,672 bytes of PCM."""
    pcm = sorted((shared / "vectors").rglob("*.sw"))
    total = 0
    for sw in pcm:
        rel = sw.relative_to(shared / "vectors")
        flac = (vector_sets / rel).with_suffix(".flac")
        info = soundfile.info(str(flac))
        assert (info.format, info.subtype, info.channels) == ("FLAC", "PCM_16", 1)
        data, _ = soundfile.read(str(flac), dtype="int16")
        assert data.astype("<i2").tobytes() == sw.read_bytes(), rel
        total += sw.stat().st_size
    assert (len(pcm), total) == (16, 3_857_672)


@pytest.mark.shared
def test_the_build_script_rebuilds_the_package_byte_for_byte(vector_sets):
    """The committed data is what vectors/distribution/build_sets.py makes of ../shared, byte for byte (FLAC
    included where this machine's libFLAC is the one index.json records; elsewhere FLAC is compared by samples)."""
    r = subprocess.run([sys.executable, str(BUILD), "--check", "--out", str(vector_sets)], capture_output=True,
                       text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    index = json.loads((vector_sets / INDEX_NAME).read_text())
    here = soundfile.__libsndfile_version__
    if index["flac"]["libsndfile"] == here:
        assert r.stdout.strip().endswith("rebuilt byte for byte") and "compared by samples" not in r.stdout
    else:
        assert "FLAC compared by samples" in r.stdout


# ------------------------------------------------------------------------------------------------ the distribution


def test_committed_files_stay_small_and_hold_no_model(vector_sets):
    """Every file under 2 MB (the repository's limit), the data under 12 MB (already compressed: the wheel is
    about that, under its 15 MB), and no model file among them (the model stays behind `dredconf model fetch`)."""
    files = [p for p in DIST.rglob("*") if p.is_file() and "__pycache__" not in p.parts
             and not any(x.endswith(".egg-info") or x == "build" for x in p.relative_to(DIST).parts)]
    assert max(p.stat().st_size for p in files) <= 2_000_000
    assert sum(p.stat().st_size for p in files) < 12_000_000
    model = require(model_dir(), "the model")
    weights = {hashlib.sha256(p.read_bytes()).hexdigest() for p in model.rglob("*") if p.is_file()}
    assert len(weights) > 10 and not {hashlib.sha256(p.read_bytes()).hexdigest() for p in files} & weights


def test_provenance_gives_every_file_a_source_and_a_licence(vector_sets):
    licences = vector_sets.parent / "LICENSES"
    for name in SETS:
        d = vector_sets / name
        text = (d / "PROVENANCE.md").read_text()
        rows = [r for r in text.splitlines() if r.startswith("| `")]
        shipped = {f for r in rows for f in re.findall(r"`([^`]+)`", r.split(" | ")[0])}
        assert shipped == _shipped_files(d) - SHIPPED_TEXT, name
        for r in rows:
            cells = [c.strip() for c in r.strip("|").split(" | ")]
            assert cells[3] in ("slt", "alsaA", "none") and cells[4], r  # a source, and a licence
        for ref in re.findall(r"\(`\.\./\.\./LICENSES/([^`]+)`\)", text):
            assert (licences / ref).is_file(), ref
        assert "## Left out" in text
    assert {p.name for p in licences.iterdir()} == {"CMU-ARCTIC-slt.txt", "alsa-utils-GPL-2.0.txt",
                                                    "libopus-BSD-3-Clause.txt"}


# ------------------------------------------------------------------------------------------------ found by name


def test_vectors_list_shows_every_installed_set(vector_sets):
    r = _run("vectors", "list")
    assert r.exit_code == 0, r.output
    assert r.output.startswith("5 vector sets installed (opus-dred-conformance-vectors")
    for name, (kind, holds) in HOLDS.items():
        assert re.search(rf"^{re.escape(name)} +{kind} +{re.escape(holds)}$", r.output, re.M), (name, r.output)
    sums = {s.name: s.sha256sums for s in installed_sets()}
    for name in SETS:
        assert hashlib.sha256((vector_sets / name / "SHA256SUMS").read_bytes()).hexdigest() == sums[name]
        assert f"SHA256SUMS {sums[name]}" in r.output
    j = json.loads(_run("vectors", "list", "--json").output)
    assert [s["name"] for s in j["sets"]] == list(SETS)


def test_vectors_verify_every_set_and_one_by_name(vector_sets):
    r = _run("vectors", "verify")
    assert r.exit_code == 0 and r.output.splitlines()[-1].startswith("5 of 5 installed sets verify"), r.output
    r = _run("vectors", "verify", "libopus-1.6.1-vocoder")
    assert r.exit_code == 0 and "8 files match it; 2 feature files: every file read end to end" in r.output
    r = _run("vectors", "verify", "no-such-set")
    assert r.exit_code == 1 and "nor an installed vector set (installed sets: libopus-1.6.1," in r.output


def test_check_takes_a_name_and_without_vectors_runs_the_sets_the_decoder_and_profile_cover(vector_sets):
    replay = f"cmd:{ROOT / 'tests' / 'dut' / 'replay.sh'} {{input}} {{output}}"
    r = _run("check", "-d", replay, "-q")  # packets: the decoder's profile is framing,dred,features
    lines = r.output.splitlines()
    assert r.exit_code == 0, r.output
    assert lines[:2] == ["libopus-1.6.1: CONFORMS to profile framing,dred,features on 4 streams (1,241 packets)",
                         "libopus-1.6.1-edge: CONFORMS to profile framing,dred,features on 2 streams (115 packets)"]
    assert lines[2].startswith("CONFORMS on every installed set run (libopus-1.6.1, libopus-1.6.1-edge); not run: "
                               "libopus-1.6.1-standalone ('cmd:")  # a cmd: decoder cannot take standalone records
    r = _run("check", "-d", "mutant:plc-only", "-V", "libopus-1.6.1-integration", "-q")
    assert r.exit_code == 1 and r.output.startswith("DOES NOT CONFORM to profile integration: 5 of 5 vectors fail")
    r = _run("check", "-d", "mutant:plc-only", "-q")
    assert r.exit_code == 1 and r.output.splitlines()[-1].startswith(
        "DOES NOT CONFORM on 1 of 1 installed sets (libopus-1.6.1-integration); not run: libopus-1.6.1 "
        "('mutant:plc-only' cannot decode packets vectors)")
    r = _run("check", "-d", "reference", "--profile", "integration")  # the profile decides; the reference has none
    assert r.exit_code == 2 and "libopus-1.6.1-integration ('reference' cannot decode integration vectors)" in r.output
    for args, text in ((("--vector", "S1"), "give --vectors"), (("--json", "-"), "give --vectors")):
        r = _run("check", "-d", "reference", *args)
        assert r.exit_code == 2 and text in r.output, r.output


@pytest.mark.slow
def test_reference_conforms_on_every_installed_set_it_covers(vector_sets, tmp_path):
    """The README's first command: no --vectors, the reference on every shipped set it covers (packets, standalone
    records, vocoder), one report per set."""
    r = _run("check", "-d", "reference", "-q", "-j", "2", "--json", str(tmp_path / "r.json"))
    assert r.exit_code == 0, r.output
    assert r.output.splitlines() == [
        "libopus-1.6.1: CONFORMS to profile framing,dred,features on 4 streams (1,241 packets)",
        "libopus-1.6.1-edge: CONFORMS to profile framing,dred,features on 2 streams (115 packets)",
        "libopus-1.6.1-standalone: CONFORMS to profile framing,dred,features on 1 record file (174 records)",
        "libopus-1.6.1-vocoder: CONFORMS to profile vocoder on 2 feature files (1,337 frames)",
        "CONFORMS on every installed set run (libopus-1.6.1, libopus-1.6.1-edge, libopus-1.6.1-standalone, "
        "libopus-1.6.1-vocoder); not run: libopus-1.6.1-integration ('reference' cannot decode integration vectors)"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "r.libopus-1.6.1-edge.json", "r.libopus-1.6.1-standalone.json", "r.libopus-1.6.1-vocoder.json",
        "r.libopus-1.6.1.json"]


# ------------------------------------------------------------------------------------------------ an installed set


def _installed_copy(vector_sets: Path, tmp_path: Path, name: str = "libopus-1.6.1-edge") -> Path:
    root = tmp_path / "sets"
    shutil.copytree(vector_sets / name, root / name)
    index = json.loads((vector_sets / INDEX_NAME).read_text())
    index["sets"] = [s for s in index["sets"] if s["name"] == name]
    (root / INDEX_NAME).write_text(json.dumps(index))
    return root


def test_an_installed_set_is_held_to_its_index_and_sums(vector_sets, tmp_path):
    root = _installed_copy(vector_sets, tmp_path)
    (s,) = installed_sets(root)
    assert [v.name for v in load_installed(s).vectors] == ["BIGP", "DERR"]

    def refused(rule: str, text: str) -> None:
        with pytest.raises(VectorSetError) as e:
            load_installed(installed_sets(root)[0])
        assert e.value.rule == rule and text in str(e.value), str(e.value)

    (root / s.name / "EXTRA.bit").write_bytes((root / s.name / "DERR.bit").read_bytes())  # would be a vector
    refused("set-unlisted", "EXTRA.bit: not listed in the installed set's SHA256SUMS")
    (root / s.name / "EXTRA.bit").unlink()
    (root / s.name / "README.md").unlink()
    refused("set-hash-mismatch", "README.md: listed in SHA256SUMS but missing")
    sums = root / s.name / "SHA256SUMS"
    sums.write_text(sums.read_text().replace("  README.md\n", "  README.txt\n"))
    refused("set-hash-mismatch", "SHA256SUMS: sha256 ")  # the sums are the index's, or nothing is trusted
    sums.unlink()
    refused("set-file-missing", "SHA256SUMS, missing")
    shutil.rmtree(root / s.name)
    refused("set-file-missing", "listed in index.json but not installed")


def test_list_and_verify_fail_on_a_broken_installed_set(vector_sets, tmp_path, monkeypatch):
    root = _installed_copy(vector_sets, tmp_path)
    monkeypatch.setattr("dredconf.vectors.installed.sets_dir", lambda: root)
    assert _run("vectors", "list").exit_code == 0
    (root / "libopus-1.6.1-edge" / "DERR.bit").unlink()  # a data file left out of the wheel
    r = _run("vectors", "list")
    assert r.exit_code == 1 and "DERR.bit: listed in SHA256SUMS but missing" in r.output
    r = _run("vectors", "verify")
    assert r.exit_code == 1 and r.output.splitlines()[-1].startswith("0 of 1 installed sets verify")
    r = _run("check", "-d", "reference")
    assert r.exit_code == 2 and "[set-hash-mismatch]" in r.output
    monkeypatch.setattr("dredconf.vectors.installed.sets_dir", lambda: None)
    r = _run("vectors", "list")
    assert r.exit_code == 1 and "no vector set installed (pip install opus-dred-conformance-vectors)" in r.output
    r = _run("check", "-d", "reference")
    assert r.exit_code == 2 and "no vector set installed" in r.output


def test_model_fetch_if_missing_fetches_only_without_a_model(model_dir, tmp_path, monkeypatch):
    """The README's first command on this machine (a model found: nothing fetched) and on a fresh one (it fetches)."""
    monkeypatch.setenv("DREDCONF_MODEL", str(model_dir))
    r = _run("model", "fetch", "--if-missing", "--url", (tmp_path / "missing.tar.gz").as_uri())
    assert r.exit_code == 0 and r.output == f"{model_dir}: a model is there already, nothing fetched\n"
    from dredconf.errors import ModelError

    def nothing(_):
        raise ModelError("no model found", rule="model-missing")

    monkeypatch.setattr("dredconf.reference.model.resolve_model_dir", nothing)
    r = _run("model", "fetch", "--if-missing", "--url", (tmp_path / "missing.tar.gz").as_uri(),
             "--cache-dir", str(tmp_path / "cache"))
    assert r.exit_code == 1 and "[model-fetch]" in r.output
