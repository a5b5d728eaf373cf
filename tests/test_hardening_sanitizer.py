"""The sanitizer build's switches (the build itself, its self-test and the C core's tests on it run in
.ci/run; docs/FUZZING.md)."""
from __future__ import annotations

import pytest

from dredconf.reference.build_core import BASE_CFLAGS, SANITIZE_CFLAGS, make_builder
from tests.fuzz import sanitizer


def _flags(builder) -> tuple[list[str], list[str]]:
    kwds = builder._assigned_source[-1]
    return kwds["extra_compile_args"], kwds["extra_link_args"]


def test_sanitize_shorthand_adds_asan_and_ubsan(monkeypatch):
    monkeypatch.delenv("DREDCONF_CFLAGS", raising=False)
    monkeypatch.delenv("DREDCONF_SANITIZE", raising=False)
    compile_, link = _flags(make_builder("x"))
    assert compile_ == BASE_CFLAGS and link == []
    monkeypatch.setenv("DREDCONF_SANITIZE", "1")
    compile_, link = _flags(make_builder("x"))
    assert compile_ == BASE_CFLAGS + SANITIZE_CFLAGS
    assert link == ["-fsanitize=address,undefined"]  # the runtimes linked in
    monkeypatch.setenv("DREDCONF_CFLAGS", "-DX=1")
    assert _flags(make_builder("x"))[0][-1] == "-DX=1"  # extra flags still come last


def test_sanitized_module_is_separate_and_keyed_on_sources_and_flags(monkeypatch, tmp_path):
    monkeypatch.setenv("DREDCONF_SAN_DIR", str(tmp_path))
    d = sanitizer.cache_dir()
    assert d.parent == tmp_path and d.name.startswith("dredconf-san-")
    monkeypatch.setenv("DREDCONF_CFLAGS", "-DOTHER")
    assert sanitizer.cache_dir() != d  # other flags, another build
    assert sanitizer.MODULE != "_core"


def test_install_refuses_without_the_runtime(monkeypatch):
    monkeypatch.setenv("LD_PRELOAD", "")
    with pytest.raises(RuntimeError, match="ASan runtime"):
        sanitizer.install()
