"""``gym.make(..., sim_options={...})`` passes keyword arguments to the simulator backend and
rejects what the backend does not take, at make time."""

import gymnasium as gym
import pytest

import navgym  # noqa: F401
from navgym.errors import InvalidArgumentError

SMALL = dict(num_scenes=1, episodes_per_scene=1, resolution=32)


def test_sim_options_reach_the_backend():
    env = gym.make("ObjectNav-ProcHouse-v0", sim_options={"cell_size": 0.1}, **SMALL)
    try:
        env.reset(seed=0)
        assert env.unwrapped._sim.cell_size == pytest.approx(0.1)
    finally:
        env.close()
    default = gym.make("ObjectNav-ProcHouse-v0", **SMALL)
    try:
        default.reset(seed=0)
        assert default.unwrapped._sim.cell_size == pytest.approx(0.05)
    finally:
        default.close()


@pytest.mark.parametrize(
    "options, match",
    [
        ({"cel_size": 0.1}, r"\['cel_size'\] are not options of sim='embedded'.*cell_size"),
        ({"data_root": "/tmp"}, r"\['data_root'\] are set by the env itself.*data_dir="),
        ([("cell_size", 0.1)], r"sim_options=.* must be a dict"),
    ],
)
def test_bad_sim_options_fail_at_make_time_naming_the_fix(options, match):
    with pytest.raises(InvalidArgumentError, match=match):
        gym.make("ObjectNav-ProcHouse-v0", sim_options=options, **SMALL)
