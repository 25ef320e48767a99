"""navgym's cache folder: what `navgym cache` shows and clears."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from navgym.core.cache import KINDS, _size, cache_usage, clear_cache, human_bytes
from navgym.errors import InvalidArgumentError


def _fill(root):
    (root / "pose_pairs").mkdir(parents=True)
    (root / "pose_pairs" / "a.npz").write_bytes(b"x" * 1500)
    (root / "demonstrations").mkdir()
    (root / "demonstrations" / "b.npz").write_bytes(b"y" * 10)
    (root / "scenes" / "prochouse_v9").mkdir(parents=True)
    (root / "scenes" / "prochouse_v9" / "0000001.glb").write_bytes(b"z" * 7)
    (root / "mystery").mkdir()
    (root / "loose_file.txt").write_text("kept")


def test_usage_lists_parts_in_order_with_sizes(tmp_path):
    _fill(tmp_path)
    parts = {p.kind: p for p in cache_usage(tmp_path)}
    assert list(parts) == ["scenes", "demonstrations", "pose_pairs", "mystery"]
    assert (parts["pose_pairs"].files, parts["pose_pairs"].bytes) == (1, 1500)
    assert (parts["scenes"].files, parts["scenes"].bytes) == (1, 7)
    assert parts["pose_pairs"].description == KINDS["pose_pairs"]
    assert cache_usage(tmp_path / "missing") == []


def test_clear_removes_only_the_named_parts(tmp_path):
    _fill(tmp_path)
    removed = clear_cache(["pose_pairs", "demonstrations", "pose_pairs", "isaac"], root=tmp_path)
    assert [p.kind for p in removed] == ["pose_pairs", "demonstrations"]
    assert not (tmp_path / "pose_pairs").exists() and not (tmp_path / "demonstrations").exists()
    assert (tmp_path / "scenes" / "prochouse_v9" / "0000001.glb").exists()
    assert clear_cache(["all"], root=tmp_path) and [p.kind for p in cache_usage(tmp_path)] == []
    assert (tmp_path / "loose_file.txt").read_text() == "kept"


def test_clear_does_not_follow_a_linked_folder(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "precious").write_text("keep me")
    root = tmp_path / "cache"
    root.mkdir()
    (root / "pose_pairs").symlink_to(outside, target_is_directory=True)
    assert clear_cache(["all"], root=root) == []
    assert (outside / "precious").read_text() == "keep me"


@pytest.mark.parametrize("kinds", [["posepairs"], []])
def test_clear_rejects_unknown_parts_naming_the_valid_ones(tmp_path, kinds):
    _fill(tmp_path)
    with pytest.raises(InvalidArgumentError, match="pose_pairs.*all"):
        clear_cache(kinds, root=tmp_path)
    assert (tmp_path / "pose_pairs" / "a.npz").exists()


def test_human_bytes():
    assert [human_bytes(n) for n in (12, 1500, 2_500_000_000, 3 * 10**13)] == ["12 B", "1.5 kB", "2.5 GB", "30000.0 GB"]


def test_cli_shows_and_clears(tmp_path):
    _fill(tmp_path)
    env = {**os.environ, "NAVGYM_CACHE": str(tmp_path), "COLUMNS": "200"}
    cli = [sys.executable, "-m", "navgym.cli", "cache"]
    shown = subprocess.run(cli, capture_output=True, text=True, env=env, timeout=120)
    assert shown.returncode == 0, shown.stderr
    assert str(tmp_path) in shown.stdout and "pose_pairs" in shown.stdout and "1.5 kB" in shown.stdout
    bad = subprocess.run([*cli, "--clear", "posepairs"], capture_output=True, text=True, env=env, timeout=120)
    assert bad.returncode == 2 and "--clear" in bad.stderr and "pose_pairs" in bad.stderr
    cleared = subprocess.run([*cli, "--clear", "pose_pairs"], capture_output=True, text=True, env=env, timeout=120)
    assert cleared.returncode == 0 and "removed pose_pairs: 1 files, 1.5 kB" in cleared.stdout
    assert not (tmp_path / "pose_pairs").exists() and (tmp_path / "demonstrations").exists()


@pytest.mark.timeout(180)
def test_cache_lock_makes_a_second_process_wait_and_a_killed_holder_leaves_no_lock(tmp_path):
    """``cache_lock``: while one holder makes an entry, another waits (told through ``log``) and
    then finds the entry made; a holder killed mid-way releases the lock with its process."""
    import threading

    from navgym.core.paths import cache_lock

    entry, waiting, seen = tmp_path / "pose_pairs" / "pairs.npz", threading.Event(), []

    def other():
        with cache_lock(entry, lambda line: (seen.append(line), waiting.set())):
            seen.append(entry.exists())

    with cache_lock(entry):
        thread = threading.Thread(target=other)
        thread.start()
        assert waiting.wait(60), "the second holder did not wait"
        entry.write_bytes(b"made once")
    thread.join(60)
    assert seen == [f"waiting for another process making {entry}", True]
    assert _size(tmp_path / "pose_pairs") == (1, 9)  # the lock file is not counted as cache content

    holder = subprocess.Popen([sys.executable, "-c", "import sys, time\nfrom navgym.core.paths import cache_lock\n"
                               "with cache_lock(sys.argv[1]):\n    print('held', flush=True)\n    time.sleep(120)\n", str(entry)],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        holder.kill()
        holder.wait(30)
        logs = []
        with cache_lock(entry, logs.append):  # would wait forever on a stale lock (pytest-timeout ends it)
            pass
        assert logs == []
    finally:
        holder.kill()
