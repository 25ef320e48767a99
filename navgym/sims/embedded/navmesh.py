"""Habitat navmeshes (Recast/Detour ``.navmesh`` files) in pure Python: read, write, rasterise.

Habitat datasets keep ``<scene>.navmesh`` next to ``<scene>.glb``: habitat-sim's
``PathFinder::saveNavMesh`` writes it and its geodesic distances, shortest paths and navigability
all follow it. This module reads that file with numpy + struct (no habitat-sim, no Detour), so the
embedded simulator can mark as navigable exactly the cells the dataset's navmesh covers
(:meth:`NavMesh.rasterize`, used by ``EmbeddedSimulator(navmesh=...)``).

The file ("navmesh set", all little-endian, as habitat-sim writes it on x86/ARM):

* ``NavMeshSetHeader``: ``int magic = 'MSET'`` (0x4D534554), ``int version`` (1; 2 since
  habitat-sim commit 9a18583, April 2022), ``int numTiles``, ``dtNavMeshParams {float orig[3];
  float tileWidth, tileHeight; int maxTiles, maxPolys}`` (40 bytes).
* version 2 only: habitat-sim's ``NavMeshSettings`` (13 floats: cellSize, cellHeight,
  agentHeight, agentRadius, agentMaxClimb, agentMaxSlope, regionMinSize, regionMergeSize,
  edgeMaxLen, edgeMaxError, vertsPerPoly, detailSampleDist, detailSampleMaxError; then 4 bools
  filterLowHangingObstacles, filterLedgeSpans, filterWalkableLowHeightSpans and, since 2023,
  includeStaticObjects, whose byte was padding before: 56 bytes either way).
* per tile ``NavMeshTileHeader {dtTileRef tileRef; int dataSize}`` then ``dataSize`` bytes of
  Detour tile data. habitat-sim builds Detour without ``DT_POLYREF64``, so ``dtTileRef`` and
  ``dtPolyRef`` are 32-bit (8-byte tile header, 12-byte ``dtLink``); files of a 64-bit-ref
  Detour build (16-byte tile header, 16-byte links) are recognised too.
* tile data (``DT_NAVMESH_MAGIC`` 'DNAV', ``DT_NAVMESH_VERSION`` 7): ``dtMeshHeader`` (100
  bytes), then, each padded to 4 bytes: vertices (float[3]), ``dtPoly`` (32 bytes: firstLink,
  verts[6], neis[6], flags, vertCount, areaAndType), ``dtLink`` (runtime state, kept as is),
  ``dtPolyDetail`` (12 bytes), detail vertices (float[3]), detail triangles (4 bytes: 3 indices
  + edge flags), ``dtBVNode`` (16 bytes), ``dtOffMeshConnection`` (36 bytes).

Everything is kept as numpy arrays, so :func:`write_navmesh` of what :func:`read_navmesh` read
gives the same bytes back. :meth:`NavMesh.from_grid` builds a one-tile navmesh of navgym's own
navigability grid in the same format (version 1, 32-bit refs, no BV tree, detail meshes = the
polygons' triangle fans, as Detour makes when none is given); Detour itself loads it and finds
paths on it (checked with recastnavigation's wasm build, see docs/simulator.md).
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from navgym.errors import DataNotFoundError, DatasetFormatError, InvalidArgumentError

NAVMESHSET_MAGIC = ord("M") << 24 | ord("S") << 16 | ord("E") << 8 | ord("T")
NAVMESHSET_VERSIONS = (1, 2)
DT_NAVMESH_MAGIC = ord("D") << 24 | ord("N") << 16 | ord("A") << 8 | ord("V")
DT_NAVMESH_VERSION = 7
DT_VERTS_PER_POLYGON = 6
DT_EXT_LINK = 0x8000
DT_POLYTYPE_GROUND = 0
DT_POLYTYPE_OFFMESH_CONNECTION = 1
#: habitat-sim's polygon flags (esp/nav/PathFinder.cpp): its query filter includes WALK.
POLYFLAGS_WALK = 0x01
POLYFLAGS_DISABLED = 0x04
#: habitat-sim's ``PathFinder.is_navigable(pt, max_y_delta=0.5)``: a point is on the navmesh when
#: the navmesh surface is within this height of it.
HABITAT_MAX_Y_DELTA = 0.5

_SET_HEADER = struct.Struct("<3i3f2f2i")  # magic, version, numTiles, dtNavMeshParams
_SETTINGS = struct.Struct("<13f4B")  # habitat-sim NavMeshSettings (version 2)
_SETTINGS_NAMES = (
    "cell_size", "cell_height", "agent_height", "agent_radius", "agent_max_climb", "agent_max_slope",
    "region_min_size", "region_merge_size", "edge_max_len", "edge_max_error", "verts_per_poly",
    "detail_sample_dist", "detail_sample_max_error", "filter_low_hanging_obstacles", "filter_ledge_spans",
    "filter_walkable_low_height_spans", "include_static_objects",
)
_MESH_HEADER = struct.Struct("<5iI9i3f3f3ff")  # dtMeshHeader, 100 bytes
_MESH_HEADER_NAMES = (
    "magic", "version", "x", "y", "layer", "user_id", "poly_count", "vert_count", "max_link_count",
    "detail_mesh_count", "detail_vert_count", "detail_tri_count", "bv_node_count", "off_mesh_con_count",
    "off_mesh_base", "walkable_height", "walkable_radius", "walkable_climb",
)

POLY_DTYPE = np.dtype([("first_link", "<u4"), ("verts", "<u2", (6,)), ("neis", "<u2", (6,)), ("flags", "<u2"),
                       ("vert_count", "u1"), ("area_and_type", "u1")])
DETAIL_DTYPE = np.dtype({"names": ["vert_base", "tri_base", "vert_count", "tri_count"],
                         "formats": ["<u4", "<u4", "u1", "u1"], "offsets": [0, 4, 8, 9], "itemsize": 12})
LINK_DTYPE_32 = np.dtype([("ref", "<u4"), ("next", "<u4"), ("edge", "u1"), ("side", "u1"), ("bmin", "u1"), ("bmax", "u1")])
LINK_DTYPE_64 = np.dtype([("ref", "<u8"), ("next", "<u4"), ("edge", "u1"), ("side", "u1"), ("bmin", "u1"), ("bmax", "u1")])
BVNODE_DTYPE = np.dtype([("bmin", "<u2", (3,)), ("bmax", "<u2", (3,)), ("i", "<i4")])
OFFMESH_DTYPE = np.dtype([("pos", "<f4", (6,)), ("rad", "<f4"), ("poly", "<u2"), ("flags", "u1"), ("side", "u1"), ("user_id", "<u4")])
assert POLY_DTYPE.itemsize == 32 and LINK_DTYPE_32.itemsize == 12 and LINK_DTYPE_64.itemsize == 16
assert BVNODE_DTYPE.itemsize == 16 and OFFMESH_DTYPE.itemsize == 36 and _MESH_HEADER.size == 100


def _align4(n: int) -> int:
    return (n + 3) & ~3


@dataclass
class NavMeshTile:
    """One Detour tile: its header and its arrays (see the module docs for the layout).

    ``polys`` is a structured array (``first_link``, ``verts`` (P, 6), ``neis`` (P, 6),
    ``flags``, ``vert_count``, ``area_and_type``): a neighbour entry is 0 for a border edge,
    ``index + 1`` for a polygon of the same tile, ``DT_EXT_LINK | side`` for a tile-border portal.
    ``links`` is Detour's runtime link pool as saved (habitat-sim saves tiles after loading them),
    kept only to write the file back unchanged.
    """

    x: int = 0
    y: int = 0
    layer: int = 0
    user_id: int = 0
    walkable_height: float = 0.0
    walkable_radius: float = 0.0
    walkable_climb: float = 0.0
    bmin: np.ndarray = field(default_factory=lambda: np.zeros(3, np.float32))
    bmax: np.ndarray = field(default_factory=lambda: np.zeros(3, np.float32))
    bv_quant_factor: float = 0.0
    off_mesh_base: int = 0
    tile_ref: int = 0
    verts: np.ndarray = field(default_factory=lambda: np.zeros((0, 3), np.float32))
    polys: np.ndarray = field(default_factory=lambda: np.zeros(0, POLY_DTYPE))
    links: np.ndarray = field(default_factory=lambda: np.zeros(0, LINK_DTYPE_32))
    detail_meshes: np.ndarray = field(default_factory=lambda: np.zeros(0, DETAIL_DTYPE))
    detail_verts: np.ndarray = field(default_factory=lambda: np.zeros((0, 3), np.float32))
    detail_tris: np.ndarray = field(default_factory=lambda: np.zeros((0, 4), np.uint8))
    bv_nodes: np.ndarray = field(default_factory=lambda: np.zeros(0, BVNODE_DTYPE))
    off_mesh_cons: np.ndarray = field(default_factory=lambda: np.zeros(0, OFFMESH_DTYPE))

    @property
    def areas(self) -> np.ndarray:
        return self.polys["area_and_type"] & 0x3F

    @property
    def types(self) -> np.ndarray:
        return self.polys["area_and_type"] >> 6

    def polygon(self, index: int) -> np.ndarray:
        """The (n, 3) vertices of polygon ``index``."""
        p = self.polys[index]
        return self.verts[p["verts"][: p["vert_count"]]]

    def detail_triangles(self, index: int) -> np.ndarray:
        """The (t, 3, 3) triangles of polygon ``index``'s detail mesh (its exact surface)."""
        p, d = self.polys[index], self.detail_meshes[index]
        nv = int(p["vert_count"])
        tris = self.detail_tris[int(d["tri_base"]) : int(d["tri_base"]) + int(d["tri_count"]), :3].astype(np.int64)
        poly_v = self.verts[p["verts"][:nv]]
        extra = self.detail_verts[int(d["vert_base"]) : int(d["vert_base"]) + int(d["vert_count"])]
        table = np.concatenate([poly_v, extra]) if len(extra) else poly_v
        return table[tris]

    def __post_init__(self) -> None:
        # The file holds float32: keep what it can hold, so equal tiles compare equal.
        for name in ("walkable_height", "walkable_radius", "walkable_climb", "bv_quant_factor"):
            setattr(self, name, float(np.float32(getattr(self, name))))

    def _equal(self, other: "NavMeshTile") -> bool:
        for name in self.__dataclass_fields__:
            a, b = getattr(self, name), getattr(other, name)
            if isinstance(a, np.ndarray):
                if a.dtype != b.dtype or a.shape != b.shape:
                    return False
                if a.dtype.names:  # structured: field by field (padding bytes do not count)
                    if not all(np.array_equal(a[f], b[f]) for f in a.dtype.names):
                        return False
                elif not np.array_equal(a, b, equal_nan=a.dtype.kind == "f"):
                    return False
            elif a != b:
                return False
        return True


