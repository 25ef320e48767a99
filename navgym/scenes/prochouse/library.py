"""The furniture and object library: one composite model builder per category.

Every model is built in its own frame: its footprint spans x in [-w/2, w/2] and z in [0, d], it
stands on y = 0, and its front (if it has one) faces +z, so its back is the side at z = 0 that goes
against a wall. Builders draw their dimensions inside the third of the category's usual range that
matches the requested size (``"small"``, ``"medium"``, ``"large"``), so ``attributes["size"]`` is
truthful relative to the category.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from navgym.scenes.prochouse.geometry import Box, Cylinder, Part, embed_touching, parts_bounds
from navgym.scenes.prochouse.materials import Finish, MaterialLibrary

SIZES = ("small", "medium", "large")
COUNTER_DEPTH = 0.62
COUNTER_HEIGHT = 0.9

#: Colours a house may draw for each furniture material kind.
FINISH_COLOURS: dict[str, tuple[str, ...]] = {
    "wood": ("light brown", "brown", "dark brown", "beige", "white", "black"),
    "fabric": (
        "grey", "light grey", "beige", "cream", "blue", "navy blue", "green", "dark green", "red",
        "burgundy", "yellow", "orange", "pink", "purple", "teal", "brown",
    ),
    "leather": ("black", "brown", "dark brown", "light brown", "white"),
    "metal": ("silver", "black", "gold", "grey"),
    "plastic": ("white", "black", "grey", "red", "blue", "yellow", "green"),
    "ceramic": ("white", "cream", "light blue", "grey", "terracotta", "black"),
    "stone": ("white", "grey", "black", "beige"),
    "leaf": ("green", "dark green", "light green"),
    "paper": ("red", "blue", "green", "yellow", "black", "orange", "purple", "teal", "brown"),
}
#: How many colours of each kind one house uses (keeps the material count modest).
_PALETTE_SIZES = {
    "wood": 3, "fabric": 5, "leather": 2, "metal": 2, "plastic": 3, "ceramic": 3, "stone": 2, "leaf": 2, "paper": 4,
}


class Palette:
    """The furniture colours of one house and its material library.

    Args:
        rng: Generator the house's colour choices are drawn from.
        library: Where materials are created.
    """

    def __init__(self, rng: np.random.Generator, library: MaterialLibrary):
        self.library = library
        self.colours = {
            kind: tuple(str(c) for c in rng.choice(FINISH_COLOURS[kind], size=n, replace=False))
            for kind, n in _PALETTE_SIZES.items()
        }


@dataclass(frozen=True)
class Surface:
    """A horizontal rectangle (x0, z0, x1, z1) at height ``y`` in the model frame, to put things on."""

    rect: tuple[float, float, float, float]
    y: float


@dataclass
class Model:
    """A composite object in its own frame (see the module docstring)."""

    category: str
    parts: list[Part]
    size: str
    colour: str
    material: str
    has_front: bool
    surfaces: list[Surface] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.parts = embed_touching(self.parts)
        self.lo, self.hi = parts_bounds(self.parts)

    @property
    def width(self) -> float:
        return float(self.hi[0] - self.lo[0])

    @property
    def depth(self) -> float:
        return float(self.hi[2] - self.lo[2])

    @property
    def height(self) -> float:
        return float(self.hi[1])

    @property
    def attributes(self) -> dict[str, str]:
        return {"color": self.colour, "material": self.material, "size": self.size}


class Kit:
    """What a builder draws from: the room's generator, the house palette and the size class."""

    def __init__(self, rng: np.random.Generator, palette: Palette, size: str | None = None):
        if size is not None and size not in SIZES:
            raise ValueError(f"Kit: size must be one of {SIZES}, got {size!r}")
        self.rng = rng
        self.palette = palette
        self.size = size or str(rng.choice(SIZES))

    def dim(self, lo: float, hi: float) -> float:
        """A dimension inside the size class's third of [lo, hi]."""
        third = (hi - lo) / 3.0
        start = lo + SIZES.index(self.size) * third
        return round(float(self.rng.uniform(start, start + third)), 3)

    def uniform(self, lo: float, hi: float) -> float:
        return round(float(self.rng.uniform(lo, hi)), 3)

    def chance(self, p: float) -> bool:
        return bool(self.rng.random() < p)

    def pick(self, options: tuple | list):
        return options[int(self.rng.integers(len(options)))]

    def finish(self, kind: str) -> Finish:
        """A material of ``kind`` in one of the house's colours for it."""
        return self.palette.library.finish(kind, self.pick(self.palette.colours[kind]))

    def fixed(self, kind: str, colour: str) -> Finish:
        return self.palette.library.finish(kind, colour)

    def picture(self) -> Finish:
        return self.palette.library.picture()


def box(x0: float, y0: float, z0: float, x1: float, y1: float, z1: float, finish: Finish, fit: bool = False) -> Box:
    return Box((x0, y0, z0), (x1, y1, z1), finish.index, fit)


def post(x: float, z: float, y0: float, y1: float, radius: float, finish: Finish) -> Cylinder:
    """A vertical cylinder standing at (x, z) from y0 to y1."""
    return Cylinder((x, (y0 + y1) / 2, z), radius, (y1 - y0) / 2, 1, finish.index)


def disc_z(x: float, y: float, z0: float, z1: float, radius: float, finish: Finish) -> Cylinder:
    """A cylinder along z (a knob, a porthole) centred at (x, y) from z0 to z1."""
    return Cylinder((x, y, (z0 + z1) / 2), radius, (z1 - z0) / 2, 2, finish.index)


def rod_x(x0: float, x1: float, y: float, z: float, radius: float, finish: Finish) -> Cylinder:
    """A cylinder along x (a log, a dumbbell) from x0 to x1."""
    return Cylinder(((x0 + x1) / 2, y, z), radius, (x1 - x0) / 2, 0, finish.index)


def _legs(w: float, d: float, y1: float, t: float, finish: Finish, inset: float = 0.0) -> list[Part]:
    xs = (-w / 2 + inset, w / 2 - inset - t)
    zs = (inset, d - inset - t)
    return [box(x, 0.0, z, x + t, y1, z + t, finish) for x in xs for z in zs]


def _fronts(
    x0: float, x1: float, y0: float, y1: float, z: float, count: int, finish: Finish, handle: Finish, vertical: bool
) -> list[Part]:
    """``count`` door or drawer fronts side by side (vertical) or stacked, each with a handle."""
    parts: list[Part] = []
    for k in range(count):
        if vertical:
            a = x0 + (x1 - x0) * k / count
            b = x0 + (x1 - x0) * (k + 1) / count
            parts.append(box(a + 0.004, y0, z, b - 0.004, y1, z + 0.016, finish))
            hx = b - 0.05 if k % 2 == 0 else a + 0.03
            ym = (y0 + y1) / 2
            parts.append(box(hx, ym - 0.07, z + 0.016, hx + 0.02, ym + 0.07, z + 0.026, handle))
        else:
            a = y0 + (y1 - y0) * k / count
            b = y0 + (y1 - y0) * (k + 1) / count
            parts.append(box(x0, a + 0.004, z, x1, b - 0.004, z + 0.016, finish))
            xm, ym = (x0 + x1) / 2, (a + b) / 2
            parts.append(box(xm - 0.07, ym - 0.01, z + 0.016, xm + 0.07, ym + 0.01, z + 0.026, handle))
    return parts


