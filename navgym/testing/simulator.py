"""Conformance of a simulator backend: hand-built box scenes with analytic ground truth.

:func:`check_simulator` builds two scenes with :class:`~navgym.scenes.builder.SceneBuilder` whose
geometry is known exactly, gives them to the backend, and compares what it answers (depth,
semantic ids, motion, geodesics, placement, sampling, agents, pickling) with what the geometry
says. Every check runs; failures are collected into one :class:`~navgym.testing.ConformanceError`.

The scenes (Habitat's conventions: y up, metres, yaw 0 looks along -z, positive yaw turns left):

* **room**: a closed 4 m x 3 m room (x in [0, 4], z in [0, 3]), walls 0.1 m thick and 2.5 m high
  under a ceiling, and one annotated object, a ``"table"`` box (x in [1.5, 2.5], z in [1.0, 1.6],
  0.75 m high). Every box is an annotated instance (floor, ceiling, four walls, table).
* **l_corridor**: an L-shaped corridor 1 m wide (leg 1: z in [0, 1], x in [0, 5]; leg 2:
  x in [4, 5], z in [0, 5]) around a solid block, plus a sealed closet (x in [6.5, 8.5],
  z in [0, 2]) that no path reaches.

Tolerances (each check's message repeats the one it used):

* Positions: ``POSITION_TOLERANCE`` = 5 cm, one navigation cell: grid backends (the embedded
  simulator's default cell) and navmeshes (Recast's default cell) place the navigable boundary
  to within a cell of the analytic one, an agent radius away from the walls.
* Depth: ``DEPTH_ABS_TOLERANCE + DEPTH_REL_TOLERANCE * depth`` = 1 cm + 0.5 %. A ray caster is
  exact to float32 rounding (~1e-6 m); a rasteriser's float32 / 24-bit depth buffer quantises to
  well under 1 mm at 10 m, and vertex rounding and ray offsets stay below 1 cm. Per-pixel
  comparisons allow the analytic values of the 3 x 3 neighbourhood: that is one pixel of ray
  resolution, enough for a renderer whose pixel centres sit half a pixel from navgym's
  (``(i + 0.5) / size``) to pass, and 0.5 m errors still fail everywhere.
* Geodesics: ``GEODESIC_REL_TOLERANCE`` = 3 % of the analytic length of the path around the
  inner corner (tangent segments plus an arc of the agent's radius). First-order fast marching
  on a 5 cm grid errs by about 1 % on a 7 m path; a navmesh's chamfered corner adds < 0.5 %.
"""

from __future__ import annotations

import contextlib
import itertools
import math
import pickle
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from navgym.core.geometry import camera_rotation, wrap_angle
from navgym.core.specs import AgentState, BodySpec, CameraSpec
from navgym.errors import InvalidArgumentError
from navgym.scenes.builder import SceneBuilder
from navgym.scenes.scene import Scene
from navgym.sims.base import Simulator
from navgym.testing._report import Check, ConformanceReport, Runner, fmt

__all__ = [
    "DEPTH_ABS_TOLERANCE",
    "DEPTH_REL_TOLERANCE",
    "GEODESIC_REL_TOLERANCE",
    "POSITION_TOLERANCE",
    "BoxScene",
    "analytic_frame",
    "check_simulator",
    "l_corridor_scene",
    "room_scene",
]

#: Placement / navigability tolerance, metres (one 5 cm navigation cell).
POSITION_TOLERANCE = 0.05
#: Depth tolerance: absolute part, metres.
DEPTH_ABS_TOLERANCE = 0.01
#: Depth tolerance: part relative to the depth.
DEPTH_REL_TOLERANCE = 0.005
#: Relative tolerance of geodesic distances and path lengths.
GEODESIC_REL_TOLERANCE = 0.03
#: Share of pixels that must agree with the analytic frame (up to one pixel of edge displacement).
PIXEL_AGREEMENT = 0.99
#: Every output, for cameras that produce all of them.
ALL_OUTPUTS = ("rgb", "depth", "semantic")

_OUTPUT_DTYPES = {"rgb": np.uint8, "depth": np.float32, "semantic": np.int32}


# -- scenes with known geometry ----------------------------------------------------------------
@dataclass
class BoxScene:
    """A scene built from axis-aligned boxes, with the boxes kept for analytic ground truth.

    Attributes:
        scene: The built scene.
        boxes: Name -> (lo, hi, instance id assigned by the builder).
    """

    scene: Scene
    boxes: dict[str, tuple[np.ndarray, np.ndarray, int]] = field(default_factory=dict)

    def instance(self, name: str) -> int:
        """The builder's instance id of a named box."""
        return self.boxes[name][2]


class _Builder:
    """SceneBuilder plus a record of every box."""

    def __init__(self, name: str):
        self.builder = SceneBuilder(name)
        self.boxes: dict[str, tuple[np.ndarray, np.ndarray, int]] = {}

    def box(self, name: str, lo, hi, material: int, category: str, **kwargs) -> None:
        instance = self.builder.add_box(lo, hi, material, category=category, **kwargs)
        self.boxes[name] = (np.asarray(lo, dtype=np.float64), np.asarray(hi, dtype=np.float64), instance)

    def build(self) -> BoxScene:
        return BoxScene(self.builder.build(), dict(self.boxes))


def room_scene() -> BoxScene:
    """The closed 4 m x 3 m room with a table (see the module docstring)."""
    b = _Builder("conformance_room")
    texture = np.random.default_rng(0).integers(0, 255, (8, 8, 3), dtype=np.uint8)
    wood = b.builder.material("wood", "wood", (150, 100, 60), texture)
    paint = b.builder.material("paint", "paint", (200, 200, 220))
    brick = b.builder.material("brick", "paint", (170, 80, 60))
    b.box("floor", (-0.1, -0.1, -0.1), (4.1, 0.0, 3.1), wood, "floor")
    b.box("ceiling", (-0.1, 2.5, -0.1), (4.1, 2.6, 3.1), paint, "ceiling")
    b.box("wall_north", (-0.1, 0.0, -0.1), (4.1, 2.5, 0.0), brick, "wall")
    b.box("wall_south", (-0.1, 0.0, 3.0), (4.1, 2.5, 3.1), paint, "wall")
    b.box("wall_west", (-0.1, 0.0, 0.0), (0.0, 2.5, 3.0), paint, "wall")
    b.box("wall_east", (4.0, 0.0, 0.0), (4.1, 2.5, 3.0), brick, "wall")
    b.box("table", (1.5, 0.0, 1.0), (2.5, 0.75, 1.6), wood, "table", attributes={"color": "brown"})
    return b.build()


