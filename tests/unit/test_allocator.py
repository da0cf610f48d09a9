"""Which allocator `ropa serve` starts itself again on: the decision, from the environment."""

from __future__ import annotations

import pytest

from services.cli.allocator import MALLOC_CONF, AllocatorUnavailable, restart_environment

LIB = "libjemalloc.so.2"


def test_auto_with_jemalloc_installed_starts_again_on_it_keeping_the_environment() -> None:
    restarted = restart_environment("auto", {"PATH": "/bin", "LD_PRELOAD": "/x.so:/y.so"}, LIB)
    assert restarted == {
        "PATH": "/bin",
        "PYTHONMALLOC": "malloc",
        "LD_PRELOAD": f"{LIB} /x.so /y.so",
        "MALLOC_CONF": MALLOC_CONF,
    }


def test_once_started_on_it_there_is_no_second_start() -> None:
    restarted = restart_environment("auto", {"PATH": "/bin"}, LIB)
    assert restarted is not None
    assert restart_environment("auto", restarted, LIB) is None
    assert restart_environment("jemalloc", restarted, LIB) is None


def test_an_operators_own_jemalloc_options_are_kept() -> None:
    restarted = restart_environment("jemalloc", {"MALLOC_CONF": "narenas:1"}, LIB)
    assert restarted is not None
    assert restarted["MALLOC_CONF"] == "narenas:1"


def test_auto_without_jemalloc_or_with_pythons_allocator_chosen_stays() -> None:
    assert restart_environment("auto", {}, None) is None
    assert restart_environment("python", {}, LIB) is None
    assert restart_environment("auto", {"PYTHONMALLOC": "pymalloc_debug"}, LIB) is None


def test_jemalloc_required_but_missing_says_what_to_install() -> None:
    with pytest.raises(AllocatorUnavailable, match="apt-get install libjemalloc2"):
        restart_environment("jemalloc", {}, None)


def test_jemalloc_required_overrides_another_pythonmalloc() -> None:
    restarted = restart_environment("jemalloc", {"PYTHONMALLOC": "pymalloc"}, LIB)
    assert restarted is not None
    assert restarted["PYTHONMALLOC"] == "malloc"