def _case(
    kit: Kit, w: float, d: float, h: float, body: Finish, count: int, vertical: bool, plinth: float = 0.06
) -> list[Part]:
    """A carcass with a recessed plinth and door or drawer fronts (cabinets, dressers...)."""
    handle = kit.finish("metal")
    parts = [box(-w / 2, plinth, 0.0, w / 2, h, d - 0.026, body)]
    if plinth > 0:
        parts.append(box(-w / 2 + 0.03, 0.0, 0.02, w / 2 - 0.03, plinth, d - 0.06, body))
    parts += _fronts(-w / 2 + 0.01, w / 2 - 0.01, plinth + 0.01, h - 0.01, d - 0.026, count, body, handle, vertical)
    return parts


def _top_surface(w: float, d: float, y: float, margin: float = 0.04) -> list[Surface]:
    return [Surface((-w / 2 + margin, margin, w / 2 - margin, d - margin), y)]


# -- seating ------------------------------------------------------------------------------------
def chair(kit: Kit) -> Model:
    w, d = kit.dim(0.42, 0.54), kit.dim(0.44, 0.54)
    seat, top = kit.uniform(0.44, 0.48), kit.dim(0.82, 0.98)
    frame = kit.finish(kit.pick(("wood", "wood", "metal")))
    cover = kit.finish(kit.pick(("fabric", "leather", "wood", "plastic")))
    t = 0.04
    parts = [
        box(-w / 2, 0.0, d - t, -w / 2 + t, seat - 0.04, d, frame),
        box(w / 2 - t, 0.0, d - t, w / 2, seat - 0.04, d, frame),
        box(-w / 2, 0.0, 0.0, -w / 2 + t, top, t, frame),
        box(w / 2 - t, 0.0, 0.0, w / 2, top, t, frame),
        box(-w / 2, seat - 0.05, 0.0, w / 2, seat, d, cover),
        box(-w / 2 + t, seat + 0.16, 0.005, w / 2 - t, top - 0.02, 0.035, cover),
    ]
    return Model("chair", parts, kit.size, cover.colour, cover.kind, True)


def _upholstered(kit: Kit, w: float, d: float, h: float, cover: Finish, feet: Finish, cushions: int) -> list[Part]:
    """Sofa-like seat: feet, base, back, two arms and seat cushions."""
    arm, back, seat = kit.uniform(0.12, 0.2), 0.22, 0.44
    arm_h = min(h - 0.1, kit.uniform(0.58, 0.66))
    parts = _legs(w, d, 0.06, 0.05, feet, inset=0.05)
    parts += [
        box(-w / 2, 0.06, 0.0, w / 2, 0.3, d, cover),
        box(-w / 2 + arm, 0.3, 0.0, w / 2 - arm, h, back, cover),
        box(-w / 2, 0.06, 0.0, -w / 2 + arm, arm_h, d, cover),
        box(w / 2 - arm, 0.06, 0.0, w / 2, arm_h, d, cover),
    ]
    span = (w - 2 * arm) / cushions
    for k in range(cushions):
        x0 = -w / 2 + arm + k * span
        parts.append(box(x0 + 0.005, 0.3, back, x0 + span - 0.005, seat, d - 0.02, cover))
    return parts


def _seat_surface(w: float, d: float, arm: float = 0.2) -> list[Surface]:
    return [Surface((-w / 2 + arm + 0.03, 0.22, w / 2 - arm - 0.03, d - 0.08), 0.44)]


def sofa(kit: Kit) -> Model:
    w, d, h = kit.dim(1.5, 2.5), kit.uniform(0.85, 0.98), kit.uniform(0.78, 0.9)
    cover = kit.finish(kit.pick(("fabric", "fabric", "leather")))
    parts = _upholstered(kit, w, d, h, cover, kit.finish("wood"), 2 if w < 1.9 else 3)
    return Model("sofa", parts, kit.size, cover.colour, cover.kind, True, _seat_surface(w, d))


def seating(kit: Kit, variant: str | None = None) -> Model:
    """An armchair, a bench or an ottoman (MP3D's ``seating``)."""
    variant = variant or kit.pick(("armchair", "bench", "ottoman"))
    if variant == "armchair":
        w, d, h = kit.dim(0.7, 0.95), kit.uniform(0.75, 0.9), kit.uniform(0.78, 0.95)
        cover = kit.finish(kit.pick(("fabric", "leather")))
        parts = _upholstered(kit, w, d, h, cover, kit.finish("wood"), 1)
        return Model("seating", parts, kit.size, cover.colour, cover.kind, True)
    if variant == "bench":
        w, d, h = kit.dim(0.9, 1.5), kit.uniform(0.34, 0.44), kit.uniform(0.42, 0.48)
        wood, pad = kit.finish("wood"), kit.finish(kit.pick(("fabric", "leather", "wood")))
        parts = _legs(w, d, h - 0.06, 0.05, wood, inset=0.02) + [
            box(-w / 2, h - 0.08, 0.0, w / 2, h - 0.04, d, wood),
            box(-w / 2 + 0.02, h - 0.04, 0.02, w / 2 - 0.02, h, d - 0.02, pad),
        ]
        return Model("seating", parts, kit.size, pad.colour, pad.kind, False)
    if variant != "ottoman":
        raise ValueError(f"seating: unknown variant {variant!r}")
    r, h = kit.dim(0.2, 0.32), kit.uniform(0.38, 0.45)
    cover = kit.finish(kit.pick(("fabric", "leather")))
    parts = [
        post(0.0, r, 0.0, 0.03, r * 0.8, kit.finish("wood")),
        post(0.0, r, 0.03, h - 0.06, r * 0.95, cover),
        post(0.0, r, h - 0.06, h, r, cover),
    ]
    return Model("seating", parts, kit.size, cover.colour, cover.kind, False)


def stool(kit: Kit, bar: bool | None = None) -> Model:
    bar = kit.chance(0.5) if bar is None else bar
    r = kit.dim(0.15, 0.2)
    h = kit.uniform(0.62, 0.76) if bar else kit.uniform(0.42, 0.5)
    frame, seat = kit.finish(kit.pick(("wood", "metal"))), kit.finish(kit.pick(("wood", "leather", "plastic")))
    a = r * 0.62
    legs = [(x, r + z) for x in (-a, a) for z in (-a, a)]
    parts: list[Part] = [box(x - 0.015, 0.0, z - 0.015, x + 0.015, h - 0.04, z + 0.015, frame) for x, z in legs]
    parts += [
        box(-a, h * 0.3, r - 0.01, a, h * 0.3 + 0.02, r + 0.01, frame),
        box(-0.01, h * 0.3 + 0.02, r - a, 0.01, h * 0.3 + 0.04, r + a, frame),
        post(0.0, r, h - 0.04, h, r, seat),
    ]
    return Model("stool", parts, kit.size, seat.colour, seat.kind, False)


