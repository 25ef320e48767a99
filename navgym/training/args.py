"""The arguments and the result of a training run (every ``navgym train`` option is a field)."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from navgym.core.checks import check_int, check_minutes, check_range
from navgym.core.registry import Registry
from navgym.errors import InvalidArgumentError
from navgym.wrappers.goal_camera import GOAL_CAMERA_SETTINGS

#: Trainable agents: each names a trainer object with ``require``, ``config``, ``config_dict``,
#: ``check_env``, ``build_model``, ``save``, ``read_meta``, ``restore`` and ``agent``
#: (see :class:`navgym.agents.rsrnav.training.RSRNavTrainer`). Entry-point group ``navgym.trainers``.
TRAINERS: Registry = Registry("trainable agent", "navgym.trainers", "agent")
TRAINERS.register("rsrnav", "navgym.agents.rsrnav.training:RSRNavTrainer", "RSRNav with recurrent PPO (sb3-contrib)")
#: Training rewards: RSRNav's shaped reward or the env's own.
REWARDS = ("rsrnav", "env")


def check_reward_options(reward: str, options: Any) -> dict[str, Any]:
    """``options`` as :class:`~navgym.wrappers.RSRNavReward`'s keyword arguments, checked (its
    own errors name a bad value)."""
    if not isinstance(options, dict):
        raise InvalidArgumentError(f"reward_options={options!r} must be a dict of RSRNavReward arguments, e.g. {{'failed_stop_reward': -2.5}}")
    if not options:
        return {}
    if reward != "rsrnav":
        raise InvalidArgumentError(f"reward_options={options!r} are arguments of the rsrnav reward, but reward={reward!r}; use reward='rsrnav' or drop them")
    import inspect

    from navgym.wrappers.rsrnav_reward import RSRNavReward

    known = [name for name in inspect.signature(RSRNavReward.__init__).parameters if name not in ("self", "env")]
    unknown = sorted(set(options) - set(known))
    if unknown:
        raise InvalidArgumentError(f"reward_options has unknown arguments {unknown}; RSRNavReward takes {known}")
    return dict(options)


@dataclass
class TrainArgs:
    """Everything a training run needs (the ``navgym train`` options).

    Attributes:
        agent: What to train: a registered trainer (:data:`navgym.training.TRAINERS`; ``"rsrnav"``).
        head: RSRNav head: ``baseline``, ``baseline_map``, ``minimalist``, ``dense``, ``direction``.
        env_id: A navgym ImageNav id (``ImageNav-ProcHouseEasy-v0``: goals 1.5-3 m, 200 steps).
        timesteps: Total env steps to train to (counted over all envs; a resumed run counts the
            steps already done). Training stops at the first rollout boundary at or past it.
        n_envs: Parallel envs (``SubprocVecEnv``; 1 runs in-process; with ``ray``, Ray actors).
        out: Output folder.
        resume: Continue the run in ``out`` from its checkpoint.
        seed: Seed of the model and envs (an integer >= 0; env i is reset with ``seed + i``).
        eval_every: Evaluate every this many steps (0: only at the end).
        eval_episodes: Val episodes per evaluation (0: no evaluation).
        goal_camera: Goal camera while training and evaluating: ``agent``, ``user``, ``extreme``.
        reward: ``rsrnav`` (ZER-style shaping, :class:`navgym.wrappers.RSRNavReward`) or ``env``.
        reward_options: Keyword arguments of :class:`~navgym.wrappers.RSRNavReward` (with
            ``reward="rsrnav"``), e.g. ``{"failed_stop_reward": -2.5}``; empty: RSRNav's reward.
        checkpoint_every: Write ``checkpoint.zip`` every this many steps (and at the end).
        env_kwargs: Keyword arguments of ``gym.make`` for the train and val envs (e.g.
            ``num_scenes``, ``episodes_per_scene``, ``max_goal_distance``).
        eval_env_kwargs: Overrides of ``env_kwargs`` for the val env.
        torch_threads: Torch CPU threads while collecting rollouts and evaluating (1 is fastest
            when the envs share the cores), ``None``: torch's default. Env worker subprocesses
            always use one.
        update_threads: Torch CPU threads during PPO updates, when the envs are idle; ``None``:
            every core this process may use. Set 1 when several trainings share the machine.
        max_cpu_minutes: Stop at the first rollout boundary after this much CPU time of this
            process spent training (evaluations excluded). With ``n_envs=1`` (envs in-process)
            and fixed thread counts it is a budget that other jobs on the machine do not change;
            with subprocess envs it misses their CPU time.
        max_minutes: Stop at the first rollout boundary after this much training time (wall
            clock minus evaluations), for equal-CPU comparisons; ``None``: no limit.
        progress: Show progress bars (tqdm, on stderr): training, and each evaluation on val.
        model: RSRNav network and PPO settings other than ``head`` (see
            :class:`navgym.agents.rsrnav.model.RSRNavConfig`), e.g. ``{"n_steps": 64}``.
        pretrain: Imitation before PPO (:mod:`navgym.training.imitation`): ``"bc"`` (behaviour
            cloning of the shortest-path follower), ``"dagger"`` (BC, then ``dagger_rounds``
            rounds relabelling the learner's own states) or ``None``. Writes ``out/pretrain.zip``
            (reused when it exists) and ``out/pretrain.jsonl``; with ``timesteps=0`` no PPO follows.
        demos: Oracle demonstrations (episodes of the train split, drawn with ``seed``); ``None``: all.
        bc_epochs, bc_learning_rate, bc_batch_steps: Behaviour cloning's passes over the
            demonstrations, Adam step size and steps per minibatch (whole episodes, padded).
        bc_aux_coef: Weight of an auxiliary loss predicting the goal's distance and bearing from
            the encoder's features during BC and DAgger; 0: off (a finite number >= 0).
        bc_augment: Train BC and DAgger's BC on randomly shifted, brightened and contrasted copies
            of the images (:func:`navgym.training.imitation.augment_images`).
        bc_lr_schedule: BC's step size over its passes: ``"constant"`` or ``"cosine"`` (down to 0
            by the last minibatch; each DAgger round's BC restarts it).
        bc_freeze: What of the encoder BC and DAgger leave as they are: ``"none"`` (default:
            cloning trains everything), ``"trunk"`` or ``"encoder"`` (the parts of
            ``ppo_freeze``). For cloning on top of an encoder trained elsewhere (``init_from``,
            e.g. ``experiments/goal_pose_probe.py --save-policy``) without overwriting it. With
            ``"encoder"`` each demonstration state's features are computed once and kept for all
            passes. Only with ``pretrain``; PPO afterwards freezes what ``ppo_freeze`` says.
        pose_episodes: Goal-pose pretraining of the encoder before cloning
            (:mod:`navgym.training.goal_pose`): views from this many train episodes' starts and
            from random poses near their goals, labelled with where the goal photo's position
            is, fit by the encoder and a small MLP. 0 (default): none. Only with ``pretrain``;
            to keep what it learns, clone with ``bc_freeze="encoder"``. The pairs are rendered
            once (about 3 ms a view here) and cached; 6,000 episodes of 8 views take 2.4 GB.
        pose_views: Views per goal photo (the episode's start and ``pose_views - 1`` random poses
            within 3 m of the goal).
        pose_env_kwargs: Overrides of ``env_kwargs`` for the pose pairs' env, e.g.
            ``{"num_scenes": 240}``: more houses than the demonstrations (the encoder
            generalises with houses; the recurrent core clones from fewer).
        pose_val_episodes: Val episodes (of the val env: ``env_kwargs`` and ``eval_env_kwargs``)
            whose pairs score each pass (median bearing error in ``pretrain.jsonl``); 0: none.
        pose_epochs, pose_max_minutes, pose_learning_rate: Passes over the pairs, a wall-clock
            cap for them (``None``: none), and Adam's step size.
        pose_max_cpu_minutes: A cap on the CPU time this process spends fitting the pairs
            (``None``, default: none). Unlike ``pose_max_minutes`` other jobs on the machine do
            not shorten it, so a run sharing the cores gets the passes it would get alone; with
            ``update_threads`` > 1 every thread's time counts. Either cap ends the fitting.
        pose_group: Views of one goal photo side by side in a pose minibatch (1, default: every
            pair drawn independently). The encoder computes each photo's features once per
            minibatch, so 8 (all of a photo's default views) computes 72 images per 64 pairs
            instead of 128 (docs/results/rsrnav_log.md, "Goal-grouped pose minibatches").
        bc_teacher: Who labels the demonstrations' states (BC, DAgger, ``ppo_bc_batches``):
            ``"path"`` (default: the oracle agent's shortest-path follower, which stops once well
            inside the success radius) or ``"view"`` (the same path on to within 0.3 m of the goal
            photo's position, then a turn to its heading before it stops) or ``"look"`` (the view
            teacher after a first turn, before any move, until the goal photo's scene is in view;
            :data:`navgym.training.imitation.TEACHERS`).
        dagger_rounds, dagger_episodes, dagger_epochs, dagger_beta: DAgger rounds, episodes run
            with the learner per round, BC passes after each, and the probability that a step of
            round 1 is the oracle's (halved each round).
        demo_workers: Processes that collect demonstrations (one torch thread each).
        ppo_bc_batches: Behaviour cloning between PPO updates
            (:class:`navgym.training.imitation.InterleavedCloning`): after each update, this
            many minibatches of about ``bc_batch_steps`` oracle-demonstration states (the run's
            ``demos``, augmented with ``bc_augment``), each one step of PPO's own optimiser on the
            labels' cross-entropy. The count sets how strongly PPO is held near the oracle (Adam's
            step does not grow with a loss weight). 0 (default): plain PPO.
        ppo_critic_warmup, ppo_actor_warmup: PIRLNav's fine-tuning schedule
            (:class:`navgym.training.warmup.ActorWarmup`): for the first ``ppo_critic_warmup``
            env steps PPO trains the critic only (the encoder and the actor are held fixed), then
            the actor's step size rises linearly from 0 to full over ``ppo_actor_warmup`` steps.
            For PPO from a cloned policy (``init_from``, ``pretrain``), whose critic has not
            learned yet. 0 and 0 (default): plain PPO.
        ppo_critic_lr_scale: The critic's PPO step size relative to the actor's (a positive
            number; 1, the default: the same). Each update's change of the critic's parameters
            (its LSTM and value layer) is scaled by it, which with Adam scales their step size
            (:class:`navgym.training.warmup.ActorWarmup`). For a critic that must learn fast, e.g.
            a ``privileged_critic`` started from a clone's.
        ppo_encoder_lr_scale: The encoder's PPO step size relative to the actor's (a positive
            number; 1, the default: the same), for PPO that trains the encoder (``ppo_freeze``
            ``"none"`` or ``"trunk"``): each update's change of the encoder's parameters is scaled
            by it on top of the actor's warm-up scale. A small value (e.g. 0.1) lets PPO adapt a
            cloned encoder without rewriting it.
        ppo_freeze: What of the encoder PPO leaves as it is (and the BC minibatches of
            ``ppo_bc_batches``): ``"none"`` (default: PPO trains everything), ``"trunk"`` (the
            ResNet-9: the relationship head and everything after it train) or ``"encoder"`` (the
            trunk, the head and the input layer: only the recurrent cores and the action and
            value layers train). The frozen part's output is computed once per input while
            acting and reused by the update (:meth:`navgym.agents.rsrnav.encoders.RSRNavEncoder.freeze`),
            so updates get much cheaper. For PPO from a cloned policy (``init_from``,
            ``pretrain``; the pretraining itself trains everything); from scratch it freezes
            random weights.
        init_from: Start from this checkpoint's policy weights (e.g. another run's
            ``pretrain.zip``); it must have the run's network settings (the trainer's
            ``fine_tuning_settings``, PPO's step size, clip range, entropy weight and the like,
            may differ). With ``pretrain`` the pretraining (BC, DAgger) starts from them instead
            of fresh weights (e.g. an encoder trained on goal poses by
            ``experiments/goal_pose_probe.py --save-policy``), then PPO from its result.
        init_parts: What ``init_from`` loads: ``"all"`` (default: the whole policy) or
            ``"encoder"`` (RSRNav: the trunk, relationship head and input layer only; the
            recurrent cores and the action and value layers start as a new run's, from
            ``seed``). With ``bc_freeze="encoder"`` this clones again on the encoder of another
            run (e.g. a goal-pose-trained one) without repeating its pose training
            (``experiments/reclone.py``).
        ray: Run the ``n_envs`` training envs in Ray actors (:class:`navgym.distributed.vec_env.RayVecEnv`,
            one env and one torch thread per actor) instead of subprocesses; needs
            ``pip install "navgym[ray]"``. The learner and the val env stay in this process.
        overlap_rollouts: Overlap acting and env steps while collecting rollouts
            (:mod:`navgym.agents.rsrnav.rollouts`): the envs run in two halves, and the policy acts
            for one while the other steps. Needs ``n_envs >= 2`` in subprocesses (not ``ray``).
            Each env sees the same calls; actions are sampled per half, so the random stream
            differs from a run without it. False (default): sb3-contrib's rollouts.
        env_threads: 0 (default): ``n_envs`` >= 2 envs run in subprocesses (``SubprocVecEnv``);
            N >= 1: all ``n_envs`` envs run in this process and step on N threads
            (:class:`navgym.training.threaded_vec_env.ThreadedDummyVecEnv`: no pipes, no worker
            processes to wake; the same results as one after another). Not with ``ray`` or
            ``overlap_rollouts``.
        device: Torch device of the learner (PPO updates, rollout inference, behaviour cloning):
            ``"auto"`` (default: CUDA when torch sees a GPU, else the CPU), ``"cpu"``, ``"cuda"``
            or ``"cuda:N"``. Env workers and demonstration collectors stay on the CPU.
        ray_address: With ``ray``: the Ray cluster to use (``"auto"``: the one ``ray start``
            began on this machine; ``"HOST:6379"``; ``"ray://HOST:10001"``); ``None``: the Ray
            already initialised in this process, else a local one started for the run.
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
    reward_options: dict[str, Any] = field(default_factory=dict)
    checkpoint_every: int = 5_000
    env_kwargs: dict[str, Any] = field(default_factory=dict)
    eval_env_kwargs: dict[str, Any] = field(default_factory=dict)
    torch_threads: int | None = 1
    update_threads: int | None = None
    max_minutes: float | None = None
    max_cpu_minutes: float | None = None
    progress: bool = True
    model: dict[str, Any] = field(default_factory=dict)
    pretrain: str | None = None
    demos: int | None = None
    bc_epochs: int = 10
    bc_learning_rate: float = 1e-3
    bc_batch_steps: int = 64
    bc_aux_coef: float = 0.0
    bc_augment: bool = False
    bc_lr_schedule: str = "constant"
    bc_freeze: str = "none"
    pose_episodes: int = 0
    pose_views: int = 8
    pose_env_kwargs: dict[str, Any] = field(default_factory=dict)
    pose_val_episodes: int = 0
    pose_epochs: int = 30
    pose_max_minutes: float | None = 15.0
    pose_max_cpu_minutes: float | None = None
    pose_learning_rate: float = 3e-4
    pose_group: int = 1
    bc_teacher: str = "path"
    dagger_rounds: int = 2
    dagger_episodes: int = 200
    dagger_epochs: int = 5
    dagger_beta: float = 0.5
    demo_workers: int = 2
    ppo_bc_batches: int = 0
    ppo_critic_warmup: int = 0
    ppo_actor_warmup: int = 0
    ppo_critic_lr_scale: float = 1.0
    ppo_encoder_lr_scale: float = 1.0
    ppo_freeze: str = "none"
    init_from: Path | None = None
    init_parts: str = "all"
    ray: bool = False
    ray_address: str | None = None
    overlap_rollouts: bool = False
    env_threads: int = 0
    device: str = "auto"

    def __post_init__(self) -> None:
        self.out = Path(self.out)
        if self.agent not in TRAINERS:
            raise InvalidArgumentError(f"agent={self.agent!r} cannot be trained here; trainable agents are {TRAINERS.names()}")
        if self.goal_camera not in GOAL_CAMERA_SETTINGS:
            raise InvalidArgumentError(f"goal_camera={self.goal_camera!r} is not a goal-camera setting; use one of {list(GOAL_CAMERA_SETTINGS)}")
        if self.reward not in REWARDS:
            raise InvalidArgumentError(f"reward={self.reward!r} is not a training reward; use one of {list(REWARDS)}")
        self.reward_options = check_reward_options(self.reward, self.reward_options)
        for name in ("env_kwargs", "eval_env_kwargs", "pose_env_kwargs"):
            kwargs = getattr(self, name)
            if isinstance(kwargs, dict) and "split" in kwargs:
                raise InvalidArgumentError(
                    f"{name} has split={kwargs['split']!r}: training fixes the splits (it trains on 'train' and evaluates on "
                    "'val'); leave split out (--env-option / --eval-env-option / --pose-env-option)"
                )
        from navgym.training.imitation import check_pretrain_args

        check_pretrain_args(self)
        from navgym.training.goal_pose import check_pose_args

        check_pose_args(self)
        if self.init_from is not None:
            self.init_from = Path(self.init_from)
        init_parts = getattr(self.trainer, "INIT_PARTS", ("all",))
        if self.init_parts not in init_parts:
            raise InvalidArgumentError(f"init_parts={self.init_parts!r} is not a part {self.agent}'s init_from can load; use one of {list(init_parts)}")
        if self.init_parts != "all" and self.init_from is None:
            raise InvalidArgumentError(f"init_parts={self.init_parts!r} says what init_from loads, but init_from=None; give init_from (a checkpoint), or leave init_parts='all'")
        check_int("timesteps", self.timesteps, 0 if self.pretrain else 1)
        for name, low in (("n_envs", 1), ("seed", 0), ("eval_every", 0), ("eval_episodes", 0), ("checkpoint_every", 0),
                          ("ppo_critic_warmup", 0), ("ppo_actor_warmup", 0)):
            check_int(name, getattr(self, name), low)
        for name in ("ppo_critic_lr_scale", "ppo_encoder_lr_scale"):
            scale = getattr(self, name)
            try:
                setattr(self, name, check_range(name, scale, 0.0, math.inf, low_open=True, high_open=True))
            except InvalidArgumentError:
                raise InvalidArgumentError(f"{name}={scale!r} must be a positive finite number (1: the actor's step size)") from None
        if self.ppo_encoder_lr_scale != 1.0 and self.ppo_freeze == "encoder":
            raise InvalidArgumentError(
                f"ppo_encoder_lr_scale={self.ppo_encoder_lr_scale!r} scales the encoder's PPO steps, but ppo_freeze='encoder' holds the "
                "encoder fixed; use ppo_freeze='none' or 'trunk', or leave ppo_encoder_lr_scale=1")
        for name in ("max_minutes", "max_cpu_minutes"):
            check_minutes(name, getattr(self, name))
        for name in ("torch_threads", "update_threads"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1):
                raise InvalidArgumentError(f"{name}={value!r} must be an integer >= 1, or None")
        if not isinstance(self.ray, (bool, np.bool_)):
            raise InvalidArgumentError(f"ray={self.ray!r} must be True or False")
        self.ray = bool(self.ray)
        if self.ray_address is not None:
            from navgym.distributed.cluster import check_address  # (imports no Ray)

            self.ray_address = check_address(self.ray_address, "ray_address")
            if not self.ray:
                raise InvalidArgumentError(f"ray_address={self.ray_address!r} is given but ray=False; set ray=True (--ray ADDRESS) to train on Ray")
        if not isinstance(self.overlap_rollouts, (bool, np.bool_)):
            raise InvalidArgumentError(f"overlap_rollouts={self.overlap_rollouts!r} must be True or False")
        self.overlap_rollouts = bool(self.overlap_rollouts)
        if self.overlap_rollouts and (self.ray or self.n_envs < 2):
            given = "ray=True" if self.ray else f"n_envs={self.n_envs}"
            raise InvalidArgumentError(f"overlap_rollouts=True needs n_envs >= 2 in subprocesses (two halves); {given}: set n_envs=2 or more, without ray")
        check_int("env_threads", self.env_threads, 0)
        if self.env_threads and (self.ray or self.overlap_rollouts):
            other = "ray=True" if self.ray else "overlap_rollouts=True"
            raise InvalidArgumentError(f"env_threads={self.env_threads} steps the envs in this process, but {other} puts them in other processes; "
                                       "use one of the two (env_threads=0 keeps subprocesses)")
        self.trainer.require()
        parts = self.trainer.freeze_parts() if hasattr(self.trainer, "freeze_parts") else ("none",)
        for name, stage in (("ppo_freeze", "PPO"), ("bc_freeze", "cloning")):
            if getattr(self, name) not in parts:
                raise InvalidArgumentError(f"{name}={getattr(self, name)!r} is not a part {self.agent}'s {stage} can hold fixed; use one of {list(parts)}")
        if self.bc_freeze != "none" and self.pretrain is None:
            raise InvalidArgumentError(f"bc_freeze={self.bc_freeze!r} holds part of the encoder fixed during cloning, but pretrain=None; set pretrain='bc' or 'dagger', or use ppo_freeze for PPO")
        if self.ppo_freeze != "none" and self.pretrain is None and self.init_from is None and not self.resume:
            import warnings

            warnings.warn(
                f"ppo_freeze={self.ppo_freeze!r} with neither pretrain nor init_from holds the randomly initialised "
                f"{'encoder' if self.ppo_freeze == 'encoder' else self.ppo_freeze} fixed: PPO then learns on random features. "
                "Pretrain (pretrain='bc', --pretrain bc) or start from a trained policy (init_from=..., --init-from), "
                "or use ppo_freeze='none'",
                UserWarning,
                stacklevel=3,
            )
        resolve_device(self.device)
        if self.ray:
            from navgym.distributed.cluster import require_ray

            require_ray()
        self.config()  # validates the head and model settings early

    @property
    def trainer(self):
        """The registered trainer of ``agent`` (e.g. :class:`navgym.agents.rsrnav.training.RSRNavTrainer`)."""
        return TRAINERS.get(self.agent)

    def config(self):
        """The trainer's model config of this run (RSRNav: :class:`~navgym.agents.rsrnav.model.RSRNavConfig`)."""
        return self.trainer.config(self.head, self.model)

    def to_json(self) -> dict[str, Any]:
        values = asdict(self)
        values["out"] = str(self.out)
        values["init_from"] = None if self.init_from is None else str(self.init_from)
        return values


