"""A DUT for the runner's tests that replays the expected results next to the stream, edited.

    python tamper.py INPUT.bit OUTPUT.json [EDIT ...]

EDIT is one of
    set:PATH=JSON     e.g. set:packets[17].dred.latents[3][12]=-2
    add:PATH=NUMBER   add to a number (or to every number of a nested list)
    del:PATH          remove a key (or list item)
    strip:KEY         remove KEY from every record and every record's dred (e.g. strip:features)
    shift:COL=DELTA   add DELTA to feature column COL of every row of every packet
    swap:N=A,B        swap feature rows A and B of packet N
    errors            write every record as {"index": i, "error": ...} (a decoder that decodes nothing)
    features          write the features as raw float32 rows instead of JSON (libopus-features format)
"""
import gzip
import json
import re
import struct
import sys
from pathlib import Path

from dredconf.vectors.setfiles import located, read_whole

_TOKEN = re.compile(r"\.?([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]")


def _path(path):
    out, pos = [], 0
    while pos < len(path):
        m = _TOKEN.match(path, pos)
        if not m:
            raise SystemExit(f"bad path {path!r}")
        out.append(m.group(1) if m.group(1) is not None else int(m.group(2)))
        pos = m.end()
    return out


def _walk(obj, keys):
    for k in keys[:-1]:
        obj = obj[k]
    return obj, keys[-1]


def _add(v, d):
    return [_add(x, d) for x in v] if isinstance(v, list) else v + d


def main(argv):
    inp, outp, edits = argv[0], argv[1], argv[2:]
    expected = located(Path(inp[: -len(".bit")] + ".expected.json.gz"))  # whole, or its first part
    doc = json.loads(gzip.decompress(read_whole(expected)))
    as_features = False
    for e in edits:
        op, _, arg = e.partition(":")
        if op in ("set", "add"):
            path, _, value = arg.partition("=")
            parent, key = _walk(doc, _path(path))
            parent[key] = json.loads(value) if op == "set" else _add(parent[key], json.loads(value))
        elif op == "del":
            parent, key = _walk(doc, _path(arg))
            del parent[key]
        elif op == "strip":
            for rec in doc["packets"]:
                rec.pop(arg, None)
                if isinstance(rec.get("dred"), dict):
                    rec["dred"].pop(arg, None)
        elif op == "shift":
            col, _, delta = arg.partition("=")
            for rec in doc["packets"]:
                if rec.get("dred"):
                    for row in rec["dred"]["features"]:
                        row[int(col)] += float(delta)
        elif op == "swap":
            n, _, rows = arg.partition("=")
            a, b = (int(x) for x in rows.split(","))
            f = doc["packets"][int(n)]["dred"]["features"]
            f[a], f[b] = f[b], f[a]
        elif op == "errors":
            doc["packets"] = [{"index": i, "error": "not decoded"} for i in range(len(doc["packets"]))]
        elif op == "features":
            as_features = True
        else:
            raise SystemExit(f"unknown edit {e!r}")
    if as_features:
        with open(outp, "wb") as f:
            for rec in doc["packets"]:
                if rec.get("dred"):
                    for row in rec["dred"]["features"]:
                        f.write(struct.pack("<20f", *row))
        return
    with open(outp, "w") as f:
        json.dump(doc, f)


if __name__ == "__main__":
    main(sys.argv[1:])
