"""Embree ray packets and fused shading, compiled with numba.

``embreex`` (the Python binding the embedded simulator is built on) wraps only Embree's single-ray
call and leaves the rest of a frame (texture lookup, shading, depth, semantics) to numpy: about as
much time again as the cast. This module drives the same Embree library ``embreex`` ships, through
``ctypes``, from numba-compiled loops:

* rays go to ``rtcIntersect4`` in packets of four (coherent primary rays share BVH traversal);
* texturing, shading, depth clipping and instance ids are one pass over the hits, in float32, with
  the very operations of the numpy reference (:meth:`RayCaster.render_reference`), so frames are
  byte-identical to it (a test renders both);
* every compiled loop releases the GIL, so two threads render two batches at once.

The scene is built with the flags ``embreex`` uses (robust traversal), which is what keeps hits
bit-identical: Embree's non-robust mode moves about a third of the hits' barycentrics by an ulp.

Nothing here is required: when numba or Embree's library cannot be found, :func:`load` returns
``None`` with the reason and the simulator keeps the ``embreex``/numpy path.
"""

from __future__ import annotations

import ctypes
import glob
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

#: Rays per Embree packet. 4 is supported by every ISA Embree runs on (SSE, AVX, NEON); on this
#: project's AVX2 machine 8 and 16 were no faster (benchmarks/raycast_backends.py).
PACKET = 4
# Offsets (in 4-byte words, times PACKET) of the fields of RTCRayHit4 (embree4/rtcore_ray.h).
_ORG_X, _ORG_Y, _ORG_Z, _TNEAR, _DIR_X, _DIR_Y, _DIR_Z, _TIME, _TFAR, _MASK, _ID, _FLAGS = range(12)
_U, _V, _PRIM, _GEOM, _INST, _INST_PRIM = 15, 16, 17, 18, 19, 20
_WORDS = 24  # 21 used, padded
_INVALID = 0xFFFFFFFF
_SCENE_FLAG_ROBUST = 1 << 2
_GEOMETRY_TRIANGLE = 0
_BUFFER_INDEX, _BUFFER_VERTEX = 0, 1
_FORMAT_UINT3, _FORMAT_FLOAT3 = 0x5003, 0x9003

_STATE: dict[str, Any] = {}
#: Held while a scene is built or the render pool replaced: envs that step on threads of one
#: process (navgym's threaded vector envs) may load houses at once, and must share one device.
_LOCK = threading.RLock()


def _library_path() -> Path | None:
    """Embree 4's shared library as shipped inside the ``embreex`` wheel (Linux, macOS, Windows)."""
    try:
        import embreex
    except ImportError:
        return None
    package = Path(embreex.__file__).resolve().parent
    for folder in (package.parent / "embreex.libs", package / ".dylibs", package, package / ".libs"):
        for pattern in ("libembree4*.so*", "libembree4*.dylib", "embree4*.dll"):
            found = sorted(glob.glob(str(folder / pattern)))
            if found:
                return Path(found[0])
    return None


def _numba_reason() -> str | None:
    """Why the compiled loops cannot run here (numba missing, or switched off), or ``None``."""
    if "numba" not in _STATE:
        _STATE["numba"] = None
        if os.environ.get("NAVGYM_RAYCAST", "").lower() == "embreex":
            _STATE["numba"] = "NAVGYM_RAYCAST=embreex"
        else:
            try:
                import numba  # noqa: F401
            except ImportError:
                _STATE["numba"] = "numba is not installed"
    return _STATE["numba"]


def _device(lib: Any) -> Any:
    """This process's one Embree device (``threads=1``), shared by every scene it builds.

    One device per scene would be simpler, but from the second device on, Embree's TBB starts a
    worker thread that spins (``sched_yield``) for the rest of the process: measured here, a
    process that had loaded two houses burned a whole core while it waited (an env worker between
    steps, a Ray evaluation's driver). The spin yields to runnable threads of equal priority, so
    ordinary processes lost little, but Ray's workers run at nice 15 and lost that core: 2 Ray
    workers evaluated slower than 1 until this fix.
    ``tests/sims/test_raycast_backends.py`` checks that an idle process with several scenes uses
    no CPU. The device is never released (it lives as long as the process); a forked child makes
    its own.
    """
    key = ("device", os.getpid())
    if key not in _STATE:
        _STATE[key] = lib.rtcNewDevice(b"threads=1")
    return _STATE[key]


def _bind() -> tuple[Any, Any] | str:
    """(ctypes library, its packet intersect function) or the reason they are unavailable."""
    if "bound" not in _STATE:
        _STATE["bound"] = _numba_reason() or _load_library()
    return _STATE["bound"]