def l_corridor_scene() -> BoxScene:
    """The L-shaped corridor and the sealed closet (see the module docstring)."""
    b = _Builder("conformance_l_corridor")
    m = b.builder.material("paint", "paint", (180, 180, 180))
    b.box("floor", (-0.2, -0.1, -0.2), (5.2, 0.0, 5.2), m, "floor")
    b.box("ceiling", (-0.2, 2.5, -0.2), (5.2, 2.6, 5.2), m, "ceiling")
    b.box("wall_north", (-0.2, 0.0, -0.2), (5.2, 2.5, 0.0), m, "wall")
    b.box("wall_west", (-0.2, 0.0, 0.0), (0.0, 2.5, 1.0), m, "wall")
    b.box("wall_east", (5.0, 0.0, 0.0), (5.2, 2.5, 5.2), m, "wall")
    b.box("block", (-0.2, 0.0, 1.0), (4.0, 2.5, 5.2), m, "wall")
    b.box("wall_south", (4.0, 0.0, 5.0), (5.0, 2.5, 5.2), m, "wall")
    # The sealed closet: its own floor, ceiling and walls, no door.
    b.box("closet_floor", (6.3, -0.1, -0.2), (8.7, 0.0, 2.2), m, "floor")
    b.box("closet_ceiling", (6.3, 2.5, -0.2), (8.7, 2.6, 2.2), m, "ceiling")
    b.box("closet_north", (6.3, 0.0, -0.2), (8.7, 2.5, 0.0), m, "wall")
    b.box("closet_south", (6.3, 0.0, 2.0), (8.7, 2.5, 2.2), m, "wall")
    b.box("closet_west", (6.3, 0.0, 0.0), (6.5, 2.5, 2.0), m, "wall")
    b.box("closet_east", (8.5, 0.0, 0.0), (8.7, 2.5, 2.0), m, "wall")
    return b.build()


