"""Top-down maps of multi-storey scenes: goals and path on another storey are not drawn as if
they were on the storey shown, and the map says which storey it shows."""

import gymnasium as gym
import numpy as np

import navgym  # noqa: F401
from navgym.envs.visualize import (
    GOAL_COLOR,
    OTHER_STOREY_GOAL_COLOR,
    PATH_COLOR,
    draw_topdown,
    floor_image,
    storey_caption,
)
from navgym.sims.base import TopDownMap


def _room() -> TopDownMap:
    grid = np.full((60, 60), 2, dtype=np.uint8)
    grid[:, :2] = grid[:, -2:] = grid[:2] = grid[-2:] = 1
    return TopDownMap(grid=grid, origin=(0.0, 0.0), cell_size=0.1)


def _pixel(image: np.ndarray, top: TopDownMap, point) -> tuple:
    _, to_pixel = floor_image(top, 256)
    col, row = to_pixel(np.asarray(point, dtype=np.float64))[0]
    return tuple(int(v) for v in image[int(row), int(col)])


def test_goal_on_other_storey_is_a_ring_not_a_dot():
    top = _room()
    here, upstairs = [1.5, 0.0, 1.5], [4.5, 3.0, 4.5]
    image = draw_topdown(top, goals=np.array([here, upstairs]), size=256, storeys=[0.0, 3.0], height=0.0)
    assert _pixel(image, top, here) == GOAL_COLOR
    assert _pixel(image, top, upstairs) != GOAL_COLOR  # the ring's centre shows the floor
    assert (image == OTHER_STOREY_GOAL_COLOR).all(axis=-1).any()
    # One storey (or no storeys given): every goal is on the map, as before.
    single = draw_topdown(top, goals=np.array([here, upstairs]), size=256)
    assert _pixel(single, top, upstairs) == GOAL_COLOR


def test_path_on_other_storey_is_not_drawn_as_walked_here():
    top = _room()
    path = [np.array(p) for p in ([1.0, 0.0, 3.0], [3.0, 0.0, 3.0], [3.0, 3.0, 1.0], [5.0, 3.0, 1.0])]
    image = draw_topdown(top, path=path, size=256, storeys=[0.0, 3.0], height=0.0)
    assert _pixel(image, top, [2.0, 0.0, 3.0]) == PATH_COLOR
    assert _pixel(image, top, [4.0, 3.0, 1.0]) != PATH_COLOR


def test_storey_caption():
    assert storey_caption([0.0, 3.0], 2.9, np.array([[1.0, 0.0, 1.0]])) == "storey 2/2, goal on 1"
    assert storey_caption([0.0, 3.0, 6.0], 0.1, np.array([[1.0, 0.0, 1.0], [1, 6.1, 1]])) == "storey 1/3, goal here and on 3"
    assert storey_caption([0.0, 3.0], 0.0, np.array([[1.0, 0.05, 1.0]])) == "storey 1/2"


def test_render_of_multistorey_house_keeps_other_storeys_goals_off_this_storey():
    """ProcHouseHard seed 4: the agent starts upstairs, every goal point is on the ground floor."""
    env = gym.make("ObjectNav-ProcHouseHard-v0", render_mode="rgb_array", resolution=64)
    try:
        env.reset(seed=4)
        nav = env.unwrapped
        storeys = nav.sim.storey_heights()
        agent_y = nav.sim.get_agent_state().position[1]
        goal_ys = nav.goal_points[:, 1]
        nearest = lambda y: int(np.argmin(np.abs(np.asarray(storeys) - y)))  # noqa: E731
        assert len(storeys) > 1 and all(nearest(y) != nearest(agent_y) for y in goal_ys)
        frame = env.render()
        top_panel = frame[:, 256 + 4 :]
        assert not (top_panel == GOAL_COLOR).all(axis=-1).any()
        assert (top_panel == OTHER_STOREY_GOAL_COLOR).all(axis=-1).any()
    finally:
        env.close()


def test_caption_fits_a_narrow_map():
    """A tall, narrow building's map: the caption wraps and shrinks instead of running off the edge."""
    for cols in (40, 70, 200):
        grid = np.full((200, cols), 2, dtype=np.uint8)
        image = draw_topdown(TopDownMap(grid, (0.0, 0.0), 0.1), goals=np.array([[1.0, 3.0, 1.0]]), size=256, storeys=[0.0, 3.0], height=0.0)
        white = (image[:40] == 255).all(axis=-1)
        assert white.any() and not white[:, -1].any(), cols