def resolve_device(device: str) -> str:
    """The torch device ``device`` stands for: ``"auto"`` is ``"cuda"`` when torch sees a GPU,
    else ``"cpu"``; ``"cuda"`` / ``"cuda:N"`` must exist.

    Raises:
        InvalidArgumentError: an unknown device, or a GPU torch cannot see (the message says why).
    """
    import re

    if not isinstance(device, str) or not re.fullmatch(r"auto|cpu|cuda(:\d+)?", device):
        raise InvalidArgumentError(f"device={device!r} is not a training device; use 'auto', 'cpu', 'cuda' or 'cuda:N'")
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda"):
        if not torch.cuda.is_available():
            build = f"built with CUDA {torch.version.cuda}" if torch.version.cuda else "a CPU-only build"
            raise InvalidArgumentError(f"device={device!r} but torch {torch.__version__} ({build}) sees no GPU; use device='auto' or 'cpu'")
        index = int(device.split(":")[1]) if ":" in device else 0
        if index >= torch.cuda.device_count():
            raise InvalidArgumentError(f"device={device!r} but torch sees {torch.cuda.device_count()} GPU(s); use 'cuda:0'..'cuda:{torch.cuda.device_count() - 1}'")
    return device


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
    pretrain: dict[str, Any] | None = None

    @property
    def steps_per_second(self) -> float:
        """Env steps per second of training (rollouts and updates; not env building or evaluations)."""
        return (self.num_timesteps - self.start_timesteps) / self.training_seconds if self.training_seconds > 0 else float("nan")


