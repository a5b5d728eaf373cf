"""Running a decoder under test as a child process: no shell, its own process group, a time limit, an output cap.

Output goes to files (never pipes), so a decoder that leaves children behind or
writes a lot can never block the runner. Past the time limit its whole process
group is killed (*timeout*); a file it writes that reaches ``MAX_OUTPUT_BYTES``
stops it there (the kernel's file-size limit: *output-limit*); a status other
than 0 or a signal is a *crash*; a program that cannot be started, *launch*.
"""
from __future__ import annotations

import os
import re
import resource
import shlex
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

#: Characters of a decoder's standard error kept for the report (the end of it).
STDERR_TAIL = 4000
DEFAULT_TIMEOUT = 120.0
#: Bytes a decoder may write to any one file (its output, stdout, stderr); past it: the *output-limit* verdict.
MAX_OUTPUT_BYTES = 128 << 20


@dataclass
class DutFailure:
    """Why a decoder produced nothing judgeable for a vector."""

    kind: str  # "launch" | "crash" | "timeout" | "output-limit" | "malformed"
    message: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.message}"


def expand(template: str, **values: str) -> list[str]:
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


def placeholders(template: str) -> set[str]:
    """The ``{name}`` placeholders a template uses."""
    return set(re.findall(r"\{(\w+)\}", template))


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


def _limit_file_size(max_output: int):
    """A preexec_fn: writes past max_output bytes in any file fail (EFBIG) or raise SIGXFSZ, which kills."""
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


def process_failure(res: ProcessResult, timeout: float, max_output: int = MAX_OUTPUT_BYTES) -> DutFailure | None:
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
