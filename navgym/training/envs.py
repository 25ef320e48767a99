"""Training envs: ``gym.make`` plus the goal camera and reward wrappers, vectorised for SB3."""

from __future__ import annotations

from typing import Any, Callable

import gymnasium as gym

from navgym.training.args import TRAINERS, TrainArgs

def make_training_env(env_id: str, split: str, goal_camera: str = "agent", reward: str = "rsrnav", monitor: bool = False,
                      agent: str = "rsrnav", **env_kwargs: Any) -> gym.Env:
    """One training or evaluation env: ``gym.make`` + goal camera + reward (+ SB3 ``Monitor``),
    checked by ``agent``'s trainer (RSRNav needs an ``imagegoal``)."""
    import navgym  # noqa: F401  (registers the ids)
    from navgym.wrappers import RSRNavReward, UserMatchedGoalCamera

    env = gym.make(env_id, split=split, **env_kwargs)
    TRAINERS.get(agent).check_env(env, env_id)
    if goal_camera != "agent":
        env = UserMatchedGoalCamera(env, goal_camera)
    if reward == "rsrnav":
        env = RSRNavReward(env)
    if monitor:
        from stable_baselines3.common.monitor import Monitor

        env = Monitor(env, info_keywords=("success", "spl"))
    return env


class _EnvFactory:
    """A picklable env constructor for ``SubprocVecEnv``."""

    def __init__(self, args: TrainArgs):
        self.args = args

    def __call__(self) -> gym.Env:
        a = self.args
        return make_training_env(a.env_id, "train", a.goal_camera, a.reward, monitor=True, agent=a.agent, **a.env_kwargs)


def make_vec_env(args: TrainArgs):
    """``args.n_envs`` training envs: ``SubprocVecEnv``, or ``DummyVecEnv`` for one env."""
    from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv

    factories: list[Callable[[], gym.Env]] = [_EnvFactory(args) for _ in range(args.n_envs)]
    if args.n_envs == 1:
        return DummyVecEnv(factories)
    return SubprocVecEnv(factories)


