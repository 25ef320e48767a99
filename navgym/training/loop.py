"""The training entry point: :func:`train` (resume, Ctrl-C, budgets, envs, evaluation)."""

from __future__ import annotations

import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from navgym.core.paths import remove_stale_temporaries
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
        _require_config(trainer, checkpoint, config, str(checkpoint), "resume with the same head and model settings, or choose another out",
                        damaged_fix="copy back an intact checkpoint.zip, or start a new run in another out")
    elif args.init_from is not None:
        _require_config(trainer, args.init_from, config, f"init_from={str(args.init_from)!r}", "use the same head and network settings",
                        ignored=getattr(trainer, "fine_tuning_settings", frozenset()),
                        damaged_fix="give an intact checkpoint (a run's checkpoint.zip or pretrain.zip)")
    if not args.resume and checkpoint.exists():
        raise RunExistsError(f"{checkpoint} exists: pass resume=True (--resume) to continue it, or choose another out")
    if args.torch_threads is not None:
        torch.set_num_threads(args.torch_threads)

    start_time = time.time()
    # One train env built here first generates (and caches) the houses once, not in every
    # subprocess, and checks env_id and env_kwargs before anything is written.
    eval_env = None
    try:
        probe = make_training_env(args.env_id, "train", args.goal_camera, args.reward, agent=args.agent, reward_options=args.reward_options,
                                  **args.env_kwargs)
        train_space, train_actions = probe.observation_space, probe.action_space
        probe.close()
        if args.eval_episodes:
            eval_env = make_training_env(args.env_id, "val", args.goal_camera, "env", agent=args.agent, **{**args.env_kwargs, **args.eval_env_kwargs})
    except NavgymError:
        raise
    except (ValueError, TypeError) as exc:
        given = f"env_kwargs={args.env_kwargs}" + (f", eval_env_kwargs={args.eval_env_kwargs}" if args.eval_env_kwargs else "")
        message = str(exc) if "env_id" in str(exc) else f"env_id={args.env_id!r} with {given}: {exc}"
        raise InvalidArgumentError(message) from exc
    try:
        # The images the env gives must be those the checkpoint's network was built for.
        if args.resume:
            _require_env_shapes(trainer, checkpoint, train_space, train_actions, str(checkpoint), args, "or choose another out")
        elif args.init_from is not None:
            _require_env_shapes(trainer, args.init_from, train_space, train_actions, f"init_from={str(args.init_from)!r}", args,
                                "or start from a checkpoint trained at this run's image size")
        vec_env = make_vec_env(args)
    except BaseException:
        if eval_env is not None:
            eval_env.close()
        raise
    interrupted = False
    try:
        device = resolve_device(args.device)
        try:
            model = trainer.build_model(config, vec_env, args.seed, str(args.out / "tb"), device=device)
        except NavgymError:
            raise
        except ValueError as exc:  # the network cannot be built for this env (e.g. a head's image size rule)
            sizes = any(rule in str(exc) for rule in ("square images", "same shape"))
            fix = "; set the image size with env_kwargs resolution= (--env-option resolution=128)" if sizes else ""
            raise InvalidArgumentError(f"head={args.head!r} with env_id={args.env_id!r} and env_kwargs={args.env_kwargs}: {exc}{fix}") from exc
        reuse_pretrained = not args.resume and args.pretrain is not None and (args.out / "pretrain.zip").exists()
        if reuse_pretrained:  # checked before train_args.json is written: a refused start must not rewrite it
            _require_config(trainer, args.out / "pretrain.zip", config, str(args.out / "pretrain.zip"),
                            "delete it to pretrain again, or start PPO from it in another folder without pretrain, "
                            f"with init_from='{args.out / 'pretrain.zip'}' (--init-from), where PPO's own settings "
                            "(n_steps, learning_rate, ...) may differ")
        # Only now, with every setting checked, is anything written (a refused start, resumed
        # or new, leaves the run folder as it was). A resumed run's settings replace the first
        # part's only when PPO is about to continue (below).
        args.out.mkdir(parents=True, exist_ok=True)
        if not args.resume:
            write_json_atomic(args.out / "train_args.json", args.to_json())
        remove_stale_temporaries(args.out, RUN_FILES)
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
            if reuse_pretrained:
                trainer.init_weights(model, args.out / "pretrain.zip", config)
                _log(args, f"reusing {args.out / 'pretrain.zip'} (delete it to pretrain again)")
            else:
                from navgym.training.imitation import pretrain

                stale = args.out / "pretrain.jsonl"
                if stale.exists():  # an earlier pretraining stopped before pretrain.zip: its records are of weights never saved
                    stale.unlink()
                    _log(args, f"pretraining again: removed {stale} of an earlier pretraining that was interrupted before writing pretrain.zip")
                pretrained = pretrain(model, args, config, eval_env, log=lambda message: _log(args, message))
        # The pretraining's oracle demonstrations serve --ppo-bc-batches; the result keeps the summary only.
        pretrained_demos = pretrained.pop("demonstrations") if pretrained else None
        if args.resume:
            start_steps = trainer.restore(model, checkpoint)
            # A fresh random stream: a resumed run does not replay the first run's actions.
            model.set_random_seed(args.seed + start_steps)
            # The run continues from the checkpoint: what an interrupted or killed run logged
            # after it (evaluations of weights that were never saved) is superseded.
            write_json_atomic(args.out / "checkpoint.json", trainer.read_meta(checkpoint))
            dropped = drop_evaluations_after(args.out / "eval.jsonl", start_steps)
            if dropped:
                _log(args, f"resuming at step {start_steps}: removed {dropped} evaluation(s) past it from {args.out / 'eval.jsonl'} "
                     "(the interrupted run made them with weights the checkpoint does not hold; those steps are trained again)")
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
        if (args.ppo_critic_warmup or args.ppo_actor_warmup or args.ppo_critic_lr_scale != 1.0 or args.ppo_encoder_lr_scale != 1.0) \
                and start_steps < args.timesteps:
            from navgym.training.warmup import ActorWarmup

            warmup = ActorWarmup(model.policy, args.ppo_critic_warmup, args.ppo_actor_warmup, args.ppo_critic_lr_scale,
                                 args.ppo_encoder_lr_scale)
        callback = make_callback(args, config, eval_env, time.time(), start_steps, cloning=cloning, warmup=warmup)
        if args.resume and start_steps < args.timesteps:
            # The checkpoint restored and every part set up: from here on these settings train it.
            _keep_superseded_args(args)
            write_json_atomic(args.out / "train_args.json", args.to_json())
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
                raise TrainingInterrupted(checkpoint, saved, pretrained=args.out / "pretrain.zip" if args.pretrain else None) from None
        final_steps = getattr(callback, "final_timesteps", int(model.num_timesteps))
        trained = start_steps < args.timesteps
        if args.timesteps == 0:
            checkpoint = args.out / "pretrain.zip"
        return TrainResult(
            args.out, checkpoint, final_steps, start_steps, time.time() - start_time,
            callback.training_seconds() if trained else 0.0, callback.evaluations,
            callback.training_cpu_seconds() if trained else 0.0, pretrained,
        )
    except TrainingInterrupted:
        raise
    except KeyboardInterrupt:  # Ctrl-C before PPO ran (pretraining, demonstrations, building the model)
        interrupted = True
        raise TrainingInterrupted(checkpoint, None, pretrained=args.out / "pretrain.zip" if args.pretrain else None, in_update=False) from None
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


