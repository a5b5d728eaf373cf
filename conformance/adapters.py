"""The decoder contract: how a decoder under test (DUT) plugs into ``dredconf check``.

``--decoder SPEC`` names the DUT; the runner invokes it once per vector, as a
separate process, with a time limit (``--timeout``, default 120 s). Kinds:

``cmd:TEMPLATE``
    A command line. ``TEMPLATE`` is split like a POSIX shell would
    (:func:`shlex.split`) and run *without* a shell; in each word ``{input}``
    becomes the path of the stream and ``{output}`` the path to write the
    result to (leave ``{output}`` out to write the result to standard output
    instead). The stream is in the libopus test-tool format (``opus_demo -e``
    output): per packet, a 4-byte big-endian length N, a 4-byte big-endian
    encoder final range, then N bytes. The result is the decode JSON of
    ``../shared/vectors/libopus-1.6.1/README.md``: ``{"packets": [record,
    ...]}``, one record per packet in stream order. A record holds any subset
    of the schema: a DUT that only parses extensions writes the framing keys,
    one that reaches latents adds ``dred`` with the header and latent keys,
    one that runs the network adds ``features``. Keys left out are *not
    tested*, and the report lists them as skipped; a key written for some
    packets must be written for all packets where it applies. A packet the
    DUT cannot decode may be written as ``{"index": i, "error": "why"}``.
    ``extension_error`` is compared as null or not (libopus has one error,
    "invalid packet"). Exit status 0 means the output is complete.

``libopus-features:TEMPLATE``
    A command line as above whose ``{output}`` file holds raw little-endian
    float32 features, 20 per row, as libopus's ``dred_compare -features``
    reads them: for every packet with DRED, in stream order, that packet's
    ``4 * latent_count`` rows in libopus's ``fec_features`` order (row 0 is
    the newest 10 ms frame, as ``opus_dred_process`` leaves them), all
    concatenated; packets without DRED (or with no latents) write nothing.
    ``dredconf decode FILE -o OUT`` writes exactly this. The file is cut into
    packets with the latent counts of the expected results, so its size must
    be 80 bytes times their total; it is judged on the feature layer only.

``python:MODULE:CALLABLE``
    A Python callable ``CALLABLE(packet: bytes, index: int) -> dict``
    returning one record as above (or an object with ``to_json()``). A class
    is instantiated once with no arguments and its ``decode_packet`` used.
    It runs in a child process (``python -m
    dredconf.conformance.python_dut``), which reads the stream for it, so it
    gets the same time limit and crash handling as a command; an exception
    becomes that packet's ``error`` record and the stream goes on. MODULE is
    importable from the directory ``dredconf check`` was started in (and
    ``$PYTHONPATH``).

``reference`` (or ``reference:exact``, ``reference:softfloat``)
    The suite's own decoder (``dredconf.reference.decoder.ReferenceDecoder``
    with features), run like a ``python:`` DUT: ``dredconf check --decoder
    reference`` is the suite's self-check.

``mutant:NAME``
    The reference with one rule deliberately broken
    (:mod:`dredconf.conformance.mutants`), to check that the runner catches it.

What the runner does with each invocation: it captures standard error (the
last few kilobytes go into the report) and the exit status; a DUT that
cannot be started, exits with a status other than 0 or dies of a signal
(*crash*), runs past the time limit (*timeout*: its whole process group is
killed), writes more than the output limit to any file, standard output and
error included (*output-limit*: 128 MiB per file, ``MAX_OUTPUT_BYTES``, held
by the kernel's file-size limit so the DUT is stopped at it; the largest
shipped vector's decode JSON with features is 15 MB) or writes output that is
not the decode JSON (*malformed*: not JSON, wrong types, wrong number of
packets) gets that verdict for the vector, and the run continues with the
next vector.
"""
from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from dredconf.conformance.output_schema import MalformedOutput, parse_output
from dredconf.conformance.vectorsets import Vector

#: Characters of a DUT's standard error kept for the report (the end of it).
STDERR_TAIL = 4000
DEFAULT_TIMEOUT = 120.0
#: Bytes a DUT may write to any one file (its output, stdout, stderr); past it: the *output-limit* verdict.
MAX_OUTPUT_BYTES = 128 << 20
FEATURE_ROW_BYTES = 20 * 4