# -- the analytic camera -------------------------------------------------------------------------
def analytic_frame(boxes: dict[str, tuple[np.ndarray, np.ndarray, int]], state: AgentState, spec: CameraSpec,
                   ids: dict[int, int] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Exact z-depth (H, W) and instance ids (H, W) of a pinhole camera in a box scene.

    Pixel (row, col) looks through ``((col + 0.5 - W / 2) / f, -(row + 0.5 - H / 2) / f, -1)`` in
    the camera frame, with ``f = (W / 2) / tan(hfov / 2)`` (square pixels). The camera sits
    ``spec.camera_height`` above ``state.position``, pitched by ``spec.pitch + state.tilt``
    (clamped to [-90, 90]). Depth is clipped to ``[min_depth, max_depth]``; misses read
    ``max_depth`` and id 0.

    Args:
        boxes: Name -> (lo, hi, instance id), as :class:`BoxScene` keeps them.
        state: Floor position, yaw and tilt of the camera's body.
        spec: The camera.
        ids: Optional builder id -> simulator id translation.

    Returns:
        ``(depth, ids)``.
    """
    focal = (spec.width / 2.0) / math.tan(math.radians(spec.hfov) / 2.0)
    cols = (np.arange(spec.width) + 0.5 - spec.width / 2.0) / focal
    rows = -(np.arange(spec.height) + 0.5 - spec.height / 2.0) / focal
    xs, ys = np.meshgrid(cols, rows)
    local = np.stack([xs, ys, -np.ones_like(xs)], axis=-1).reshape(-1, 3)
    pitch = float(np.clip(spec.pitch + state.tilt, -90.0, 90.0))
    rotation = camera_rotation(state.yaw, math.radians(pitch), math.radians(spec.roll))
    directions = local @ rotation.T
    origin = np.asarray(state.position, dtype=np.float64) + np.array([0.0, spec.camera_height, 0.0])
    best = np.full(len(directions), np.inf)
    best_id = np.zeros(len(directions), dtype=np.int64)
    with np.errstate(divide="ignore", invalid="ignore"):
        for lo, hi, instance in boxes.values():
            t1 = (lo - origin) / directions
            t2 = (hi - origin) / directions
            near = np.minimum(t1, t2)
            far = np.maximum(t1, t2)
            parallel = directions == 0.0
            inside_slab = (origin >= lo) & (origin <= hi)
            near = np.where(parallel, np.where(inside_slab, -np.inf, np.inf), near)
            far = np.where(parallel, np.where(inside_slab, np.inf, -np.inf), far)
            t_near = near.max(axis=1)
            t_far = far.min(axis=1)
            hit = (t_near <= t_far) & (t_near > 1e-9) & (t_near < best)
            best = np.where(hit, t_near, best)
            best_id = np.where(hit, (ids or {}).get(instance, instance), best_id)
    depth = np.where(np.isfinite(best), best, spec.max_depth)
    depth = np.clip(depth, spec.min_depth, spec.max_depth).reshape(spec.height, spec.width)
    return depth, best_id.reshape(spec.height, spec.width)


def _neighbourhood(values: np.ndarray) -> np.ndarray:
    """(H, W, 9) values of each pixel's 3 x 3 neighbourhood (edges repeated)."""
    padded = np.pad(values, 1, mode="edge")
    h, w = values.shape
    return np.stack([padded[r : r + h, c : c + w] for r in range(3) for c in range(3)], axis=-1)


def _depth_tolerance(depth) -> np.ndarray:
    return DEPTH_ABS_TOLERANCE + DEPTH_REL_TOLERANCE * np.asarray(depth)


# -- the checks -----------------------------------------------------------------------------------
@dataclass
class _Context:
    room: BoxScene
    corridor: BoxScene
    body: BodySpec
    sim: Simulator
    corridor_sim: Simulator | None = None
    #: Builder instance id -> the simulator's id, for the room's boxes.
    ids: dict[int, int] = field(default_factory=dict)

    @property
    def radius(self) -> float:
        return self.body.radius

    def room_id(self, name: str) -> int:
        builder_id = self.room.instance(name)
        return self.ids.get(builder_id, builder_id)


def _place(sim: Simulator, x: float, z: float, yaw: float = 0.0, tilt: float = 0.0, agent_id: int = 0) -> AgentState:
    return sim.set_agent_state(AgentState.from_yaw([x, 0.0, z], yaw, tilt), agent_id=agent_id)


def _xz(point) -> np.ndarray:
    p = np.asarray(point, dtype=np.float64).reshape(-1)
    return np.array([p[0], p[2]])


def _check_scene(c: Check, ctx: _Context) -> None:
    sim = ctx.sim
    c.expect(isinstance(sim.scene_id, str) and sim.scene_id, f"scene_id={sim.scene_id!r}; expected a non-empty str")
    instances = sim.object_instances()
    graph_ids = sorted(inst.id for inst in sim.scene_graph().instances)
    c.expect(graph_ids == sorted(inst.id for inst in instances),
             f"scene_graph().instances ids {graph_ids} differ from object_instances() ids {sorted(i.id for i in instances)}")
    for name, (lo, hi, builder_id) in ctx.room.boxes.items():
        category = next(i.category for i in ctx.room.scene.instances if i.id == builder_id)
        match = [i for i in instances if i.category == category
                 and np.allclose(i.bbox_min, lo, atol=0.01) and np.allclose(i.bbox_max, hi, atol=0.01)]
        if c.expect(len(match) == 1, f"{name}: expected one {category!r} instance with bbox {fmt(lo)}..{fmt(hi)}; found {len(match)}"):
            ctx.ids[builder_id] = int(match[0].id)
    table = [i for i in instances if i.category == "table"]
    if table:
        c.expect(table[0].attributes.get("color") == "brown", f"table attributes={table[0].attributes}; expected color 'brown'")
    ids = list(ctx.ids.values())
    c.expect(len(set(ids)) == len(ids) and all(i >= 1 for i in ids), f"instance ids {ids} must be distinct and >= 1")


def _check_agent_zero(c: Check, ctx: _Context) -> None:
    sim = ctx.sim
    c.expect(0 in tuple(sim.agent_ids), f"agent_ids={tuple(sim.agent_ids)}; expected agent 0")
    c.expect(sim.body(0) == ctx.body, f"body(0)={sim.body(0)}; expected the body given, {ctx.body}")
    start = sim.get_agent_state(0)
    c.expect(isinstance(start, AgentState), f"get_agent_state(0) returned {type(start).__name__}; expected AgentState")
    c.expect(sim.is_navigable(start.position), f"agent 0 starts at {fmt(start.position)}, which is not navigable")


def _check_set_agent_state(c: Check, ctx: _Context) -> None:
    sim = ctx.sim
    placed = sim.set_agent_state(AgentState.from_yaw([3.0, 0.2, 2.0], 0.7, tilt=20.0))
    c.expect(np.allclose(_xz(placed.position), [3.0, 2.0], atol=1e-3), f"placed at {fmt(placed.position)}; expected x, z = 3.0, 2.0")
    c.expect(abs(placed.position[1]) <= 0.01, f"placed at y={placed.position[1]:.3f}; expected the floor, y = 0 (within 0.01)")
    c.expect(abs(wrap_angle(placed.yaw - 0.7)) < 1e-6, f"yaw {placed.yaw:.6f}; expected 0.7")
    c.expect(abs(placed.tilt - 20.0) < 1e-6, f"tilt {placed.tilt}; expected 20.0")
    got = sim.get_agent_state()
    c.expect(np.allclose(got.position, placed.position, atol=1e-9), f"get_agent_state() {fmt(got.position)} != the state set {fmt(placed.position)}")
    got.position[0] += 1.0
    c.expect(np.allclose(sim.get_agent_state().position, placed.position, atol=1e-9),
             "modifying the state get_agent_state() returned moved the agent; it must return a copy")


def _check_off_navigable(c: Check, ctx: _Context) -> None:
    sim, r = ctx.sim, ctx.radius
    inside_table = AgentState.from_yaw([2.0, 0.0, 1.3], 0.0)
    try:
        sim.set_agent_state(inside_table)
        c.fail("set_agent_state inside the table (2.0, 1.3) did not raise; expected ValueError")
    except ValueError as exc:
        c.expect(re.search(r"\d+\.\d+", str(exc)), f"the ValueError {str(exc)!r} does not state the distance to the nearest navigable point")
    placed = sim.set_agent_state(inside_table, snap=True)
    moved = float(np.linalg.norm(_xz(placed.position) - [2.0, 1.3]))
    expected = 0.3 + r  # half the table's depth, then a radius off its edge
    c.expect(sim.is_navigable(placed.position), f"snap=True placed the agent at {fmt(placed.position)}, which is not navigable")
    c.expect(expected - POSITION_TOLERANCE <= moved <= expected + 2 * POSITION_TOLERANCE,
             f"snap=True moved the agent {moved:.3f} m; expected the nearest navigable point, {expected:.3f} m away "
             f"(tolerance -{POSITION_TOLERANCE}/+{2 * POSITION_TOLERANCE})")
    c.expect(np.allclose(sim.get_agent_state().position, placed.position, atol=1e-9), "the agent is not where set_agent_state(snap=True) says it put it")
    outside = AgentState.from_yaw([5.0, 0.0, 1.5], 0.0)
    try:
        sim.set_agent_state(outside)
        c.fail("set_agent_state outside the room (5.0, 1.5) did not raise; expected ValueError")
    except ValueError:
        pass
    snapped = sim.set_agent_state(outside, snap=True).position
    c.expect(abs(snapped[0] - (4.0 - r)) <= POSITION_TOLERANCE + 0.01 and abs(snapped[2] - 1.5) <= POSITION_TOLERANCE,
             f"snap=True from (5.0, 1.5) gave {fmt(snapped)}; expected x = {4.0 - r:.3f}, z = 1.5 (the east wall less a radius)")


def _check_is_navigable(c: Check, ctx: _Context) -> None:
    sim, r, tol = ctx.sim, ctx.radius, POSITION_TOLERANCE
    cases = [
        ((3.0, 0.0, 0.6), True, "open floor"),
        ((2.0, 0.0, 1.3), False, "inside the table"),
        ((2.0, 0.0, -0.05), False, "inside the north wall"),
        ((5.0, 0.0, 1.5), False, "outside the room"),
        ((r - tol, 0.0, 2.0), False, f"{r - tol:.2f} m from the west wall (radius {r})"),
        ((r + tol + 0.02, 0.0, 2.0), True, f"{r + tol + 0.02:.2f} m from the west wall (radius {r})"),
        ((2.0, 0.0, 1.0 - r + tol), False, f"{r - tol:.2f} m from the table's edge"),
    ]
    for point, expected, what in cases:
        got = sim.is_navigable(point)
        c.expect(bool(got) == expected, f"is_navigable({list(point)}) ({what}) = {got}; expected {expected}")
    snapped = sim.snap_point([3.0, 0.0, 0.6])
    c.expect(np.allclose(_xz(snapped), [3.0, 0.6], atol=1e-3) and abs(snapped[1]) <= 0.01,
             f"snap_point of a navigable point moved it to {fmt(snapped)}; expected (3.0, 0.0, 0.6)")
    snapped = sim.snap_point([2.0, 0.0, 1.3])
    moved = float(np.linalg.norm(_xz(snapped) - [2.0, 1.3]))
    c.expect(sim.is_navigable(snapped) and abs(moved - (0.3 + r)) <= 2 * tol,
             f"snap_point(2.0, 0, 1.3) = {fmt(snapped)}, {moved:.3f} m away; expected a navigable point {0.3 + r:.3f} m away")


def _check_depth_to_wall(c: Check, ctx: _Context) -> None:
    sim = ctx.sim
    spec = CameraSpec(width=65, height=65, hfov=90.0, camera_height=1.25, outputs=ALL_OUTPUTS)
    wall = ctx.room_id("wall_north")
    worst = 0.0
    for d in (2.5, 1.9, 0.7):
        state = _place(sim, 3.5, d)
        frame = sim.render_agent(spec)
        _, truth_ids = analytic_frame(ctx.room.boxes, state, spec, ctx.ids)
        interior = (_neighbourhood(truth_ids) == wall).all(axis=-1)  # wall pixels away from its edges
        depth = frame["depth"][..., 0]
        error = np.abs(depth[interior] - d)
        tol = float(_depth_tolerance(d))
        worst = max(worst, float(error.max()))
        c.expect(error.max() <= tol,
                 f"facing the north wall {d} m ahead: depth on the wall {float(np.median(depth[interior])):.4f} m "
                 f"(max error {error.max():.4f}); expected {d} within {tol:.4f}")
        centre = int(frame["semantic"][32, 32])
        c.expect(centre == wall, f"facing the north wall {d} m ahead, the centre pixel's id is {centre}; expected the wall's {wall}")
    c.note(f"max depth error {worst:.2e} m")


def _check_semantic_object(c: Check, ctx: _Context) -> None:
    sim = ctx.sim
    _place(sim, 2.0, 2.2)
    frame = sim.render_agent(CameraSpec(width=65, height=65, pitch=-30.0, outputs=ALL_OUTPUTS))
    table = ctx.room_id("table")
    # From 1.25 m, 30 degrees down, the optical axis meets the 0.75 m table top 0.5 / tan(30)
    # = 0.87 m ahead (z = 1.33), at range 0.5 / sin(30) = 1.0 m: the centre pixel's z-depth.
    centre_id, centre_depth = int(frame["semantic"][32, 32]), float(frame["depth"][32, 32, 0])
    c.expect(centre_id == table, f"looking 30 degrees down at the table, the centre pixel's id is {centre_id}; expected the table's {table}")
    c.expect(abs(centre_depth - 1.0) <= _depth_tolerance(1.0), f"centre depth on the table top {centre_depth:.4f} m; expected 1.0 within {_depth_tolerance(1.0):.4f}")


def _batch_requests() -> list[tuple[AgentState, CameraSpec]]:
    """Cameras at arbitrary poses, heights, fields of view and sizes (all inside the room)."""
    low = AgentState.from_yaw([2.013, 0.0, 2.71], 0.0)
    return [
        (low, CameraSpec(width=65, height=49, hfov=90.0, camera_height=0.4, outputs=ALL_OUTPUTS)),
        (low, CameraSpec(width=64, height=48, hfov=60.0, camera_height=1.5, pitch=-20.0, outputs=ALL_OUTPUTS)),
        (AgentState.from_yaw([0.8, 0.0, 0.9], 2.2, tilt=-15.0), CameraSpec(width=33, height=41, hfov=110.0, camera_height=1.9, outputs=ALL_OUTPUTS)),
        (AgentState.from_yaw([3.2, 0.0, 2.4], -0.7), CameraSpec(width=40, height=30, hfov=75.0, camera_height=1.1, pitch=10.0, roll=15.0, outputs=("depth",), max_depth=3.0)),
        (AgentState.from_yaw([1.0, 0.0, 2.5], -0.7), CameraSpec(width=20, height=16, hfov=45.0, pitch=-25.0, outputs=("semantic",))),
    ]


def _check_render_batch(c: Check, ctx: _Context) -> None:
    requests = _batch_requests()
    frames = ctx.sim.render(requests)
    if not c.expect(isinstance(frames, list) and len(frames) == len(requests), f"render({len(requests)} requests) returned {type(frames).__name__} of length {len(frames)}"):
        return
    for index, ((state, spec), frame) in enumerate(zip(requests, frames)):
        shapes = {"rgb": (spec.height, spec.width, 3), "depth": (spec.height, spec.width, 1), "semantic": (spec.height, spec.width)}
        for key in spec.outputs:
            if not c.expect(key in frame, f"request {index}: no {key!r} in the frame (keys {sorted(frame)})"):
                continue
            value = np.asarray(frame[key])
            c.expect(value.shape == shapes[key] and value.dtype == _OUTPUT_DTYPES[key],
                     f"request {index} ({spec.width}x{spec.height}): {key} is {value.dtype}{value.shape}; expected {np.dtype(_OUTPUT_DTYPES[key])}{shapes[key]}")
        if "rgb" in frame and "rgb" in spec.outputs:
            colours = len(np.unique(np.asarray(frame["rgb"]).reshape(-1, 3), axis=0))
            c.expect(colours > 1, f"request {index}: the rgb image has {colours} colour; expected a shaded, textured view")


def _check_render_analytic(c: Check, ctx: _Context) -> None:
    requests = _batch_requests()
    frames = ctx.sim.render(requests)
    for index, ((state, spec), frame) in enumerate(zip(requests, frames)):
        truth_depth, truth_ids = analytic_frame(ctx.room.boxes, state, spec, ctx.ids)
        what = f"request {index} ({spec.width}x{spec.height}, hfov {spec.hfov}, height {spec.camera_height}, pitch {spec.pitch + state.tilt}, roll {spec.roll})"
        if "depth" in spec.outputs and "depth" in frame:
            depth = np.asarray(frame["depth"], dtype=np.float64)[..., 0]
            near = _neighbourhood(truth_depth)
            tol = _depth_tolerance(truth_depth)
            ok = (depth >= near.min(axis=-1) - tol) & (depth <= near.max(axis=-1) + tol)
            share = float(ok.mean())
            err = np.abs(depth - truth_depth)
            c.expect(share >= PIXEL_AGREEMENT,
                     f"{what}: depth matches the analytic depth (one pixel, 1 cm + 0.5 %) in {share:.1%} of pixels; "
                     f"expected >= {PIXEL_AGREEMENT:.0%} (median error {float(np.median(err)):.4f} m)")
        if "semantic" in spec.outputs and "semantic" in frame:
            ids = np.asarray(frame["semantic"]).astype(np.int64)
            ok = (_neighbourhood(truth_ids) == ids[..., None]).any(axis=-1)
            share = float(ok.mean())
            c.expect(share >= PIXEL_AGREEMENT,
                     f"{what}: semantic ids match the analytic ids (within one pixel) in {share:.1%} of pixels; expected >= {PIXEL_AGREEMENT:.0%} "
                     f"(ids seen {sorted(np.unique(ids).tolist())}, expected {sorted(np.unique(truth_ids).tolist())})")


def _check_render_batch_equals_single(c: Check, ctx: _Context) -> None:
    requests = _batch_requests()
    batched = ctx.sim.render(requests)
    for index, request in enumerate(requests):
        single = ctx.sim.render([request])[0]
        for key in request[1].outputs:
            a, b = np.asarray(batched[index][key], dtype=np.float64), np.asarray(single[key], dtype=np.float64)
            limit = {"rgb": 1.0, "depth": 1e-4, "semantic": 0.0}[key]
            diff = float(np.abs(a - b).max()) if a.shape == b.shape else float("inf")
            c.expect(diff <= limit, f"request {index}: {key} rendered alone differs from the batch by {diff:g}; expected <= {limit:g}")


def _check_depth_range(c: Check, ctx: _Context) -> None:
    state = AgentState.from_yaw([3.5, 0.0, 2.5], 0.0)
    spec = CameraSpec(width=33, height=33, max_depth=1.5, min_depth=0.1, outputs=("depth", "semantic"))
    frame = ctx.sim.render([(state, spec)])[0]
    depth = frame["depth"][..., 0]
    c.expect(depth.max() <= 1.5 + 1e-6 and depth.min() >= 0.1 - 1e-6, f"depth in [{depth.min():.4f}, {depth.max():.4f}]; expected within [min_depth 0.1, max_depth 1.5]")
    _, truth_ids = analytic_frame(ctx.room.boxes, state, spec, ctx.ids)
    wall = (_neighbourhood(truth_ids) == ctx.room_id("wall_north")).all(axis=-1)
    c.expect(np.allclose(depth[wall], 1.5, atol=1e-4), f"the wall 2.5 m away reads {float(np.median(depth[wall])):.4f} m; expected max_depth 1.5 (further hits read max_depth)")


def _check_move_free(c: Check, ctx: _Context) -> None:
    sim = ctx.sim
    _place(sim, 3.5, 2.5)
    collided = sim.move_agent([0.0, 0.7, -0.5])
    position = sim.get_agent_state().position
    c.expect(not collided, f"an unobstructed 0.5 m move returned collided={collided!r}; expected False")
    c.expect(np.allclose(_xz(position), [3.5, 2.0], atol=0.01), f"after moving (0, 0.7, -0.5) from (3.5, 2.5) the agent is at {fmt(position)}; expected x, z = 3.5, 2.0 (within 0.01)")
    c.expect(abs(position[1]) <= 0.01, f"after a move with y = 0.7 the agent is at y = {position[1]:.3f}; expected the floor (y is ignored)")


def _check_move_wall(c: Check, ctx: _Context) -> None:
    sim, r, tol = ctx.sim, ctx.radius, POSITION_TOLERANCE
    _place(sim, 3.5, 2.0)
    results, zs = [], []
    for _ in range(40):
        results.append(bool(sim.move_agent([0.0, 0.0, -0.25])))
        position = sim.get_agent_state().position
        zs.append(float(position[2]))
        if not sim.is_navigable(position):
            c.fail(f"walking into the north wall put the agent at {fmt(position)}, which is not navigable")
            break
    c.expect(min(zs) >= r - tol, f"walking into the north wall (z = 0) reached z = {min(zs):.3f}; expected >= radius - tol = {r - tol:.3f}")
    c.expect(any(results), "40 moves of 0.25 m into the north wall 2 m away never returned collided=True")
    c.expect(zs[-1] <= r + 2 * tol, f"walking into the north wall stopped at z = {zs[-1]:.3f}; expected at the wall, z <= {r + 2 * tol:.3f}")
    c.expect(not results[0], "the first 0.25 m move, 2 m from the wall, returned collided=True; expected False")
    # One long move must not jump over the wall, nor over the table.
    _place(sim, 3.5, 1.0)
    collided = sim.move_agent([0.0, 0.0, -3.0])
    z = float(sim.get_agent_state().position[2])
    c.expect(collided and r - tol <= z <= r + 2 * tol, f"one 3 m move into the wall 1 m away: collided={collided}, z = {z:.3f}; expected True and z in [{r - tol:.3f}, {r + 2 * tol:.3f}]")
    _place(sim, 2.0, 2.4)
    collided = sim.move_agent([0.0, 0.0, -2.0])
    z = float(sim.get_agent_state().position[2])
    c.expect(collided and 1.6 + r - tol <= z <= 1.6 + r + 2 * tol,
             f"one 2 m move toward the table (its far edge z = 1.6): collided={collided}, z = {z:.3f}; expected True and z in [{1.6 + r - tol:.3f}, {1.6 + r + 2 * tol:.3f}]")


def _check_move_slide(c: Check, ctx: _Context) -> None:
    sim, r, tol = ctx.sim, ctx.radius, POSITION_TOLERANCE
    start = _place(sim, 3.5, 0.4).position
    along = 0.5 * math.sin(math.radians(45.0))
    collided = sim.move_agent([-along, 0.0, -along])  # 0.5 m at 45 degrees toward the north wall
    end = sim.get_agent_state().position
    slid = float(start[0] - end[0])
    c.expect(collided, f"a 0.5 m move at 45 degrees into the north wall returned collided={collided!r}; expected True")
    c.expect(0.5 * along <= slid <= along + tol, f"sliding along the wall moved x by {slid:.3f} m; expected between {0.5 * along:.3f} and {along + tol:.3f} (the wall-parallel part, {along:.3f})")
    c.expect(r - tol <= end[2] <= r + 2 * tol, f"after sliding the agent is at z = {end[2]:.3f}; expected against the wall, in [{r - tol:.3f}, {r + 2 * tol:.3f}]")


def _check_turn(c: Check, ctx: _Context) -> None:
    sim = ctx.sim
    before = _place(sim, 3.0, 2.0, yaw=0.3)
    sim.turn_agent(math.pi / 2)
    after = sim.get_agent_state()
    c.expect(abs(wrap_angle(after.yaw - before.yaw - math.pi / 2)) < 1e-6, f"turn_agent(pi/2) changed yaw by {wrap_angle(after.yaw - before.yaw):.6f}; expected {math.pi / 2:.6f}")
    c.expect(np.allclose(after.position, before.position, atol=1e-9), f"turning moved the agent from {fmt(before.position)} to {fmt(after.position)}")
    sim.turn_agent(-math.pi / 2)
    c.expect(abs(wrap_angle(sim.get_agent_state().yaw - 0.3)) < 1e-6, f"turning back by -pi/2 gave yaw {sim.get_agent_state().yaw:.6f}; expected 0.3")
    for tilt, expected in ((60.0, 60.0), (60.0, 90.0), (-200.0, -90.0)):
        sim.turn_agent(0.0, tilt)
        state = sim.get_agent_state()
        c.expect(abs(state.tilt - expected) < 1e-6, f"turn_agent(0, {tilt}) gave tilt {state.tilt}; expected {expected} (tilt stays within [-90, 90])")
        c.expect(abs(wrap_angle(state.yaw - 0.3)) < 1e-6, f"tilting changed the yaw to {state.yaw:.6f}")


def _check_geodesic(c: Check, ctx: _Context) -> None:
    sim, r = ctx.corridor_sim, ctx.radius
    a, b = np.array([0.5, 0.0, 0.5]), np.array([4.5, 0.0, 4.5])
    expected = _l_path_length(a, b, r)
    tol = GEODESIC_REL_TOLERANCE * expected
    measured = float(sim.geodesic_distance(a, [b]))
    straight = float(np.linalg.norm(b - a))
    c.expect(abs(measured - expected) <= tol, f"geodesic distance around the L corner {measured:.3f} m; expected {expected:.3f} +- {tol:.3f} (straight line {straight:.3f})")
    c.expect(measured > straight, f"geodesic {measured:.3f} m is not longer than the straight line {straight:.3f} m through the wall")
    back = float(sim.geodesic_distance(b, [a]))
    c.expect(abs(back - measured) <= tol, f"geodesic b->a {back:.3f} m differs from a->b {measured:.3f} m by more than {tol:.3f}")
    near = np.array([2.5, 0.0, 0.5])  # straight down leg 1: 2 m
    both = float(sim.geodesic_distance(a, np.stack([b, near])))
    c.expect(abs(both - 2.0) <= max(GEODESIC_REL_TOLERANCE * 2.0, POSITION_TOLERANCE), f"geodesic to the nearer of two goals (2 m straight ahead, and {expected:.2f} m round the corner) = {both:.3f}; expected 2.0")
    closet = np.array([7.5, 0.0, 1.0])
    sealed = float(sim.geodesic_distance(a, [closet]))
    c.expect(math.isinf(sealed), f"geodesic distance into the sealed closet = {sealed}; expected inf")
    mixed = float(sim.geodesic_distance(a, np.stack([closet, b])))
    c.expect(abs(mixed - measured) <= tol, f"geodesic to [sealed closet, b] = {mixed:.3f}; expected the reachable one's, {measured:.3f}")
    c.note(f"L path {measured:.3f} m vs analytic {expected:.3f} m")


def _l_path_length(a: np.ndarray, b: np.ndarray, r: float) -> float:
    """Shortest path of a disc of radius ``r`` centre from ``a`` to ``b`` around the inner corner
    (4, 1) of the L: two tangent segments and an arc of radius ``r``."""
    corner = np.array([4.0, 1.0])
    pa, pb = _xz(a) - corner, _xz(b) - corner
    da, db = float(np.hypot(*pa)), float(np.hypot(*pb))
    ang_a = math.atan2(pa[1], pa[0]) + math.acos(r / da)
    ang_b = math.atan2(pb[1], pb[0]) - math.acos(r / db)
    return math.sqrt(da * da - r * r) + math.sqrt(db * db - r * r) + r * abs(ang_a - ang_b)


def _check_shortest_path(c: Check, ctx: _Context) -> None:
    sim, r, tol = ctx.corridor_sim, ctx.radius, POSITION_TOLERANCE
    a, b = np.array([0.5, 0.0, 0.5]), np.array([4.5, 0.0, 4.5])
    path = np.asarray(sim.shortest_path(a, b), dtype=np.float64)
    if not c.expect(path.ndim == 2 and path.shape[1] == 3 and len(path) >= 3, f"shortest_path around the L corner has shape {path.shape}; expected (N >= 3, 3): it must bend"):
        return
    c.expect(np.linalg.norm(_xz(path[0]) - _xz(a)) <= 2 * tol, f"the path starts at {fmt(path[0])}; expected the start {fmt(a)} (within {2 * tol})")
    c.expect(np.linalg.norm(_xz(path[-1]) - _xz(b)) <= 2 * tol, f"the path ends at {fmt(path[-1])}; expected the goal {fmt(b)} (within {2 * tol})")
    length = float(np.linalg.norm(np.diff(path, axis=0)[:, [0, 2]], axis=1).sum())
    geodesic = float(sim.geodesic_distance(a, [b]))
    c.expect(abs(length - geodesic) <= GEODESIC_REL_TOLERANCE * geodesic, f"path length {length:.3f} m; expected the geodesic distance {geodesic:.3f} m within {GEODESIC_REL_TOLERANCE:.0%}")
    remaining = [float(sim.geodesic_distance(p, [b])) for p in path]
    rising = [i for i in range(1, len(remaining)) if remaining[i] > remaining[i - 1] + tol]
    c.expect(not rising, f"the geodesic distance to the goal grows along the path at waypoints {rising}: {fmt(remaining)}; expected it to fall monotonically")
    # Every segment stays in the corridor: out of the solid block (x < 4, z > 1), inside the walls.
    for p, q in itertools.pairwise(path):
        ts = np.linspace(0.0, 1.0, max(2, int(np.linalg.norm(q - p) / 0.01)))[:, None]
        points = p + ts * (q - p)
        x, z = points[:, 0], points[:, 2]
        to_block = np.hypot(np.maximum(x - 4.0, 0.0), np.maximum(1.0 - z, 0.0))
        outside = (x < r - tol) | (x > 5.0 - r + tol) | (z < r - tol) | (z > 5.0 - r + tol)
        bad = (to_block < r - tol) | outside
        if bad.any():
            c.fail(f"the path segment {fmt(p)} -> {fmt(q)} passes {fmt(points[np.argmax(bad)])}, closer than the radius {r} to a wall")
            break
    empty = np.asarray(sim.shortest_path(a, np.array([7.5, 0.0, 1.0])))
    c.expect(empty.size == 0, f"shortest_path into the sealed closet has {len(empty)} waypoints; expected none (unreachable)")


def _check_sampling(c: Check, ctx: _Context) -> None:
    sim, r, tol = ctx.sim, ctx.radius, POSITION_TOLERANCE
    rng = np.random.default_rng(7)
    points = np.array([sim.sample_navigable_point(rng) for _ in range(40)])
    rng = np.random.default_rng(7)
    again = np.array([sim.sample_navigable_point(rng) for _ in range(40)])
    c.expect(np.allclose(points, again, atol=1e-9), "sample_navigable_point gave different points for two generators seeded alike")
    lo, hi, _ = ctx.room.boxes["table"]
    for p in points:
        to_table = math.hypot(max(lo[0] - p[0], p[0] - hi[0], 0.0), max(lo[2] - p[2], p[2] - hi[2], 0.0))
        ok = sim.is_navigable(p) and r - tol <= p[0] <= 4.0 - r + tol and r - tol <= p[2] <= 3.0 - r + tol and to_table >= r - tol
        if not ok:
            c.fail(f"sample_navigable_point gave {fmt(p)}: not navigable, or within the radius {r} (- {tol}) of a wall or the table")
            break
    c.expect(points[:, 0].std() > 0.3 and points[:, 2].std() > 0.2, f"40 samples spread only {points[:, 0].std():.2f} m in x, {points[:, 2].std():.2f} m in z; expected uniform over the room")
    rng = np.random.default_rng(3)
    corridor = np.array([ctx.corridor_sim.sample_navigable_point(rng) for _ in range(40)])
    c.expect((corridor[:, 0] < 5.5).all(), f"sample_navigable_point drew {fmt(corridor[np.argmax(corridor[:, 0])])} in the sealed closet; expected the largest connected region only")


def _check_points_near(c: Check, ctx: _Context) -> None:
    sim, r, tol = ctx.sim, ctx.radius, POSITION_TOLERANCE
    lo, hi, _ = ctx.room.boxes["table"]
    points = np.asarray(sim.navigable_points_near(lo, hi, 0.6), dtype=np.float64)
    if not c.expect(points.ndim == 2 and points.shape[1] == 3 and len(points) > 0, f"navigable_points_near(table, 0.6) has shape {points.shape}; expected (N > 0, 3)"):
        return
    dx = np.maximum(np.maximum(lo[0] - points[:, 0], points[:, 0] - hi[0]), 0.0)
    dz = np.maximum(np.maximum(lo[2] - points[:, 2], points[:, 2] - hi[2]), 0.0)
    distance = np.hypot(dx, dz)
    c.expect(distance.max() <= 0.6 + tol, f"navigable_points_near(table, 0.6) returned a point {distance.max():.3f} m from the table; expected <= 0.6 (+{tol})")
    c.expect(distance.min() >= r - tol, f"navigable_points_near returned a point {distance.min():.3f} m from the table; expected >= the radius {r} (- {tol})")
    c.expect(all(sim.is_navigable(p) for p in points[:: max(1, len(points) // 50)]), "navigable_points_near returned non-navigable points")


def _check_topdown(c: Check, ctx: _Context) -> None:
    top = ctx.sim.topdown_map()
    grid = np.asarray(top.grid)
    c.expect(grid.ndim == 2 and set(np.unique(grid).tolist()) <= {0, 1, 2}, f"topdown_map().grid is {grid.dtype}{grid.shape} with values {np.unique(grid).tolist()[:5]}; expected 2-D in {{0, 1, 2}}")
    for point, navigable, what in (((3.0, 0.0, 0.6), True, "open floor"), ((2.0, 0.0, 1.3), False, "under the table"), ((2.0, 0.0, -0.05), False, "in the north wall")):
        row, col = top.world_to_cell(np.array(point))
        inside = 0 <= row < grid.shape[0] and 0 <= col < grid.shape[1]
        value = int(grid[row, col]) if inside else None
        c.expect(inside and (value == 2) == navigable, f"topdown_map at {what} {list(point)} is {value}; expected {'2 (navigable)' if navigable else 'not 2'}")


def _check_agents(c: Check, ctx: _Context) -> None:
    sim, r = ctx.sim, ctx.radius
    other_r = 0.08 if r >= 0.16 else r + 0.1
    other = BodySpec(radius=other_r, height=ctx.body.height, max_climb=ctx.body.max_climb)
    before = tuple(sim.agent_ids)
    new = sim.add_agent(other)
    c.expect(isinstance(new, (int, np.integer)) and new not in before and new in tuple(sim.agent_ids),
             f"add_agent returned {new!r}; agent_ids went from {before} to {tuple(sim.agent_ids)}; expected a new id listed in agent_ids")
    c.expect(sim.body(new) == other, f"body({new}) = {sim.body(new)}; expected {other}")
    c.expect(sim.body(0) == ctx.body, f"adding an agent changed body(0) to {sim.body(0)}")
    placed = sim.add_agent(other, AgentState.from_yaw([1.0, 0.0, 2.5], 1.0))
    state = sim.get_agent_state(placed)
    c.expect(np.allclose(_xz(state.position), [1.0, 2.5], atol=1e-3) and abs(wrap_angle(state.yaw - 1.0)) < 1e-6,
             f"add_agent(body, state at (1.0, 2.5), yaw 1.0) placed it at {fmt(state.position)}, yaw {state.yaw:.3f}")
    a0 = _place(sim, 3.5, 2.5)
    a1 = _place(sim, 1.0, 2.0, yaw=0.5, agent_id=new)
    sim.move_agent([0.0, 0.0, -0.5], agent_id=0)
    c.expect(np.allclose(sim.get_agent_state(new).position, a1.position, atol=1e-9), "moving agent 0 moved the added agent")
    sim.move_agent([0.3, 0.0, 0.0], agent_id=new)
    sim.turn_agent(1.0, 10.0, agent_id=new)
    s0, s1 = sim.get_agent_state(0), sim.get_agent_state(new)
    c.expect(np.allclose(_xz(s0.position), [3.5, 2.0], atol=0.01) and abs(wrap_angle(s0.yaw - a0.yaw)) < 1e-9 and s0.tilt == a0.tilt,
             f"moving/turning the added agent changed agent 0 to {fmt(s0.position)}, yaw {s0.yaw:.3f}, tilt {s0.tilt}")
    c.expect(np.allclose(_xz(s1.position), [1.3, 2.0], atol=0.01) and abs(wrap_angle(s1.yaw - 1.5)) < 1e-6,
             f"the added agent is at {fmt(s1.position)}, yaw {s1.yaw:.3f}; expected (1.3, 2.0), yaw 1.5")
    # Geometry is per body: a point between the two radii from the west wall.
    x = (r + other_r) / 2.0
    small, large = (new, 0) if other_r < r else (0, new)
    c.expect(sim.is_navigable([x, 0.0, 2.0], agent_id=small) and not sim.is_navigable([x, 0.0, 2.0], agent_id=large),
             f"({x:.3f}, 0, 2.0), {x:.3f} m from the west wall: navigable for radius {min(r, other_r)} "
             f"{sim.is_navigable([x, 0.0, 2.0], agent_id=small)}, for radius {max(r, other_r)} {sim.is_navigable([x, 0.0, 2.0], agent_id=large)}; expected True, False")
    unknown = max(tuple(sim.agent_ids)) + 100
    try:
        sim.get_agent_state(unknown)
        c.fail(f"get_agent_state({unknown}) of an unknown agent did not raise")
    except (KeyError, ValueError, IndexError):
        pass


def _check_pickle(c: Check, ctx: _Context) -> None:
    sim = ctx.sim
    _place(sim, 2.0, 2.5, yaw=0.3, tilt=-10.0)
    clone = pickle.loads(pickle.dumps(sim))
    spec = CameraSpec(width=48, height=40, outputs=ALL_OUTPUTS)
    a, b = sim.render_agent(spec), clone.render_agent(spec)
    for key in ALL_OUTPUTS:
        same = np.array_equal(np.asarray(a[key]), np.asarray(b[key]))
        c.expect(same, f"the unpickled simulator renders a different {key} frame (max difference {float(np.abs(np.asarray(a[key], float) - np.asarray(b[key], float)).max()):g})")
    c.expect(tuple(clone.agent_ids) == tuple(sim.agent_ids), f"the unpickled simulator has agents {tuple(clone.agent_ids)}; expected {tuple(sim.agent_ids)}")
    sa, sb = sim.get_agent_state(), clone.get_agent_state()
    c.expect(np.allclose(sa.position, sb.position) and np.allclose(sa.rotation, sb.rotation) and sa.tilt == sb.tilt, "the unpickled simulator's agent 0 is elsewhere")
    c.expect(math.isclose(sim.geodesic_distance([3.0, 0.0, 0.6], [[0.6, 0.0, 2.4]]), clone.geodesic_distance([3.0, 0.0, 0.6], [[0.6, 0.0, 2.4]]), rel_tol=1e-9),
             "the unpickled simulator gives another geodesic distance")


#: The checks in running order: name -> function(check, context).
_CHECKS: dict[str, Callable[[Check, _Context], None]] = {
    "scene.instances": _check_scene,
    "agents.agent_zero": _check_agent_zero,
    "set_agent_state.place": _check_set_agent_state,
    "set_agent_state.off_navigable": _check_off_navigable,
    "is_navigable": _check_is_navigable,
    "render.depth_to_wall": _check_depth_to_wall,
    "render.semantic_object": _check_semantic_object,
    "render.batch_outputs": _check_render_batch,
    "render.analytic_pixels": _check_render_analytic,
    "render.batch_equals_single": _check_render_batch_equals_single,
    "render.depth_range": _check_depth_range,
    "move_agent.free": _check_move_free,
    "move_agent.wall": _check_move_wall,
    "move_agent.slide": _check_move_slide,
    "turn_agent": _check_turn,
    "geodesic_distance.l_corridor": _check_geodesic,
    "shortest_path.l_corridor": _check_shortest_path,
    "sample_navigable_point": _check_sampling,
    "navigable_points_near": _check_points_near,
    "topdown_map": _check_topdown,
    "agents.add_agent": _check_agents,
    "pickle": _check_pickle,
}
_NEEDS_CORRIDOR = {"geodesic_distance.l_corridor", "shortest_path.l_corridor", "sample_navigable_point"}


def _validate_body(body: BodySpec | None) -> BodySpec:
    body = BodySpec() if body is None else body
    if not isinstance(body, BodySpec):
        raise InvalidArgumentError(f"body={body!r} must be a navgym BodySpec")
    if body.radius > 0.3 or not 0.8 <= body.height <= 2.4 or body.max_climb >= 0.7:
        raise InvalidArgumentError(
            f"body={body} does not fit the conformance scenes: they need radius <= 0.3 m (1 m corridors), "
            "height in [0.8, 2.4] m (a 0.75 m table must block it, a 2.5 m ceiling must not) and max_climb < 0.7 m"
        )
    return body


def check_simulator(make_simulator: Callable[[Scene, BodySpec], Simulator], *, body: BodySpec | None = None) -> ConformanceReport:
    """Check a simulator backend against analytic ground truth in hand-built box scenes.

    The kit builds a closed room with a table and an L-shaped corridor with a sealed closet (see
    this module's docstring), makes a simulator of each with ``make_simulator(scene, body)``, and
    checks: annotated instances; agent 0 and its body; ``set_agent_state`` (placing on the floor,
    a ``ValueError`` off the navigable area, ``snap=True``); ``is_navigable`` / ``snap_point``
    around walls and the table; ``render`` (depth to a wall straight ahead, the semantic id of the
    table, cameras of several poses, heights, fields of view and sizes in one batched call with
    the right shapes and dtypes, every pixel against an analytic ray caster, batch equal to
    single renders, the depth range); ``move_agent`` (free motion, walls never crossed even by
    one long move, ``collided=True``, sliding at 45 degrees); ``turn_agent`` (yaw by pi/2, tilt
    clamped to [-90, 90]); ``geodesic_distance`` and ``shortest_path`` around the L corner and
    into the unreachable closet; ``sample_navigable_point`` (navigable, reproducible per seed,
    largest region only); ``navigable_points_near``; ``topdown_map``; several agents with their own
    bodies and states; pickling.

    Every check runs even when others fail.

    Args:
        make_simulator: ``(scene, body) -> Simulator``, e.g.
            ``lambda scene, body: EmbeddedSimulator(scene, body=body)``.
        body: Agent 0's body (default :class:`~navgym.core.specs.BodySpec`); radius <= 0.3 m,
            height in [0.8, 2.4] m, max_climb < 0.7 m, so the scenes' geometry means what the
            checks expect.

    Returns:
        A :class:`~navgym.testing.ConformanceReport` of the passed checks (with measurements).

    Raises:
        ConformanceError: (an ``AssertionError``) listing every failed check with measured and
            expected values.
        InvalidArgumentError: For a body the scenes cannot test.
    """
    body = _validate_body(body)
    room, corridor = room_scene(), l_corridor_scene()
    runner = Runner("simulator")
    sims: list[Simulator] = []

    def construct(c: Check, scene: BoxScene) -> None:
        sim = make_simulator(scene.scene, body)
        if c.expect(isinstance(sim, Simulator), f"make_simulator returned {type(sim).__name__}; expected a navgym Simulator"):
            sims.append(sim)

    if not runner.run("construct.room", construct, room):
        return runner.finish()
    sim = sims[0]
    runner.report.subject = f"simulator {type(sim).__name__}"
    context = _Context(room, corridor, body, sim)
    if runner.run("construct.l_corridor", construct, corridor):
        context.corridor_sim = sims[1]
    for name, function in _CHECKS.items():
        if name in _NEEDS_CORRIDOR and context.corridor_sim is None:
            runner.skip(name, "the L-corridor simulator could not be built")
            continue
        runner.run(name, function, context)
    for built in sims:
        with contextlib.suppress(Exception):  # closing is best effort here
            built.close()
    return runner.finish()