def _require_config(trainer, path: Path, config, label: str, fix: str, ignored: frozenset[str] = frozenset(),
                    damaged_fix: str | None = None) -> None:
    """Refuse a checkpoint (to resume, or to start from) that is damaged (:func:`require_intact`)
    or was trained with other head or model settings.

    Settings the checkpoint predates count at their defaults (it was trained with them), and
    ``precision`` may differ: it changes how the weights are computed with, not the weights.
    The settings in ``ignored`` may differ too (a run started from a checkpoint's weights may
    change how it optimises them: the trainer's ``fine_tuning_settings``).
    """
    require_intact(path, label, damaged_fix or fix)
    try:
        recorded = recorded_config(trainer, path)
    except ValueError as error:
        raise InvalidArgumentError(f"{label} records model settings this navgym cannot read ({error}); {fix}") from None
    wanted = trainer.config_dict(config)
    ignored = {"precision", *ignored}
    differ = sorted(k for k in {*recorded, *wanted} if k not in ignored and recorded.get(k) != wanted.get(k))
    if differ:
        shown = ", ".join(f"{k}={recorded.get(k)!r} (this run: {wanted.get(k)!r})" for k in differ)
        raise InvalidArgumentError(f"{label} differs from this run in the settings it was trained with: {shown}; {fix}")


