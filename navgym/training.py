"""Training navgym's learned agents: RSRNav with sb3-contrib's recurrent PPO.

``train(TrainArgs(...))`` (or ``train(head="dense", timesteps=..., out=...)``) writes to ``out/``:

* ``checkpoint.zip``: the latest model at a rollout boundary, with navgym's JSON inside
  (config, spaces, step count); ``checkpoint.json`` repeats that JSON for people and scripts;
* ``train_args.json``: the arguments of the run;
* ``eval.jsonl``: one line per periodic evaluation on the val split (SR, SPL, angle to goal);
* ``tb/``: TensorBoard logs (``tensorboard --logdir out/tb``).

``resume=True`` rebuilds the model, loads the checkpoint's weights and optimiser state (with
``torch.load(weights_only=True)``, never unpickling) and continues from its step count to
``timesteps``. Envs are reset on resume: episodes in flight when the checkpoint was written start
over, and the LSTM state starts from zero.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

import gymnasium as gym
import numpy as np

#: Agents :func:`train` can train.
TRAINABLE_AGENTS = ("rsrnav",)
#: Goal-camera settings (see :class:`navgym.wrappers.UserMatchedGoalCamera`).
GOAL_CAMERAS = ("agent", "user", "extreme")
#: Training rewards: RSRNav's shaped reward or the env's own.
REWARDS = ("rsrnav", "env")


@dataclass
class TrainArgs:
    """Everything a training run needs (the ``navgym train`` options).

    Attributes:
        agent: What to train; only ``"rsrnav"``.
        head: RSRNav head: ``baseline``, ``baseline_map``, ``minimalist``, ``dense``, ``direction``.
        env_id: A navgym ImageNav id (``ImageNav-ProcHouseEasy-v0``: goals 1.5-3 m, 200 steps).
        timesteps: Total env steps to train to (counted over all envs; a resumed run counts the
            steps already done). Training stops at the first rollout boundary at or past it.
        n_envs: Parallel envs (``SubprocVecEnv``; 1 runs in-process).
        out: Output folder.
        resume: Continue the run in ``out`` from its checkpoint.
        seed: Seed of the model and envs (env i is reset with ``seed + i``).
        eval_every: Evaluate every this many steps (0: only at the end).
        eval_episodes: Val episodes per evaluation (0: no evaluation).
        goal_camera: Goal camera while training and evaluating: ``agent``, ``user``, ``extreme``.
        reward: ``rsrnav`` (ZER-style shaping, :class:`navgym.wrappers.RSRNavReward`) or ``env``.
        checkpoint_every: Write ``checkpoint.zip`` every this many steps (and at the end).
        env_kwargs: Keyword arguments of ``gym.make`` for the train and val envs (e.g.
            ``num_scenes``, ``episodes_per_scene``, ``max_goal_distance``).
        eval_env_kwargs: Overrides of ``env_kwargs`` for the val env.
        torch_threads: Torch CPU threads while collecting rollouts (1 is fastest when the envs
            share the cores), ``None``: torch's default.
        update_threads: Torch CPU threads during PPO updates, when the envs are idle; ``None``:
            every core this process may use. Set 1 when several trainings share the machine.
        max_cpu_minutes: Stop at the first rollout boundary after this much CPU time of this
            process spent training (evaluations excluded). With ``n_envs=1`` (envs in-process)
            and fixed thread counts it is a budget that other jobs on the machine do not change;
            with subprocess envs it misses their CPU time.
        max_minutes: Stop at the first rollout boundary after this much training time (wall
            clock minus evaluations), for equal-CPU comparisons; ``None``: no limit.
        progress: Show a progress bar.
        model: RSRNav network and PPO settings other than ``head`` (see
            :class:`navgym.agents.rsrnav.model.RSRNavConfig`), e.g. ``{"n_steps": 64}``.
    """

    agent: str = "rsrnav"
    head: str = "direction"
    env_id: str = "ImageNav-ProcHouseEasy-v0"
    timesteps: int = 100_000
    n_envs: int = 2
    out: Path = Path("runs/rsrnav")
    resume: bool = False
    seed: int = 0
    eval_every: int = 10_000
    eval_episodes: int = 20
    goal_camera: str = "agent"
    reward: str = "rsrnav"
    checkpoint_every: int = 5_000
    env_kwargs: dict[str, Any] = field(default_factory=dict)
    eval_env_kwargs: dict[str, Any] = field(default_factory=dict)
    torch_threads: int | None = 1
    update_threads: int | None = None
    max_minutes: float | None = None
    max_cpu_minutes: float | None = None
    progress: bool = True
    model: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.out = Path(self.out)
        if self.agent not in TRAINABLE_AGENTS:
            raise ValueError(f"agent={self.agent!r} cannot be trained here; trainable agents are {list(TRAINABLE_AGENTS)}")
        if self.goal_camera not in GOAL_CAMERAS:
            raise ValueError(f"goal_camera={self.goal_camera!r} is not a goal-camera setting; use one of {list(GOAL_CAMERAS)}")
        if self.reward not in REWARDS:
            raise ValueError(f"reward={self.reward!r} is not a training reward; use one of {list(REWARDS)}")
        for name, low in (("timesteps", 1), ("n_envs", 1), ("eval_every", 0), ("eval_episodes", 0), ("checkpoint_every", 0)):
            value = getattr(self, name)
            if not isinstance(value, (int, np.integer)) or value < low:
                raise ValueError(f"{name}={value!r} must be an integer >= {low}")
        for name in ("max_minutes", "max_cpu_minutes"):
            value = getattr(self, name)
            if value is not None and not (isinstance(value, (int, float)) and value > 0):
                raise ValueError(f"{name}={value!r} must be a positive number of minutes, or None")
        for name in ("torch_threads", "update_threads"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, (int, np.integer)) or value < 1):
                raise ValueError(f"{name}={value!r} must be an integer >= 1, or None")
        if "head" in self.model:
            raise ValueError("pass the head as TrainArgs.head, not inside model=")
        from navgym.agents.rsrnav.agent import require_rl

        require_rl("navgym train")
        self.config()  # validates the head and model settings early

    def config(self):
        """The :class:`~navgym.agents.rsrnav.model.RSRNavConfig` of this run."""
        from navgym.agents.rsrnav.model import RSRNavConfig

        return RSRNavConfig.from_dict({"head": self.head, **self.model})

    def to_json(self) -> dict[str, Any]:
        values = asdict(self)
        values["out"] = str(self.out)
        return values


@dataclass
class TrainResult:
    """What :func:`train` did: where, from and to which step, in how many seconds (``wall_time``:
    the whole call; ``training_seconds``: rollouts and updates only)."""

    out: Path
    checkpoint: Path
    num_timesteps: int
    start_timesteps: int
    wall_time: float
    training_seconds: float
    evaluations: list[dict[str, Any]]
    training_cpu_seconds: float = 0.0

    @property
    def steps_per_second(self) -> float:
        """Env steps per second of training (rollouts and updates; not env building or evaluations)."""
        return (self.num_timesteps - self.start_timesteps) / self.training_seconds if self.training_seconds > 0 else float("nan")


# -- envs ---------------------------------------------------------------------------------------------------
def make_imagenav_env(env_id: str, split: str, goal_camera: str = "agent", reward: str = "rsrnav", monitor: bool = False, **env_kwargs: Any) -> gym.Env:
    """One training or evaluation env: ``gym.make`` + goal camera + reward (+ SB3 ``Monitor``)."""
    import navgym  # noqa: F401  (registers the ids)
    from navgym.wrappers import RSRNavReward, UserMatchedGoalCamera

    env = gym.make(env_id, split=split, **env_kwargs)
    if "imagegoal" not in env.observation_space.spaces:
        raise ValueError(f"env_id={env_id!r} has no 'imagegoal' observation; RSRNav trains on ImageNav ids")
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
        return make_imagenav_env(a.env_id, "train", a.goal_camera, a.reward, monitor=True, **a.env_kwargs)


def make_vec_env(args: TrainArgs):
    """``args.n_envs`` training envs: ``SubprocVecEnv``, or ``DummyVecEnv`` for one env."""
    from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv

    factories: list[Callable[[], gym.Env]] = [_EnvFactory(args) for _ in range(args.n_envs)]
    if args.n_envs == 1:
        return DummyVecEnv(factories)
    return SubprocVecEnv(factories)


# -- evaluation ------------------------------------------------------------------------------------------------
def evaluate_policy_on(env: gym.Env, policy, episodes: int, seed: int = 0) -> dict[str, Any]:
    """SR, SPL and angle to goal of a (recurrent) SB3 policy on the first ``episodes`` episodes of ``env``."""
    from navgym.agents.rsrnav.agent import RSRNavAgent
    from navgym.evaluation import evaluate

    episodes = min(episodes, len(env.unwrapped.dataset.episodes))
    result = evaluate(env, RSRNavAgent(policy, deterministic=True), episodes, seed=seed, progress=False)
    return summarize_records(result.records)


def summarize_records(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Means of an evaluation's records: SR, SPL, SoftSPL, distance and angle to goal (all
    episodes, and successful ones), steps."""

    def mean(key: str, rows=records) -> float | None:
        values = [float(r[key]) for r in rows if r.get(key) is not None and math.isfinite(float(r[key]))]
        return float(np.mean(values)) if values else None

    successes = [r for r in records if r.get("success")]
    angle_all, angle_success = mean("angle_to_goal"), mean("angle_to_goal", successes)
    return {
        "episodes": len(records),
        "success": mean("success"),
        "spl": mean("spl"),
        "soft_spl": mean("soft_spl"),
        "distance_to_goal": mean("distance_to_goal"),
        "angle_to_goal_deg": None if angle_all is None else math.degrees(angle_all),
        "angle_to_goal_success_deg": None if angle_success is None else math.degrees(angle_success),
        "num_steps": mean("num_steps"),
    }


