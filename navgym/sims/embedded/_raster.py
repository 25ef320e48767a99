"""The compiled rasteriser of :mod:`navgym.sims.embedded.raster` (imported on first use).

A frame's primary rays all leave one point, so instead of asking Embree about each ray, every
triangle is projected into the camera and tested only against the pixels it can cover. The test of
a pixel is the ray-triangle test itself (Moller-Trumbore on the pixel's ray), which for a fixed
origin is three affine functions of the pixel's ray, so it costs a few multiply-adds. A hit keeps
the ray-cast meaning: ``t`` is the distance along the pixel's (z = -1) ray, ``u``, ``v`` are the
barycentrics of corners 1 and 2, and the closest hit wins. It runs in float64, so hits agree with
Embree's float32 robust test up to ulps; triangles meeting at an edge both accept a pixel on it
(inclusive tests), so no pixel falls between them.

Occlusion culling: triangles are drawn nearest first, and a triangle whose nearest point is behind
everything already drawn in each 8x8 tile it may cover is skipped without touching its pixels.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from navgym.sims.embedded._kernels import shade_hit

#: Side of the square tiles whose farthest depth decides whether a triangle can still be seen.
TILE = 8
#: Nearest depth kept when a triangle is clipped to the camera's front (metres).
_EPS = 1e-6
#: How far (relative to its terms) an edge function may fall below 0 and still count as inside.
_SLACK = 1e-7


@numba.njit(nogil=True, cache=True, inline="always")
def edge_cross(corners, f, a, b):  # pragma: no cover - compiled
    # corner a x corner b of triangle f, computed as +-(first x second) with the two corners
    # taken in lexicographic order, so the bits depend on the edge, not on the triangle.
    pa, pb = corners[f, a], corners[f, b]
    swap = (pa[0], pa[1], pa[2]) > (pb[0], pb[1], pb[2])
    if swap:
        pa, pb = pb, pa
    x = pa[1] * pb[2] - pa[2] * pb[1]
    y = pa[2] * pb[0] - pa[0] * pb[2]
    z = pa[0] * pb[1] - pa[1] * pb[0]
    if swap:
        return -x, -y, -z
    return x, y, z


@numba.njit(nogil=True, cache=True, inline="always")
def narrow(slope, at0, tol, lo, hi):  # pragma: no cover - compiled
    # The x span [lo, hi] cut to where slope * x + at0 >= 0 (at a zero slope: all of it, or
    # nothing where at0 < -tol); returns (lo, hi, whether anything can be left).
    if slope > 0.0:
        return max(lo, -at0 / slope), hi, True
    if slope < 0.0:
        return lo, min(hi, -at0 / slope), True
    return lo, hi, at0 >= -tol


@numba.njit(nogil=True, cache=True)
def camera(
    tri, c, origins, rotations, width, height, focal, cols, rows, row_lo, row_hi, offset, near, far, want, local_unit,
    face_uv, face_material, face_shade, face_instance, atlas, size,
    t, prim, rgb, depth, semantic,
):  # pragma: no cover - compiled
    # Rows row_lo..row_hi of camera c (width x height pixels whose rays are (cols[x], rows[y], -1)
    # in the camera frame, ray j = offset + y * width + x of the batch): every output, as
    # packets' frame kernel writes them.
    n_rows = row_hi - row_lo
    hit_t = np.full(n_rows * width, np.inf)
    hit_p = np.full(n_rows * width, -1, np.int64)
    hit_u = np.zeros(n_rows * width)
    hit_v = np.zeros(n_rows * width)
    ox, oy, oz = np.float64(origins[c, 0]), np.float64(origins[c, 1]), np.float64(origins[c, 2])
    rot = rotations[c].astype(np.float64)
    hw = width / 2.0
    hh = height / 2.0
    x_reach = max(abs(cols[0]), abs(cols[width - 1]))
    y_reach = max(abs(rows[0]), abs(rows[height - 1]))
    count = tri.shape[0]
    # Pass 1: corners in the camera frame (x right, y up, looking down -z); what is wholly behind
    # or off screen is dropped; the rest get their pixel box and nearest depth.
    corners = np.empty((count, 3, 3))
    keep = np.empty(count, np.int64)
    nearest = np.empty(count)
    box = np.empty((count, 4), np.int64)
    clipped = np.empty((4, 3))
    kept = 0
    for f in range(count):
        behind = 0
        for k in range(3):
            dx = tri[f, k, 0] - ox
            dy = tri[f, k, 1] - oy
            dz = tri[f, k, 2] - oz
            for a in range(3):
                corners[f, k, a] = rot[0, a] * dx + rot[1, a] * dy + rot[2, a] * dz
            if -corners[f, k, 2] <= _EPS:
                behind += 1
        if behind == 3:
            continue
        # The part in front of the camera (depth >= _EPS): at most four corners.
        n = 0
        for k in range(3):
            za = -corners[f, k, 2]
            zb = -corners[f, (k + 1) % 3, 2]
            if za > _EPS:
                clipped[n, 0] = corners[f, k, 0]
                clipped[n, 1] = corners[f, k, 1]
                clipped[n, 2] = za
                n += 1
            if (za > _EPS) != (zb > _EPS):
                s = (_EPS - za) / (zb - za)
                clipped[n, 0] = corners[f, k, 0] + s * (corners[f, (k + 1) % 3, 0] - corners[f, k, 0])
                clipped[n, 1] = corners[f, k, 1] + s * (corners[f, (k + 1) % 3, 1] - corners[f, k, 1])
                clipped[n, 2] = _EPS
                n += 1
        x_min, x_max, y_min, y_max, z_min = np.inf, -np.inf, np.inf, -np.inf, np.inf
        for k in range(n):
            sx = focal * clipped[k, 0] / clipped[k, 2] + hw
            sy = hh - focal * clipped[k, 1] / clipped[k, 2]
            x_min = min(x_min, sx)
            x_max = max(x_max, sx)
            y_min = min(y_min, sy)
            y_max = max(y_max, sy)
            z_min = min(z_min, clipped[k, 2])
        # One pixel of margin each way: the exact test decides.
        c0 = max(0, int(math.floor(x_min - 0.5)) - 1)
        c1 = min(width - 1, int(math.ceil(x_max - 0.5)) + 1)
        r0 = max(row_lo, int(math.floor(y_min - 0.5)) - 1)
        r1 = min(row_hi - 1, int(math.ceil(y_max - 0.5)) + 1)
        if c0 > c1 or r0 > r1:
            continue
        keep[kept] = f
        nearest[kept] = z_min
        box[kept, 0], box[kept, 1], box[kept, 2], box[kept, 3] = c0, c1, r0, r1
        kept += 1
    # Pass 2: nearest first, each against the farthest depth drawn so far in its tiles.
    order = np.argsort(nearest[:kept], kind="mergesort")
    tile_row0 = row_lo // TILE
    tiles_y = (row_hi - 1) // TILE - tile_row0 + 1
    tiles_x = (width + TILE - 1) // TILE
    farthest = np.full((tiles_y, tiles_x), np.inf)
    dirty = np.zeros((tiles_y, tiles_x), np.bool_)
    for q in range(kept):
        g = order[q]
        f = keep[g]
        c0, c1, r0, r1 = box[g, 0], box[g, 1], box[g, 2], box[g, 3]
        tx0, tx1 = c0 // TILE, c1 // TILE
        ty0, ty1 = r0 // TILE - tile_row0, r1 // TILE - tile_row0
        seen = False
        for ty in range(ty0, ty1 + 1):
            for tx in range(tx0, tx1 + 1):
                if farthest[ty, tx] > nearest[g]:
                    seen = True
                    break
            if seen:
                break
        if not seen:
            continue
        # With the camera at the origin, a pixel's ray d meets the triangle where the three edge
        # functions d.(corner_a x corner_b) have the sign of their sum det (Moller-Trumbore's
        # determinant): det*u = d.(p0 x p2), det*v = d.(p1 x p0), det*(1-u-v) = d.(p2 x p1), and
        # det*t = dist = p0.(p2 x p1) (signs flipped below so that det, dist > 0). Each edge's
        # cross product is computed from its corners in one fixed order (edge_cross), so two
        # triangles sharing an edge get exactly opposite values there and a pixel on the edge is
        # inside one of them or both: nothing falls through.
        bx, by, bz = edge_cross(corners, f, 0, 2)
        qx, qy, qz = edge_cross(corners, f, 1, 0)
        wx, wy, wz = edge_cross(corners, f, 2, 1)
        dist = corners[f, 0, 0] * wx + corners[f, 0, 1] * wy + corners[f, 0, 2] * wz
        if dist == 0.0:  # the camera is in the triangle's plane
            continue
        if dist < 0.0:
            dist = -dist
            bx, by, bz, qx, qy, qz, wx, wy, wz = -bx, -by, -bz, -qx, -qy, -qz, -wx, -wy, -wz
        # Rounding slack: a ray that grazes a silhouette edge (its triangle seen edge-on from the
        # side the camera is on, the other from behind) has every edge function of the two near
        # zero with the same sign, so the exact test could drop it where Embree keeps it.
        b_tol = _SLACK * (abs(bx) * x_reach + abs(by) * y_reach + abs(bz))
        q_tol = _SLACK * (abs(qx) * x_reach + abs(qy) * y_reach + abs(qz))
        w_tol = _SLACK * (abs(wx) * x_reach + abs(wy) * y_reach + abs(wz))
        wrote = False
        for r in range(r0, r1 + 1):
            y = rows[r]
            b0, q0, w0 = by * y - bz, qy * y - qz, wy * y - wz
            # Each of det*u, det*v, det*(1-u-v) >= 0 is a half-line of x: the row's span.
            lo, hi, ok = narrow(bx, b0, b_tol, -np.inf, np.inf)
            lo, hi, ok2 = narrow(qx, q0, q_tol, lo, hi)
            lo, hi, ok3 = narrow(wx, w0, w_tol, lo, hi)
            if not (ok and ok2 and ok3):
                continue
            if lo > hi:
                continue
            cl = c0 if lo == -np.inf else max(c0, int(math.floor(lo * focal + hw - 0.5)) - 1)
            ch = c1 if hi == np.inf else min(c1, int(math.ceil(hi * focal + hw - 0.5)) + 1)
            base = (r - row_lo) * width
            tile_y = r // TILE - tile_row0
            for tile_x in range(cl // TILE, ch // TILE + 1):
                if farthest[tile_y, tile_x] <= nearest[g]:  # everything drawn here is nearer
                    continue
                for x in range(max(cl, tile_x * TILE), min(ch, tile_x * TILE + TILE - 1) + 1):
                    xl = cols[x]
                    du = bx * xl + b0
                    if du < -b_tol:
                        continue
                    dv = qx * xl + q0
                    if dv < -q_tol:
                        continue
                    dw = wx * xl + w0
                    if dw < -w_tol:
                        continue
                    det = du + dv + dw
                    if det <= 0.0:
                        continue
                    i = base + x
                    if dist < hit_t[i] * det:
                        inv = 1.0 / det
                        hit_t[i] = dist * inv
                        hit_p[i] = f
                        hit_u[i] = du * inv
                        hit_v[i] = dv * inv
                        dirty[tile_y, tile_x] = True
                        wrote = True
        if wrote:
            for ty in range(ty0, ty1 + 1):
                for tx in range(tx0, tx1 + 1):
                    if dirty[ty, tx]:
                        dirty[ty, tx] = False
                        deepest = 0.0
                        for r in range(max(row_lo, (ty + tile_row0) * TILE), min(row_hi, (ty + tile_row0) * TILE + TILE)):
                            for x in range(tx * TILE, min(width, tx * TILE + TILE)):
                                deepest = max(deepest, hit_t[(r - row_lo) * width + x])
                        farthest[ty, tx] = deepest
    # Every output of each pixel, as the packet kernel (_kernels.frame) writes them.
    first = offset + row_lo * width
    for i in range(n_rows * width):
        j = first + i
        p = hit_p[i]
        if p < 0:
            t[j] = np.float32(1e37)  # a missed ray's length, as Embree returns it
            prim[j] = -1
            depth[j] = min(max(far[c], near[c]), far[c])
            semantic[j] = 0
            rgb[j, 0] = 0
            rgb[j, 1] = 0
            rgb[j, 2] = 0
            continue
        tj = np.float32(hit_t[i])
        t[j] = tj
        prim[j] = p
        depth[j] = min(max(tj, near[c]), far[c])
        semantic[j] = face_instance[p]
        if want[c]:
            shade_hit(p, np.float32(hit_u[i]), np.float32(hit_v[i]), tj, local_unit, rotations, c, j, face_uv, face_material, face_shade, atlas, size, rgb)
