"""Training envs: ``gym.make`` plus the goal camera and reward wrappers, vectorised for SB3."""

from __future__ import annotations

from typing import Any, Callable

import gymnasium as gym

from navgym.training.args import TRAINERS, TrainArgs


def make_training_env(env_id: str, split: str, goal_camera: str = "agent", reward: str = "rsrnav", monitor: bool = False,
                      agent: str = "rsrnav", config: Any = None, reward_options: dict[str, Any] | None = None, **env_kwargs: Any) -> gym.Env:
    """One training or evaluation env: ``gym.make`` + goal camera + reward (+ what the model
    ``config`` needs in training, by the trainer's ``wrap_env``: RSRNav's privileged critic's
    observation) (+ SB3 ``Monitor``), checked by ``agent``'s trainer (RSRNav needs an ``imagegoal``).
    ``reward_options``: keyword arguments of :class:`~navgym.wrappers.RSRNavReward`."""
    import navgym  # noqa: F401  (registers the ids)
    from navgym.wrappers import RSRNavReward, UserMatchedGoalCamera

    env = gym.make(env_id, split=split, **env_kwargs)
    trainer = TRAINERS.get(agent)
    try:
        trainer.check_env(env, env_id)
    except BaseException:
        env.close()
        raise
    if goal_camera != "agent":
        env = UserMatchedGoalCamera(env, goal_camera)
    if reward == "rsrnav":
        env = RSRNavReward(env, **(reward_options or {}))
    wrap = getattr(TRAINERS.get(agent), "wrap_env", None)
    if config is not None and wrap is not None:
        env = wrap(env, config)
    if monitor:
        from stable_baselines3.common.monitor import Monitor

        env = Monitor(env, info_keywords=("success", "spl"))
    return env


#: Torch CPU threads of each env worker subprocess: the envs step on the CPU next to the learner
#: and each other, so more threads per worker would only oversubscribe the cores.
WORKER_THREADS = 1


class _EnvFactory:
    """A picklable env constructor for ``SubprocVecEnv``; ``worker=True`` (it runs in its own
    subprocess) also limits that process's torch threads to :data:`WORKER_THREADS`."""

    def __init__(self, args: TrainArgs, worker: bool = False):
        self.args = args
        self.worker = worker

    def __call__(self) -> gym.Env:
        if self.worker:
            limit_worker_threads()
        a = self.args
        return make_training_env(a.env_id, "train", a.goal_camera, a.reward, monitor=True, agent=a.agent, config=a.config(),
                                 reward_options=a.reward_options, **a.env_kwargs)


def limit_worker_threads(threads: int = WORKER_THREADS) -> None:
    """Set this process's torch CPU threads when torch is loaded (SB3's worker imports it)."""
    import sys

    torch = sys.modules.get("torch")
    if torch is not None and torch.get_num_threads() != threads:
        torch.set_num_threads(threads)


def make_vec_env(args: TrainArgs):
    """``args.n_envs`` training envs: ``SubprocVecEnv`` (workers with one torch thread each), or
    ``DummyVecEnv`` for one env (in this process, whose threads :func:`train` sets), with
    ``args.overlap_rollouts`` an :class:`~navgym.agents.rsrnav.rollouts.OverlappingSubprocVecEnv`, with
    ``args.env_threads`` a :class:`~navgym.training.threaded_vec_env.ThreadedDummyVecEnv` (all envs in
    this process, stepped on that many threads), or with
    ``args.ray`` a :class:`~navgym.distributed.vec_env.RayVecEnv` (one env and one torch thread
    per Ray actor, on the cluster at ``args.ray_address``)."""
    from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv

    if args.ray:
        from navgym.distributed.vec_env import RayVecEnv

        return RayVecEnv([_EnvFactory(args, worker=True) for _ in range(args.n_envs)], address=args.ray_address, torch_threads=WORKER_THREADS)
    if args.env_threads:
        from navgym.training.threaded_vec_env import ThreadedDummyVecEnv

        return ThreadedDummyVecEnv([_EnvFactory(args) for _ in range(args.n_envs)], threads=args.env_threads)
    if args.n_envs == 1:
        return DummyVecEnv([_EnvFactory(args)])
    factories: list[Callable[[], gym.Env]] = [_EnvFactory(args, worker=True) for _ in range(args.n_envs)]
    if args.overlap_rollouts:
        from navgym.agents.rsrnav.rollouts import OverlappingSubprocVecEnv

        return OverlappingSubprocVecEnv(factories)
    return SubprocVecEnv(factories)