@dataclass
class DutFailure:
    """Why a DUT produced nothing judgeable for a vector."""

    kind: str  # "launch" | "crash" | "timeout" | "output-limit" | "malformed"
    message: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.message}"


@dataclass
class DutRun:
    """What one invocation of a DUT gave."""

    records: list[dict] | None
    failure: DutFailure | None = None
    argv: list[str] = field(default_factory=list)
    exit_status: int | None = None
    elapsed: float = 0.0
    stderr: str = ""


@dataclass
class Invocation:
    """Everything an adapter may need to run the DUT on one vector."""

    vector: Vector
    packet_count: int
    expected: list[dict]  # the expected records (libopus-features cuts its rows with them)
    workdir: Path
    timeout: float = DEFAULT_TIMEOUT
    max_output: int = MAX_OUTPUT_BYTES


class Adapter:
    """A way to run a DUT. Subclasses are plain dataclasses so they pickle into worker processes."""

    kind = "?"
    spec = ""

    def describe(self) -> str:
        return self.spec

    def run(self, inv: Invocation) -> DutRun:  # pragma: no cover - abstract
        raise NotImplementedError


def _expand(template: str, **values: str) -> list[str]:
    """Split ``template`` like a shell and fill ``{name}`` placeholders word by word (no shell, no re-splitting)."""
    try:
        words = shlex.split(template)
    except ValueError as e:
        raise ValueError(f"cannot split the command {template!r}: {e}") from None
    if not words:
        raise ValueError("empty command")
    out = []
    for w in words:
        for k, v in values.items():
            w = w.replace("{" + k + "}", v)
        out.append(w)
    return out


def _signal_name(n: int) -> str:
    try:
        return signal.Signals(n).name
    except ValueError:
        return f"signal {n}"


@dataclass
class ProcessResult:
    exit_status: int | None
    elapsed: float
    stdout: bytes
    stderr: str
    timed_out: bool = False
    launch_error: str | None = None
    output_limited: bool = False  # a file it wrote reached max_output (the kernel stopped it there)


# --- output limit (hardening): RLIMIT_FSIZE in the DUT and its children, sizes checked after -----------

def _limit_file_size(max_output: int):
    """A preexec_fn: writes past max_output bytes in any file fail (EFBIG) or raise SIGXFSZ, which kills."""
    import resource

    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (max_output, max_output))
    return apply


def _tail(path: Path, n: int) -> bytes:
    """The last n bytes of a file, without reading the rest of it."""
    with open(path, "rb") as f:
        f.seek(max(0, f.seek(0, os.SEEK_END) - n))
        return f.read()


def _any_file_at_limit(workdir: Path, max_output: int) -> bool:
    return any(p.is_file() and p.stat().st_size >= max_output for p in workdir.iterdir())


