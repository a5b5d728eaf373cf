"""The decoder contract: how a decoder under test plugs into ``dredconf check`` (docs/DECODER-CONTRACT.md).

``--decoder SPEC`` names it; the runner invokes it once per vector as a child
process (:mod:`.process`: time limit, output cap, crash handling). Kinds:

``cmd:TEMPLATE``
    A command line, split like a POSIX shell would and run without one; in
    each word ``{input}`` becomes the stream's path and ``{output}`` the JSON
    to write (leave ``{output}`` out to write it to standard output). The
    stream is the libopus test-tool format; the JSON is ``{"packets":
    [record, ...]}``, each record any subset of :mod:`dredconf.spec.record`;
    ``{"index": i, "error": "why"}`` for a packet it cannot decode. On a
    vocoder vector ``{input}`` is the features file (20 float32 per 10 ms) and
    ``{output}`` the 16 kHz s16le PCM to write; on an integration vector
    ``{input}`` is the stream, ``{loss}`` opus_demo's loss file and ``{output}``
    the 16 kHz s16le PCM: ``cmd:opus_demo -d 16000 1 -lossfile {loss} {input}
    {output}`` works as written.
``libopus-features:TEMPLATE``
    A command writing raw little-endian float32 feature rows (20 each) to
    ``{output}``: for a stream, every DRED packet's ``4 * latent_count`` rows
    in ``fec_features`` order (newest first), packets in stream order; for
    libopus's standalone records (``X_dred.bit``), what ``fargan_demo
    -dred-decoding {input} {output}`` writes (per record, oldest row first).
``python:MODULE:CALLABLE``
    ``CALLABLE(packet: bytes, index: int) -> dict`` (a class: instantiated once,
    its ``decode_packet`` used), run in a child process by :mod:`.python_dut`.
``reference`` (``reference:ARITH``)
    The suite's own decoder: the self-check. ``mutant:NAME``: the reference
    with one rule broken (:mod:`.mutants`).

Each adapter says which kinds of vector it decodes and checks, before any
vector runs, what it can (:meth:`Adapter.preflight`: a module that imports, a
model that loads); what fails there is a usage error, not a verdict.
"""
from __future__ import annotations

import os
import shlex
import subprocess
import sys
from dataclasses import dataclass, field
from typing import ClassVar
from pathlib import Path

from dredconf.conformance.output_schema import MalformedOutput, feature_rows, packet_feature_records, parse_output
from dredconf.conformance.process import (
    DEFAULT_TIMEOUT, MAX_OUTPUT_BYTES, DutFailure, expand, placeholders, process_failure, run_process,
)
from dredconf.conformance.profile import DEFAULT, Profile
from dredconf.conformance.judge import standalone_records
from dredconf.errors import DredconfError
from dredconf.vectors.sets import INTEGRATION, PACKETS, STANDALONE, VOCODER, Vector

PYTHON_DUT = [sys.executable, "-m", "dredconf.conformance.python_dut"]


class AdapterError(ValueError):
    """A ``--decoder`` that cannot be used as given (a usage error)."""


@dataclass
class Invocation:
    """Everything an adapter needs to run the decoder on one vector."""

    vector: Vector
    input: Path  # the file the decoder reads: the vector's, or a copy holding only ``--packet``'s packet
    count: int  # packets (or records) in ``input``
    expected: list[dict]  # the expected records (packets); a libopus-features file is cut with them
    workdir: Path
    timeout: float = DEFAULT_TIMEOUT
    max_output: int = MAX_OUTPUT_BYTES
    #: Standalone records: rows per record.
    row_counts: list[int] = field(default_factory=list)
    #: Audio stages: the PCM samples the output must hold; integration: the loss file.
    samples: int = 0
    loss: Path | None = None


@dataclass
class DutRun:
    """What one invocation gave: records in the record schema, or why there are none."""

    records: list[dict] | None
    failure: DutFailure | None = None
    argv: list[str] = field(default_factory=list)
    exit_status: int | None = None
    elapsed: float = 0.0
    stderr: str = ""
    #: Audio stages: the 16 kHz s16le PCM written.
    pcm: bytes | None = None


