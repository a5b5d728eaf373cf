"""Run fuzz campaigns (docs/FUZZING.md).

    python -m tests.fuzz.run --all --seconds 30            # the bounded CI campaign
    python -m tests.fuzz.run --target packet --seconds 3600 --keep-going --workdir fuzz-work
    python -m tests.fuzz.run --all --c-core --sanitized --seconds 20   # against the ASan/UBSan core
    python -m tests.fuzz.run --target packet --replay fuzz-work/artifacts/packet/crash-*

Each target runs in its own worker process (a crash of the C core, a hang or a
runaway allocation kills the worker, not the campaign), seeded from a corpus
built at run time (``tests.fuzz.seeds``). The engine is atheris (libFuzzer,
coverage-guided on the ``dredconf`` package's Python) when importable, else a
mutation-based random driver (no coverage feedback; new outcomes, i.e. error
rules, join its corpus). Crashes, hangs and out-of-memory inputs are written to
``WORKDIR/artifacts/TARGET/``; the exit status is 1 if any target found one.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HANG_SECONDS = int(os.environ.get("DREDCONF_FUZZ_HANG_SECONDS", 10))  # one input taking longer is a hang
RSS_LIMIT_MB = 2048  # a worker growing past this is out of memory
SETUP_GRACE = 180  # worker start-up (imports, model, instrumentation) before its clock starts


# ======================================================================= worker side

class Hang(BaseException):
    """Raised by the per-input alarm (BaseException: a target's ``except Exception`` must not eat it)."""


def _install_core(sanitized: bool) -> None:
    if sanitized:
        from tests.fuzz.sanitizer import install

        install()


def _stats_line(stats: dict) -> None:
    print("FUZZSTATS " + json.dumps(stats), flush=True)


def _mutate(data: bytes, rng: random.Random, corpus: list[bytes], max_len: int, mutator) -> bytes:
    """One of the classic byte mutations (libFuzzer's set, roughly), or the target's own."""
    if mutator is not None and rng.randrange(2):
        return mutator(data, max_len, rng)
    b = bytearray(data)
    for _ in range(1 + rng.randrange(4)):
        op = rng.randrange(9)
        n = len(b)
        if op == 0 and n:
            i = rng.randrange(n)
            b[i] ^= 1 << rng.randrange(8)
        elif op == 1 and n:
            b[rng.randrange(n)] = rng.choice((0, 1, 0x7F, 0x80, 0xFE, 0xFF, rng.randrange(256)))
        elif op == 2:
            i = rng.randrange(n + 1)
            b[i:i] = bytes(rng.randrange(256) for _ in range(1 + rng.randrange(8)))
        elif op == 3 and n:
            i = rng.randrange(n)
            del b[i:i + 1 + rng.randrange(16)]
        elif op == 4 and n:
            i, j = rng.randrange(n), rng.randrange(n)
            b[j:j] = b[i:i + 1 + rng.randrange(32)]
        elif op == 5 and corpus:
            other = rng.choice(corpus)
            if other:
                i = rng.randrange(len(other))
                at = rng.randrange(n + 1)
                b[at:] = other[i:i + rng.randrange(1, 64)] + b[at:]
        elif op == 6 and n:
            i = rng.randrange(n)
            b[i:i + 1] = bytes([rng.choice((0, 0xFF, 0x02, 0x03, 0x05, 0xFC, 0xFD, 0x44, 0x0C))]) * (1 + rng.randrange(64))
        elif op == 7 and n >= 4:
            i = rng.randrange(n - 3)
            v = rng.choice((0, 1, 0x7FFFFFFF, 0xFFFFFFFF, 1 << 20, n, rng.randrange(1 << 16)))
            b[i:i + 4] = v.to_bytes(4, "big")
        elif op == 8 and n:
            del b[rng.randrange(n):]
    return bytes(b[:max_len])


def _rss_mb() -> float:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        return 0.0


def _random_worker(t, seconds: float, runs: int, corpus_dir: Path, art: Path, seed: int) -> int:
    from tests.fuzz import targets as T

    rng = random.Random(seed)
    corpus = [p.read_bytes() for p in sorted(corpus_dir.iterdir()) if p.is_file()] or [b""]
    seen_outcomes: set = set()
    current = os.open(art / ".current", os.O_RDWR | os.O_CREAT, 0o644)
    peak = [0.0]

    def watchdog():
        while True:
            rss = _rss_mb()
            peak[0] = max(peak[0], rss)
            if rss > RSS_LIMIT_MB:
                shutil.copy(art / ".current", art / f"oom-{int(time.time())}")
                print(f"==fuzz== out-of-memory: rss {rss:.0f} MB > {RSS_LIMIT_MB} MB", file=sys.stderr, flush=True)
                os._exit(3)
            time.sleep(0.2)

    threading.Thread(target=watchdog, daemon=True).start()

    def alarm(signum, frame):
        raise Hang()

    signal.signal(signal.SIGALRM, alarm)
    crashes, hangs, execs = {}, 0, 0
    start = time.monotonic()
    end = start + seconds
    i = 0
    while time.monotonic() < end and (runs <= 0 or execs < runs):
        # replay the seeds first, then mutate
        data = corpus[i] if i < len(corpus) else _mutate(rng.choice(corpus), rng, corpus, t.max_len, t.mutator)
        i += 1
        os.pwrite(current, data, 0)
        os.ftruncate(current, len(data))
        signal.setitimer(signal.ITIMER_REAL, HANG_SECONDS)
        try:
            outcome = T.run(t, data)
        except Hang:
            hangs += 1
            name = "timeout-" + hashlib.sha1(data).hexdigest()
            (art / name).write_bytes(data)
            print(f"==fuzz== hang: over {HANG_SECONDS} s on {name}", file=sys.stderr, flush=True)
            outcome = None
        except Exception as e:  # noqa: BLE001 - every other exception is a finding
            tb = traceback.extract_tb(e.__traceback__)
            where = next((f"{f.filename}:{f.lineno}" for f in reversed(tb) if "/tests/fuzz/" not in f.filename),
                         f"{tb[-1].filename}:{tb[-1].lineno}" if tb else "?")
            sig = (type(e).__name__, where)
            name = "crash-" + hashlib.sha1(data).hexdigest()
            (art / name).write_bytes(data)
            if sig not in crashes:
                print(f"==fuzz== crash {type(e).__name__} at {where} on {name}:", file=sys.stderr)
                traceback.print_exception(e, file=sys.stderr)
                sys.stderr.flush()
            crashes.setdefault(sig, []).append(name)
            outcome = None
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        execs += 1
        if outcome is not None and outcome not in seen_outcomes and len(seen_outcomes) < 10000:
            seen_outcomes.add(outcome)
            if i > len(corpus):
                corpus.append(data)
                (corpus_dir / hashlib.sha1(data).hexdigest()).write_bytes(data)
    elapsed = time.monotonic() - start
    _stats_line({"engine": "random", "execs": execs, "seconds": round(elapsed, 1),
                 "exec_per_s": round(execs / max(elapsed, 1e-9)), "outcomes": len(seen_outcomes),
                 "corpus": len(corpus), "crashes": sum(len(v) for v in crashes.values()),
                 "distinct_crashes": len(crashes), "hangs": hangs, "peak_rss_mb": round(peak[0])})
    os.close(current)
    return 1 if crashes or hangs else 0


def _atheris_worker(t_name: str, seconds: float, runs: int, corpus_dir: Path, art: Path, seed: int,
                    sanitized: bool) -> int:
    import atheris

    _install_core(sanitized)
    with atheris.instrument_imports(include=["dredconf"]):
        import dredconf.cli  # noqa: F401 - everything the targets reach, instrumented
        import dredconf.reference.decoder  # noqa: F401
        import dredconf.reference.model  # noqa: F401
        import dredconf.reference.payload  # noqa: F401
        import dredconf.spec  # noqa: F401
        for mod in ("dredconf.reference.rdovae", "dredconf.vectors.manifest", "dredconf.spec.ogg"):
            try:
                __import__(mod)
            except ImportError:
                pass
    from tests.fuzz import targets as T

    t = T.TARGETS[t_name]
    why = T.available(t)
    if why:
        print(f"FUZZUNAVAILABLE {why}", flush=True)
        return 0
    mutator = None
    if t.mutator is not None:
        rng = random.Random(seed)

        def mutator(data, max_size, s):
            if rng.randrange(2):
                return atheris.Mutate(data, max_size)
            return t.mutator(data, max_size, rng)

    def one(data: bytes) -> None:
        T.run(t, data)

    args = [sys.argv[0], str(corpus_dir), f"-max_total_time={int(seconds)}", "-print_final_stats=1",
            f"-artifact_prefix={art}/", f"-max_len={t.max_len}", f"-timeout={HANG_SECONDS}",
            f"-rss_limit_mb={RSS_LIMIT_MB}", f"-seed={seed}"]
    if runs > 0:
        args.append(f"-runs={runs}")
    if mutator is not None:
        atheris.Setup(args, one, custom_mutator=mutator)
    else:
        atheris.Setup(args, one)
    atheris.Fuzz()
    return 0


def worker(args) -> int:
    corpus, art = Path(args.corpus), Path(args.artifacts)
    art.mkdir(parents=True, exist_ok=True)
    if args.engine == "atheris":
        return _atheris_worker(args.worker, args.seconds, args.runs, corpus, art, args.seed, args.sanitized)
    _install_core(args.sanitized)
    from tests.fuzz import targets as T

    t = T.TARGETS[args.worker]
    why = T.available(t)
    if why:
        print(f"FUZZUNAVAILABLE {why}", flush=True)
        return 0
    try:
        return _random_worker(t, args.seconds, args.runs, corpus, art, args.seed)
    finally:
        T.cleanup()


# ======================================================================= orchestrator side

_DONE = re.compile(r"#(\d+)\s+(\w+)\s+cov: (\d+) ft: (\d+) corp: (\d+)/\S+(?: lim: \d+)? exec/s: (\d+) rss: (\d+)Mb")


def parse_libfuzzer(text: str) -> dict:
    """Execs, coverage (cov), features (ft), corpus and rss from libFuzzer's status lines and final stats."""
    st: dict = {"engine": "atheris"}
    for m in _DONE.finditer(text):
        st.update(execs=int(m.group(1)), cov=int(m.group(3)), ft=int(m.group(4)), corpus=int(m.group(5)),
                  exec_per_s=int(m.group(6)), peak_rss_mb=int(m.group(7)))
    m = re.search(r"stat::number_of_executed_units: (\d+)", text)
    if m:
        st["execs"] = int(m.group(1))
    m = re.search(r"stat::peak_rss_mb: (\d+)", text)
    if m:
        st["peak_rss_mb"] = int(m.group(1))
    m = re.search(r"stat::average_exec_per_sec: (\d+)", text)
    if m:
        st["exec_per_s"] = int(m.group(1))
    return st


def finding_summary(text: str) -> str:
    """What went wrong, in a few lines: the Python exception and the frame that raised it, or the
    sanitizer's, the hang's or the memory limit's report (the whole log stays in the workdir)."""
    lines = text.splitlines()
    out: list[str] = []
    marks = [i for i, l in enumerate(lines) if "Uncaught Python exception" in l or l.startswith("==fuzz== crash")]
    if marks:
        block = lines[marks[-1] + 1:]
        frames = [l.strip() for l in block if l.strip().startswith('File "') and "/tests/fuzz/run.py" not in l]
        exc = next((l for l in block if l and not l.startswith((" ", "Traceback"))), "")
        out += [exc] + frames[-2:]
    for pat in ("ERROR: AddressSanitizer", "runtime error:", "SUMMARY: ", "ALARM:", "out-of-memory",
                "==fuzz== hang", "==fuzz== out-of-memory", "Fatal Python error"):
        out += [l.strip() for l in lines if pat in l][:2]
    return "\n".join(dict.fromkeys(l for l in out if l)) or "\n".join(lines[-10:])


def sanitizer_env() -> dict:
    from tests.fuzz.sanitizer import runtime_env

    return runtime_env()


def run_target(name: str, engine: str, seconds: float, runs: int, workdir: Path, seed: int, sanitized: bool,
               keep_going: bool, log=print) -> dict:
    """One target's campaign in worker processes; returns its statistics and findings."""
    corpus = workdir / "corpus" / name
    art = workdir / "artifacts" / name
    art.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    if sanitized:
        env.update(sanitizer_env())
    scratch = workdir / "tmp" / name  # the targets' temporary directories: libFuzzer exits without cleaning up
    scratch.mkdir(parents=True, exist_ok=True)
    env["TMPDIR"] = str(scratch)
    total = {"target": name, "engine": engine, "execs": 0, "seconds": 0.0, "crashes": 0, "hangs": 0, "ooms": 0,
             "findings": []}
    t0 = time.monotonic()
    attempt = 0
    seen: set[str] = set()
    while True:
        left = seconds - (time.monotonic() - t0)
        if attempt and (left < 1 or not keep_going):
            break
        before = set(p.name for p in art.iterdir())
        cmd = [sys.executable, "-m", "tests.fuzz.run", "--worker", name, "--engine", engine,
               "--seconds", str(max(int(left), 1)), "--runs", str(runs), "--corpus", str(corpus),
               "--artifacts", str(art), "--seed", str(seed + attempt)] + (["--sanitized"] if sanitized else [])
        logf = workdir / f"{name}.{attempt}.log"
        with open(logf, "wb") as out:
            p = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
            try:
                rc = p.wait(timeout=left + SETUP_GRACE + 2 * HANG_SECONDS)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                rc = p.wait()
                cur = art / ".current"
                if cur.exists():
                    shutil.copy(cur, art / f"timeout-{hashlib.sha1(cur.read_bytes()).hexdigest()}")
                log(f"  {name}: worker hung past its deadline (killed)")
        text = logf.read_text(errors="replace")
        if "FUZZUNAVAILABLE" in text:
            total["unavailable"] = text.split("FUZZUNAVAILABLE", 1)[1].strip().splitlines()[0]
            return total
        if engine == "atheris":
            st = parse_libfuzzer(text)
        else:
            lines = [l for l in text.splitlines() if l.startswith("FUZZSTATS ")]
            st = json.loads(lines[-1][len("FUZZSTATS "):]) if lines else {}
        total["execs"] += st.get("execs", 0)
        for k in ("cov", "ft", "corpus", "outcomes", "peak_rss_mb", "exec_per_s"):
            if k in st:
                total[k] = max(total.get(k, 0), st[k]) if k in ("peak_rss_mb",) else st[k]
        new = sorted(set(p.name for p in art.iterdir()) - before - {".current"})
        for f in new:
            kind = f.split("-", 1)[0]
            key = {"crash": "crashes", "timeout": "hangs", "oom": "ooms", "slow": None, "leak": "crashes"}.get(kind)
            if key:
                total[key] += 1
                total["findings"].append(str(art / f))
        if rc != 0 and not new:  # died without writing an artifact (a sanitizer report, a signal)
            total["crashes"] += 1
            cur = art / ".current"  # the random driver's input in flight
            if engine == "random" and cur.exists():
                name_ = "crash-" + hashlib.sha1(cur.read_bytes()).hexdigest()
                shutil.copy(cur, art / name_)
                total["findings"].append(f"{art / name_} (worker exit {rc}, log {logf})")
            else:
                total["findings"].append(f"worker exit {rc}: see {logf}")
        if rc != 0:
            what = finding_summary(text)
            if what not in seen:
                seen.add(what)
                log(f"  {name}: worker exit {rc} (log {logf}):\n" + "\n".join("    " + l for l in what.splitlines()))
        attempt += 1
        if rc == 0 and engine == "random":
            break
        if rc == 0 and engine == "atheris" and seconds - (time.monotonic() - t0) < 2:
            break
    total["seconds"] = round(time.monotonic() - t0, 1)
    shutil.rmtree(scratch, ignore_errors=True)
    return total


def replay(name: str, files: list[str], sanitized: bool) -> int:
    _install_core(sanitized)
    from tests.fuzz import targets as T

    t = T.TARGETS[name]
    bad = 0
    for f in files:
        data = Path(f).read_bytes()
        try:
            print(f"{f}: ok ({T.run(t, data)})")
        except BaseException as e:  # noqa: BLE001
            bad += 1
            print(f"{f}: {type(e).__name__}: {e}")
            traceback.print_exception(e)
    return 1 if bad else 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tests.fuzz.run", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--all", action="store_true", help="every target")
    ap.add_argument("--target", action="append", default=[], help="a target (repeatable)")
    ap.add_argument("--c-core", action="store_true", help="only the targets that reach the C core")
    ap.add_argument("--list", action="store_true", help="list the targets")
    ap.add_argument("--seconds", type=float, default=30, help="per target (default 30)")
    ap.add_argument("--runs", type=int, default=0, help="stop a target after this many inputs (0: time only)")
    ap.add_argument("--engine", choices=("auto", "atheris", "random"), default="auto")
    ap.add_argument("--workdir", help="corpus, artifacts and logs (default: a temporary directory, kept on findings)")
    ap.add_argument("--sanitized", action="store_true", help="run against the ASan/UBSan build of the C core")
    ap.add_argument("--keep-going", action="store_true", help="restart a target after a finding until its time is up")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", help="write the statistics here")
    ap.add_argument("--replay", nargs="+", metavar="FILE", help="run --target on these inputs in-process")
    # internal: one worker
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--corpus", help=argparse.SUPPRESS)
    ap.add_argument("--artifacts", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.worker:
        return worker(args)
    from tests.fuzz.targets import TARGETS

    if args.list:
        for t in TARGETS.values():
            print(f"{t.name:13} {'C ' if t.c_core else '  '}{t.doc}")
        return 0
    if args.replay:
        if len(args.target) != 1:
            ap.error("--replay needs exactly one --target")
        return replay(args.target[0], args.replay, args.sanitized)
    names = list(TARGETS) if args.all or args.c_core and not args.target else args.target
    if args.c_core:
        names = [n for n in names if TARGETS[n].c_core]
    unknown = [n for n in names if n not in TARGETS]
    if not names or unknown:
        ap.error(f"unknown target(s) {unknown}; have {', '.join(TARGETS)}" if unknown else "give --all or --target")
    engine = args.engine
    if engine == "auto" and args.sanitized:
        # With the ASan runtime preloaded, its __sanitizer_cov_* symbols shadow libFuzzer's: atheris sees no
        # coverage, keeps a one-byte corpus and explores nothing. The random driver keeps replaying and
        # mutating the whole corpus instead (give --workdir of an atheris campaign to reuse what it found).
        engine = "random"
    elif engine == "auto":
        try:
            import atheris  # noqa: F401

            engine = "atheris"
        except ImportError:
            engine = "random"
    elif engine == "atheris" and args.sanitized:
        print("warning: atheris under the ASan runtime gets no coverage feedback (see --engine random)", flush=True)
    if args.sanitized:
        from tests.fuzz.sanitizer import build

        print(f"sanitizer build: {build()}", flush=True)
    tmp = None
    workdir = Path(args.workdir) if args.workdir else Path(tmp := tempfile.mkdtemp(prefix="dredconf-fuzz-"))
    workdir.mkdir(parents=True, exist_ok=True)
    from tests.fuzz.seeds import build as build_seeds

    t0 = time.monotonic()
    fresh = [n for n in names if not (workdir / "corpus" / n).is_dir()]
    if fresh:
        counts = build_seeds(workdir / "corpus", fresh)
        print("seeds: " + ", ".join(f"{k} {v}" for k, v in counts.items()), flush=True)
    results = []
    for n in names:
        print(f"fuzz {n} ({engine}{', sanitized' if args.sanitized else ''}, {args.seconds:g} s)", flush=True)
        r = run_target(n, engine, args.seconds, args.runs, workdir, args.seed, args.sanitized, args.keep_going)
        results.append(r)
        if "unavailable" in r:
            print(f"  {n}: skipped, {r['unavailable']}", flush=True)
            continue
        cov = f" cov {r['cov']} ft {r['ft']}" if "cov" in r else f" outcomes {r.get('outcomes', 0)}"
        print(f"  {n}: {r['execs']} execs in {r['seconds']} s ({r.get('exec_per_s', 0)}/s){cov} corpus "
              f"{r.get('corpus', '?')} rss {r.get('peak_rss_mb', '?')} MB; crashes {r['crashes']} hangs {r['hangs']} "
              f"ooms {r['ooms']}", flush=True)
        for f in r["findings"]:
            print(f"    finding: {f}", flush=True)
    bad = [r for r in results if r["crashes"] or r["hangs"] or r["ooms"]]
    summary = {"engine": engine, "sanitized": args.sanitized, "seconds_per_target": args.seconds,
               "wall_seconds": round(time.monotonic() - t0, 1), "targets": results}
    if args.json:
        Path(args.json).write_text(json.dumps(summary, indent=1))
    print(f"fuzz: {len(results)} targets, {sum(r['execs'] for r in results)} execs, "
          f"{len(bad)} with findings, {summary['wall_seconds']} s", flush=True)
    if tmp and not bad:
        shutil.rmtree(tmp, ignore_errors=True)
    elif bad:
        print(f"fuzz: findings kept in {workdir}", flush=True)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