def cushion(kit: Kit) -> Model:
    w, t = kit.dim(0.34, 0.5), kit.uniform(0.12, 0.16)
    h = round(w * kit.uniform(0.88, 1.0), 3)
    cover = kit.finish("fabric")
    parts = [
        box(-w / 2, 0.0, 0.02, w / 2, h, t - 0.02, cover),
        box(-w / 2 + 0.03, 0.03, 0.0, w / 2 - 0.03, h - 0.03, t, cover),
    ]
    return Model("cushion", parts, kit.size, cover.colour, cover.kind, False)


# -- tables and storage -------------------------------------------------------------------------
_TABLE_DIMS = {  # width, depth (None = square), height
    "dining": ((1.2, 2.0), (0.8, 1.0), (0.74, 0.77)),
    "kitchen": ((0.8, 1.2), (0.7, 0.8), (0.74, 0.77)),
    "coffee": ((0.8, 1.3), (0.5, 0.7), (0.38, 0.46)),
    "side": ((0.4, 0.6), None, (0.5, 0.62)),
}


def table(kit: Kit, variant: str = "dining") -> Model:
    if variant not in _TABLE_DIMS:
        raise ValueError(f"table: unknown variant {variant!r}; expected one of {sorted(_TABLE_DIMS)}")
    (w0, w1), depth, (h0, h1) = _TABLE_DIMS[variant]
    w = kit.dim(w0, w1)
    d = w if depth is None else kit.dim(*depth)
    h = kit.uniform(h0, h1)
    top_kind = kit.pick(("wood", "wood", "wood", "stone", "glass")) if variant != "side" else "wood"
    top = kit.fixed("glass", "light blue") if top_kind == "glass" else kit.finish(top_kind)
    frame = kit.finish("metal") if top_kind == "glass" else kit.finish("wood")
    if variant == "side" and kit.chance(0.5):
        r = w / 2
        parts: list[Part] = [
            post(0.0, r, 0.0, 0.03, r * 0.6, frame),
            post(0.0, r, 0.03, h - 0.03, 0.035, frame),
            post(0.0, r, h - 0.03, h, r, top),
        ]
        surfaces = [Surface((-r * 0.65, r * 0.35, r * 0.65, r * 1.65), h)]
    else:
        parts = _legs(w, d, h - 0.04, 0.05, frame, inset=0.04) + [box(-w / 2, h - 0.04, 0.0, w / 2, h, d, top)]
        surfaces = _top_surface(w, d, h)
    colour_from = frame if top_kind == "glass" else top
    return Model("table", parts, kit.size, colour_from.colour, top.kind, False, surfaces)


def desk(kit: Kit) -> Model:
    w, d, h = kit.dim(1.0, 1.7), kit.uniform(0.55, 0.72), kit.uniform(0.72, 0.76)
    top = kit.finish("wood")
    parts: list[Part] = [box(-w / 2, h - 0.03, 0.0, w / 2, h, d, top)]
    if kit.chance(0.5):
        parts += [
            box(-w / 2, 0.0, 0.02, -w / 2 + 0.03, h - 0.03, d - 0.02, top),
            box(w / 2 - 0.03, 0.0, 0.02, w / 2, h - 0.03, d - 0.02, top),
            box(-w / 2 + 0.03, h - 0.45, 0.02, w / 2 - 0.03, h - 0.03, 0.04, top),
        ]
    else:
        parts += _legs(w, d, h - 0.03, 0.04, kit.finish("metal"), inset=0.02)
    if kit.chance(0.5):
        x0 = w / 2 - 0.45
        parts.append(box(x0, 0.02, 0.03, w / 2 - 0.05, h - 0.03, d - 0.05, top))
        handle = kit.finish("metal")
        parts += _fronts(x0 + 0.01, w / 2 - 0.06, 0.03, h - 0.05, d - 0.05, 3, top, handle, vertical=False)
    return Model("desk", parts, kit.size, top.colour, top.kind, True, _top_surface(w, d, h))


_CABINET_DIMS = {  # width, depth, height, plinth
    "sideboard": ((1.0, 1.8), (0.4, 0.5), (0.7, 0.9), 0.06),
    "tall": ((0.5, 0.9), (0.35, 0.45), (1.5, 2.0), 0.06),
    "tv_stand": ((1.2, 1.8), (0.38, 0.45), (0.4, 0.55), 0.04),
    "shoe": ((0.7, 1.1), (0.3, 0.36), (0.8, 1.0), 0.05),
    "narrow": ((0.35, 0.5), (0.3, 0.35), (0.8, 1.6), 0.05),
    "upper": ((0.4, 1.2), (0.32, 0.35), (0.6, 0.72), 0.0),
}


def cabinet(kit: Kit, variant: str = "sideboard", width: float | None = None) -> Model:
    if variant not in _CABINET_DIMS:
        raise ValueError(f"cabinet: unknown variant {variant!r}; expected one of {sorted(_CABINET_DIMS)}")
    (w0, w1), depth, (h0, h1), plinth = _CABINET_DIMS[variant]
    if width is not None:
        kit.size = size_class(width, w0, w1)
    w = width if width is not None else kit.dim(w0, w1)
    d, h = kit.uniform(*depth), kit.uniform(h0, h1)
    body = kit.finish(kit.pick(("wood", "wood", "plastic")))
    parts = _case(kit, w, d, h, body, max(1, round(w / 0.5)), vertical=True, plinth=plinth)
    surfaces = _top_surface(w, d, h) if h < 1.3 and variant != "upper" else []
    return Model("cabinet", parts, kit.size, body.colour, body.kind, True, surfaces)


def chest_of_drawers(kit: Kit) -> Model:
    w, d, h = kit.dim(0.7, 1.3), kit.uniform(0.42, 0.5), kit.dim(0.75, 1.15)
    body = kit.finish("wood")
    parts = _case(kit, w, d, h, body, 3 if h < 0.95 else 4, vertical=False)
    return Model("chest_of_drawers", parts, kit.size, body.colour, body.kind, True, _top_surface(w, d, h))


def nightstand(kit: Kit) -> Model:
    w, d, h = kit.dim(0.38, 0.55), kit.uniform(0.35, 0.45), kit.uniform(0.48, 0.62)
    body = kit.finish("wood")
    parts = _legs(w, d - 0.03, 0.08, 0.04, body, inset=0.02) + [box(-w / 2, 0.08, 0.0, w / 2, h, d - 0.026, body)]
    drawers, handle = kit.pick((1, 2)), kit.finish("metal")
    parts += _fronts(-w / 2 + 0.01, w / 2 - 0.01, 0.09, h - 0.01, d - 0.026, drawers, body, handle, vertical=False)
    return Model("nightstand", parts, kit.size, body.colour, body.kind, True, _top_surface(w, d, h))


def wardrobe(kit: Kit) -> Model:
    w, d, h = kit.dim(0.9, 2.0), kit.uniform(0.55, 0.63), kit.uniform(1.9, 2.2)
    body = kit.finish(kit.pick(("wood", "wood", "plastic")))
    parts = _case(kit, w, d, h, body, max(2, round(w / 0.6)), vertical=True, plinth=0.08)
    return Model("wardrobe", parts, kit.size, body.colour, body.kind, True)


