"""No command prints a traceback: each input that once did (issue 9) gets a clear error and an exit status."""
from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from dredconf.cli import main


def run(*args: str, env: dict | None = None, input: bytes | None = None):
    r = CliRunner().invoke(main, list(args), env=env, input=input)
    # click turns usage errors into SystemExit(2); anything else escaping is a crash
    assert r.exception is None or isinstance(r.exception, SystemExit), (args, r.exception, r.output)
    assert "Traceback" not in r.output, r.output
    return r


def _commands(group, prefix=()):
    """Every command and subcommand, as click lists them (the lazily imported ones included)."""
    import click

    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        cmd = group.get_command(ctx, name)
        yield prefix + (name,)
        if isinstance(cmd, click.Group):
            yield from _commands(cmd, prefix + (name,))


COMMANDS = [" ".join(c) for c in _commands(main)]


def test_every_command_is_listed():
    """The commands other packages define are imported when named: each must still be listed, with its own."""
    assert {"inspect", "decode", "model info", "check", "synth", "vectors generate", "vectors verify", "spec tables",
            "spec example"} <= set(COMMANDS)


@pytest.mark.parametrize("command", COMMANDS)
def test_every_help_prints(command):
    r = run(*command.split(), "--help")
    assert r.exit_code == 0 and "Usage:" in r.output


def test_compare_a_file_that_is_not_rows(tmp_path):
    (tmp_path / "a.f32").write_bytes(bytes(100))
    r = run("compare", str(tmp_path / "a.f32"), str(tmp_path / "a.f32"))
    assert r.exit_code == 2 and "100 bytes, not a whole number of 20-float rows" in r.output


def test_compare_names_the_first_nan_and_prints_margins(tmp_path):
    a = np.zeros((6, 20), "<f4")
    a[:, 19] = 0.5
    b = a.copy()
    b[:, 0] = 0.6
    (tmp_path / "a.f32").write_bytes(a.tobytes())
    (tmp_path / "b.f32").write_bytes(b.tobytes())
    r = run("compare", str(tmp_path / "a.f32"), str(tmp_path / "b.f32"))
    assert r.exit_code == 1
    assert "tot 0.6000 > 0.5 (margin -0.1000), max 0.6000 > 0.15 (margin -0.4500)" in r.output and "FAIL" in r.output
    b[4, 7] = np.nan
    (tmp_path / "b.f32").write_bytes(b.tobytes())
    r = run("compare", str(tmp_path / "a.f32"), str(tmp_path / "b.f32"))
    assert r.exit_code == 2 and "row 4, feature 7 is nan" in r.output
    r = run("compare", "--tot", "-1", str(tmp_path / "a.f32"), str(tmp_path / "b.f32"))
    assert r.exit_code == 2 and "-1.0 is not in the range x>0" in r.output


def test_model_fetch_not_a_url(tmp_path):
    r = run("model", "fetch", "--url", "not-a-url", "--cache-dir", str(tmp_path / "cache"))
    assert r.exit_code == 1 and "cannot download not-a-url" in r.output and "[model-fetch]" in r.output


def test_model_info_names_both_ids(model_dir):
    r = run("model", "info", "--json", "--model", str(model_dir))
    info = json.loads(r.output)
    assert info["libopus_model"]["id"] == "a5177ec6" and "tarball" in info["libopus_model"]["is"]
    assert "sha256sum dred_rdovae_dec_data.c dred_rdovae_stats_data.c" in info["model_id_is"]


@pytest.mark.parametrize("option", ["--json", "--junit", "--html"])
def test_check_report_path_checked_before_the_run(vectors_dir, option):
    r = run("check", "-d", "reference", "-V", str(vectors_dir), option, "/nonexistent/dir/r.out")
    assert r.exit_code == 2 and "the directory /nonexistent/dir does not exist" in r.output


def test_check_json_to_standard_output(vectors_dir, tmp_path):
    r = CliRunner().invoke(main, ["check", "-d", f"cmd:{tmp_path}/x {{input}}", "-V",
                                                  str(vectors_dir), "--vector", "S3", "--json", "-"])
    doc = json.loads(r.stdout)
    assert doc["results"][0]["dut"]["failure_kind"] == "launch" and r.exit_code == 1
    assert "DOES NOT CONFORM" in r.stderr


@pytest.mark.parametrize("decoder, text", [
    ("python:nomod:fn", "cannot load nomod:fn: ModuleNotFoundError"),
    ("libopus-features:fargan_demo -dred-decoding {input}", "the command needs {output}"),
    ("cmd:mydec --out {output}", "the command needs {input}"),
    ("bogus", "want reference, cmd:TEMPLATE"),
    ("reference:turbo", "want reference or reference:"),
])
def test_check_decoder_usage_errors(vectors_dir, decoder, text):
    r = run("check", "-d", decoder, "-V", str(vectors_dir))
    assert r.exit_code == 2 and text in r.output


@pytest.mark.parametrize("args, text", [
    (("--profile", "framing,header"), "want a comma list of framing, dred, features"),
    (("--packet", "3"), "give exactly one --vector"),
    (("--vector", "NOPE"), "no vector NOPE"),
])
def test_check_option_usage_errors(vectors_dir, args, text):
    r = run("check", "-d", "reference", "-V", str(vectors_dir), *args)
    assert r.exit_code == 2 and text in r.output


def test_decode_output_path_checked_first(vectors_dir):
    r = run("decode", str(vectors_dir / "S3.bit"), "-o", "/missing/dir/x.f32")
    assert r.exit_code == 2 and "the directory /missing/dir does not exist" in r.output


def test_decode_without_json_or_output_prints_a_summary(vectors_dir, model_dir):
    r = run("decode", str(vectors_dir / "S3.bit"), "--model", str(model_dir))
    assert r.exit_code == 0 and not r.output.lstrip().startswith("{")
    assert "71 packets with DRED" in r.output and max(map(len, r.output.splitlines())) < 200


def test_generate_names_where_a_bad_model_came_from(tmp_path):
    r = run("vectors", "generate", str(tmp_path / "out"), env={"DREDCONF_MODEL": str(tmp_path / "nope")})
    assert r.exit_code == 1 and "(from $DREDCONF_MODEL)" in r.output


@pytest.mark.parametrize("args, status, text", [
    (("--hex", ""), 2, "no hex digits"),
    (("--hex", "0x4"), 2, "odd number of hex digits"),
    (("--hex", "4g"), 2, "'g' is not a hex digit"),
])
def test_inspect_hex_errors(args, status, text):
    r = run("inspect", *args)
    assert r.exit_code == status and text in r.output


def test_inspect_hex_takes_0x_and_spaces(model_dir):
    r = run("inspect", "--json", "--model", str(model_dir), "--hex", "0x48 00")
    assert r.exit_code == 0 and json.loads(r.output)["packets"][0]["toc"] == 0x48


def test_inspect_empty_file_is_an_error(tmp_path):
    (tmp_path / "e.bit").write_bytes(b"")
    r = run("inspect", str(tmp_path / "e.bit"))
    assert r.exit_code == 1 and "empty (no packet records) [stream-empty]" in r.output
