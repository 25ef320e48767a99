"""Pictures of a team: the top-down map with every agent (body to scale, heading, path, goal
points in its colour) and every agent's view beside it."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image, ImageDraw

from navgym.envs.visualize import MAX_VIEW_ASPECT, _caption, draw_storey_path, floor_image, storey_caption, storey_mask
from navgym.sims.embedded.bodies import agent_color

if TYPE_CHECKING:  # pragma: no cover
    from navgym.multiagent.parallel import NavParallelEnv


def _light(color: tuple[int, int, int], share: float = 0.5) -> tuple[int, int, int]:
    return tuple(int(c + (255 - c) * share) for c in color)


def team_topdown(env: "NavParallelEnv", size: int = 256) -> np.ndarray:
    """The storey of seat 0 cropped to the floor, longer side ``size`` pixels, with each agent's
    goal points (light), path (line) and body (its cylinder or footprint to scale, with a heading
    tick) in its colour (:func:`navgym.sims.embedded.bodies.agent_color`). With several storeys,
    a caption names the one shown; goals, paths and bodies on other storeys are hollow rings, thin
    lines and outlines."""
    sim = env.sim
    lead = sim.get_agent_state(env.seats[0].agent_id)
    top = sim.topdown_map(lead.position[1], env.seats[0].agent_id)
    image, to_pixel = floor_image(top, size)
    draw = ImageDraw.Draw(image)
    metres = float(to_pixel(np.array([1.0, 0.0, 0.0]))[0, 0] - to_pixel(np.zeros(3))[0, 0])  # pixels per metre
    # In a house of several storeys, what lies on another storey than seat 0's is set apart (as in
    # the single-agent map): goals as hollow rings, paths as thin light lines, bodies as outlines.
    storeys = sim.storey_heights() if callable(getattr(sim, "storey_heights", None)) else None
    mask = storey_mask(storeys, lead.position[1])
    here = mask or (lambda points: np.ones(len(points), dtype=bool))

    for s in env.seats:
        color = agent_color(s.agent_id)
        goals = np.asarray(s.goal_points)
        if len(goals):
            step = max(1, len(goals) // 200)
            for (x, y), on in zip(to_pixel(goals)[::step], here(goals)[::step]):
                if on:
                    draw.ellipse([x - 1.5, y - 1.5, x + 1.5, y + 1.5], fill=_light(color))
                else:
                    draw.ellipse([x - 3, y - 3, x + 3, y + 3], outline=_light(color, 0.75), width=1)
    for s in env.seats:
        color = agent_color(s.agent_id)
        if len(s.path) > 1:
            path = np.asarray(s.path)
            draw_storey_path(draw, [tuple(p) for p in to_pixel(path)], here(path), color, _light(color, 0.75))
    for s in env.seats:
        color = agent_color(s.agent_id)
        state = sim.get_agent_state(s.agent_id)
        (x, y), yaw = to_pixel(state.position)[0], state.yaw
        if mask is not None and not mask(state.position[None])[0]:  # on another storey: its outline only
            radius = max(2.0, sim.body(s.agent_id).radius * metres)
            draw.ellipse([x - radius, y - radius, x + radius, y + radius], outline=color, width=2)
            continue
        footprint = getattr(s.embodiment, "footprint", None)
        radius = max(2.0, sim.body(s.agent_id).radius * metres)
        if footprint is None:
            draw.ellipse([x - radius, y - radius, x + radius, y + radius], fill=color, outline=(0, 0, 0))
        else:
            half_l, half_w = 0.5 * footprint[0] * metres, 0.5 * footprint[1] * metres
            fwd = np.array([-math.sin(yaw), -math.cos(yaw)])
            right = np.array([math.cos(yaw), -math.sin(yaw)])
            corners = [tuple(np.array([x, y]) + a * half_l * fwd + b * half_w * right) for a, b in ((1, 1), (1, -1), (-1, -1), (-1, 1))]
            draw.polygon(corners, fill=color, outline=(0, 0, 0))
        reach = max(radius, 6.0) + 4.0
        draw.line([(x, y), (x - reach * math.sin(yaw), y - reach * math.cos(yaw))], fill=(0, 0, 0), width=2)
        if s.done and s.measures is not None and s.measures["success"]:
            draw.ellipse([x - radius - 3, y - radius - 3, x + radius + 3, y + radius + 3], outline=(0, 150, 0), width=2)
    if mask is not None:
        _caption(draw, storey_caption(storeys, lead.position[1]), size)
    return np.asarray(image)


def team_frame(env: "NavParallelEnv", height: int = 256) -> np.ndarray:
    """Every agent's egocentric view (scaled to ``height``, framed in its colour) beside the
    top-down map of the team. With one agent it is exactly the Gymnasium env's frame."""
    sim = env.sim
    if len(env.seats) == 1:
        from navgym.envs.visualize import side_by_side

        s = env.seats[0]
        frame = s.last_frame.get("rgb")
        if frame is None:
            camera = s.embodiment.mounted_camera(s.env._camera.with_(outputs=("rgb",)), s.agent_id)
            frame = sim.render([(sim.get_agent_state(s.agent_id), camera)])[0]["rgb"]
        return side_by_side(frame, sim, s.path, s.goal_points, sim.get_agent_state(s.agent_id), height=height)
    views = []
    for s in env.seats:
        frame = s.last_frame.get("rgb")
        if frame is None:
            camera = s.embodiment.mounted_camera(s.env._camera.with_(outputs=("rgb",)), s.agent_id)
            frame = sim.render([(sim.get_agent_state(s.agent_id), camera)])[0]["rgb"]
        inner = height - 8
        rows, cols = frame.shape[:2]
        scale = min(inner / rows, MAX_VIEW_ASPECT * inner / cols)  # a very wide camera: capped, as side_by_side does
        view = Image.fromarray(frame).resize((max(1, round(cols * scale)), max(1, min(inner, round(rows * scale)))), Image.NEAREST)
        framed = Image.new("RGB", (view.width + 8, height), agent_color(s.agent_id))
        framed.paste(view, (4, 4 + (inner - view.height) // 2))
        views.append(np.asarray(framed))
    top = team_topdown(env, size=height)
    width = sum(v.shape[1] + 4 for v in views) + top.shape[1]
    canvas = np.full((height, width, 3), 255, dtype=np.uint8)
    x = 0
    for view in views:
        canvas[:, x : x + view.shape[1]] = view
        x += view.shape[1] + 4
    canvas[: top.shape[0], x : x + top.shape[1]] = top
    return canvas
