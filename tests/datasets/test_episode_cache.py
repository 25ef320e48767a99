"""Cached ProcHouse episode datasets are byte-identical whichever process wrote them: nothing
temporary (a process id, a temporary file name, a time) gets into the gzip file (issue 19, item 8)."""

from __future__ import annotations

import gzip
import hashlib
import os
import struct
import subprocess
import sys
from pathlib import Path

CODE = "import gymnasium as gym, navgym; gym.make('ImageNav-ProcHouse-v0', num_scenes=1, episodes_per_scene=3)"


def _digests(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*")) if p.is_file()
    }


def test_a_cached_episode_dataset_is_byte_identical_from_any_process(tmp_path):
    caches = [tmp_path / f"cache{i}" for i in range(3)]
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", CODE],
            env={**os.environ, "NAVGYM_CACHE": str(c), "PYTHONHASHSEED": str(i)},
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        for i, c in enumerate(caches)
    ]
    for proc in procs:
        out, _ = proc.communicate(timeout=300)
        assert proc.returncode == 0, out
    digests = [_digests(c) for c in caches]
    assert digests[0] == digests[1] == digests[2]
    datasets = sorted((caches[0] / "episodes").rglob("*"))
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