def bookshelf(kit: Kit) -> Model:
    w, d, h = kit.dim(0.6, 1.2), kit.uniform(0.28, 0.38), kit.dim(1.1, 2.0)
    wood, t = kit.finish("wood"), 0.02
    parts: list[Part] = [
        box(-w / 2, 0.0, 0.0, -w / 2 + t, h, d, wood),
        box(w / 2 - t, 0.0, 0.0, w / 2, h, d, wood),
        box(-w / 2 + t, h - t, 0.0, w / 2 - t, h, d, wood),
        box(-w / 2 + t, 0.0, 0.0, w / 2 - t, 0.08, d, wood),
        box(-w / 2 + t, 0.08, 0.0, w / 2 - t, h - t, 0.012, wood),
    ]
    levels = max(2, int((h - 0.1) / 0.34))
    spacing = (h - t - 0.08) / levels
    for k in range(levels):
        y = 0.08 + k * spacing
        if k > 0:
            parts.append(box(-w / 2 + t, y - t, 0.012, w / 2 - t, y, d, wood))
        parts += _book_row(kit, -w / 2 + t, w / 2 - t, y, min(0.3, spacing - 0.05), d - 0.04)
    surfaces = _top_surface(w, d, h) if h < 1.4 else []
    return Model("bookshelf", parts, kit.size, wood.colour, wood.kind, True, surfaces)


def _book_row(kit: Kit, x0: float, x1: float, y: float, max_h: float, depth: float) -> list[Part]:
    parts: list[Part] = []
    x = x0 + kit.uniform(0.0, 0.1)
    for _ in range(int(kit.rng.integers(3, 9))):
        thick, tall = kit.uniform(0.025, 0.06), kit.uniform(0.7 * max_h, max_h)
        if x + thick > x1 - 0.01:
            break
        parts.append(box(x, y, 0.02, x + thick, y + tall, depth, kit.finish("paper")))
        x += thick + 0.002
    return parts


# -- beds and bedroom ---------------------------------------------------------------------------
_BED_WIDTHS = {"small": (0.9, 1.0), "medium": (1.35, 1.45), "large": (1.55, 1.85)}


def bed(kit: Kit) -> Model:
    w = kit.uniform(*_BED_WIDTHS[kit.size])
    head, length = 0.06, kit.uniform(1.95, 2.1)
    d = head + length
    frame, sheet = kit.finish("wood"), kit.fixed("fabric", "white")
    duvet = kit.finish("fabric")
    parts = _legs(w, d, 0.12, 0.06, frame) + [
        box(-w / 2, 0.12, head, w / 2, 0.32, d, frame),
        box(-w / 2, 0.0, 0.0, w / 2, kit.uniform(0.9, 1.2), head, frame),
        box(-w / 2 + 0.02, 0.32, head + 0.02, w / 2 - 0.02, 0.54, d - 0.02, sheet),
        box(-w / 2, 0.42, head + 0.5, w / 2, 0.58, d, duvet),
    ]
    pillows = 1 if w < 1.2 else 2
    pw = min(0.62, (w - 0.12) / pillows - 0.04)
    for k in range(pillows):
        xc = -w / 2 + (k + 0.5) * w / pillows
        parts.append(box(xc - pw / 2, 0.54, head + 0.05, xc + pw / 2, 0.66, head + 0.42, sheet))
    surfaces = [Surface((-w / 2 + 0.08, head + 0.5, w / 2 - 0.08, d - 0.1), 0.58)]
    return Model("bed", parts, kit.size, duvet.colour, duvet.kind, True, surfaces)


def clothes(kit: Kit, variant: str | None = None) -> Model:
    """A folded pile (to put on things) or a clothes rack with hanging garments."""
    variant = variant or kit.pick(("folded", "rack"))
    if variant == "folded":
        w, d = kit.dim(0.26, 0.38), kit.uniform(0.22, 0.3)
        parts: list[Part] = []
        y = 0.0
        fabrics = [kit.finish("fabric") for _ in range(int(kit.rng.integers(2, 5)))]
        for cloth in fabrics:
            t = kit.uniform(0.03, 0.06)
            x0, z0, x1, z1 = (kit.uniform(0.0, 0.02) for _ in range(4))
            parts.append(box(-w / 2 + x0, y, z0, w / 2 - x1, y + t, d - z1, cloth))
            y += t
        return Model("clothes", parts, kit.size, fabrics[0].colour, "fabric", False)
    if variant != "rack":
        raise ValueError(f"clothes: unknown variant {variant!r}")
    w, d, h = kit.dim(0.8, 1.3), kit.uniform(0.45, 0.55), kit.uniform(1.5, 1.7)
    metal = kit.finish("metal")
    parts = [box(-w / 2, 0.0, 0.0, -w / 2 + 0.04, 0.04, d, metal), box(w / 2 - 0.04, 0.0, 0.0, w / 2, 0.04, d, metal)]
    parts += [post(x, d / 2, 0.04, h, 0.015, metal) for x in (-w / 2 + 0.02, w / 2 - 0.02)]
    parts.append(box(-w / 2 + 0.02, h - 0.03, d / 2 - 0.012, w / 2 - 0.02, h, d / 2 + 0.012, metal))
    count = int(kit.rng.integers(3, 8))
    main = kit.finish("fabric")
    for k in range(count):
        x = -w / 2 + 0.12 + k * (w - 0.24) / max(1, count - 1)
        garment = main if k % 2 == 0 else kit.finish("fabric")
        gd = kit.uniform(0.36, 0.44)
        length = kit.uniform(0.6, 1.0)
        parts.append(box(x - 0.025, h - 0.05 - length, d / 2 - gd / 2, x + 0.025, h - 0.04, d / 2 + gd / 2, garment))
    return Model("clothes", parts, kit.size, main.colour, "fabric", False)


def lamp(kit: Kit, variant: str | None = None) -> Model:
    variant = variant or kit.pick(("floor", "table"))
    base = kit.finish(kit.pick(("metal", "ceramic", "wood")))
    shade = kit.fixed("fabric", kit.pick(("cream", "white", "beige")))
    if variant == "floor":
        h, r = kit.dim(1.4, 1.75), kit.uniform(0.18, 0.24)
        parts = [
            post(0.0, r, 0.0, 0.03, 0.14, base),
            post(0.0, r, 0.03, h - 0.26, 0.014, base),
            post(0.0, r, h - 0.3, h, r, shade),
        ]
    elif variant == "table":
        hb, r = kit.dim(0.2, 0.34), kit.uniform(0.11, 0.15)
        parts = [
            post(0.0, r, 0.0, 0.02, 0.07, base),
            post(0.0, r, 0.02, hb, 0.045, base),
            post(0.0, r, hb - 0.04, hb + 0.14, r, shade),
        ]
    else:
        raise ValueError(f"lamp: unknown variant {variant!r}")
    return Model("lamp", parts, kit.size, shade.colour, base.kind, False)


def mirror(kit: Kit, tall: bool = False) -> Model:
    w = kit.dim(0.4, 0.7) if tall else kit.dim(0.4, 0.9)
    h = kit.uniform(1.1, 1.5) if tall else kit.uniform(0.5, 0.8)
    frame, glass = kit.finish(kit.pick(("wood", "metal"))), kit.fixed("glass", "silver")
    parts = [
        box(-w / 2, 0.0, 0.0, w / 2, h, 0.025, frame),
        box(-w / 2 + 0.03, 0.03, 0.025, w / 2 - 0.03, h - 0.03, 0.032, glass),
    ]
    return Model("mirror", parts, kit.size, glass.colour, glass.kind, True)