def _wait_within_limits(proc: subprocess.Popen, workdir: Path, timeout: float, max_output: int) -> None:
    """proc.wait(timeout), returning early once a file reached the cap (a DUT that ignores SIGXFSZ and
    EFBIG would otherwise spin until the time limit); the caller kills the group either way."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            proc.wait(timeout=min(0.25, max(deadline - time.monotonic(), 0)))
            return
        except subprocess.TimeoutExpired:
            if _any_file_at_limit(workdir, max_output):
                return
            if time.monotonic() >= deadline:
                raise

# --- end of output limit --------------------------------------------------------------------------------


def run_process(argv: list[str], workdir: Path, timeout: float, env: dict[str, str] | None = None,
                max_output: int = MAX_OUTPUT_BYTES) -> ProcessResult:
    """Run ``argv`` with no shell in its own process group; kill the group at the time limit.

    Output goes to files in ``workdir`` (not pipes), so a DUT that leaves
    children behind or writes a lot can never block the runner; no file it
    writes grows past ``max_output`` bytes (``output_limited`` says it got there).
    """
    out_path, err_path = workdir / "dut.stdout", workdir / "dut.stderr"
    full_env = None
    if env:
        full_env = dict(os.environ)
        full_env.update(env)
    start = time.monotonic()
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        try:
            proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err, cwd=workdir,
                                    env=full_env, start_new_session=True,
                                    preexec_fn=_limit_file_size(max_output))
        except OSError as e:
            return ProcessResult(None, 0.0, b"", "", launch_error=f"cannot run {argv[0]!r}: {e.strerror or e}")
        timed_out = False
        try:
            _wait_within_limits(proc, workdir, timeout, max_output)
        except subprocess.TimeoutExpired:
            timed_out = True
        finally:
            # The whole group: a shell script's children die with it.
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            proc.wait()
    elapsed = time.monotonic() - start
    stderr = _tail(err_path, STDERR_TAIL).decode("utf-8", "replace")
    limited = _any_file_at_limit(workdir, max_output)
    return ProcessResult(proc.returncode, elapsed, b"" if limited else out_path.read_bytes(), stderr, timed_out,
                         output_limited=limited)


def _process_failure(res: ProcessResult, timeout: float, max_output: int = MAX_OUTPUT_BYTES) -> DutFailure | None:
    if res.launch_error:
        return DutFailure("launch", res.launch_error)
    if res.output_limited:
        return DutFailure("output-limit", f"wrote {max_output} bytes to one file, the output limit: stopped there")
    if res.timed_out:
        return DutFailure("timeout", f"killed after {timeout:g} s (the time limit)")
    if res.exit_status and res.exit_status < 0:
        return DutFailure("crash", f"killed by {_signal_name(-res.exit_status)} (exit status {res.exit_status})")
    if res.exit_status:
        return DutFailure("crash", f"exited with status {res.exit_status}")
    return None


@dataclass
class CmdAdapter(Adapter):
    """``cmd:TEMPLATE``: a program that reads a stream file and writes the decode JSON."""

    template: str
    env: dict[str, str] = field(default_factory=dict)
    kind = "cmd"

    @property
    def spec(self) -> str:  # type: ignore[override]
        return f"cmd:{self.template}"

    def _argv(self, inv: Invocation, output: Path) -> list[str]:
        return _expand(self.template, input=str(inv.vector.stream.resolve()), output=str(output))

    def run(self, inv: Invocation) -> DutRun:
        output = inv.workdir / "output.json"
        try:
            argv = self._argv(inv, output)
        except ValueError as e:
            return DutRun(None, DutFailure("launch", str(e)))
        res = run_process(argv, inv.workdir, inv.timeout, self.env or None, inv.max_output)
        run = DutRun(None, _process_failure(res, inv.timeout, inv.max_output), argv, res.exit_status, res.elapsed,
                     res.stderr)
        if run.failure:
            return run
        to_stdout = not any("{output}" in w for w in shlex.split(self.template))
        if to_stdout:
            text = res.stdout
        elif output.is_file():
            text = output.read_bytes()
        else:
            run.failure = DutFailure("malformed", f"no output: {output.name} was not written")
            return run
        try:
            run.records = parse_output(text, inv.packet_count)
        except MalformedOutput as e:
            run.failure = DutFailure("malformed", str(e))
        return run


@dataclass
class LibopusFeaturesAdapter(CmdAdapter):
    """``libopus-features:TEMPLATE``: raw float32 feature rows, cut into packets by the expected latent counts."""

    kind = "libopus-features"

    @property
    def spec(self) -> str:  # type: ignore[override]
        return f"libopus-features:{self.template}"

    def run(self, inv: Invocation) -> DutRun:
        output = inv.workdir / "features.f32"
        try:
            argv = self._argv(inv, output)
        except ValueError as e:
            return DutRun(None, DutFailure("launch", str(e)))
        if not any("{output}" in w for w in shlex.split(self.template)):
            return DutRun(None, DutFailure("launch", "a libopus-features command needs an {output} placeholder"), argv)
        res = run_process(argv, inv.workdir, inv.timeout, self.env or None, inv.max_output)
        run = DutRun(None, _process_failure(res, inv.timeout, inv.max_output), argv, res.exit_status, res.elapsed,
                     res.stderr)
        if run.failure:
            return run
        if not output.is_file():
            run.failure = DutFailure("malformed", f"no output: {output.name} was not written")
            return run
        try:
            run.records = split_feature_rows(output.read_bytes(), inv.expected)
        except MalformedOutput as e:
            run.failure = DutFailure("malformed", str(e))
        return run


def expected_row_counts(expected: list[dict]) -> list[int]:
    """Feature rows each packet contributes to a libopus-features file: 4 per latent of its DRED, else 0."""
    counts = []
    for rec in expected:
        d = rec.get("dred")
        if not isinstance(d, dict):
            counts.append(0)
        elif isinstance(d.get("features"), list):
            counts.append(len(d["features"]))
        else:
            counts.append(4 * int(d.get("latent_count", 0)))
    return counts


def split_feature_rows(data: bytes, expected: list[dict]) -> list[dict]:
    """Records ``{"index", "dred": {"features": rows}}`` from concatenated float32 rows (see the contract above)."""
    import numpy as np

    counts = expected_row_counts(expected)
    want = sum(counts)
    n_dred = sum(1 for r in expected if isinstance(r.get("dred"), dict))
    if len(data) % FEATURE_ROW_BYTES:
        raise MalformedOutput(f"{len(data)} bytes is not a whole number of 80-byte rows (20 float32 each)")
    got = len(data) // FEATURE_ROW_BYTES
    if got != want:
        raise MalformedOutput(f"{got} feature rows, expected {want} (4 per latent of the {n_dred} DRED packets, in stream order)")
    rows = np.frombuffer(data, dtype="<f4").reshape(-1, 20).astype(np.float64)
    records: list[dict] = []
    pos = 0
    for i, (rec, n) in enumerate(zip(expected, counts)):
        if isinstance(rec.get("dred"), dict):
            records.append({"index": i, "dred": {"features": rows[pos:pos + n].tolist()}})
        else:
            records.append({"index": i})
        pos += n
    return records


@dataclass
class PythonAdapter(CmdAdapter):
    """``python:MODULE:CALLABLE``, run in a child process by :mod:`dredconf.conformance.python_dut`."""

    template: str = ""
    target: str = ""
    label: str = ""
    kind = "python"

    def __post_init__(self) -> None:
        self.template = shlex.join([sys.executable, "-m", "dredconf.conformance.python_dut", self.target]) + " {input} {output}"
        # MODULE is imported as it would be from where dredconf was started.
        paths = [os.getcwd()] + ([os.environ["PYTHONPATH"]] if os.environ.get("PYTHONPATH") else [])
        self.env = {"PYTHONPATH": os.pathsep.join(paths), **self.env}

    @property
    def spec(self) -> str:  # type: ignore[override]
        return self.label or f"python:{self.target}"


def reference_adapter(model: str | None = None, arith: str | None = None) -> PythonAdapter:
    """The reference; ``arith`` one of ``rdovae.ARITHMETIC`` (both give libopus's float32 features bit for bit)."""
    from dredconf.reference.rdovae import ARITHMETIC

    if arith is not None and arith not in ARITHMETIC:
        raise ValueError(f"--decoder reference:{arith}: want one of {', '.join(ARITHMETIC)}")
    env = {"DREDCONF_MODEL": str(model)} if model else {}
    if arith:
        env["DREDCONF_ARITH"] = arith
    return PythonAdapter(target="dredconf.conformance.python_dut:reference",
                         label="reference" + (f":{arith}" if arith else ""), env=env)


def mutant_adapter(name: str, model: str | None = None) -> PythonAdapter:
    from dredconf.conformance.mutants import MUTANTS

    if name not in MUTANTS:
        raise ValueError(f"no mutant {name!r} (have: {', '.join(MUTANTS)})")
    env = {"DREDCONF_MODEL": str(model)} if model else {}
    return PythonAdapter(target=f"dredconf.conformance.mutants:{MUTANTS[name].attr}", label=f"mutant:{name}", env=env)


def parse_decoder(spec: str, *, model: str | None = None) -> Adapter:
    """The adapter for a ``--decoder`` value (see the module docstring)."""
    if spec == "reference":
        return reference_adapter(model)
    kind, sep, rest = spec.partition(":")
    if not sep or not rest:
        raise ValueError(f"--decoder {spec!r}: want reference, cmd:TEMPLATE, libopus-features:TEMPLATE, python:MODULE:CALLABLE or mutant:NAME")
    if kind == "cmd":
        return CmdAdapter(rest)
    if kind == "libopus-features":
        return LibopusFeaturesAdapter(rest)
    if kind == "python":
        if ":" not in rest:
            raise ValueError(f"--decoder {spec!r}: want python:MODULE:CALLABLE")
        env = {"DREDCONF_MODEL": str(model)} if model else {}
        return PythonAdapter(target=rest, env=env)
    if kind == "mutant":
        return mutant_adapter(rest, model)
    if kind == "reference":
        return reference_adapter(model, rest)
    raise ValueError(f"--decoder {spec!r}: unknown kind {kind!r} (reference, cmd, libopus-features, python, mutant)")
