"""The training entry point: :func:`train` (resume, Ctrl-C, budgets, envs, evaluation)."""

from __future__ import annotations

import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from navgym.errors import DataNotFoundError, InvalidArgumentError, NavgymError
from navgym.evaluation import RunExistsError, write_json_atomic
from navgym.training.args import TrainArgs, TrainResult, resolve_device
from navgym.training.callbacks import make_callback
from navgym.training.envs import make_training_env, make_vec_env


def train(args: TrainArgs | None = None, /, **overrides: Any) -> TrainResult:
    """Train a learned agent (RSRNav: recurrent PPO); see :class:`TrainArgs` and the package docstring.

    Example:
        >>> train(head="dense", timesteps=20_000, n_envs=2, out="runs/dense")  # doctest: +SKIP

    Raises:
        FileExistsError: ``out`` already has a checkpoint and ``resume`` is false.
        FileNotFoundError: ``resume`` is true and ``out`` has no checkpoint.
        ValueError: a checkpoint to resume was trained with other settings, or the env cannot be
            built from ``env_id`` and ``env_kwargs`` (or is not one ``agent`` trains on).

    All of these are :class:`navgym.errors.NavgymError` and are raised before anything is written.
    """
    if args is None:
        args = TrainArgs(**overrides)
    elif overrides:
        args = TrainArgs(**{**asdict(args), **overrides})
    import torch

    trainer = args.trainer
    config = args.config()
    checkpoint = args.out / "checkpoint.zip"
    if args.resume:
        if not checkpoint.exists():
            raise DataNotFoundError(f"resume=True but {checkpoint} does not exist; start a new run without resume")
        _require_config(trainer, checkpoint, config, str(checkpoint), "resume with the same head and model settings, or choose another out")
    elif args.init_from is not None:
        _require_config(trainer, args.init_from, config, f"init_from={str(args.init_from)!r}", "use the same head and network settings",
                        ignored=getattr(trainer, "fine_tuning_settings", frozenset()))
    if not args.resume and checkpoint.exists():
        raise RunExistsError(f"{checkpoint} exists: pass resume=True (--resume) to continue it, or choose another out")
    if args.torch_threads is not None:
        torch.set_num_threads(args.torch_threads)

    start_time = time.time()
    # One train env built here first generates (and caches) the houses once, not in every
    # subprocess, and checks env_id and env_kwargs before anything is written.
    eval_env = None
    try:
        make_training_env(args.env_id, "train", args.goal_camera, args.reward, agent=args.agent, reward_options=args.reward_options,
                          **args.env_kwargs).close()
        if args.eval_episodes:
            eval_env = make_training_env(args.env_id, "val", args.goal_camera, "env", agent=args.agent, **{**args.env_kwargs, **args.eval_env_kwargs})
    except NavgymError:
        raise
    except (ValueError, TypeError) as exc:
        given = f"env_kwargs={args.env_kwargs}" + (f", eval_env_kwargs={args.eval_env_kwargs}" if args.eval_env_kwargs else "")
        message = str(exc) if "env_id" in str(exc) else f"env_id={args.env_id!r} with {given}: {exc}"
        raise InvalidArgumentError(message) from exc
    try:
        args.out.mkdir(parents=True, exist_ok=True)
        write_json_atomic(args.out / "train_args.json", args.to_json())
    except BaseException:
        if eval_env is not None:
            eval_env.close()
        raise
    vec_env = make_vec_env(args)
    interrupted = False
    try:
        device = resolve_device(args.device)
        model = trainer.build_model(config, vec_env, args.seed, str(args.out / "tb"), device=device)
        if args.overlap_rollouts:
            if not hasattr(model, "overlap_rollouts"):
                raise InvalidArgumentError(f"overlap_rollouts=True: agent={args.agent!r}'s model ({type(model).__name__}) cannot overlap rollouts; leave it False")
            model.overlap_rollouts = True
        if device != "cpu":
            _log(args, f"learner on {device} (device={args.device!r}); env workers on the CPU")
        start_steps = 0
        pretrained = None
        if not args.resume and args.init_from is not None:
            trainer.init_weights(model, args.init_from, config, args.init_parts)  # with pretrain, BC starts from these weights
        if not args.resume and args.pretrain is not None:
            if (args.out / "pretrain.zip").exists():
                _require_config(trainer, args.out / "pretrain.zip", config, str(args.out / "pretrain.zip"), "delete it to pretrain again")
                trainer.init_weights(model, args.out / "pretrain.zip", config)
                _log(args, f"reusing {args.out / 'pretrain.zip'} (delete it to pretrain again)")
            else:
                from navgym.training.imitation import pretrain

                pretrained = pretrain(model, args, config, eval_env, log=lambda message: _log(args, message))
        # The pretraining's oracle demonstrations serve --ppo-bc-batches; the result keeps the summary only.
        pretrained_demos = pretrained.pop("demonstrations") if pretrained else None
        if args.resume:
            start_steps = trainer.restore(model, checkpoint)
            # A fresh random stream: a resumed run does not replay the first run's actions.
            model.set_random_seed(args.seed + start_steps)
        cloning = None
        if args.ppo_bc_batches > 0 and start_steps < args.timesteps:
            from navgym.training.imitation import InterleavedCloning, training_demonstrations

            demos = pretrained_demos if pretrained_demos is not None else training_demonstrations(args, lambda message: _log(args, message))
            cloning = InterleavedCloning(
                model.policy, demos, args.ppo_bc_batches, args.bc_batch_steps,
                args.bc_augment, args.seed, config.max_grad_norm,
            )
        if args.ppo_freeze != "none":
            # After any pretraining (which trains the whole network) and before PPO; a resumed
            # run is frozen again here (the setting is the run's, not the checkpoint's).
            trainer.freeze(model, args.ppo_freeze)
        warmup = None
        if (args.ppo_critic_warmup or args.ppo_actor_warmup or args.ppo_critic_lr_scale != 1.0) and start_steps < args.timesteps:
            from navgym.training.warmup import ActorWarmup

            warmup = ActorWarmup(model.policy, args.ppo_critic_warmup, args.ppo_actor_warmup, args.ppo_critic_lr_scale)
        callback = make_callback(args, config, eval_env, time.time(), start_steps, cloning=cloning, warmup=warmup)
        if start_steps < args.timesteps:
            try:
                model.learn(
                    total_timesteps=args.timesteps - start_steps,
                    callback=callback,
                    reset_num_timesteps=not args.resume,
                    tb_log_name=args.agent,
                )
            except KeyboardInterrupt:
                interrupted = True
                saved = callback.save_interrupted()
                if callback.bar is not None:
                    callback.bar.close()
                raise TrainingInterrupted(checkpoint, saved) from None
        final_steps = getattr(callback, "final_timesteps", int(model.num_timesteps))
        trained = start_steps < args.timesteps
        if args.timesteps == 0:
            checkpoint = args.out / "pretrain.zip"
        return TrainResult(
            args.out, checkpoint, final_steps, start_steps, time.time() - start_time,
            callback.training_seconds() if trained else 0.0, callback.evaluations,
            callback.training_cpu_seconds() if trained else 0.0, pretrained,
        )
    finally:
        _close_quietly(vec_env, interrupted)
        if eval_env is not None:
            eval_env.close()