def picture(kit: Kit) -> Model:
    w = kit.dim(0.35, 1.1)
    h = round(min(0.9, max(0.3, w * kit.uniform(0.6, 1.0))), 3)
    frame, canvas = kit.finish(kit.pick(("wood", "metal"))), kit.picture()
    b = min(0.05, 0.08 * min(w, h))
    parts = [
        box(-w / 2, 0.0, 0.0, w / 2, h, 0.025, frame),
        box(-w / 2 + b, b, 0.025, w / 2 - b, h - b, 0.035, canvas, fit=True),
    ]
    return Model("picture", parts, kit.size, canvas.colour, "canvas", True)


# -- living room --------------------------------------------------------------------------------
def tv_monitor(kit: Kit, variant: str = "wall") -> Model:
    """A wall-mounted TV (6.4 cm deep), a TV on a foot stand, or a computer monitor."""
    if variant not in ("wall", "stand", "monitor"):
        raise ValueError(f"tv_monitor: unknown variant {variant!r}")
    w = kit.dim(0.48, 0.7) if variant == "monitor" else kit.dim(0.8, 1.45)
    h = round(w * 0.58, 3)
    shell, screen = kit.fixed("plastic", kit.pick(("black", "black", "grey", "white"))), kit.fixed("screen", "black")
    if variant == "wall":
        bottom, z = 0.0, 0.058
        parts: list[Part] = [
            box(-0.15, h / 2 - 0.15, 0.0, 0.15, h / 2 + 0.15, 0.02, kit.fixed("metal", "black")),
            box(-w / 2, 0.0, 0.02, w / 2, h, z, shell),
        ]
    else:
        foot = 0.2 if variant == "monitor" else 0.24
        bottom, z = (0.1 if variant == "monitor" else 0.08), foot / 2 + 0.02
        parts = [
            box(-0.12 - w * 0.1, 0.0, 0.0, 0.12 + w * 0.1, 0.02, foot, shell),
            box(-0.03, 0.02, foot / 2 - 0.06, 0.03, bottom + 0.1, foot / 2 - 0.02, shell),
            box(-w / 2, bottom, foot / 2 - 0.02, w / 2, bottom + h, z, shell),
        ]
    parts.append(box(-w / 2 + 0.015, bottom + 0.015, z, w / 2 - 0.015, bottom + h - 0.015, z + 0.005, screen, fit=True))
    return Model("tv_monitor", parts, kit.size, shell.colour, shell.kind, True)


def fireplace(kit: Kit) -> Model:
    w, d, h = kit.dim(1.1, 1.7), kit.uniform(0.35, 0.45), kit.uniform(1.0, 1.2)
    stone, mantel, soot = kit.finish("stone"), kit.finish("wood"), kit.fixed("stone", "black")
    fw, fh = round(w * 0.45, 3), round((h - 0.3) * 0.7, 3)
    logs = kit.fixed("wood", "dark brown")
    parts = [
        box(-w / 2, 0.0, 0.0, w / 2, 0.06, d, stone),
        box(-w / 2 + 0.05, 0.06, 0.0, w / 2 - 0.05, h - 0.06, d - 0.1, stone),
        box(-fw / 2, 0.1, d - 0.1, fw / 2, 0.1 + fh, d - 0.09, soot),
        rod_x(-fw / 2 + 0.05, fw / 2 - 0.05, 0.1, d - 0.05, 0.04, logs),
        box(-w / 2, h - 0.06, 0.0, w / 2, h, d - 0.05, mantel),
    ]
    mantel_top = Surface((-w / 2 + 0.05, 0.05, w / 2 - 0.05, d - 0.08), h)
    return Model("fireplace", parts, kit.size, stone.colour, stone.kind, True, [mantel_top])


def plant(kit: Kit, variant: str = "floor") -> Model:
    if variant not in ("floor", "table"):
        raise ValueError(f"plant: unknown variant {variant!r}")
    small = variant == "table"
    pot_r = kit.uniform(0.05, 0.09) if small else kit.dim(0.13, 0.22)
    pot_h = kit.uniform(0.08, 0.14) if small else kit.uniform(0.25, 0.4)
    tall = kit.dim(0.12, 0.3) if small else kit.dim(0.5, 1.3)
    spread = pot_r * kit.uniform(1.1, 1.7)
    r = max(pot_r, spread)
    pot, leaf = kit.finish(kit.pick(("ceramic", "plastic"))), kit.finish("leaf")
    parts: list[Part] = [
        post(0.0, r, 0.0, pot_h, pot_r, pot),
        post(0.0, r, pot_h - 0.02, pot_h + 0.005, pot_r * 0.88, kit.fixed("soil", "dark brown")),
        post(0.0, r, pot_h, pot_h + tall * 0.6, 0.006 if small else 0.015, kit.fixed("wood", "brown")),
    ]
    if kit.chance(0.5):  # layered, like a young conifer
        for k in range(3):
            y0 = pot_h + tall * (0.2 + 0.27 * k)
            parts.append(post(0.0, r, y0, y0 + tall * 0.3, spread * (1.0 - 0.28 * k), leaf))
    else:  # a bushy cluster of leaf blocks
        for _ in range(int(kit.rng.integers(3, 6))):
            half = spread * kit.uniform(0.35, 0.6)
            cx, cz = kit.uniform(-spread + half, spread - half), kit.uniform(-spread + half, spread - half)
            y0 = pot_h + tall * kit.uniform(0.2, 0.6)
            y1 = min(pot_h + tall, y0 + 2 * half)
            parts.append(box(cx - half, y0, r + cz - half, cx + half, y1, r + cz + half, leaf))
    return Model("plant", parts, kit.size, leaf.colour, pot.kind, False)


def vase(kit: Kit) -> Model:
    r, h = kit.dim(0.05, 0.11), kit.dim(0.15, 0.4)
    body = kit.finish("ceramic") if kit.chance(0.75) else kit.fixed("glass", "light blue")
    parts: list[Part] = [
        post(0.0, r, 0.0, h * 0.75, r, body),
        post(0.0, r, h * 0.75, h * 0.9, r * 0.75, body),
        post(0.0, r, h * 0.9, h, r * 0.5, body),
    ]
    if kit.chance(0.4):
        petal = kit.fixed("leaf", kit.pick(("red", "pink", "yellow", "orange")))
        for dx in (-0.3, 0.0, 0.3):
            x = dx * r
            parts.append(post(x, r, h, h + 0.12, 0.005, kit.fixed("leaf", "green")))
            parts.append(box(x - 0.025, h + 0.12, r - 0.025, x + 0.025, h + 0.16, r + 0.025, petal))
    return Model("vase", parts, kit.size, body.colour, body.kind, False)