class Adapter:
    """A way to run a decoder. Subclasses are plain dataclasses so they pickle into worker processes."""

    kind = "?"
    #: The kinds of vector it decodes.
    kinds: tuple[str, ...] = (PACKETS,)

    def describe(self) -> str:  # pragma: no cover - abstract
        raise NotImplementedError

    def default_profile(self) -> Profile:
        return Profile(DEFAULT)

    def preflight(self) -> None:
        """Raise :class:`AdapterError` if the decoder cannot run at all (checked once, before any vector)."""

    #: Why the decoder cannot take a kind of vector it lacks, where there is more to say than that it lacks it.
    why_not: ClassVar[dict[str, str]] = {}

    def cannot_decode(self, kinds: set[str]) -> list[str]:
        """The kinds among ``kinds`` the decoder cannot take."""
        return sorted(kinds - set(self.kinds))

    def check_kinds(self, kinds: set[str]) -> None:
        """Raise :class:`AdapterError` if the decoder cannot take vectors of these kinds."""
        cannot = self.cannot_decode(kinds)
        if cannot:
            why = "".join(f"; {self.why_not[k]}" for k in cannot if k in self.why_not)
            raise AdapterError(f"--decoder {self.describe()!r} cannot decode {', '.join(cannot)} vectors (it takes "
                               f"{', '.join(self.kinds)}){why}")

    def run(self, inv: Invocation) -> DutRun:  # pragma: no cover - abstract
        raise NotImplementedError


def _absolute(word: str) -> str:
    """A word naming an existing file relative to where dredconf runs, made absolute: the decoder runs elsewhere."""
    return str(Path(word).resolve()) if not os.path.isabs(word) and os.sep in word and os.path.exists(word) else word


def _run(template: str, inv: Invocation, output: Path, env: dict[str, str]) -> tuple[DutRun, bytes | None]:
    """Run a template; the run (with its failure, if any) and the output bytes (None when it failed)."""
    try:
        values = {"input": str(inv.input.resolve()), "output": str(output)}
        if inv.loss is not None:
            values["loss"] = str(inv.loss.resolve())
        argv = [_absolute(w) for w in expand(template, **values)]
    except ValueError as e:
        return DutRun(None, DutFailure("launch", str(e))), None
    res = run_process(argv, inv.workdir, inv.timeout, env or None, inv.max_output)
    run = DutRun(None, process_failure(res, inv.timeout, inv.max_output), argv, res.exit_status, res.elapsed,
                 res.stderr)
    if run.failure:
        return run, None
    if "output" not in placeholders(template):
        return run, res.stdout
    if not output.is_file():
        run.failure = DutFailure("malformed", f"no output: {output.name} was not written")
        return run, None
    return run, output.read_bytes()


def _check_template(template: str, need: tuple[str, ...], spec: str) -> None:
    try:
        words = shlex.split(template)
    except ValueError as e:
        raise AdapterError(f"--decoder {spec!r}: cannot split the command: {e}") from None
    if not words:
        raise AdapterError(f"--decoder {spec!r}: empty command")
    missing = [n for n in need if n not in placeholders(template)]
    if missing:
        raise AdapterError(f"--decoder {spec!r}: the command needs {' and '.join('{' + n + '}' for n in missing)}")


def parse_pcm(data: bytes, inv: Invocation) -> bytes:
    """The decoder's PCM, or :class:`MalformedOutput` naming both lengths."""
    what = ("160 per 10 ms frame of the features" if inv.vector.kind == VOCODER
            else "the stream's duration at 16 kHz")
    if len(data) % 2 or len(data) // 2 != inv.samples:
        raise MalformedOutput(f"{len(data) / 2:g} samples of 16 kHz s16le PCM, expected {inv.samples} ({what})")
    return data


@dataclass
class CmdAdapter(Adapter):
    """``cmd:TEMPLATE``: a program that reads a stream (or features) file and writes the decode JSON (or PCM)."""

    template: str
    env: dict[str, str] = field(default_factory=dict)
    kind = "cmd"
    kinds = (PACKETS, VOCODER, INTEGRATION)

    def describe(self) -> str:
        return f"cmd:{self.template}"

    def preflight(self) -> None:
        _check_template(self.template, ("input",), self.describe())

    def check_kinds(self, kinds: set[str]) -> None:
        super().check_kinds(kinds)
        if INTEGRATION in kinds:
            _check_template(self.template, ("input", "loss", "output"), self.describe() + " (integration vectors)")
        if VOCODER in kinds:
            _check_template(self.template, ("input", "output"), self.describe() + " (vocoder vectors)")

    def run(self, inv: Invocation) -> DutRun:
        audio = inv.vector.kind in (VOCODER, INTEGRATION)
        run, data = _run(self.template, inv, inv.workdir / ("output.sw" if audio else "output.json"), self.env)
        if data is not None:
            try:
                if audio:
                    run.pcm = parse_pcm(data, inv)
                else:
                    run.records = parse_output(data, inv.count)
            except MalformedOutput as e:
                run.failure = DutFailure("malformed", str(e))
        return run


