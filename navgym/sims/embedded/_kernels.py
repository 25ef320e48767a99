"""The compiled kernels of :mod:`navgym.sims.embedded.packets` (imported on first use).

Module-level functions, not closures: numba keys its on-disk cache of a closure by its closure
variables, and jitted functions held in a closure pickle differently in every process, so every
process compiled the kernels again (2-3 s) and wrote another cache entry next to the package (the
development machine's had grown to 900 entries, 92 MB). Here the cache is hit from the second
process on.
"""

from __future__ import annotations

import numba
import numpy as np
from numba import types
from numba.extending import intrinsic

from navgym.sims.embedded.packets import (
    _DIR_X, _DIR_Y, _DIR_Z, _FLAGS, _GEOM, _ID, _INST, _INVALID, _MASK, _ORG_X, _ORG_Y, _ORG_Z, _PRIM, _TFAR, _TIME, _TNEAR, _U, _V, PACKET,
)


@intrinsic
def fma(typingctx, a, b, c):  # pragma: no cover - compiled
    """a * b + c rounded once (LLVM's fma), as an FMA-using BLAS computes a matrix product."""
    if not (a == b == c and isinstance(a, types.Float)):
        return None

    def codegen(context, builder, signature, args):
        return builder.fma(*args)

    return a(a, b, c), codegen


@intrinsic
def call_address(typingctx, address, a, b, c, d):  # pragma: no cover - compiled
    """Call ``void f(uint64, uint64, uint64, uint64)`` at ``address`` (Embree's rtcIntersectN:
    valid mask, scene, ray-hit packet, arguments)."""
    if not all(x == types.uint64 for x in (address, a, b, c, d)):
        return None

    def codegen(context, builder, signature, args):
        from llvmlite import ir

        fnty = ir.FunctionType(ir.VoidType(), [ir.IntType(64)] * 4)
        builder.call(builder.inttoptr(args[0], fnty.as_pointer()), args[1:])
        return context.get_dummy_value()

    return types.void(address, a, b, c, d), codegen


@numba.njit(nogil=True, cache=True)
def rotate(local, rotation, out):  # pragma: no cover - compiled
    # out = local @ rotation.T, each entry fma(l2, r2, fma(l1, r1, l0 * r0)): the order in
    # which OpenBLAS's sgemm computes it on FMA CPUs, so directions keep their bits.
    for i in range(local.shape[0]):
        x, y, z = local[i, 0], local[i, 1], local[i, 2]
        for j in range(3):
            out[i, j] = fma(z, rotation[j, 2], fma(y, rotation[j, 1], x * rotation[j, 0]))


@numba.njit(nogil=True, cache=True, inline="always")
def lane(packet, words, k, ox, oy, oz, dx, dy, dz, tfar):  # pragma: no cover - compiled
    # Lane k of an RTCRayHit packet: a ray from (ox, oy, oz) along (dx, dy, dz) up to tfar,
    # every mask bit on, no hit yet (the fields embreex sets for its single rays).
    w = PACKET
    packet[_ORG_X * w + k] = ox
    packet[_ORG_Y * w + k] = oy
    packet[_ORG_Z * w + k] = oz
    packet[_TNEAR * w + k] = 0.0
    packet[_DIR_X * w + k] = dx
    packet[_DIR_Y * w + k] = dy
    packet[_DIR_Z * w + k] = dz
    packet[_TIME * w + k] = 0.0
    packet[_TFAR * w + k] = tfar
    words[_MASK * w + k] = _INVALID
    words[_ID * w + k] = 0
    words[_FLAGS * w + k] = 0
    words[_PRIM * w + k] = _INVALID
    words[_GEOM * w + k] = _INVALID
    words[_INST * w + k] = _INVALID


@numba.njit(nogil=True, cache=True)
def cast(intersect, scene, origins, ray_origin, directions, tfar_in, t, prim, u, v, packet, valid):  # pragma: no cover - compiled
    words = packet.view(np.uint32)
    n = directions.shape[0]
    w = PACKET
    packet_address = np.uint64(packet.ctypes.data)
    valid_address = np.uint64(valid.ctypes.data)
    for start in range(0, n, w):
        m = min(w, n - start)
        for k in range(w):
            if k < m:
                j = start + k
                o = ray_origin[j]
                valid[k] = -1
                lane(packet, words, k, origins[o, 0], origins[o, 1], origins[o, 2], directions[j, 0], directions[j, 1], directions[j, 2], tfar_in[j])
            else:
                valid[k] = 0
        call_address(intersect, valid_address, scene, packet_address, np.uint64(0))
        for k in range(m):
            j = start + k
            hit = words[_PRIM * w + k]
            t[j] = packet[_TFAR * w + k]
            if hit == _INVALID:  # Embree leaves a miss's barycentrics as they were
                prim[j] = -1
                u[j] = 0.0
                v[j] = 0.0
            else:
                prim[j] = np.int32(hit)
                u[j] = packet[_U * w + k]
                v[j] = packet[_V * w + k]


