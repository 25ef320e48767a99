"""Cached ProcHouse episode datasets are byte-identical whichever process wrote them: nothing
temporary (a process id, a temporary file name, a time) gets into the gzip file (issue 19, item 8)."""

from __future__ import annotations

import gzip
import struct

CODE = "import gymnasium as gym, navgym; gym.make('ImageNav-ProcHouse-v0', num_scenes=1, episodes_per_scene=3)"


def test_a_cached_episode_dataset_is_byte_identical_from_any_process(tmp_path, fill_caches_in_processes):
    caches, digests = fill_caches_in_processes(tmp_path, CODE)
    assert digests[0] == digests[1] == digests[2]
    # Each entry's lock (navgym.core.paths.cache_lock) stays beside it by design: waiters must share its inode.
    datasets = sorted(p for p in (caches[0] / "episodes").rglob("*") if not (p.name.startswith(".") and p.name.endswith(".json.gz.lock")))
    files = [p for p in datasets if p.is_file()]
    assert len(files) == 1 and files[0].name.endswith(".json.gz") and not files[0].name.startswith(".")
    assert all(p.is_file() or p.name == "imagenav" for p in datasets), datasets  # no temporary folder left

    data = files[0].read_bytes()
    magic, method, flags, mtime = struct.unpack_from("<HBBI", data)
    assert (magic, method) == (0x8B1F, 8)
    assert flags & 0x08 == 0, "the gzip header stores a file name"
    assert mtime == 0, "the gzip header stores a time"
    text = gzip.decompress(data).decode()
    assert ".tmp" not in text and str(caches[0]) not in text