def require_intact(path: Path, label: str, fix: str) -> None:
    """Refuse a checkpoint zip that is cut short or whose entries fail their CRC check (a copy
    that stopped half way, a full disk, a file edited by hand), before anything reads it.
    navgym writes checkpoints to a temporary name and renames them, so a crash or a kill while
    saving never leaves a half-written file under the checkpoint's name; this catches the rest.
    A path that does not exist is left to the reader's own message."""
    import zipfile
    import zlib

    path = Path(path)
    if not path.is_file():
        return
    try:
        with zipfile.ZipFile(path) as archive:
            bad = archive.testzip()
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
        raise InvalidArgumentError(f"{label} is damaged: not a complete zip file ({exc}; {path.stat().st_size} bytes); {fix}") from None
    if bad is not None:
        raise InvalidArgumentError(f"{label} is damaged: its entry {bad!r} fails its CRC check; {fix}")


def _require_env_shapes(trainer, path: Path, space, action_space, label: str, args: TrainArgs, fix: str) -> None:
    """Refuse a checkpoint whose network was built for other image sizes or another action count
    than the run's env gives, naming the ``resolution`` to pass (the weights would not fit)."""
    try:
        meta = trainer.read_meta(path)
    except ValueError:
        return  # _require_config has said what is wrong with it
    recorded = meta.get("observation_shapes") or {}
    spaces_ = getattr(space, "spaces", {})
    differ = {k: (list(v), list(spaces_[k].shape) if k in spaces_ else None) for k, v in recorded.items()
              if k not in spaces_ or list(spaces_[k].shape) != list(v)}
    if differ:
        key, (want, got) = next(iter(differ.items()))
        shown = "; ".join(f"{k}: {tuple(w)} in the checkpoint, {tuple(g) if g is not None else 'missing'} in the env" for k, (w, g) in differ.items())
        hint = ""
        if len(want) == 3:
            height, width = want[0], want[1]
            resolution = str(height) if height == width else f"({height},{width})"
            hint = f"train at its size: --env-option resolution={resolution} (resolution={height if height == width else (height, width)!r} in env_kwargs), "
        raise InvalidArgumentError(
            f"{label} was trained on other images than env_id={args.env_id!r} with env_kwargs={args.env_kwargs} gives ({shown}); {hint}{fix}"
        )
    n_actions = meta.get("n_actions")
    if n_actions is not None and getattr(action_space, "n", n_actions) != n_actions:
        raise InvalidArgumentError(
            f"{label} was trained with {n_actions} actions, but env_id={args.env_id!r} with env_kwargs={args.env_kwargs} has {action_space.n}; "
            f"use the env (and its embodiment) the checkpoint was trained on, {fix}"
        )


def drop_evaluations_after(path: Path, timesteps: int) -> int:
    """Remove the records of ``eval.jsonl`` made after step ``timesteps`` (rewritten atomically);
    returns how many. A resumed run continues from its checkpoint's step: evaluations an
    interrupted or killed run made after its last checkpoint would otherwise stay beside the
    resumed run's evaluations of the same steps. Lines that are not records are kept."""
    import json

    path = Path(path)
    if not path.is_file():
        return 0
    kept, dropped = [], 0
    for line in path.read_text().splitlines(keepends=True):
        try:
            record = json.loads(line)
        except ValueError:
            record = None
        if isinstance(record, dict) and isinstance(record.get("timesteps"), (int, float)) and record["timesteps"] > timesteps:
            dropped += 1
        else:
            kept.append(line if line.endswith("\n") else line + "\n")
    if dropped:
        from navgym.core.paths import replace_atomically

        replace_atomically(path, lambda tmp: tmp.write_text("".join(kept)))
    return dropped


#: Files a run folder's writers replace atomically (:func:`navgym.core.paths.replace_atomically`).
RUN_FILES = ("checkpoint.zip", "checkpoint.json", "train_args.json", "pretrain.zip", "eval.jsonl")


