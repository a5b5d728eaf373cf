"""cffi (API mode, out-of-line) builder for the reference C core.

Every public header in ``csrc/`` carries its declarations between the markers
``/* cdef begin */`` and ``/* cdef end */``: that block is both C and the cffi
cdef, so the interface is written once (headers without one are internal).
The float code is compiled so that each C float operation is one IEEE binary32
operation in the source's order (``-ffp-contract=off``, no fast-math, SSE2 math
on 32-bit x86); the core checks at run time that the hardware agrees
(``csrc/nnet.h``). Extra compiler flags come from the
environment (``DREDCONF_CFLAGS``), which is how the determinism test and the
sanitizer build compile the same sources differently. ``DREDCONF_SANITIZE=1`` is
shorthand for ``SANITIZE_CFLAGS`` (AddressSanitizer + UndefinedBehaviorSanitizer,
halting on the first report); a module built so only loads in a Python started
with the ASan runtime preloaded (docs/FUZZING.md; tests/fuzz/sanitizer.py builds
one beside the normal module instead of replacing it).
"""
from __future__ import annotations

import os
import platform
import re
import shlex
import struct
from pathlib import Path

from cffi import FFI

CSRC = Path(__file__).resolve().parent / "csrc"
MODULE = "dredconf.reference._core"
# Strict ISO C, no fast-math, no fused multiply-add: every float operation of the hardware path
# (csrc/nnet_hw.c, nnet_x86.c) stays one separately rounded IEEE operation in the source's order,
# so every compiler gives the same bits (the rest of the core is integer-only).
BASE_CFLAGS = ["-std=c99", "-O2", "-fno-fast-math", "-ffp-contract=off", "-fwrapv", "-Wall", "-Wextra"]


def _x87_host() -> bool:
    """32-bit x86, where floats would go through the x87's extended precision unless SSE2 is asked for."""
    return platform.machine().lower() in ("i386", "i486", "i586", "i686", "x86") or (
        platform.machine().lower() in ("x86_64", "amd64") and struct.calcsize("P") == 4)


if _x87_host():
    BASE_CFLAGS += ["-msse2", "-mfpmath=sse"]
# ASan + UBSan, every UBSan report fatal, frames kept for readable stacks; -fno-wrapv so that UBSan also
# reports signed overflow, which the base flags' -fwrapv would define away (the core never overflows).
SANITIZE_CFLAGS = ["-fsanitize=address,undefined", "-fno-sanitize-recover=undefined", "-fno-omit-frame-pointer",
                   "-fno-wrapv", "-g", "-O1"]
_CDEF = re.compile(r"/\* cdef begin \*/(.*?)/\* cdef end \*/", re.S)
_INCLUDE = re.compile(r'^#include "([^"]+)"', re.M)


def headers() -> list[Path]:
    """The headers with public declarations (internal ones, e.g. nnet_arith.h, and the .inc
    sources compiled through nnet_soft.c / nnet_hw.c stay out of the module's own source), by name,
    each after the ones it includes (their cdef types come first)."""
    public = {h.name: h for h in sorted(CSRC.glob("*.h")) if _CDEF.search(h.read_text())}
    ordered: list[Path] = []

    def place(h: Path) -> None:
        if h not in ordered:
            for name in _INCLUDE.findall(h.read_text()):
                if name in public and public[name] is not h:
                    place(public[name])
            ordered.append(h)

    for h in public.values():
        place(h)
    return ordered


def sources() -> list[Path]:
    return sorted(CSRC.glob("*.c"))


def cdef_text() -> str:
    return "\n".join(m for h in headers() for m in _CDEF.findall(h.read_text()))


def _source_path(path: Path) -> str:
    """setuptools wants sources relative to the project root when it drives the build."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def make_builder(module: str = MODULE, extra_cflags: list[str] | None = None) -> FFI:
    """A builder for the core; ``module`` and flags vary for test builds."""
    flags = (BASE_CFLAGS + (SANITIZE_CFLAGS if os.environ.get("DREDCONF_SANITIZE") == "1" else [])
             + shlex.split(os.environ.get("DREDCONF_CFLAGS", "")) + list(extra_cflags or []))
    builder = FFI()
    builder.cdef(cdef_text())
    includes = "".join(f'#include "{h.name}"\n' for h in headers())
    builder.set_source(
        module,
        includes,
        sources=[_source_path(s) for s in sources()],
        include_dirs=[str(CSRC)],
        extra_compile_args=flags,
        extra_link_args=[f for f in flags if f.startswith("-fsanitize")],
    )
    return builder


ffibuilder = make_builder()

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)