def _load_library() -> tuple[Any, Any] | str:
    path = _library_path()
    if path is None:
        return "Embree's library was not found next to embreex"
    try:
        lib = ctypes.CDLL(str(path))
    except OSError as exc:
        return f"could not load {path}: {exc}"
    p, u32, i32, size = ctypes.c_void_p, ctypes.c_uint, ctypes.c_int, ctypes.c_size_t
    signatures = {
        "rtcNewDevice": (p, [ctypes.c_char_p]),
        "rtcReleaseDevice": (None, [p]),
        "rtcGetDeviceError": (i32, [p]),
        "rtcNewScene": (p, [p]),
        "rtcSetSceneFlags": (None, [p, i32]),
        "rtcCommitScene": (None, [p]),
        "rtcReleaseScene": (None, [p]),
        "rtcNewGeometry": (p, [p, i32]),
        "rtcSetNewGeometryBuffer": (p, [p, i32, u32, i32, size, size]),
        "rtcCommitGeometry": (None, [p]),
        "rtcAttachGeometry": (u32, [p, p]),
        "rtcReleaseGeometry": (None, [p]),
    }
    for name, (restype, argtypes) in signatures.items():
        function = getattr(lib, name)
        function.restype, function.argtypes = restype, argtypes
    # The packet call gets integer arguments (pointer-sized) so that numba can pass array addresses.
    intersect = getattr(lib, f"rtcIntersect{PACKET}")
    intersect.restype, intersect.argtypes = None, [ctypes.c_uint64] * 4
    return lib, intersect


def can_compile() -> bool:
    """Whether the compiled loops that need only numba (:func:`rotate`) can run here."""
    return _numba_reason() is None


def unavailable_reason() -> str | None:
    """Why the packet path cannot run here, or ``None`` when it can."""
    bound = _bind()
    return bound if isinstance(bound, str) else None


