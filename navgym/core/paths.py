"""Where navgym reads data and writes caches, and the rule that keeps dataset paths inside the
data root."""

from __future__ import annotations

import contextlib
import os
import posixpath
import uuid
from pathlib import Path, PureWindowsPath
from typing import Callable, Iterable, Iterator

from navgym.errors import InvalidArgumentError


def data_root(data_dir: str | os.PathLike[str] | None = None) -> Path:
    """The data root: ``data_dir``, else ``$NAVGYM_DATA``, else ``./data`` (Habitat's default)."""
    return Path(data_dir or os.environ.get("NAVGYM_DATA") or "data").expanduser()


def cache_dir() -> Path:
    """Where generated scenes and episodes are cached: ``$NAVGYM_CACHE`` or the user cache folder."""
    env = os.environ.get("NAVGYM_CACHE")
    if env:
        return Path(env).expanduser()
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("navgym"))


def resolve_scene_path(scene_id: str, root: str | os.PathLike[str]) -> Path:
    """Map a Habitat scene id to a path inside the data root.

    A leading ``data/`` is stripped; the rest is joined under ``<root>/scene_datasets/``
    unless it already starts with ``scene_datasets/``::

        "data/scene_datasets/gibson/Adrian.glb"  -> <root>/scene_datasets/gibson/Adrian.glb
        "hm3d/val/00800-TEEsavR23oF/TEEsavR23oF.basis.glb"
                                                 -> <root>/scene_datasets/hm3d/val/00800-.../...
        "mp3d/17DRP5sb8fy/17DRP5sb8fy.glb"       -> <root>/scene_datasets/mp3d/17DRP5sb8fy/...

    The check is lexical (``..`` is collapsed, symlinks inside the root are trusted). The result
    is absolute; whether it exists is not checked.

    Raises:
        InvalidArgumentError: (a ``ValueError``) the scene id is empty, absolute, or escapes the
            data root with ``..``.
    """
    root_path = Path(os.path.abspath(os.fspath(root)))
    text = str(scene_id)

    def reject(reason: str) -> InvalidArgumentError:
        return InvalidArgumentError(f"scene_id {text!r} {reason}; scene paths must resolve inside the data root {root_path}")

    if not text.strip():
        raise reject("is empty")
    if "\x00" in text:
        raise reject("contains a NUL byte")
    posix = text.replace("\\", "/")
    if posix.startswith("/") or PureWindowsPath(text).drive or PureWindowsPath(text).root or os.path.isabs(text):
        raise reject("is an absolute path")
    while posix.startswith("./"):
        posix = posix[2:]
    if posix.startswith("data/"):
        posix = posix[len("data/") :]
    if not (posix == "scene_datasets" or posix.startswith("scene_datasets/")):
        posix = "scene_datasets/" + posix
    normalized = posixpath.normpath(posix)
    if normalized == ".." or normalized.startswith("../") or normalized in (".", ""):
        raise reject("escapes the data root")
    return root_path.joinpath(*normalized.split("/"))


def replace_atomically(path: str | os.PathLike[str], write: Callable[[Path], object], suffix: str = ".tmp") -> Path:
    """Call ``write(tmp)`` on a temporary file of its own next to ``path`` (``suffix`` ends its
    name: ``.tmp.npz`` for ``np.savez``, which would append ``.npz``), then rename it onto
    ``path``. Readers see the old file or the new one, never half of one; two writers at once
    each finish (the last rename wins); a failed write leaves no temporary file behind. The file
    (and the folder's new entry) are flushed to disk around the rename, so a power cut leaves
    the old file or the new one, not an empty one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # A fresh name rather than mkstemp's file: the writer creates it, so it gets the usual
    # permissions (mkstemp's are owner-only), as the files written in place before did.
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex}{suffix}")
    try:
        write(tmp)
        _fsync(tmp)  # the bytes on disk before the name points at them: a power cut leaves the old file, not an empty one
        os.replace(tmp, path)
        _fsync(path.parent, directory=True)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def remove_stale_temporaries(folder: str | os.PathLike[str], names: Iterable[str]) -> list[Path]:
    """Delete the temporary files :func:`replace_atomically` left in ``folder`` for the files
    ``names`` when its process was killed while writing (``.<name>.<pid>.<random>...``); those of
    processes still running are kept. Returns the files deleted."""
    removed = []
    for name in names:
        for tmp in Path(folder).glob(f".{name}.*"):
            pid = tmp.name[len(name) + 2 :].split(".", 1)[0]
            if not pid.isdigit():
                continue
            try:
                os.kill(int(pid), 0)
                continue  # a live writer's file
            except ProcessLookupError:
                pass
            except OSError:
                continue
            tmp.unlink(missing_ok=True)
            removed.append(tmp)
    return removed


def _fsync(path: Path, directory: bool = False) -> None:
    """Flush ``path`` (a file, or a folder's entries) to disk; where the platform or file system
    cannot (Windows folders, some network mounts), nothing."""
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY | (getattr(os, "O_DIRECTORY", 0) if directory else 0))
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


#: How :func:`cache_lock`'s lock files end (they are named ``.<entry name>`` + this).
LOCK_SUFFIX = ".lock"


def is_cache_lock(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is one of :func:`cache_lock`'s lock files (not cache content)."""
    name = Path(path).name
    return name.startswith(".") and name.endswith(LOCK_SUFFIX)


@contextlib.contextmanager
def cache_lock(path: str | os.PathLike[str], log: Callable[[str], None] | None = None) -> Iterator[Path]:
    """Hold an inter-process lock on the cache entry ``path`` (an empty ``.<name>.lock`` file
    beside it, through ``filelock``; it stays after release, as waiters must share one file) while checking for it and making it: two runs that need the same missing
    entry at once (two seeds started side by side on a fresh machine) then make it once, the
    second waiting and reading what the first wrote, instead of both spending minutes on it. The
    operating system drops the lock when its process dies, so a killed run leaves no stale lock.
    ``log`` is told once when the lock is held by another process. A cache folder this process
    cannot write to is read unlocked."""
    from filelock import FileLock, Timeout

    path = Path(path)
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
    if not os.access(path.parent, os.W_OK):  # a read-only cache: nothing can be written, so nothing to lock
        yield path
        return
    lock = FileLock(path.with_name(f".{path.name}{LOCK_SUFFIX}"))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        if log is not None:
            log(f"waiting for another process making {path}")
        lock.acquire()
    try:
        yield path
    finally:
        lock.release()