#: Settings a resumed run is expected to change: how far and how long it runs, how it reports, and
#: the run folder (a run copied to another ``out`` and continued there).
RESUME_SETTINGS = frozenset({"resume", "timesteps", "max_minutes", "max_cpu_minutes", "progress", "out"})
#: Settings that change where and how fast the run computes, and what it reports, not what it
#: trains: a resumed run may change them without a word (evaluations, checkpoints, threads,
#: workers, the device, Ray).
NON_TRAINING_SETTINGS = frozenset({
    "eval_every", "eval_episodes", "eval_env_kwargs", "checkpoint_every", "torch_threads", "update_threads",
    "env_threads", "demo_workers", "ray", "ray_address", "device",
})


def _keep_superseded_args(args: TrainArgs) -> None:
    """Before a resumed run overwrites ``train_args.json``: if it was started with other settings
    (``ppo_encoder_lr_scale``, ``ppo_freeze``, the reward, the envs...), say which and keep the
    earlier settings in ``train_args_history.jsonl``, so what trained the checkpoint's first part
    is not lost. How far and how long the run goes (:data:`RESUME_SETTINGS`) and where and how fast
    it computes and what it reports (:data:`NON_TRAINING_SETTINGS`) are not reported; a
    setting the first part's ``train_args.json`` lacks (written by an older navgym) had its default.
    Called once the resumed run is set up and about to train."""
    import json

    from navgym.evaluation import _json_default, append_jsonl

    path = args.out / "train_args.json"
    history = args.out / "train_args_history.jsonl"
    try:
        text = path.read_bytes().decode("utf-8", errors="replace")
    except OSError:
        return  # no record of the first part: nothing to compare
    try:
        before = json.loads(text)
    except ValueError:
        before = None
    if not isinstance(before, dict):  # a record cut off or damaged: kept as it was, not compared
        append_jsonl(history, {"superseded": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "unreadable": text})
        _log(args, f"resuming: {path} could not be read as the first part's settings; its text is kept in {history}")
        return

    def as_stored(values: TrainArgs) -> dict[str, Any]:  # as train_args.json holds them (tuples read back as lists)
        return json.loads(json.dumps(values.to_json(), default=_json_default))

    now = as_stored(args)
    defaults = as_stored(TrainArgs())  # a setting the first part's navgym did not write had its default
    earlier = {**defaults, **before}
    changed = {key: (earlier.get(key), value) for key, value in now.items()
               if key not in RESUME_SETTINGS | NON_TRAINING_SETTINGS and earlier.get(key) != value}
    if changed:
        append_jsonl(history,
                     {"superseded": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "changed": sorted(changed), "train_args": before})
        listed = "; ".join(f"{key}: {old!r} -> {new!r}" for key, (old, new) in sorted(changed.items()))
        _log(args, f"resuming with settings other than the run's first part: {listed} (the earlier ones are kept in "
             f"{history})")


def _log(args: TrainArgs, message: str) -> None:
    """A line for the user (stderr, beside the progress bars) unless ``progress`` is off."""
    if args.progress:
        import sys

        print(message, file=sys.stderr, flush=True)


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C during :func:`train`. ``saved_timesteps``: the step count of the checkpoint written
    on the way out, or ``None`` when the interrupt hit an update and the last periodic checkpoint
    (if any) is kept instead. Resume with ``resume=True``."""

    def __init__(self, checkpoint: Path, saved_timesteps: int | None, pretrained: Path | None = None, in_update: bool = True):
        self.checkpoint = checkpoint
        self.saved_timesteps = saved_timesteps
        if saved_timesteps is not None:
            message = f"interrupted: saved {checkpoint} at {saved_timesteps} steps; continue with --resume"
        elif checkpoint.exists():
            when = "during an update" if in_update else "before training went on"
            message = f"interrupted {when}: the last checkpoint {checkpoint} is kept; continue with --resume"
        elif pretrained is not None and pretrained.exists():
            message = (f"interrupted before the first PPO checkpoint: the pretraining is kept in {pretrained}; run the same command "
                       "again (without --resume) to start PPO from it")
        elif pretrained is not None:
            message = ("interrupted while pretraining, before pretrain.zip was written: nothing to resume; run the same command again "
                       "(without --resume) to start over (the oracle demonstrations and goal-pose pairs already made are cached)")
        else:
            message = "interrupted before the first checkpoint: nothing to resume; run the same command again (without --resume) to start over"
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