@numba.njit(nogil=True, cache=True, inline="always")
def shade_hit(p, uu, vv, tj, local_unit, rotations, c, j, face_uv, face_material, face_shade, atlas, size, rgb):  # pragma: no cover - compiled
    # Colour of ray j (camera c) hitting triangle p at barycentrics (uu, vv), distance tj: the
    # texel under the hit's uv, lit by ambient + sun + a head light along the unit ray, dimmed
    # with distance; the numpy reference's operations, order and float32 precision
    # (RayCaster._shade). Shared by the packet kernel and the rasteriser (_raster.py).
    one = np.float32(1.0)
    scale = np.float32(size)
    mask = size - 1
    s = one * face_uv[p, 0] + uu * face_uv[p, 2] + vv * face_uv[p, 4]
    r = one * face_uv[p, 1] + uu * face_uv[p, 3] + vv * face_uv[p, 5]
    col = np.int64(np.int32(np.floor(s * scale))) & mask
    row = np.int64(np.int32(np.floor(r * scale))) & mask
    index = (np.int64(face_material[p]) * size + (size - 1 - row)) * size + col
    x, y, z = local_unit[j, 0], local_unit[j, 1], local_unit[j, 2]
    ux = fma(z, rotations[c, 0, 2], fma(y, rotations[c, 0, 1], x * rotations[c, 0, 0]))
    uy = fma(z, rotations[c, 1, 2], fma(y, rotations[c, 1, 1], x * rotations[c, 1, 0]))
    uz = fma(z, rotations[c, 2, 2], fma(y, rotations[c, 2, 1], x * rotations[c, 2, 0]))
    facing = abs(face_shade[p, 0] * ux + face_shade[p, 1] * uy + face_shade[p, 2] * uz)
    light = (face_shade[p, 3] + np.float32(0.45) * facing) / (one + np.float32(0.04) * min(tj, np.float32(50.0)))
    for ch in range(3):
        value = np.float32(atlas[index, ch]) * light
        rgb[j, ch] = np.uint8(min(max(value, np.float32(0.0)), np.float32(255.0)))


@numba.njit(nogil=True, cache=True)
def frame(
    intersect, scene, origins, rotations, ray_camera, local, local_unit, lo, hi, near, far, want,
    face_uv, face_material, face_shade, face_instance, atlas, size,
    t, prim, rgb, depth, semantic, packet, valid,
):  # pragma: no cover - compiled
    # Rays lo..hi of a batch of cameras: rotated into the world (as rotate() does), cast in
    # packets, then every output of each hit in the numpy reference's operations, order and
    # float32 precision (RayCaster._reference_rays).
    words = packet.view(np.uint32)
    w = PACKET
    packet_address = np.uint64(packet.ctypes.data)
    valid_address = np.uint64(valid.ctypes.data)
    for start in range(lo, hi, w):
        m = min(w, hi - start)
        for k in range(w):
            if k < m:
                j = start + k
                o = ray_camera[j]
                valid[k] = -1
                x, y, z = local[j, 0], local[j, 1], local[j, 2]
                lane(
                    packet, words, k, origins[o, 0], origins[o, 1], origins[o, 2],
                    fma(z, rotations[o, 0, 2], fma(y, rotations[o, 0, 1], x * rotations[o, 0, 0])),
                    fma(z, rotations[o, 1, 2], fma(y, rotations[o, 1, 1], x * rotations[o, 1, 0])),
                    fma(z, rotations[o, 2, 2], fma(y, rotations[o, 2, 1], x * rotations[o, 2, 0])),
                    np.float32(1e37),
                )
            else:
                valid[k] = 0
        call_address(intersect, valid_address, scene, packet_address, np.uint64(0))
        for k in range(m):
            j = start + k
            c = ray_camera[j]
            hit = words[_PRIM * w + k]
            tj = packet[_TFAR * w + k]
            t[j] = tj
            if hit == _INVALID:
                prim[j] = -1
                depth[j] = min(max(far[c], near[c]), far[c])
                semantic[j] = 0
                rgb[j, 0] = 0
                rgb[j, 1] = 0
                rgb[j, 2] = 0
                continue
            p = np.int32(hit)
            prim[j] = p
            depth[j] = min(max(tj, near[c]), far[c])
            semantic[j] = face_instance[p]
            if want[c]:
                shade_hit(p, packet[_U * w + k], packet[_V * w + k], tj, local_unit, rotations, c, j, face_uv, face_material, face_shade, atlas, size, rgb)