def parse_features(data: bytes, inv: Invocation) -> list[dict]:
    """A feature file as records: per DRED packet (fec_features order) or per standalone record (oldest first)."""
    if inv.vector.kind == STANDALONE:
        rows = feature_rows(data, sum(inv.row_counts),
                            f"2 per chunk of the {len(inv.row_counts)} records, as fargan_demo -dred-decoding writes")
        return standalone_records(rows, inv.row_counts)
    return packet_feature_records(data, inv.expected)


@dataclass
class LibopusFeaturesAdapter(Adapter):
    """``libopus-features:TEMPLATE``: raw float32 feature rows, cut by the expected latent (or chunk) counts."""

    template: str
    env: dict[str, str] = field(default_factory=dict)
    label: str = ""
    kind = "libopus-features"
    kinds = (PACKETS, STANDALONE)

    def describe(self) -> str:
        return self.label or f"libopus-features:{self.template}"

    def default_profile(self) -> Profile:
        return Profile(("features",))

    def preflight(self) -> None:
        _check_template(self.template, ("input", "output"), self.describe())

    def run(self, inv: Invocation) -> DutRun:
        run, data = _run(self.template, inv, inv.workdir / "features.f32", self.env)
        if data is not None:
            try:
                run.records = parse_features(data, inv)
            except MalformedOutput as e:
                run.failure = DutFailure("malformed", str(e))
        return run