@dataclass
class NavMesh:
    """A Recast/Detour navmesh set as habitat-sim saves it.

    Attributes:
        tiles: The tiles.
        orig, tile_width, tile_height, max_tiles, max_polys: ``dtNavMeshParams``.
        version: The set's version (1, or 2 with ``settings``).
        settings: habitat-sim's ``NavMeshSettings`` (version 2), name -> value, else None.
        ref_bits: 32 (habitat-sim) or 64 (a Detour built with ``DT_POLYREF64``).
        path: The file it was read from, if any.
    """

    tiles: list[NavMeshTile]
    orig: np.ndarray = field(default_factory=lambda: np.zeros(3, np.float32))
    tile_width: float = 0.0
    tile_height: float = 0.0
    max_tiles: int = 1
    max_polys: int = 0
    version: int = 1
    settings: dict[str, Any] | None = None
    ref_bits: int = 32
    path: str | None = None

    def __post_init__(self) -> None:
        self.orig = np.asarray(self.orig, dtype=np.float32)
        self.tile_width, self.tile_height = float(np.float32(self.tile_width)), float(np.float32(self.tile_height))

    # -- summaries -----------------------------------------------------------------------------
    @property
    def vertex_count(self) -> int:
        return sum(len(t.verts) for t in self.tiles)

    @property
    def polygon_count(self) -> int:
        """Ground polygons (off-mesh connections are polygons in Detour too; not counted)."""
        return sum(int((t.types == DT_POLYTYPE_GROUND).sum()) for t in self.tiles)

    @property
    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """(min, max) corners of all vertices."""
        verts = np.concatenate([t.verts for t in self.tiles]) if self.tiles else np.zeros((1, 3))
        return verts.min(axis=0).astype(np.float64), verts.max(axis=0).astype(np.float64)

    @property
    def walkable_radius(self) -> float:
        """The agent radius the navmesh was built for (largest over tiles)."""
        return max((float(t.walkable_radius) for t in self.tiles), default=0.0)

    def equals(self, other: "NavMesh") -> bool:
        """Same header values and identical arrays in every tile (``path`` aside)."""
        same = (self.version == other.version and self.settings == other.settings and self.ref_bits == other.ref_bits
                and np.array_equal(self.orig, other.orig) and (self.tile_width, self.tile_height, self.max_tiles, self.max_polys)
                == (other.tile_width, other.tile_height, other.max_tiles, other.max_polys) and len(self.tiles) == len(other.tiles))
        return same and all(a._equal(b) for a, b in zip(self.tiles, other.tiles))

    def area(self, flags_include: int = POLYFLAGS_WALK, flags_exclude: int = POLYFLAGS_DISABLED) -> float:
        """Walkable surface area (m², summed over detail triangles in 3D)."""
        tris = self.triangles(flags_include, flags_exclude)[0]
        return float(0.5 * np.linalg.norm(np.cross(tris[:, 1] - tris[:, 0], tris[:, 2] - tris[:, 0]), axis=1).sum())

    # -- geometry ------------------------------------------------------------------------------
    def triangles(self, flags_include: int = POLYFLAGS_WALK, flags_exclude: int = POLYFLAGS_DISABLED) -> tuple[np.ndarray, np.ndarray]:
        """((T, 3, 3) float64 detail triangles, (T, 2) (tile, polygon) of each) of the ground
        polygons whose flags pass habitat-sim's default query filter (some ``flags_include`` bit,
        no ``flags_exclude`` bit)."""
        out, owners = [], []
        for ti, tile in enumerate(self.tiles):
            p = tile.polys
            ok = (tile.types == DT_POLYTYPE_GROUND) & ((p["flags"] & flags_include) != 0) & ((p["flags"] & flags_exclude) == 0)
            ok[len(tile.detail_meshes):] = False
            idx = np.flatnonzero(ok)
            if not len(idx):
                continue
            d = tile.detail_meshes[idx]
            counts = d["tri_count"].astype(np.int64)
            poly_of = np.repeat(idx, counts)
            start = np.repeat(d["tri_base"].astype(np.int64), counts)
            within = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
            tris = tile.detail_tris[start + within, :3].astype(np.int64)  # (T, 3) local indices
            nv = tile.polys["vert_count"][poly_of].astype(np.int64)[:, None]
            poly_index = tile.polys["verts"][poly_of].astype(np.int64)  # (T, 6)
            from_poly = tris < nv
            pv = tile.verts[np.take_along_axis(poly_index, np.minimum(tris, 5), axis=1)]
            dv_index = tile.detail_meshes["vert_base"][poly_of].astype(np.int64)[:, None] + tris - nv
            dv = tile.detail_verts[np.clip(dv_index, 0, max(0, len(tile.detail_verts) - 1))] if len(tile.detail_verts) else pv
            out.append(np.where(from_poly[..., None], pv, dv).astype(np.float64))
            owners.append(np.stack([np.full(len(poly_of), ti), poly_of], axis=1))
        if not out:
            return np.zeros((0, 3, 3)), np.zeros((0, 2), np.int64)
        return np.concatenate(out), np.concatenate(owners)

    def rasterize(self, origin: tuple[float, float], cell_size: float, shape: tuple[int, int], *,
                  floor_y: np.ndarray | float | None = None, max_y_delta: float = HABITAT_MAX_Y_DELTA,
                  y_range: tuple[float, float] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The cells of a grid whose centres the navmesh covers.

        A cell (row, col) has its centre at ``origin + ((col + 0.5) * cell_size, (row + 0.5) *
        cell_size)`` in (x, z), as in :class:`~navgym.sims.embedded.navgrid.NavGrid`. It is covered
        when the centre lies in (or on the edge of) a detail triangle of a walkable polygon whose
        surface height there is within ``max_y_delta`` of ``floor_y`` (a number, or the grid's
        (rows, cols) floor heights; habitat-sim's ``is_navigable`` uses 0.5 m) and, if given,
        inside ``y_range``.

        Returns:
            (covered (rows, cols) bool, height (rows, cols) float64 with the navmesh surface
            height, NaN where not covered).
        """
        rows, cols = int(shape[0]), int(shape[1])
        covered = np.zeros((rows, cols), dtype=bool)
        height = np.full((rows, cols), np.nan)
        best = np.full((rows, cols), np.inf)
        tris, _ = self.triangles()
        if not len(tris):
            return covered, height
        ox, oz = float(origin[0]), float(origin[1])
        cs = float(cell_size)
        x, z = tris[:, :, 0], tris[:, :, 2]
        area2 = (x[:, 1] - x[:, 0]) * (z[:, 2] - z[:, 0]) - (x[:, 2] - x[:, 0]) * (z[:, 1] - z[:, 0])
        tris = tris[np.abs(area2) > 1e-12]
        if not len(tris):
            return covered, height
        x, z = tris[:, :, 0], tris[:, :, 2]
        c0 = np.maximum(np.ceil((x.min(axis=1) - ox) / cs - 0.5 - 1e-6), 0).astype(np.int64)
        c1 = np.minimum(np.floor((x.max(axis=1) - ox) / cs - 0.5 + 1e-6), cols - 1).astype(np.int64)
        r0 = np.maximum(np.ceil((z.min(axis=1) - oz) / cs - 0.5 - 1e-6), 0).astype(np.int64)
        r1 = np.minimum(np.floor((z.max(axis=1) - oz) / cs - 0.5 + 1e-6), rows - 1).astype(np.int64)
        nc, nr = np.maximum(c1 - c0 + 1, 0), np.maximum(r1 - r0 + 1, 0)
        counts = nc * nr
        ref = None if floor_y is None else np.broadcast_to(np.asarray(floor_y, dtype=np.float64), (rows, cols))
        # Chunks of triangles with at most ~1M candidate cells each.
        cum = np.cumsum(counts)
        start = 0
        while start < len(tris):
            base = int(cum[start - 1]) if start else 0
            end = max(int(np.searchsorted(cum, base + 1_000_000, side="right")), start + 1)
            sl = slice(start, end)
            start = end
            k = counts[sl]
            total = int(k.sum())
            if total == 0:
                continue
            owner = np.repeat(np.arange(sl.start, sl.stop), k)
            local = np.arange(total) - np.repeat(np.cumsum(k) - k, k)
            rr = r0[owner] + local // nc[owner]
            cc = c0[owner] + local % nc[owner]
            px = ox + (cc + 0.5) * cs
            pz = oz + (rr + 0.5) * cs
            t = tris[owner]
            ax, az, bx, bz, qx, qz = t[:, 0, 0], t[:, 0, 2], t[:, 1, 0], t[:, 1, 2], t[:, 2, 0], t[:, 2, 2]
            den = (bz - qz) * (ax - qx) + (qx - bx) * (az - qz)
            w0 = ((bz - qz) * (px - qx) + (qx - bx) * (pz - qz)) / den
            w1 = ((qz - az) * (px - qx) + (ax - qx) * (pz - qz)) / den
            w2 = 1.0 - w0 - w1
            eps = 1e-6
            inside = (w0 >= -eps) & (w1 >= -eps) & (w2 >= -eps)
            y = w0 * t[:, 0, 1] + w1 * t[:, 1, 1] + w2 * t[:, 2, 1]
            if ref is not None:
                gap = np.abs(y - ref[rr, cc])
                inside &= gap <= max_y_delta
            else:
                gap = np.zeros_like(y)
            if y_range is not None:
                inside &= (y >= y_range[0]) & (y <= y_range[1])
            rr, cc, y, gap = rr[inside], cc[inside], y[inside], gap[inside]
            # Where layers overlap, keep the surface nearest the floor.
            order = np.argsort(-gap, kind="stable")
            rr, cc, y, gap = rr[order], cc[order], y[order], gap[order]
            better = gap < best[rr, cc]
            covered[rr, cc] = True
            np.minimum.at(best, (rr, cc), gap)
            height[rr[better], cc[better]] = y[better]
        return covered, height

    # -- from navgym's grid --------------------------------------------------------------------
    @classmethod
    def from_grid(cls, grid, mask: np.ndarray | None = None, *, agent_height: float = 1.5, agent_climb: float = 0.2,
                  agent_radius: float | None = None, same_floor: float = 0.01) -> "NavMesh":
        """A one-tile navmesh of a navigation grid's navigable cells (``mask`` instead, if given).

        Cells become rectangles: maximal runs of cells in a row with the same floor height (within
        ``same_floor``), merged with identical runs of the next rows. Where a rectangle's edge
        meets several others (T-junctions) the corners of those others are inserted on it, and
        each rectangle is cut, between its two long sides, into convex polygons of at most 6
        vertices; every edge shared by two polygons is then the same pair of points on both, as
        Detour's in-tile links (``neis``) require. Polygons are wound as Recast winds them
        (clockwise seen from above, ``dtTriArea2D`` > 0). Polygon heights are the cells' floor
        heights; detail meshes are the polygons' fans (no extra vertices), no BV tree.

        Args:
            grid: A :class:`~navgym.sims.embedded.navgrid.NavGrid` (``origin``, ``cell_size``,
                ``navigable``, ``floor_y``, ``radius`` are used).
            mask: (rows, cols) bool cells to cover instead of ``grid.navigable``.
            agent_height, agent_climb, agent_radius: Written to the tile header (radius default:
                the grid's).
        """
        nav = np.asarray(grid.navigable if mask is None else mask, dtype=bool)
        floor_y = np.asarray(grid.floor_y, dtype=np.float64)
        if nav.shape != floor_y.shape:
            raise InvalidArgumentError(f"mask has shape {nav.shape}; the grid is {floor_y.shape}")
        cs = float(grid.cell_size)
        ox, oz = float(grid.origin[0]), float(grid.origin[1])
        rects = _grid_rectangles(nav, np.round(floor_y / same_floor).astype(np.int64))
        if not rects:
            raise InvalidArgumentError("NavMesh.from_grid: no navigable cell to cover; a navmesh needs at least one polygon")
        polys, verts = _conforming_polygons(rects, floor_y)
        if len(polys) >= DT_EXT_LINK - 1 or len(verts) >= 0xFFFF:
            raise InvalidArgumentError(
                f"NavMesh.from_grid: {len(polys)} polygons / {len(verts)} vertices exceed one Detour tile "
                f"(< {DT_EXT_LINK - 1} polygons, < 65535 vertices); use a coarser cell_size"
            )
        world = np.stack([ox + verts[:, 0] * cs, verts[:, 1], oz + verts[:, 2] * cs], axis=1).astype(np.float32)
        tile = _tile_from_polygons(world, polys)
        tile.walkable_height = float(np.float32(agent_height))
        tile.walkable_radius = float(np.float32(grid.radius if agent_radius is None else agent_radius))
        tile.walkable_climb = float(np.float32(agent_climb))
        tile.bv_quant_factor = float(np.float32(1.0 / cs))
        tile.tile_ref = 1 << _ilog2_next_pow2(len(tile.polys))  # tile 0, salt 1: what write_navmesh gives
        return cls(tiles=[tile], orig=tile.bmin.copy(), tile_width=float(tile.bmax[0] - tile.bmin[0]),
                   tile_height=float(tile.bmax[2] - tile.bmin[2]), max_tiles=1, max_polys=len(tile.polys))


# -- from_grid helpers ---------------------------------------------------------------------------
def _grid_rectangles(nav: np.ndarray, level: np.ndarray) -> list[tuple[int, int, int, int]]:
    """(r0, r1, c0, c1) half-open rectangles covering ``nav``: per row, maximal runs of one
    ``level``; a run merges with the identical run below it only when neither touches another
    run in its row (so rectangles of more than one row have border cells left and right)."""
    rows, cols = nav.shape
    runs_by_row = []
    for r in range(rows):
        line = nav[r]
        runs, c = [], 0
        while c < cols:
            if not line[c]:
                c += 1
                continue
            start, lv = c, level[r, c]
            while c < cols and line[c] and level[r, c] == lv:
                c += 1
            runs.append((start, c))
        runs_by_row.append(runs)
    open_rects: dict[tuple[int, int], int] = {}
    rects = []

    def isolated(r: int, c0: int, c1: int) -> bool:
        return (c0 == 0 or not nav[r, c0 - 1]) and (c1 == cols or not nav[r, c1])

    for r, runs in enumerate(runs_by_row):
        still = {}
        for c0, c1 in runs:
            key = (c0, c1)
            if key in open_rects and isolated(r, c0, c1) and isolated(r - 1, c0, c1) and level[r, c0] == level[r - 1, c0]:
                still[key] = open_rects.pop(key)
            else:
                still[key] = r
        for (c0, c1), r0 in open_rects.items():
            rects.append((r0, r, c0, c1))
        open_rects = still
    for (c0, c1), r0 in open_rects.items():
        rects.append((r0, rows, c0, c1))
    return rects


def _conforming_polygons(rects, floor_y: np.ndarray) -> tuple[list[list[int]], np.ndarray]:
    """Convex polygons (vertex index lists, Recast winding) of the rectangles, with T-junction
    points inserted so shared edges coincide; vertices (V, 3) as (col, y, row) grid units/metres."""
    # Points on each horizontal line z = row: every rectangle corner on it.
    by_line: dict[int, list[int]] = {}
    for r0, r1, c0, c1 in rects:
        by_line.setdefault(r0, []).extend((c0, c1))
        by_line.setdefault(r1, []).extend((c0, c1))
    line_points = {k: np.unique(v) for k, v in by_line.items()}
    vert_index: dict[tuple[int, float, int], int] = {}
    verts: list[tuple[float, float, float]] = []

    def vid(col: int, y: float, row: int) -> int:
        key = (col, y, row)
        if key not in vert_index:
            vert_index[key] = len(verts)
            verts.append((float(col), y, float(row)))
        return vert_index[key]

    polys: list[list[int]] = []
    for r0, r1, c0, c1 in rects:
        y = float(floor_y[r0, c0])
        low = [int(c) for c in line_points[r0] if c0 <= c <= c1]  # z = r0 side, x ascending
        high = [int(c) for c in line_points[r1] if c0 <= c <= c1]  # z = r1 side
        i = k = 0
        while i < len(high) - 1 or k < len(low) - 1:
            rest_h, rest_l = len(high) - 1 - i, len(low) - 1 - k
            ah, al = min(rest_h, 2), min(rest_l, 2)
            budget = 4 - ah - al
            extra = min(budget, rest_h - ah)
            ah += extra
            al += min(budget - extra, rest_l - al)
            # Recast winding: up the left side (z increasing), along z = r1 with x increasing,
            # down the right side, back along z = r0 with x decreasing.
            ring = [vid(c, y, r1) for c in high[i : i + ah + 1]] + [vid(c, y, r0) for c in reversed(low[k : k + al + 1])]
            polys.append(ring)
            i += ah
            k += al
    return polys, np.array(verts, dtype=np.float64)


def _tile_from_polygons(verts: np.ndarray, polys: list[list[int]]) -> NavMeshTile:
    """A Detour tile of convex polygons: neighbours from shared edges, fan detail meshes."""
    n = len(polys)
    arr = np.zeros(n, POLY_DTYPE)
    edge_owner: dict[tuple[int, int], tuple[int, int]] = {}
    for pi, ring in enumerate(polys):
        m = len(ring)
        if not 3 <= m <= DT_VERTS_PER_POLYGON:
            raise AssertionError(f"polygon of {m} vertices")
        arr["verts"][pi, :m] = ring
        arr["vert_count"][pi] = m
        for j in range(m):
            a, b = ring[j], ring[(j + 1) % m]
            edge_owner[(a, b)] = (pi, j)
    # Neighbours: the same edge walked the other way by another polygon; edges are compared by
    # position in (x, z) so polygons at different heights (a riser) still link.
    xz_key = {i: (round(float(v[0]), 5), round(float(v[2]), 5)) for i, v in enumerate(verts)}
    by_xz: dict[tuple, tuple[int, int]] = {}
    for (a, b), owner in edge_owner.items():
        by_xz[(xz_key[a], xz_key[b])] = owner
    for (a, b), (pi, j) in edge_owner.items():
        other = by_xz.get((xz_key[b], xz_key[a]))
        if other is not None and other[0] != pi:
            arr["neis"][pi, j] = other[0] + 1
    arr["flags"] = POLYFLAGS_WALK
    arr["area_and_type"] = 0  # POLYAREA_GROUND, DT_POLYTYPE_GROUND
    arr["first_link"] = 0xFFFFFFFF
    counts = arr["vert_count"].astype(np.int64)
    detail = np.zeros(n, DETAIL_DTYPE)
    detail["tri_count"] = counts - 2
    detail["tri_base"] = np.cumsum(counts - 2) - (counts - 2)
    tris = []
    for m in counts:
        for j in range(2, m):
            flags = 1 << 2
            if j == 2:
                flags |= 1 << 0
            if j == m - 1:
                flags |= 1 << 4
            tris.append((0, j - 1, j, flags))
    tile = NavMeshTile()
    tile.verts = np.ascontiguousarray(verts, dtype=np.float32)
    tile.polys = arr
    tile.links = np.zeros(int(counts.sum()), LINK_DTYPE_32)  # maxLinkCount = edge count (one tile)
    tile.detail_meshes = detail
    tile.detail_tris = np.array(tris, dtype=np.uint8).reshape(-1, 4)
    tile.bmin = tile.verts.min(axis=0)
    tile.bmax = tile.verts.max(axis=0)
    tile.off_mesh_base = n
    return tile


# -- reading -------------------------------------------------------------------------------------
def _bad(path, problem: str, fix: str) -> DatasetFormatError:
    return DatasetFormatError(f"{path}: {problem}. {fix}")


_FIX = ("Habitat writes these files with habitat_sim's PathFinder.save_nav_mesh; re-download the "
        "scene's .navmesh or rebuild it, or pass navmesh='grid' to use navgym's own grid")


def read_navmesh(path: str | os.PathLike) -> NavMesh:
    """Read a habitat-sim ``.navmesh`` (Recast/Detour navmesh set, see the module docs).

    Raises:
        DataNotFoundError: No such file.
        DatasetFormatError: Not a navmesh set (bad magic), an unsupported version, a truncated
            file or tile, or counts that do not fit the tile; the message names the file, the
            problem and the fix.
    """
    path = Path(path)
    if not path.is_file():
        raise DataNotFoundError(f"Navmesh file {path} does not exist; habitat datasets keep <scene>.navmesh next to <scene>.glb")
    data = path.read_bytes()
    if len(data) < _SET_HEADER.size:
        raise _bad(path, f"truncated: {len(data)} bytes, shorter than the {_SET_HEADER.size}-byte navmesh set header", _FIX)
    magic, version, num_tiles, *params = _SET_HEADER.unpack_from(data, 0)
    if magic != NAVMESHSET_MAGIC:
        if struct.unpack_from(">i", data, 0)[0] == NAVMESHSET_MAGIC:
            problem = "a big-endian navmesh set ('MSET' byte-swapped); only little-endian files (as habitat-sim writes on x86 and ARM) are read"
        elif struct.unpack_from("<i", data, 0)[0] == DT_NAVMESH_MAGIC:
            problem = "a bare Detour tile ('DNAV'), not a navmesh set ('MSET' header + tiles) as habitat-sim saves"
        else:
            problem = f"bad magic {data[:4]!r}: not a Recast/Detour navmesh set (expected the bytes b'TESM', the int 'MSET')"
        raise _bad(path, problem, _FIX)
    if version not in NAVMESHSET_VERSIONS:
        raise _bad(path, f"unsupported navmesh set version {version} (this reader knows {list(NAVMESHSET_VERSIONS)}, habitat-sim's)",
                   "Save it again with a habitat-sim release of 2022-2026, or pass navmesh='grid' to use navgym's own grid")
    if num_tiles < 0 or num_tiles > 1 << 22:
        raise _bad(path, f"implausible tile count {num_tiles} in the header", _FIX)
    mesh = NavMesh(tiles=[], orig=np.array(params[0:3], np.float32), tile_width=params[3], tile_height=params[4],
                   max_tiles=params[5], max_polys=params[6], version=version, path=str(path))
    offset = _SET_HEADER.size
    if version >= 2:
        if len(data) < offset + _SETTINGS.size:
            raise _bad(path, f"truncated: version 2 needs {_SETTINGS.size} bytes of NavMeshSettings after the header", _FIX)
        values = _SETTINGS.unpack_from(data, offset)
        mesh.settings = {name: (float(v) if i < 13 else int(v)) for i, (name, v) in enumerate(zip(_SETTINGS_NAMES, values))}
        offset += _SETTINGS.size
    for index in range(num_tiles):
        if len(data) < offset + 8:
            raise _bad(path, f"truncated: tile {index} of {num_tiles} has no tile header at byte {offset} (file is {len(data)} bytes)", _FIX)
        ref, size = struct.unpack_from("<Ii", data, offset)
        head, ref_bits = 8, 32
        if not _is_tile(data, offset + 8):
            # A Detour built with DT_POLYREF64: {uint64 tileRef; int dataSize; 4 bytes padding}.
            if len(data) >= offset + 16 and _is_tile(data, offset + 16):
                ref, size = struct.unpack_from("<Qi", data, offset)
                head, ref_bits = 16, 64
        if ref == 0 or size == 0:
            break  # habitat-sim's loader stops here too
        if size < 0 or offset + head + size > len(data):
            raise _bad(path, f"truncated tile {index}: its header says {size} bytes of data, {len(data) - offset - head} remain", _FIX)
        if index and ref_bits != mesh.ref_bits:
            raise _bad(path, f"tile {index} has {ref_bits}-bit refs, tile 0 had {mesh.ref_bits}", _FIX)
        mesh.ref_bits = ref_bits
        mesh.tiles.append(_read_tile(path, index, data[offset + head : offset + head + size], ref, ref_bits))
        offset += head + size
    return mesh


def _is_tile(data: bytes, offset: int) -> bool:
    return len(data) >= offset + 8 and struct.unpack_from("<2i", data, offset) == (DT_NAVMESH_MAGIC, DT_NAVMESH_VERSION)


def _read_tile(path, index: int, data: bytes, ref: int, ref_bits: int) -> NavMeshTile:
    if len(data) < _MESH_HEADER.size:
        raise _bad(path, f"tile {index} is {len(data)} bytes, shorter than a Detour tile header ({_MESH_HEADER.size})", _FIX)
    values = _MESH_HEADER.unpack_from(data, 0)
    h = dict(zip(_MESH_HEADER_NAMES, values[:18]))
    if h["magic"] != DT_NAVMESH_MAGIC:
        raise _bad(path, f"tile {index} has bad magic {data[:4]!r} (expected Detour's 'DNAV')", _FIX)
    if h["version"] != DT_NAVMESH_VERSION:
        raise _bad(path, f"tile {index} has Detour tile version {h['version']}, only {DT_NAVMESH_VERSION} is read (recastnavigation 1.5 and later)", _FIX)
    counts = {k: h[k] for k in ("vert_count", "poly_count", "max_link_count", "detail_mesh_count", "detail_vert_count",
                                "detail_tri_count", "bv_node_count", "off_mesh_con_count")}
    if any(v < 0 for v in counts.values()):
        raise _bad(path, f"tile {index} has negative counts {counts}", _FIX)
    link_dtype = LINK_DTYPE_64 if ref_bits == 64 else LINK_DTYPE_32
    sections = [
        ("verts", np.dtype("<f4"), 3 * counts["vert_count"]),
        ("polys", POLY_DTYPE, counts["poly_count"]),
        ("links", link_dtype, counts["max_link_count"]),
        ("detail_meshes", DETAIL_DTYPE, counts["detail_mesh_count"]),
        ("detail_verts", np.dtype("<f4"), 3 * counts["detail_vert_count"]),
        ("detail_tris", np.dtype("u1"), 4 * counts["detail_tri_count"]),
        ("bv_nodes", BVNODE_DTYPE, counts["bv_node_count"]),
        ("off_mesh_cons", OFFMESH_DTYPE, counts["off_mesh_con_count"]),
    ]
    need = _MESH_HEADER.size + sum(_align4(dt.itemsize * n) for _, dt, n in sections)
    if need > len(data):
        raise _bad(path, f"truncated tile {index}: its counts {counts} need {need} bytes, the tile has {len(data)}", _FIX)
    tile = NavMeshTile(x=h["x"], y=h["y"], layer=h["layer"], user_id=h["user_id"], walkable_height=values[15],
                       walkable_radius=values[16], walkable_climb=values[17], bmin=np.array(values[18:21], np.float32),
                       bmax=np.array(values[21:24], np.float32), bv_quant_factor=values[24], off_mesh_base=h["off_mesh_base"],
                       tile_ref=int(ref))
    offset = _MESH_HEADER.size
    for name, dtype, n in sections:
        arr = np.frombuffer(data, dtype=dtype, count=n, offset=offset).copy()
        offset += _align4(dtype.itemsize * n)
        if name in ("verts", "detail_verts"):
            arr = arr.reshape(-1, 3)
        elif name == "detail_tris":
            arr = arr.reshape(-1, 4)
        setattr(tile, name, arr)
    p = tile.polys
    bad_count = (p["vert_count"] < 2) | (p["vert_count"] > DT_VERTS_PER_POLYGON)
    used = np.arange(DT_VERTS_PER_POLYGON)[None, :] < p["vert_count"][:, None]
    if bad_count.any() or (used & (p["verts"] >= counts["vert_count"])).any():
        raise _bad(path, f"tile {index}: polygons with vertex counts outside 2..6 or vertex indices past its {counts['vert_count']} vertices", _FIX)
    if len(tile.detail_meshes) and (tile.detail_meshes["tri_base"].astype(np.int64) + tile.detail_meshes["tri_count"] > counts["detail_tri_count"]).any():
        raise _bad(path, f"tile {index}: detail meshes index triangles past its {counts['detail_tri_count']}", _FIX)
    return tile


# -- writing -------------------------------------------------------------------------------------
def _tile_bytes(tile: NavMeshTile, ref_bits: int = 32) -> bytes:
    header = _MESH_HEADER.pack(
        DT_NAVMESH_MAGIC, DT_NAVMESH_VERSION, tile.x, tile.y, tile.layer, tile.user_id, len(tile.polys), len(tile.verts),
        len(tile.links), len(tile.detail_meshes), len(tile.detail_verts), len(tile.detail_tris), len(tile.bv_nodes),
        len(tile.off_mesh_cons), tile.off_mesh_base, tile.walkable_height, tile.walkable_radius, tile.walkable_climb,
        *(float(v) for v in tile.bmin), *(float(v) for v in tile.bmax), tile.bv_quant_factor,
    )
    parts = [header]
    for arr, dtype in ((tile.verts, np.dtype("<f4")), (tile.polys, POLY_DTYPE), (tile.links, LINK_DTYPE_64 if ref_bits == 64 else LINK_DTYPE_32),
                       (tile.detail_meshes, DETAIL_DTYPE), (tile.detail_verts, np.dtype("<f4")), (tile.detail_tris, np.dtype("u1")),
                       (tile.bv_nodes, BVNODE_DTYPE), (tile.off_mesh_cons, OFFMESH_DTYPE)):
        if dtype.names:  # field by field into zeros: padding bytes are written as 0, as Detour does
            clean = np.zeros(len(arr), dtype)
            for name in dtype.names:
                clean[name] = arr[name]
            raw = clean.tobytes()
        else:
            raw = np.ascontiguousarray(arr, dtype=dtype).tobytes()
        parts.append(raw + b"\0" * (_align4(len(raw)) - len(raw)))
    return b"".join(parts)


def _ilog2_next_pow2(v: int) -> int:
    v = max(1, int(v))
    return (v - 1).bit_length()


def write_navmesh(navmesh: NavMesh, path: str | os.PathLike) -> Path:
    """Write ``navmesh`` as a habitat-sim ``.navmesh`` (its ``version``: 1 unless it has
    ``settings``). Tiles with ``tile_ref == 0`` get Detour's ref of tile ``i`` with salt 1, as a
    freshly built ``dtNavMesh`` gives them. Written to a temporary file, then renamed into place."""
    path = Path(path)
    if navmesh.version not in NAVMESHSET_VERSIONS:
        raise InvalidArgumentError(f"navmesh.version={navmesh.version!r} must be one of {NAVMESHSET_VERSIONS}")
    if navmesh.version == 2 and navmesh.settings is None:
        raise InvalidArgumentError("navmesh.version=2 needs navmesh.settings (habitat-sim's NavMeshSettings); use version=1")
    tile_bits = _ilog2_next_pow2(navmesh.max_tiles)
    poly_bits = _ilog2_next_pow2(navmesh.max_polys)
    ref_fmt = "<Qi4x" if navmesh.ref_bits == 64 else "<Ii"
    out = [_SET_HEADER.pack(NAVMESHSET_MAGIC, navmesh.version, len(navmesh.tiles), *(float(v) for v in navmesh.orig),
                            navmesh.tile_width, navmesh.tile_height, navmesh.max_tiles, navmesh.max_polys)]
    if navmesh.version == 2:
        s = navmesh.settings or {}
        out.append(_SETTINGS.pack(*(float(s.get(n, 0.0)) for n in _SETTINGS_NAMES[:13]), *(int(s.get(n, 0)) for n in _SETTINGS_NAMES[13:])))
    for i, tile in enumerate(navmesh.tiles):
        data = _tile_bytes(tile, navmesh.ref_bits)
        ref = tile.tile_ref or ((1 << (poly_bits + tile_bits)) | (i << poly_bits))
        out.append(struct.pack(ref_fmt, ref, len(data)))
        out.append(data)
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    tmp.write_bytes(b"".join(out))
    os.replace(tmp, path)
    return path


def navmesh_next_to(mesh_path: str | os.PathLike) -> Path | None:
    """The ``.navmesh`` a Habitat dataset keeps for a scene mesh, or None: ``<stem>.navmesh``
    beside it (Gibson, MP3D, HM3D's ``<id>.basis.navmesh``), else ``../navmeshes/<stem>.navmesh``
    (HSSD's ``stages/`` + ``navmeshes/`` folders). Nowhere else: the simulator passes the mesh
    file a scene was loaded from (``Scene.mesh_file``), never a path read from a data file."""
    mesh_path = Path(os.path.abspath(mesh_path))
    for candidate in (mesh_path.with_suffix(".navmesh"), mesh_path.parent.parent / "navmeshes" / (mesh_path.stem + ".navmesh")):
        if candidate.is_file():
            return candidate
    return None


__all__ = [
    "NavMesh", "NavMeshTile", "read_navmesh", "write_navmesh", "navmesh_next_to",
    "NAVMESHSET_MAGIC", "DT_NAVMESH_MAGIC", "HABITAT_MAX_Y_DELTA",
]
