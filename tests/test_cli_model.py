"""`dredconf model info` and `model fetch` on the command line."""
from __future__ import annotations

import hashlib
import io
import json
import tarfile

from click.testing import CliRunner

from dredconf.cli import main


def test_model_info_json(model_dir):
    r = CliRunner().invoke(main, ["model", "info", "--json", "--model", str(model_dir)])
    assert r.exit_code == 0, r.output
    info = json.loads(r.stdout)
    assert str(model_dir) in json.dumps(info)
    sums = dict(reversed(l.split()) for l in (model_dir / "SHA256SUMS").read_text().splitlines())
    assert sums["dred_rdovae_stats_data.c"] in json.dumps(info)
    assert set(info["exact arithmetic"]) == {"hardware float", "kernels", "self-check failures"}


def test_model_info_table_and_bad_dir(model_dir, tmp_path):
    r = CliRunner().invoke(main, ["model", "info", "--model", str(model_dir)])
    assert r.exit_code == 0 and "dred_rdovae_dec_data.c" in r.stdout
    r = CliRunner().invoke(main, ["model", "info", "--model", str(tmp_path / "nowhere")])
    assert r.exit_code == 1 and "model-missing" in r.output


def test_model_fetch_from_file_url(model_dir, tmp_path):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for f in sorted(model_dir.glob("*_data.[ch]")) + [model_dir / "dred_rdovae_constants.h"]:
            tar.add(f, arcname=f"dnn/{f.name}")
    blob = buf.getvalue()
    sha = hashlib.sha256(blob).hexdigest()
    src = tmp_path / f"opus_data-{sha}.tar.gz"
    src.write_bytes(blob)
    cache = tmp_path / "cache"
    r = CliRunner().invoke(main, ["model", "fetch", "--url", src.as_uri(), "--cache-dir", str(cache)])
    assert r.exit_code == 1 and "model-hash-mismatch" in r.output and not any(cache.rglob("*.c"))
    r = CliRunner().invoke(main, ["model", "fetch", "--url", src.as_uri(), "--cache-dir", str(cache), "--sha256", sha])
    assert r.exit_code == 0, r.output
    fetched = r.stdout.strip()
    r = CliRunner().invoke(main, ["model", "info", "--json", "--model", fetched])
    assert r.exit_code == 0, r.output