def recorded_config(trainer, path: Path) -> dict[str, Any]:
    """The head and model settings checkpoint ``path`` was trained with, as ``trainer.config_dict``
    writes them (settings the checkpoint predates at their defaults); ``ValueError`` if this
    navgym cannot read them."""
    recorded = dict(trainer.read_meta(path)["config"])
    return trainer.config_dict(trainer.config(recorded.pop("head", None), recorded))


def _require_config(trainer, path: Path, config, label: str, fix: str, ignored: frozenset[str] = frozenset()) -> None:
    """Refuse a checkpoint (to resume, or to start from) trained with other head or model settings.

    Settings the checkpoint predates count at their defaults (it was trained with them), and
    ``precision`` may differ: it changes how the weights are computed with, not the weights.
    The settings in ``ignored`` may differ too (a run started from a checkpoint's weights may
    change how it optimises them: the trainer's ``fine_tuning_settings``).
    """
    try:
        recorded = recorded_config(trainer, path)
    except ValueError as error:
        raise InvalidArgumentError(f"{label} records model settings this navgym cannot read ({error}); {fix}") from None
    wanted = trainer.config_dict(config)
    ignored = {"precision", *ignored}
    if {k: v for k, v in recorded.items() if k not in ignored} != {k: v for k, v in wanted.items() if k not in ignored}:
        raise InvalidArgumentError(f"{label} was trained with {recorded}, which differs from this run's {wanted}; {fix}")


def _log(args: TrainArgs, message: str) -> None:
    """A line for the user (stderr, beside the progress bars) unless ``progress`` is off."""
    if args.progress:
        import sys

        print(message, file=sys.stderr, flush=True)


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


def _close_quietly(vec_env, interrupted: bool = False) -> None:
    """Close a vec env whose subprocesses may already have exited (Ctrl-C reaches them too).

    After an interrupt the workers are terminated instead of asked to close: a Ctrl-C that lands
    inside ``step_wait`` leaves SB3's vec env waiting for a step result the worker already sent,
    and its ``close()`` would then wait forever (seen in CI: the interrupted-training test hung)."""
    processes = getattr(vec_env, "processes", [])
    if interrupted and processes:
        for process in processes:
            if process.is_alive():
                process.terminate()
        for process in processes:
            process.join(timeout=10)
        vec_env.closed = True
        return
    try:
        vec_env.close()
    except (EOFError, BrokenPipeError, ConnectionResetError, OSError):
        for process in processes:
            if process.is_alive():
                process.terminate()