def available_cores() -> int:
    """CPU cores this process may run on."""
    import os

    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


# -- callback ------------------------------------------------------------------------------------------------
def _make_callback(args: TrainArgs, config, eval_env: gym.Env | None, start_time: float, start_steps: int, start_cpu: float | None = None):
    from stable_baselines3.common.callbacks import BaseCallback

    import torch

    from navgym.agents.rsrnav.model import save_checkpoint

    update_threads = args.update_threads or available_cores()
    start_cpu = time.process_time() if start_cpu is None else start_cpu

    class TrainingCallback(BaseCallback):
        """Progress bar, success-rate logging, periodic checkpoints and evaluations.

        Checkpoints and evaluations happen at rollout starts, i.e. right after an update, when
        the weights, the optimiser and ``num_timesteps`` agree.
        """

        def __init__(self):
            super().__init__()
            self.bar = None
            self.next_checkpoint = 0
            self.next_eval = 0
            self.evaluations: list[dict[str, Any]] = []
            self.eval_seconds = 0.0
            self.eval_cpu_seconds = 0.0
            self.out_of_time = False
            self.first_step_of_rollout = False
            # Between a rollout's start and its end the weights and optimiser still match the
            # step count at the rollout's start: a checkpoint written then resumes exactly.
            self.consistent_steps: int | None = None

        def _on_training_start(self) -> None:
            n = self.model.num_timesteps
            self.next_checkpoint = (n // args.checkpoint_every + 1) * args.checkpoint_every if args.checkpoint_every else math.inf
            self.next_eval = (n // args.eval_every + 1) * args.eval_every if args.eval_every else math.inf
            if args.progress:
                from tqdm.auto import tqdm

                self.bar = tqdm(total=args.timesteps, initial=n, unit="step", desc=f"rsrnav/{args.head}", dynamic_ncols=True)

        def _on_step(self) -> bool:
            if self.out_of_time and self.first_step_of_rollout:
                return False  # stop before this rollout is used: the last checkpoint stays the run's end
            self.first_step_of_rollout = False
            if self.bar is not None:
                self.bar.update(self.training_env.num_envs)
            return True

        def training_seconds(self) -> float:
            return time.time() - start_time - self.eval_seconds

        def training_cpu_seconds(self) -> float:
            return time.process_time() - start_cpu - self.eval_cpu_seconds

        def _on_rollout_start(self) -> None:
            if args.torch_threads is not None:
                torch.set_num_threads(args.torch_threads)
            n = self.model.num_timesteps
            self.consistent_steps = int(n)
            self.first_step_of_rollout = True
            if (args.max_minutes is not None and self.training_seconds() >= 60.0 * args.max_minutes) or (
                args.max_cpu_minutes is not None and self.training_cpu_seconds() >= 60.0 * args.max_cpu_minutes
            ):
                self.out_of_time = True
                self.finish()
                return
            if n >= self.next_checkpoint:
                self.save()
                self.next_checkpoint = (n // args.checkpoint_every + 1) * args.checkpoint_every
            if n >= self.next_eval:
                self.evaluate()
                self.next_eval = (n // args.eval_every + 1) * args.eval_every

        def _on_rollout_end(self) -> None:
            self.consistent_steps = None  # the update that follows changes the weights
            torch.set_num_threads(update_threads)
            buffer = self.model.ep_info_buffer
            if buffer:
                success = float(np.mean([info.get("success", 0.0) for info in buffer]))
                self.logger.record("rollout/success_rate", success)
                self.logger.record("rollout/spl", float(np.mean([info.get("spl", 0.0) for info in buffer])))
                if self.bar is not None:
                    self.bar.set_postfix(train_SR=f"{success:.2f}", refresh=False)
            self.logger.record("time/env_steps_per_second", (self.model.num_timesteps - start_steps) / max(self.training_seconds(), 1e-9))

        def _on_training_end(self) -> None:
            if not self.out_of_time:
                self.finish()
            if self.bar is not None:
                self.bar.close()

        def finish(self) -> None:
            """The run's last checkpoint and evaluation (at a rollout boundary)."""
            self.final_timesteps = int(self.model.num_timesteps)
            self.save()
            if args.eval_episodes and (not self.evaluations or self.evaluations[-1]["timesteps"] != self.final_timesteps):
                self.evaluate()

        def save_interrupted(self) -> int | None:
            """On Ctrl-C: a checkpoint at the last rollout boundary when the weights still match it
            (interrupted while collecting or evaluating); returns its step count, or ``None`` when
            interrupted inside an update (the previous checkpoint is then the run's end)."""
            if self.consistent_steps is None:
                return None
            self.model.num_timesteps = self.consistent_steps
            self.save()
            return self.consistent_steps

        def save(self) -> None:
            meta = save_checkpoint(self.model, args.out / "checkpoint.zip", config, extra={"env_id": args.env_id, "seed": args.seed})
            (args.out / "checkpoint.json").write_text(json.dumps(meta, indent=2))

        def evaluate(self) -> None:
            if eval_env is None or not args.eval_episodes:
                return
            began, began_cpu = time.time(), time.process_time()
            summary = evaluate_policy_on(eval_env, self.model.policy, args.eval_episodes, seed=args.seed)
            self.model.policy.set_training_mode(False)
            self.eval_seconds += time.time() - began
            self.eval_cpu_seconds += time.process_time() - began_cpu
            record = {
                "timesteps": int(self.model.num_timesteps),
                "wall_time": time.time() - start_time,
                "training_seconds": self.training_seconds(),
                "training_cpu_seconds": self.training_cpu_seconds(),
                "eval_seconds": time.time() - began,
                **summary,
            }
            self.evaluations.append(record)
            with (args.out / "eval.jsonl").open("a") as f:
                f.write(json.dumps(record) + "\n")
            for key in ("success", "spl", "angle_to_goal_deg"):
                if summary[key] is not None:
                    self.logger.record(f"eval/{key}", summary[key])
            if self.bar is not None:
                self.bar.write(f"eval @ {record['timesteps']} steps: SR {summary['success']:.2f}  SPL {summary['spl']:.2f}")

    return TrainingCallback()


# -- the entry point ---------------------------------------------------------------------------------------
def train(args: TrainArgs | None = None, /, **overrides: Any) -> TrainResult:
    """Train an RSRNav agent with recurrent PPO; see :class:`TrainArgs` and the module docstring.

    Example:
        >>> train(head="dense", timesteps=20_000, n_envs=2, out="runs/dense")  # doctest: +SKIP

    Raises:
        FileExistsError: ``out`` already has a checkpoint and ``resume`` is false.
        FileNotFoundError: ``resume`` is true and ``out`` has no checkpoint.
        ValueError: a checkpoint to resume was trained with other settings.
    """
    if args is None:
        args = TrainArgs(**overrides)
    elif overrides:
        args = TrainArgs(**{**asdict(args), **overrides})
    import torch

    from navgym.agents.rsrnav.model import build_model, read_checkpoint_meta, restore_training_state

    config = args.config()
    checkpoint = args.out / "checkpoint.zip"
    if args.resume:
        if not checkpoint.exists():
            raise FileNotFoundError(f"resume=True but {checkpoint} does not exist; start a new run without resume")
        meta = read_checkpoint_meta(checkpoint)
        if meta["config"] != asdict(config):
            raise ValueError(
                f"{checkpoint} was trained with {meta['config']}, which differs from this run's {asdict(config)}; "
                "resume with the same head and model settings, or choose another out"
            )
    elif checkpoint.exists():
        raise FileExistsError(f"{checkpoint} exists: pass resume=True (--resume) to continue it, or choose another out")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "train_args.json").write_text(json.dumps(args.to_json(), indent=2))
    if args.torch_threads is not None:
        torch.set_num_threads(args.torch_threads)

    start_time = time.time()
    # One train env built here first generates (and caches) the houses once, not in every subprocess.
    make_imagenav_env(args.env_id, "train", args.goal_camera, args.reward, **args.env_kwargs).close()
    eval_env = None
    if args.eval_episodes:
        eval_env = make_imagenav_env(args.env_id, "val", args.goal_camera, "env", **{**args.env_kwargs, **args.eval_env_kwargs})
    vec_env = make_vec_env(args)
    try:
        model = build_model(config, vec_env, seed=args.seed, tensorboard_log=str(args.out / "tb"))
        start_steps = 0
        if args.resume:
            start_steps = int(restore_training_state(model, checkpoint)["num_timesteps"])
            # A fresh random stream: a resumed run does not replay the first run's actions.
            model.set_random_seed(args.seed + start_steps)
        callback = _make_callback(args, config, eval_env, time.time(), start_steps)
        if start_steps < args.timesteps:
            try:
                model.learn(
                    total_timesteps=args.timesteps - start_steps,
                    callback=callback,
                    reset_num_timesteps=not args.resume,
                    tb_log_name="rsrnav",
                )
            except KeyboardInterrupt:
                saved = callback.save_interrupted()
                if callback.bar is not None:
                    callback.bar.close()
                raise TrainingInterrupted(checkpoint, saved) from None
        final_steps = getattr(callback, "final_timesteps", int(model.num_timesteps))
        trained = start_steps < args.timesteps
        return TrainResult(
            args.out, checkpoint, final_steps, start_steps, time.time() - start_time,
            callback.training_seconds() if trained else 0.0, callback.evaluations,
            callback.training_cpu_seconds() if trained else 0.0,
        )
    finally:
        _close_quietly(vec_env)
        if eval_env is not None:
            eval_env.close()


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C during :func:`train`. ``saved_timesteps``: the step count of the checkpoint written
    on the way out, or ``None`` when the interrupt hit an update and the last periodic checkpoint
    (if any) is kept instead. Resume with ``resume=True``."""

    def __init__(self, checkpoint: Path, saved_timesteps: int | None):
        self.checkpoint = checkpoint
        self.saved_timesteps = saved_timesteps
        if saved_timesteps is not None:
            message = f"interrupted: saved {checkpoint} at {saved_timesteps} steps; continue with --resume"
        elif checkpoint.exists():
            message = f"interrupted during an update: the last periodic checkpoint {checkpoint} is kept; continue with --resume"
        else:
            message = "interrupted before the first checkpoint: nothing to resume"
        super().__init__(message)


def _close_quietly(vec_env) -> None:
    """Close a vec env whose subprocesses may already have exited (Ctrl-C reaches them too)."""
    try:
        vec_env.close()
    except (EOFError, BrokenPipeError, ConnectionResetError, OSError):
        for process in getattr(vec_env, "processes", []):
            if process.is_alive():
                process.terminate()