class PacketScene:
    """One Embree scene (robust, like ``embreex``'s) of flat triangles, cast in packets.

    Args:
        triangles: ``(F, 3, 3)`` float32 corners; triangle ``i`` is primitive ``i``.
    """

    def __init__(self, triangles: np.ndarray):
        bound = _bind()
        if isinstance(bound, str):
            raise RuntimeError(f"Embree packets are unavailable: {bound}")
        self._lib, intersect = bound
        # The kernels take the function's address, not the ctypes function: numba types a ctypes
        # function by its identity, so every process compiled the kernels again (2-3 s) and
        # added a new entry to numba's on-disk cache.
        self._intersect = np.uint64(ctypes.cast(intersect, ctypes.c_void_p).value)
        lib = self._lib
        triangles = np.ascontiguousarray(triangles, dtype=np.float32).reshape(-1, 3, 3)
        with _LOCK:
            self._build(lib, triangles)
            _compile()

    def _build(self, lib: Any, triangles: np.ndarray) -> None:
        self._device = _device(lib)
        self._scene = lib.rtcNewScene(self._device)
        lib.rtcSetSceneFlags(self._scene, _SCENE_FLAG_ROBUST)
        count = len(triangles)
        if count:
            geometry = lib.rtcNewGeometry(self._device, _GEOMETRY_TRIANGLE)
            vertex_address = lib.rtcSetNewGeometryBuffer(geometry, _BUFFER_VERTEX, 0, _FORMAT_FLOAT3, 16, 3 * count)
            vertices = np.ctypeslib.as_array((ctypes.c_float * (12 * count)).from_address(vertex_address))
            vertices.reshape(3 * count, 4)[:, :3] = triangles.reshape(-1, 3)
            index_address = lib.rtcSetNewGeometryBuffer(geometry, _BUFFER_INDEX, 0, _FORMAT_UINT3, 12, count)
            indices = np.ctypeslib.as_array((ctypes.c_uint * (3 * count)).from_address(index_address))
            indices[:] = np.arange(3 * count, dtype=np.uint32)
            lib.rtcCommitGeometry(geometry)
            lib.rtcAttachGeometry(self._scene, geometry)
            lib.rtcReleaseGeometry(geometry)
        lib.rtcCommitScene(self._scene)
        error = lib.rtcGetDeviceError(self._device)
        if error:
            raise RuntimeError(f"Embree reported error {error} while building the scene")

    def __del__(self):
        lib = getattr(self, "_lib", None)
        if lib is not None:
            lib.rtcReleaseScene(self._scene)  # the device is the process's (see _device)

    def cast(self, origins: np.ndarray, ray_origin: np.ndarray, directions: np.ndarray, tfar: np.ndarray):
        """Closest hits of rays ``origins[ray_origin[i]] + t * directions[i]``, ``t`` in [0, tfar[i]].

        Returns ``(t, prim, u, v)``; ``t`` is ``tfar`` and ``prim`` -1 where nothing is hit.
        """
        n = len(directions)
        t = np.empty(n, np.float32)
        prim = np.empty(n, np.int32)
        u = np.empty(n, np.float32)
        v = np.empty(n, np.float32)
        packet, valid = _packet_buffers()
        _KERNELS["cast"](self._intersect, np.uint64(self._scene), origins, ray_origin, directions, tfar, t, prim, u, v, packet, valid)
        return t, prim, u, v

    def render(
        self,
        tables: ShadeTables,
        origins: np.ndarray,
        rotations: np.ndarray,
        ray_camera: np.ndarray,
        local: np.ndarray,
        local_unit: np.ndarray,
        depth_ranges: np.ndarray,
        want_rgb: np.ndarray,
        threads: int = 1,
    ) -> dict[str, np.ndarray]:
        """Every output of a batch of cameras' rays, per ray: ``t``, ``prim``, ``rgb`` (black where
        the ray's camera does not want colour), ``depth`` (clipped to its camera's range) and
        ``semantic``. With ``threads`` > 1 the rays are split into that many contiguous ranges
        rendered at once (the compiled loop releases the GIL). Ray ``i`` leaves
        ``origins[c]`` along ``rotations[c] @ local[i]`` (``c = ray_camera[i]``); ``local_unit`` are
        the same rays of unit length, for shading."""
        n = len(local)
        out, near, far = ray_outputs(n, depth_ranges)
        kernel = _KERNELS["frame"]

        def run(lo: int, hi: int) -> None:
            packet, valid = _packet_buffers()
            kernel(
                self._intersect, np.uint64(self._scene), origins, rotations, ray_camera, local, local_unit, lo, hi, near, far, want_rgb,
                tables.face_uv, tables.face_material, tables.face_shade, tables.face_instance, tables.atlas, tables.size,
                out["t"], out["prim"], out["rgb"], out["depth"], out["semantic"], packet, valid,
            )

        threads = max(1, min(int(threads), n // MIN_RAYS_PER_THREAD))
        if threads == 1:
            run(0, n)
            return out
        bounds = [round(n * i / threads / PACKET) * PACKET for i in range(threads)] + [n]
        futures = [_pool(threads - 1).submit(run, lo, hi) for lo, hi in zip(bounds[1:-1], bounds[2:])]
        run(bounds[0], bounds[1])
        for future in futures:
            future.result()
        return out


def ray_outputs(n: int, depth_ranges: np.ndarray) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """The per-ray output arrays a frame kernel fills (``rgb`` starts black), and each camera's
    near and far depth as float32 (shared by this backend and :mod:`.raster`)."""
    out = {
        "t": np.empty(n, np.float32),
        "prim": np.empty(n, np.int32),
        "rgb": np.zeros((n, 3), np.uint8),
        "depth": np.empty(n, np.float32),
        "semantic": np.empty(n, np.int32),
    }
    near = np.ascontiguousarray(depth_ranges[:, 0], dtype=np.float32)
    far = np.ascontiguousarray(depth_ranges[:, 1], dtype=np.float32)
    return out, near, far


#: Below this many rays per thread a frame is rendered on the calling thread alone.
MIN_RAYS_PER_THREAD = 2048


def _pool(workers: int):
    """A process-wide pool of render threads (grown on demand, never more than asked for)."""
    from concurrent.futures import ThreadPoolExecutor

    with _LOCK:
        pool = _STATE.get("pool")
        if pool is None or _STATE["pool_workers"] < workers:
            if pool is not None:
                pool.shutdown(wait=True)
            pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="navgym-render")
            _STATE["pool"], _STATE["pool_workers"] = pool, workers
        return pool


_KERNELS: dict[str, Any] = {}


def _compile() -> None:
    """Import the numba kernels once per process (:mod:`._kernels`; cached on disk by numba
    between processes)."""
    if _KERNELS:
        return
    from navgym.sims.embedded import _kernels

    _KERNELS.update(cast=_kernels.cast, rotate=_kernels.rotate, frame=_kernels.frame)  # all at once: other threads read it


@dataclass
class ShadeTables:
    """Per-face tables a frame reads (built by :class:`~navgym.sims.embedded.raycast.RayCaster`)."""

    face_uv: np.ndarray  # (F, 6) float32: uv at corner 0, then the uv edges du and dv
    face_material: np.ndarray  # (F,) int32
    face_shade: np.ndarray  # (F, 4) float32: normal, ambient + sun
    face_instance: np.ndarray  # (F,) int32
    atlas: np.ndarray  # (M * size * size, 3) uint8
    size: int


def rotate(local: np.ndarray, rotation: np.ndarray) -> np.ndarray:
    """``local @ rotation.T`` for (N, 3) float32 camera-frame rays, compiled and single-threaded
    (numpy's matmul hands large products to BLAS threads, which two processes then fight over)."""
    _compile()
    out = np.empty(local.shape, np.float32)
    _KERNELS["rotate"](local, np.ascontiguousarray(rotation, dtype=np.float32), out)
    return out


def _packet_buffers() -> tuple[np.ndarray, np.ndarray]:
    raw = np.empty(_WORDS * PACKET + 16, np.float32)
    offset = (-raw.ctypes.data % 64) // 4
    return raw[offset : offset + _WORDS * PACKET], np.zeros(PACKET, np.int32)