def _python_env(model: Path | None = None, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The child's environment: MODULE importable as from where dredconf was started; the resolved model."""
    paths = [os.getcwd()] + ([os.environ["PYTHONPATH"]] if os.environ.get("PYTHONPATH") else [])
    env = {"PYTHONPATH": os.pathsep.join(paths), **(extra or {})}
    if model is not None:
        env["DREDCONF_MODEL"] = str(model)
    return env


def _resolve_model(model: str | None) -> Path:
    """The model directory the reference will load, or :class:`AdapterError` naming why it cannot."""
    from dredconf.reference.model import load_model

    try:
        return load_model(model, parts=("stats", "decoder")).path
    except DredconfError as e:
        raise AdapterError(str(e)) from None


@dataclass
class PythonAdapter(CmdAdapter):
    """``python:MODULE:CALLABLE``, run in a child process by :mod:`dredconf.conformance.python_dut`."""

    template: str = ""
    target: str = ""
    label: str = ""
    kind = "python"
    kinds = (PACKETS,)

    def __post_init__(self) -> None:
        self.template = shlex.join(PYTHON_DUT + [self.target]) + " {input} {output}"
        self.env = _python_env(extra=self.env)

    def describe(self) -> str:
        return self.label or f"python:{self.target}"

    def preflight(self) -> None:
        env = {**os.environ, **self.env}
        res = subprocess.run(PYTHON_DUT + ["--check", self.target], env=env, capture_output=True, text=True,
                             timeout=120)
        if res.returncode:
            why = (res.stderr.strip().splitlines() or [f"exit status {res.returncode}"])[-1]
            raise AdapterError(f"--decoder {self.describe()!r}: {why}")


@dataclass
class ReferenceAdapter(Adapter):
    """``reference[:ARITH]``: the suite's own decoder, run like a ``python:`` decoder (packets), a
    ``libopus-features:`` one (standalone records) or a ``cmd:`` vocoder (its FARGAN synthesis)."""

    model: str | None = None
    arith: str | None = None
    kind = "reference"
    kinds = (PACKETS, STANDALONE, VOCODER)
    why_not = {INTEGRATION: "the reference has no Opus decoder: integration vectors need a whole decoder, e.g. "
                            "cmd:opus_demo -d 16000 1 -lossfile {loss} {input} {output}"}
    _resolved: Path | None = None

    def describe(self) -> str:
        return "reference" + (f":{self.arith}" if self.arith else "")

    def preflight(self) -> None:
        self._resolved = _resolve_model(self.model)

    def check_kinds(self, kinds: set[str]) -> None:
        super().check_kinds(kinds)
        if VOCODER in kinds:   # the vocoder's weights: a model without them is a usage error, not a verdict
            from dredconf.reference.model import load_model

            try:
                load_model(self._resolved or self.model, parts=("fargan",))
            except DredconfError as e:
                raise AdapterError(str(e)) from None

    def _env(self) -> dict[str, str]:
        return _python_env(self._resolved or (Path(self.model) if self.model else None),
                           {"DREDCONF_ARITH": self.arith} if self.arith else None)

    def run(self, inv: Invocation) -> DutRun:
        if inv.vector.kind == VOCODER:
            return CmdAdapter(shlex.join(PYTHON_DUT + ["--synth"]) + " {input} {output}", self._env()).run(inv)
        if inv.vector.kind == STANDALONE:
            template = shlex.join(PYTHON_DUT + ["--standalone"]) + " {input} {output}"
            return LibopusFeaturesAdapter(template, self._env(), self.describe()).run(inv)
        return CmdAdapter(shlex.join(PYTHON_DUT + ["--reference"]) + " {input} {output}", self._env()).run(inv)


@dataclass
class MutantAdapter(ReferenceAdapter):
    """``mutant:NAME``: the reference with one rule broken, to check that the runner catches it."""

    name: str = ""
    kind = "mutant"

    def describe(self) -> str:
        return f"mutant:{self.name}"

    @property
    def kinds(self) -> tuple[str, ...]:  # type: ignore[override]
        from dredconf.conformance.mutants import MUTANTS

        return (MUTANTS[self.name].kind,)

    def default_profile(self) -> Profile:
        return Profile(("integration",)) if self.kinds == (INTEGRATION,) else Profile(DEFAULT)

    def run(self, inv: Invocation) -> DutRun:
        from dredconf.conformance.mutants import MUTANTS

        if inv.vector.kind in (VOCODER, INTEGRATION):
            template = shlex.join(PYTHON_DUT[:-1] + ["dredconf.conformance.mutants", self.name]) + " {input} {output}"
            return CmdAdapter(template, self._env()).run(inv)
        return PythonAdapter(target=f"dredconf.conformance.mutants:{MUTANTS[self.name].attr}",
                             label=self.describe(), env=self._env()).run(inv)


def parse_decoder(spec: str, *, model: str | None = None) -> Adapter:
    """The adapter for a ``--decoder`` value; :class:`AdapterError` when it cannot be one (call its
    :meth:`~Adapter.preflight` before running it)."""
    kind, sep, rest = spec.partition(":")
    if kind == "reference":
        from dredconf.reference.rdovae import ARITHMETIC

        if sep and rest not in ARITHMETIC:
            raise AdapterError(f"--decoder {spec!r}: want reference or reference:{'|'.join(ARITHMETIC)}")
        return ReferenceAdapter(model, rest or None)
    if not sep or not rest:
        raise AdapterError(f"--decoder {spec!r}: want reference, cmd:TEMPLATE, libopus-features:TEMPLATE, "
                           "python:MODULE:CALLABLE or mutant:NAME")
    if kind == "cmd":
        adapter: Adapter = CmdAdapter(rest)
    elif kind == "libopus-features":
        adapter = LibopusFeaturesAdapter(rest)
    elif kind == "python":
        if ":" not in rest:
            raise AdapterError(f"--decoder {spec!r}: want python:MODULE:CALLABLE")
        adapter = PythonAdapter(target=rest, env={"DREDCONF_MODEL": model} if model else {})
    elif kind == "mutant":
        from dredconf.conformance.mutants import MUTANTS

        if rest not in MUTANTS:
            raise AdapterError(f"--decoder {spec!r}: no mutant {rest!r} (have: {', '.join(MUTANTS)})")
        adapter = MutantAdapter(model, name=rest)
    else:
        raise AdapterError(f"--decoder {spec!r}: unknown kind {kind!r} (reference, cmd, libopus-features, python, "
                           "mutant)")
    return adapter
