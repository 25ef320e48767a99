"""Named colours, small procedural textures and the per-house material registry.

Textures are 64 x 64 RGB, tileable (every pattern is periodic over the image), and drawn from the
house's own random generator, so the same seed gives byte-identical textures.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from navgym.scenes.scene import Material

TEXTURE_SIZE = 64

#: Colour names used in ``attributes["color"]`` and their mean RGB.
COLOURS: dict[str, tuple[int, int, int]] = {
    "white": (236, 234, 228),
    "cream": (238, 226, 196),
    "beige": (214, 190, 150),
    "light grey": (196, 196, 192),
    "grey": (130, 130, 128),
    "dark grey": (70, 70, 72),
    "black": (34, 33, 32),
    "light brown": (190, 150, 104),
    "brown": (138, 94, 60),
    "dark brown": (88, 58, 38),
    "red": (178, 40, 38),
    "burgundy": (112, 30, 44),
    "orange": (222, 122, 40),
    "terracotta": (178, 96, 64),
    "yellow": (228, 194, 58),
    "green": (70, 140, 62),
    "dark green": (38, 84, 46),
    "light green": (150, 196, 120),
    "sage green": (160, 180, 150),
    "teal": (40, 128, 128),
    "light blue": (170, 200, 226),
    "blue": (52, 92, 170),
    "navy blue": (34, 44, 90),
    "purple": (112, 66, 140),
    "pink": (226, 150, 170),
    "silver": (186, 190, 196),
    "gold": (196, 160, 70),
    "pale yellow": (240, 228, 170),
}

#: Metres per texture repeat, by material kind (pictures and screens are fitted instead).
TILE_SIZES = {
    "wood": 0.6,
    "tile": 0.6,
    "carpet": 0.5,
    "paint": 1.0,
    "fabric": 0.3,
    "leather": 0.4,
    "metal": 0.5,
    "plastic": 0.5,
    "ceramic": 0.3,
    "glass": 1.0,
    "stone": 0.8,
    "leaf": 0.25,
    "screen": 1.0,
    "paper": 0.3,
    "soil": 0.3,
    "picture": 1.0,
}


@dataclass(frozen=True)
class Finish:
    """A material as a model uses it: its index, kind and colour name."""

    index: int
    kind: str
    colour: str


def _smooth_noise(rng: np.random.Generator, sigma: float) -> np.ndarray:
    """Tileable Gaussian-filtered noise, zero mean, unit standard deviation."""
    white = rng.standard_normal((TEXTURE_SIZE, TEXTURE_SIZE))
    freq = np.fft.fftfreq(TEXTURE_SIZE)
    kernel = np.exp(-2.0 * (np.pi * sigma) ** 2 * (freq[:, None] ** 2 + freq[None, :] ** 2))
    field = np.fft.ifft2(np.fft.fft2(white) * kernel).real
    return (field - field.mean()) / (field.std() + 1e-9)


def _grid() -> tuple[np.ndarray, np.ndarray]:
    """Row (v) and column (u) coordinates in [0, 1)."""
    t = np.arange(TEXTURE_SIZE) / TEXTURE_SIZE
    return np.meshgrid(t, t, indexing="ij")


def _wood(rng: np.random.Generator) -> np.ndarray:
    rows, _ = _grid()
    warp = _smooth_noise(rng, 6.0)
    grain = np.sin(2 * np.pi * (6 * rows + 0.35 * warp))
    return 1.0 + 0.10 * grain + 0.04 * _smooth_noise(rng, 1.0)


def _planks(rng: np.random.Generator) -> np.ndarray:
    """Wood grain in four plank rows, each with a dark end joint at a random column."""
    shade = _wood(rng)
    plank = TEXTURE_SIZE // 4
    for k in range(4):
        band = slice(k * plank, (k + 1) * plank)
        shade[band] *= 1.0 + rng.uniform(-0.08, 0.08)
        shade[band, int(rng.integers(TEXTURE_SIZE))] *= 0.7
        shade[k * plank] *= 0.65
    return shade


def _tiles(rng: np.random.Generator) -> np.ndarray:
    """2 x 2 tiles per texture with 2-pixel grout lines."""
    count, grout = 2, 2
    cell = TEXTURE_SIZE // count
    jitter = 1.0 + rng.uniform(-0.04, 0.04, (count, count))
    shade = np.kron(jitter, np.ones((cell, cell))) + 0.015 * _smooth_noise(rng, 1.0)
    idx = np.arange(TEXTURE_SIZE) % cell
    line = idx < grout
    shade[line, :] = 0.72
    shade[:, line] = 0.72
    return shade


def _carpet(rng: np.random.Generator) -> np.ndarray:
    return 1.0 + 0.10 * _smooth_noise(rng, 0.6) + 0.05 * _smooth_noise(rng, 4.0)


def _paint(rng: np.random.Generator) -> np.ndarray:
    return 1.0 + 0.025 * _smooth_noise(rng, 3.0)


def _fabric(rng: np.random.Generator) -> np.ndarray:
    rows, cols = _grid()
    weave = np.sin(2 * np.pi * 16 * rows) * np.sin(2 * np.pi * 16 * cols)
    return 1.0 + 0.07 * weave + 0.05 * _smooth_noise(rng, 1.5)


def _leather(rng: np.random.Generator) -> np.ndarray:
    return 1.0 + 0.06 * _smooth_noise(rng, 1.0) + 0.05 * _smooth_noise(rng, 5.0)


def _metal(rng: np.random.Generator) -> np.ndarray:
    streaks = rng.standard_normal((TEXTURE_SIZE, 1)) * np.ones((1, TEXTURE_SIZE))
    return 1.0 + 0.05 * streaks + 0.02 * _smooth_noise(rng, 1.0)


def _flat(rng: np.random.Generator) -> np.ndarray:
    return 1.0 + 0.015 * _smooth_noise(rng, 2.0)


def _stone(rng: np.random.Generator) -> np.ndarray:
    rows, cols = _grid()
    veins = np.abs(np.sin(2 * np.pi * (rows + cols + 0.4 * _smooth_noise(rng, 5.0))))
    return 1.0 - 0.18 * np.exp(-12 * veins) + 0.03 * _smooth_noise(rng, 1.0)


def _leaf(rng: np.random.Generator) -> np.ndarray:
    rows, cols = _grid()
    veins = np.abs(np.sin(2 * np.pi * 4 * (rows + 0.5 * cols)))
    return 1.0 + 0.12 * _smooth_noise(rng, 2.0) + 0.12 * (veins > 0.96)


def _screen(rng: np.random.Generator) -> np.ndarray:
    rows, _ = _grid()
    return 1.0 + 0.25 * rows + 0.03 * _smooth_noise(rng, 4.0)


_SHADERS = {
    "wood": _wood,
    "tile": _tiles,
    "carpet": _carpet,
    "paint": _paint,
    "fabric": _fabric,
    "leather": _leather,
    "metal": _metal,
    "plastic": _flat,
    "ceramic": _flat,
    "glass": _flat,
    "stone": _stone,
    "leaf": _leaf,
    "screen": _screen,
    "paper": _carpet,
    "soil": _carpet,
}


def texture(kind: str, rgb: tuple[int, int, int], rng: np.random.Generator, planks: bool = False) -> np.ndarray:
    """A tileable (64, 64, 3) uint8 texture of mean colour ``rgb`` in the style of ``kind``."""
    if kind not in _SHADERS:
        raise ValueError(f"texture: unknown kind {kind!r}; expected one of {sorted(_SHADERS)}")
    shade = _planks(rng) if planks else _SHADERS[kind](rng)
    image = np.asarray(rgb, dtype=np.float64)[None, None, :] * shade[..., None]
    return np.clip(np.rint(image), 0, 255).astype(np.uint8)


def _vivid(rng: np.random.Generator) -> np.ndarray:
    hue = rng.random()
    rgb = 0.5 + 0.5 * np.cos(2 * np.pi * (hue + np.array([0.0, 1 / 3, 2 / 3])))
    return 255.0 * (0.15 + 0.8 * rgb * rng.uniform(0.6, 1.0))


def picture_texture(rng: np.random.Generator) -> np.ndarray:
    """A random colourful (64, 64, 3) uint8 composition: a gradient with discs, bars and blocks."""
    rows, cols = _grid()
    angle = rng.uniform(0, 2 * np.pi)
    ramp = (np.cos(angle) * cols + np.sin(angle) * rows)
    ramp = (ramp - ramp.min()) / (np.ptp(ramp) + 1e-9)
    image = _vivid(rng)[None, None] * (1 - ramp[..., None]) + _vivid(rng)[None, None] * ramp[..., None]
    for _ in range(int(rng.integers(3, 9))):
        colour = _vivid(rng)
        shape = int(rng.integers(3))
        cx, cy = rng.random(2)
        size = rng.uniform(0.06, 0.3)
        if shape == 0:
            mask = (cols - cx) ** 2 + (rows - cy) ** 2 < size**2
        elif shape == 1:
            mask = np.abs(np.sin(np.pi * (cols * np.cos(angle) + rows * np.sin(angle)) / size)) > 0.85
        else:
            mask = (np.abs(cols - cx) < size) & (np.abs(rows - cy) < size * rng.uniform(0.3, 1.5))
        image[mask] = colour
    return np.clip(np.rint(image), 0, 255).astype(np.uint8)


class MaterialLibrary:
    """The materials of one house, created on first use in a deterministic order.

    Args:
        rng: The generator textures are drawn from.
    """

    def __init__(self, rng: np.random.Generator):
        self.rng = rng
        self.materials: list[Material] = []
        self.tile_sizes: list[float] = []
        self._index: dict[str, int] = {}

    def finish(self, kind: str, colour: str) -> Finish:
        """The furniture material of ``kind`` (e.g. ``"wood"``) in the named colour."""
        return Finish(self._get(f"{kind}_{colour}", kind, colour), kind, colour)

    def surface(self, role: str, kind: str, colour: str) -> int:
        """A floor, wall, ceiling or trim material (wood floors get planks)."""
        return self._get(f"{role}_{kind}_{colour}", kind, colour, planks=role == "floor" and kind == "wood")

    def picture(self) -> Finish:
        """A new picture material with its own random composition."""
        image = picture_texture(self.rng)
        name = f"picture_{sum(m.kind == 'picture' for m in self.materials)}"
        mean = tuple(int(c) for c in image.reshape(-1, 3).mean(axis=0))
        self._append(name, "picture", mean, image)
        return Finish(len(self.materials) - 1, "picture", _nearest_colour(mean))

    def _get(self, name: str, kind: str, colour: str, planks: bool = False) -> int:
        key = name.replace(" ", "_")
        if key not in self._index:
            if colour not in COLOURS:
                raise ValueError(f"MaterialLibrary: unknown colour {colour!r}")
            rgb = COLOURS[colour]
            self._append(key, kind, rgb, texture(kind, rgb, self.rng, planks=planks))
        return self._index[key]

    def _append(self, name: str, kind: str, rgb: tuple[int, int, int], image: np.ndarray) -> None:
        self._index[name] = len(self.materials)
        self.materials.append(Material(name, kind, tuple(int(c) for c in rgb), image))
        self.tile_sizes.append(TILE_SIZES[kind])


def _nearest_colour(rgb: tuple[int, int, int]) -> str:
    names = list(COLOURS)
    table = np.array([COLOURS[n] for n in names], dtype=np.float64)
    return names[int(np.argmin(np.linalg.norm(table - np.asarray(rgb, dtype=np.float64), axis=1)))]
