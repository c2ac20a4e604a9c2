"""Atomic writes: whole files or nothing, even with two writers of the same target."""

from __future__ import annotations

import pytest

from dfazoo.files import atomic_file


def test_atomic_file_replaces_content_and_leaves_no_temp(tmp_path):
    target = tmp_path / "sub" / "data.bin"
    with atomic_file(target) as f:
        f.write(b"first")
    with atomic_file(target) as f:
        f.write(b"second")
    assert target.read_bytes() == b"second"
    assert [p.name for p in target.parent.iterdir()] == ["data.bin"]


def test_atomic_file_error_keeps_previous_content(tmp_path):
    target = tmp_path / "data.bin"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError, match="boom"), atomic_file(target) as f:
        f.write(b"half")
        raise RuntimeError("boom")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["data.bin"]


def test_concurrent_writers_of_one_target_do_not_collide(tmp_path):
    # Two sweeps once decoded the same dataset at once and shared one temp name: the second
    # writer's replace removed the first's temp file, which then crashed.
    target = tmp_path / "cache.npz"
    with atomic_file(target) as outer:
        outer.write(b"outer")
        with atomic_file(target) as inner:
            inner.write(b"inner")
        assert target.read_bytes() == b"inner"
    assert target.read_bytes() == b"outer"
    assert [p.name for p in tmp_path.iterdir()] == ["cache.npz"]


def test_atomic_writes_get_the_usual_permissions(tmp_path):
    import os
    import stat

    from dfazoo.files import atomic_file

    old = os.umask(0o022)
    try:
        with atomic_file(tmp_path / "x.json") as f:
            f.write(b"{}")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "x.json").stat().st_mode) == 0o644