def bowl(kit: Kit) -> Model:
    r = kit.dim(0.08, 0.16)
    h = round(r * kit.uniform(0.4, 0.6), 3)
    body = kit.finish(kit.pick(("ceramic", "wood"))) if kit.chance(0.85) else kit.fixed("glass", "light blue")
    parts: list[Part] = [post(0.0, r, 0.0, 0.015, r * 0.5, body), post(0.0, r, 0.015, h, r, body)]
    if kit.chance(0.6):
        for k in range(int(kit.rng.integers(2, 5))):
            angle = 2 * np.pi * k / 4
            fruit = kit.fixed("plastic", kit.pick(("red", "yellow", "green")))
            x, z = 0.45 * r * np.cos(angle), r + 0.45 * r * np.sin(angle)
            parts.append(post(x, z, h - 0.02, h + 0.05, 0.035, fruit))
    return Model("bowl", parts, kit.size, body.colour, body.kind, False)


def book(kit: Kit) -> Model:
    w = kit.dim(0.13, 0.22)
    d = round(w * kit.uniform(1.3, 1.5), 3)
    t = kit.uniform(0.015, 0.05)
    cover, pages = kit.finish("paper"), kit.fixed("paper", "cream")
    parts = [
        box(-w / 2, 0.0, 0.0, w / 2, 0.003, d, cover),
        box(-w / 2, t - 0.003, 0.0, w / 2, t, d, cover),
        box(-w / 2, 0.003, 0.0, -w / 2 + 0.004, t - 0.003, d, cover),
        box(-w / 2 + 0.004, 0.003, 0.004, w / 2 - 0.004, t - 0.003, d - 0.004, pages),
    ]
    return Model("book", parts, kit.size, cover.colour, cover.kind, False)


def laptop(kit: Kit) -> Model:
    w = kit.dim(0.3, 0.4)
    d = round(w * 0.68, 3)
    shell = kit.fixed(kit.pick(("metal", "plastic")), kit.pick(("silver", "black", "grey")))
    keys, screen = kit.fixed("plastic", "black"), kit.fixed("screen", "black")
    lid = round(d * 0.95, 3)
    parts = [
        box(-w / 2, 0.0, 0.0, w / 2, 0.018, d, shell),
        box(-w / 2 + 0.02, 0.018, 0.04, w / 2 - 0.02, 0.021, d * 0.6, keys),
        box(-w / 2, 0.018, 0.0, w / 2, 0.018 + lid, 0.01, shell),
        box(-w / 2 + 0.012, 0.03, 0.01, w / 2 - 0.012, 0.006 + lid, 0.013, screen, fit=True),
    ]
    return Model("laptop", parts, kit.size, shell.colour, shell.kind, True)


def gym_equipment(kit: Kit, variant: str | None = None) -> Model:
    """A treadmill, an exercise bike or a weight bench with dumbbells, long side along x."""
    variant = variant or kit.pick(("treadmill", "bike", "bench"))
    dark, accent = kit.fixed("metal", "black"), kit.fixed("plastic", kit.pick(("red", "grey", "blue", "black")))
    if variant == "treadmill":
        length, w = kit.dim(1.6, 1.9), kit.uniform(0.75, 0.85)
        parts: list[Part] = [
            box(-length / 2, 0.0, 0.0, length / 2, 0.15, w, dark),
            box(-length / 2 + 0.1, 0.15, 0.1, length / 2 - 0.3, 0.17, w - 0.1, kit.fixed("plastic", "black")),
            box(length / 2 - 0.2, 0.15, 0.02, length / 2 - 0.12, 1.25, 0.1, dark),
            box(length / 2 - 0.2, 0.15, w - 0.1, length / 2 - 0.12, 1.25, w - 0.02, dark),
            box(length / 2 - 0.3, 1.2, 0.02, length / 2 - 0.04, 1.34, w - 0.02, accent),
        ]
    elif variant == "bike":
        length, w = kit.dim(0.95, 1.15), 0.5
        parts = [
            box(-length / 2, 0.0, 0.05, -length / 2 + 0.08, 0.06, w - 0.05, dark),
            box(length / 2 - 0.08, 0.0, 0.05, length / 2, 0.06, w - 0.05, dark),
            box(-length / 2 + 0.04, 0.06, w / 2 - 0.03, length / 2 - 0.04, 0.12, w / 2 + 0.03, dark),
            box(-length / 2 + 0.2, 0.12, w / 2 - 0.03, -length / 2 + 0.26, 0.85, w / 2 + 0.03, dark),
            box(-length / 2 + 0.1, 0.85, w / 2 - 0.12, -length / 2 + 0.4, 0.92, w / 2 + 0.12, accent),
            box(length / 2 - 0.3, 0.12, w / 2 - 0.03, length / 2 - 0.24, 1.1, w / 2 + 0.03, dark),
            box(length / 2 - 0.32, 1.05, 0.0, length / 2 - 0.22, 1.1, w, dark),
            disc_z(length / 2 - 0.3, 0.35, w / 2 - 0.1, w / 2 - 0.04, 0.22, accent),
        ]
    elif variant == "bench":
        length, w = kit.dim(1.1, 1.4), 0.6
        pad = kit.fixed("leather", "black")
        parts = [
            box(-length / 2, 0.0, 0.15, -length / 2 + 0.06, 0.4, 0.45, dark),
            box(length / 2 - 0.06, 0.0, 0.15, length / 2, 0.4, 0.45, dark),
            box(-length / 2, 0.0, 0.1, -length / 2 + 0.06, 0.03, 0.5, dark),
            box(length / 2 - 0.06, 0.0, 0.1, length / 2, 0.03, 0.5, dark),
            box(-length / 2, 0.4, 0.15, length / 2, 0.48, 0.45, pad),
        ]
        for z in (0.03, w - 0.03):
            parts += [  # a dumbbell: bar and two plates
                rod_x(-0.15, 0.15, 0.06, z, 0.012, dark),
                rod_x(-0.15, -0.1, 0.06, z, 0.03, dark),
                rod_x(0.1, 0.15, 0.06, z, 0.03, dark),
            ]
    else:
        raise ValueError(f"gym_equipment: unknown variant {variant!r}")
    return Model("gym_equipment", parts, kit.size, accent.colour, "metal", False)


# -- kitchen ------------------------------------------------------------------------------------
def size_class(value: float, lo: float, hi: float) -> str:
    """The size class of ``value`` within the usual range [lo, hi]."""
    third = (hi - lo) / 3.0
    return SIZES[min(2, max(0, int((value - lo) // third)))]


def counter(
    kit: Kit, width: float, depth: float = COUNTER_DEPTH, body: Finish | None = None, top: Finish | None = None
) -> Model:
    """A base unit with doors and a worktop, ``width`` wide (a kitchen run is a row of these)."""
    kit.size = size_class(width, 0.4, 2.0)
    body = body or kit.finish(kit.pick(("wood", "plastic")))
    parts = _base_unit(kit, width, depth, body, top or kit.finish(kit.pick(("stone", "wood"))))
    worktop = _top_surface(width, depth, COUNTER_HEIGHT, margin=0.05)
    return Model("counter", parts, kit.size, body.colour, body.kind, True, worktop)


def _base_unit(kit: Kit, width: float, depth: float, body: Finish, top: Finish) -> list[Part]:
    """A kitchen base unit: plinth, carcass, doors and a worktop at counter height."""
    h = COUNTER_HEIGHT
    parts = _case(kit, width, depth - 0.03, h - 0.04, body, max(1, round(width / 0.5)), vertical=True, plinth=0.1)
    return parts + [box(-width / 2, h - 0.04, 0.0, width / 2, h, depth, top)]


def sink(kit: Kit, variant: str = "vanity", body: Finish | None = None, top: Finish | None = None) -> Model:
    """A bathroom vanity or pedestal sink, or a kitchen sink unit (``variant="kitchen"``)."""
    tap = kit.fixed("metal", "silver")
    ceramic = kit.fixed("ceramic", kit.pick(("white", "white", "cream")))
    if variant == "kitchen":
        w = kit.dim(0.6, 0.9)
        body = body or kit.finish(kit.pick(("wood", "plastic")))
        basin = kit.fixed("metal", "silver")
        rim = box(-w / 2 + 0.08, COUNTER_HEIGHT, 0.12, w / 2 - 0.08, COUNTER_HEIGHT + 0.01, COUNTER_DEPTH - 0.1, basin)
        parts = _base_unit(kit, w, COUNTER_DEPTH, body, top or kit.finish("stone")) + [rim]
        colour, material = basin.colour, basin.kind
        h = COUNTER_HEIGHT
    elif variant == "vanity":
        w, d, h = kit.dim(0.5, 1.0), kit.uniform(0.42, 0.5), kit.uniform(0.82, 0.88)
        body = kit.finish(kit.pick(("wood", "plastic")))
        parts = _case(kit, w, d, h - 0.04, body, 1 if w < 0.7 else 2, vertical=True, plinth=0.08)
        r = round(min(0.2, w / 2 - 0.06, d / 2 - 0.04), 3)
        parts += [
            box(-w / 2, h - 0.04, 0.0, w / 2, h, d, kit.finish("stone")),
            post(0.0, d / 2 + 0.02, h, h + 0.12, r, ceramic),
        ]
        colour, material = ceramic.colour, ceramic.kind
    elif variant == "pedestal":
        w, d, h = kit.dim(0.45, 0.62), kit.uniform(0.42, 0.5), kit.uniform(0.82, 0.88)
        parts = [post(0.0, 0.2, 0.0, h - 0.17, 0.09, ceramic), box(-w / 2, h - 0.18, 0.0, w / 2, h, d, ceramic)]
        colour, material = ceramic.colour, ceramic.kind
    else:
        raise ValueError(f"sink: unknown variant {variant!r}")
    parts += [post(0.0, 0.06, h, h + 0.24, 0.015, tap), box(-0.012, h + 0.2, 0.06, 0.012, h + 0.23, 0.17, tap)]
    return Model("sink", parts, kit.size, colour, material, True)


def stove(kit: Kit) -> Model:
    w, d, h = kit.dim(0.58, 0.78), COUNTER_DEPTH, COUNTER_HEIGHT
    body = kit.fixed(*kit.pick((("metal", "silver"), ("metal", "silver"), ("metal", "black"), ("plastic", "white"))))
    black, glass = kit.fixed("plastic", "black"), kit.fixed("glass", "dark grey")
    parts: list[Part] = [
        box(-w / 2, 0.0, 0.0, w / 2, h - 0.02, d - 0.03, body),
        box(-w / 2 + 0.03, 0.1, d - 0.03, w / 2 - 0.03, 0.7, d - 0.012, body),
        box(-w / 2 + 0.1, 0.25, d - 0.012, w / 2 - 0.1, 0.55, d - 0.006, glass),
        box(-w / 2 + 0.08, 0.63, d - 0.006, w / 2 - 0.08, 0.65, d, body),
        box(-w / 2, h - 0.02, 0.0, w / 2, h, d, black),
    ]
    for x in (-w / 4, w / 4):
        for z in (d * 0.3, d * 0.68):
            parts.append(post(x, z, h, h + 0.012, 0.075, kit.fixed("metal", "black")))
    for k in range(4):
        parts.append(disc_z(-w / 2 + (k + 1) * w / 5, 0.8, d - 0.03, d - 0.01, 0.02, black))
    return Model("stove", parts, kit.size, body.colour, body.kind, True)


def refrigerator(kit: Kit) -> Model:
    w, d, h = kit.dim(0.6, 0.85), kit.uniform(0.62, 0.72), kit.dim(1.6, 1.95)
    body = kit.fixed(*kit.pick((("metal", "silver"), ("metal", "silver"), ("plastic", "white"), ("plastic", "black"))))
    handle = kit.fixed("metal", "grey")
    parts: list[Part] = [
        box(-w / 2, 0.02, 0.0, w / 2, h, d - 0.04, body),
        box(-w / 2 + 0.03, 0.0, 0.03, w / 2 - 0.03, 0.02, d - 0.1, handle),
    ]
    if w > 0.75:  # side by side
        for x0, x1, hx in ((-w / 2, -0.003, -0.05), (0.003, w / 2, 0.03)):
            parts += [
                box(x0 + 0.005, 0.03, d - 0.04, x1 - 0.005, h - 0.01, d - 0.015, body),
                box(hx, 0.7, d - 0.015, hx + 0.02, 1.3, d, handle),
            ]
    else:  # freezer drawer at the bottom
        parts += [
            box(-w / 2 + 0.005, 0.03, d - 0.04, w / 2 - 0.005, 0.7, d - 0.015, body),
            box(-w / 2 + 0.005, 0.71, d - 0.04, w / 2 - 0.005, h - 0.01, d - 0.015, body),
            box(-0.15, 0.6, d - 0.015, 0.15, 0.62, d, handle),
            box(w / 2 - 0.08, 0.8, d - 0.015, w / 2 - 0.06, 1.3, d, handle),
        ]
    return Model("refrigerator", parts, kit.size, body.colour, body.kind, True)


def dishwasher(kit: Kit) -> Model:
    w, d, h = kit.dim(0.56, 0.62), COUNTER_DEPTH, COUNTER_HEIGHT
    body = kit.fixed("metal", "silver") if kit.chance(0.6) else kit.fixed("plastic", "white")
    black = kit.fixed("plastic", "black")
    parts = [
        box(-w / 2, 0.0, 0.0, w / 2, h, d - 0.03, body),
        box(-w / 2 + 0.005, 0.1, d - 0.03, w / 2 - 0.005, h - 0.08, d - 0.012, body),
        box(-w / 2 + 0.005, h - 0.075, d - 0.03, w / 2 - 0.005, h - 0.01, d - 0.012, black),
        box(-w / 2 + 0.1, h - 0.14, d - 0.012, w / 2 - 0.1, h - 0.12, d, body),
    ]
    return Model("dishwasher", parts, kit.size, body.colour, body.kind, True, _top_surface(w, d, h))


def washing_machine(kit: Kit) -> Model:
    w, d, h = kit.dim(0.56, 0.64), kit.uniform(0.55, 0.62), kit.uniform(0.82, 0.88)
    body = kit.fixed("plastic", "white") if kit.chance(0.7) else kit.fixed("metal", kit.pick(("silver", "grey")))
    ring, glass = kit.fixed("plastic", "grey"), kit.fixed("glass", "dark grey")
    yc = round(0.42 * h + 0.03, 3)
    parts = [
        box(-w / 2, 0.0, 0.0, w / 2, h, d - 0.03, body),
        box(-w / 2 + 0.02, h - 0.12, d - 0.03, w / 2 - 0.02, h - 0.02, d - 0.02, kit.fixed("plastic", "light grey")),
        disc_z(0.0, yc, d - 0.03, d - 0.012, 0.2, ring),
        disc_z(0.0, yc, d - 0.012, d, 0.14, glass),
        disc_z(w / 2 - 0.1, h - 0.07, d - 0.02, d - 0.008, 0.03, ring),
    ]
    return Model("washing_machine", parts, kit.size, body.colour, body.kind, True, _top_surface(w, d - 0.03, h))


def microwave(kit: Kit) -> Model:
    w, d, h = kit.dim(0.42, 0.56), kit.uniform(0.34, 0.42), kit.uniform(0.26, 0.33)
    body = kit.fixed(*kit.pick((("plastic", "white"), ("plastic", "black"), ("metal", "silver"))))
    black, glass = kit.fixed("plastic", "black"), kit.fixed("glass", "dark grey")
    parts = _legs(w, d - 0.01, 0.01, 0.03, black, inset=0.02) + [
        box(-w / 2, 0.01, 0.0, w / 2, h, d - 0.01, body),
        box(-w / 2 + 0.01, 0.02, d - 0.01, w / 2 - 0.14, h - 0.02, d, glass),
        box(w / 2 - 0.13, 0.02, d - 0.01, w / 2 - 0.01, h - 0.02, d, black),
    ]
    return Model("microwave", parts, kit.size, body.colour, body.kind, True)


# -- bathroom -----------------------------------------------------------------------------------
def toilet(kit: Kit) -> Model:
    w, d, h = kit.dim(0.38, 0.46), kit.uniform(0.64, 0.74), kit.uniform(0.74, 0.82)
    ceramic = kit.fixed("ceramic", kit.pick(("white", "white", "white", "cream", "grey")))
    cz = d - 0.19
    parts = [
        box(-w / 2, 0.38, 0.0, w / 2, h, 0.2, ceramic),
        box(-0.11, 0.0, 0.18, 0.11, 0.38, d - 0.22, ceramic),
        box(-0.12, 0.3, 0.15, 0.12, 0.42, d - 0.3, ceramic),
        post(0.0, cz, 0.25, 0.4, 0.18, ceramic),
        post(0.0, cz, 0.4, 0.425, 0.19, ceramic),
        box(0.1, h, 0.07, 0.16, h + 0.01, 0.13, kit.fixed("metal", "silver")),
    ]
    return Model("toilet", parts, kit.size, ceramic.colour, ceramic.kind, True)


def shower(kit: Kit) -> Model:
    w, d = kit.dim(0.8, 1.0), kit.uniform(0.8, 1.0)
    tray, glass, metal = kit.fixed("ceramic", "white"), kit.fixed("glass", "light blue"), kit.fixed("metal", "silver")
    # A raised tray (0.22 m, above an agent's climbing height): the cubicle is not floor.
    top, step = 2.0, 0.22
    entry = kit.uniform(0.45, 0.55)
    parts = [
        box(-w / 2, 0.0, 0.0, w / 2, step, d, tray),
        box(-w / 2, step, 0.0, -w / 2 + 0.025, top, d, glass),
        box(w / 2 - 0.025, step, 0.0, w / 2, top, d, glass),
        box(-w / 2 + 0.025, step, d - 0.025, w / 2 - 0.025 - entry, top, d, glass),
        post(0.0, 0.03, step, 1.95, 0.012, metal),
        box(-0.012, 1.93, 0.03, 0.012, 1.96, 0.3, metal),
        post(0.0, 0.3, 1.9, 1.93, 0.09, metal),
        box(-0.06, 1.0, 0.0, 0.06, 1.1, 0.06, metal),
    ]
    return Model("shower", parts, kit.size, glass.colour, glass.kind, True)


def bathtub(kit: Kit) -> Model:
    w, d, h = kit.dim(1.45, 1.8), kit.uniform(0.7, 0.82), kit.uniform(0.5, 0.58)
    ceramic, metal, t = kit.fixed("ceramic", kit.pick(("white", "white", "cream"))), kit.fixed("metal", "silver"), 0.08
    # The tub's inside bottom (0.28 m) is above an agent's climbing height, so it is not floor.
    parts = [
        box(-w / 2, 0.0, 0.0, w / 2, 0.28, d, ceramic),
        box(-w / 2, 0.28, 0.0, w / 2, h, t, ceramic),
        box(-w / 2, 0.28, d - t, w / 2, h, d, ceramic),
        box(-w / 2, 0.28, t, -w / 2 + t, h, d - t, ceramic),
        box(w / 2 - t, 0.28, t, w / 2, h, d - t, ceramic),
        post(w / 2 - 0.14, 0.04, h, h + 0.16, 0.018, metal),
        box(w / 2 - 0.152, h + 0.12, 0.04, w / 2 - 0.128, h + 0.15, 0.16, metal),
    ]
    return Model("bathtub", parts, kit.size, ceramic.colour, ceramic.kind, True)


def towel(kit: Kit) -> Model:
    """A towel hanging on a wall rail; at most 0.1 m deep."""
    w, length = kit.dim(0.35, 0.6), kit.uniform(0.45, 0.7)
    cloth, metal = kit.finish("fabric"), kit.fixed("metal", "silver")
    top = length + 0.04
    parts = [
        box(-w / 2 - 0.05, top - 0.05, 0.0, -w / 2 - 0.03, top, 0.08, metal),
        box(w / 2 + 0.03, top - 0.05, 0.0, w / 2 + 0.05, top, 0.08, metal),
        box(-w / 2 - 0.03, top - 0.035, 0.058, w / 2 + 0.03, top - 0.015, 0.078, metal),
        box(-w / 2, 0.0, 0.08, w / 2, top - 0.01, 0.095, cloth),
        box(-w / 2, 0.15, 0.042, w / 2, top - 0.01, 0.056, cloth),
        box(-w / 2, top - 0.015, 0.042, w / 2, top - 0.003, 0.095, cloth),
    ]
    return Model("towel", parts, kit.size, cloth.colour, cloth.kind, True)


#: Builders by category; each takes a :class:`Kit` (and optional variant keywords).
BUILDERS: dict[str, Callable[..., Model]] = {
    "chair": chair,
    "table": table,
    "picture": picture,
    "cabinet": cabinet,
    "cushion": cushion,
    "sofa": sofa,
    "bed": bed,
    "chest_of_drawers": chest_of_drawers,
    "plant": plant,
    "sink": sink,
    "toilet": toilet,
    "stool": stool,
    "towel": towel,
    "tv_monitor": tv_monitor,
    "shower": shower,
    "bathtub": bathtub,
    "counter": counter,
    "fireplace": fireplace,
    "gym_equipment": gym_equipment,
    "seating": seating,
    "clothes": clothes,
    "desk": desk,
    "bookshelf": bookshelf,
    "lamp": lamp,
    "nightstand": nightstand,
    "wardrobe": wardrobe,
    "refrigerator": refrigerator,
    "stove": stove,
    "washing_machine": washing_machine,
    "dishwasher": dishwasher,
    "microwave": microwave,
    "book": book,
    "vase": vase,
    "laptop": laptop,
    "bowl": bowl,
    "mirror": mirror,
}
CATEGORIES: tuple[str, ...] = tuple(BUILDERS)
