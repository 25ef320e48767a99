"""The training callback: progress bars, time budgets, checkpoints and evaluations at rollout
boundaries (so a checkpoint always resumes exactly), TensorBoard scalars."""

from __future__ import annotations

import math
import time
from typing import Any

import gymnasium as gym
import numpy as np

from navgym.evaluation import append_jsonl, evaluate, mean_measures, sr_spl, write_json_atomic
from navgym.training.args import TrainArgs


def available_cores() -> int:
    """CPU cores this process may run on."""
    import os

    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def last_evaluated_step(path) -> float:
    """The largest ``timesteps`` of the records in ``eval.jsonl`` at ``path`` (-1: none)."""
    import json
    from pathlib import Path

    path = Path(path)
    last = -1.0
    if path.is_file():
        for line in path.read_text().splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict) and isinstance(record.get("timesteps"), (int, float)):
                last = max(last, float(record["timesteps"]))
    return last


def purge_tensorboard_after(model, timesteps: int) -> bool:
    """Tell TensorBoard to drop the points of the run's earlier event files past ``timesteps``
    (a resumed run starts over from its checkpoint's step: the points an interrupted or killed
    run logged after it would otherwise overlap the resumed run's). Writes TensorBoard's own
    marker, a ``SessionLog.START`` event at ``timesteps + 1``, as ``SummaryWriter(purge_step=...)``
    does; TensorBoard (``--purge_orphaned_data``, on by default) then discards earlier events at
    that step or later. Returns whether the run logs to TensorBoard."""
    from stable_baselines3.common.logger import TensorBoardOutputFormat

    for output in getattr(model.logger, "output_formats", []):
        if isinstance(output, TensorBoardOutputFormat):
            from tensorboard.compat.proto.event_pb2 import Event, SessionLog

            writer = output.writer._get_file_writer()
            writer.add_event(Event(step=int(timesteps) + 1, session_log=SessionLog(status=SessionLog.START)))
            writer.flush()
            return True
    return False


def make_callback(args: TrainArgs, config, eval_env: gym.Env | None, start_time: float, start_steps: int, start_cpu: float | None = None,
                  cloning=None, warmup=None):
    """The SB3 callback of a run: progress bar, budgets, periodic checkpoints and evaluations;
    with ``cloning`` (a :class:`navgym.training.imitation.InterleavedCloning`), its behaviour
    cloning steps after every PPO update (before that boundary's checkpoint); with ``warmup``
    (a :class:`navgym.training.warmup.ActorWarmup`), the actor's step scale of each update."""
    from stable_baselines3.common.callbacks import BaseCallback

    import torch

    trainer = args.trainer
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
            self.updated = False  # an update ran since the last rollout start (not at a run's or a resume's first)
            # Between a rollout's start and its end the weights and optimiser still match the
            # step count at the rollout's start: a checkpoint written then resumes exactly.
            self.consistent_steps: int | None = None

        def _on_training_start(self) -> None:
            n = self.model.num_timesteps
            self.next_checkpoint = (n // args.checkpoint_every + 1) * args.checkpoint_every if args.checkpoint_every else math.inf
            self.next_eval = (n // args.eval_every + 1) * args.eval_every if args.eval_every else math.inf
            if n > 0 and start_steps > 0:  # resumed
                purge_tensorboard_after(self.model, int(n))
                # An evaluation due by the checkpoint's step that never finished (Ctrl-C during it,
                # or a kill) runs first, so eval.jsonl keeps one record per period.
                if args.eval_every and args.eval_episodes and last_evaluated_step(args.out / "eval.jsonl") < (n // args.eval_every) * args.eval_every:
                    self.next_eval = n
            if args.progress:
                from tqdm.auto import tqdm

                self.bar = tqdm(total=args.timesteps, initial=n, unit="step", desc=f"{args.agent}/{args.head}", dynamic_ncols=True)

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
            n = self.model.num_timesteps
            self.clone()
            if args.torch_threads is not None:
                torch.set_num_threads(args.torch_threads)
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
            self.updated = True
            torch.set_num_threads(update_threads)
            if warmup is not None:
                warmup.begin_update(int(self.model.num_timesteps))
                for part, scale in warmup.step_scales().items():  # train/actor_step_scale, train/encoder_step_scale, ...
                    self.logger.record(f"train/{part}_step_scale", scale)
            buffer = self.model.ep_info_buffer
            if buffer:
                success = float(np.mean([info.get("success", 0.0) for info in buffer]))
                self.logger.record("rollout/success_rate", success)
                self.logger.record("rollout/spl", float(np.mean([info.get("spl", 0.0) for info in buffer])))
                if self.bar is not None:
                    self.bar.set_postfix(train_SR=f"{success:.2f}", refresh=False)
            self.logger.record("time/env_steps_per_second", (self.model.num_timesteps - start_steps) / max(self.training_seconds(), 1e-9))

        def clone(self) -> None:
            """``cloning``'s steps after an update (on the update's threads), once per update:
            at the next rollout start, or at the end of training, before the checkpoint there."""
            if warmup is not None:
                warmup.end_update()  # the update is over: cloning's steps are not scaled
            if cloning is not None and self.updated:
                parts = cloning.step(int(self.model.num_timesteps))
                self.logger.record("bc/loss", parts["bc_loss"])
                self.logger.record("bc/accuracy", parts["accuracy"])
            self.updated = False

        def _on_training_end(self) -> None:
            self.clone()
            if not self.out_of_time:
                self.finish()
            if self.bar is not None:
                self.bar.close()

        def finish(self) -> None:
            """The run's last checkpoint and evaluation (at a rollout boundary)."""
            self.final_timesteps = int(self.model.num_timesteps)
            self.save()
            if args.eval_episodes and (not self.evaluations or self.evaluations[-1]["timesteps"] != self.final_timesteps):
                self.evaluate(final=True)

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
            meta = trainer.save(self.model, args.out / "checkpoint.zip", config, {"env_id": args.env_id, "seed": args.seed})
            write_json_atomic(args.out / "checkpoint.json", meta)

        def evaluate(self, final: bool = False) -> None:
            """SR / SPL on ``eval_episodes`` val episodes, with a progress bar of its own (the
            final one, after the last update, can take minutes with nothing else moving)."""
            if eval_env is None or not args.eval_episodes:
                return
            began, began_cpu = time.time(), time.process_time()
            episodes = min(args.eval_episodes, len(eval_env.unwrapped.dataset.episodes))
            desc = f"{'final ' if final else ''}evaluation @ {int(self.model.num_timesteps)} steps (val)"
            result = evaluate(
                eval_env, trainer.agent(self.model.policy), episodes, seed=args.seed, progress=args.progress, threads=args.torch_threads, desc=desc,
            )
            summary = mean_measures(result.records)
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
            append_jsonl(args.out / "eval.jsonl", record)
            # Written at once at the evaluated step: through ``logger.record`` they would wait for
            # SB3's next dump, one rollout later (logged at the wrong step), and the final
            # evaluation's would never be written (no dump follows it).
            values = {f"eval/{key}": summary[key] for key in ("success", "spl", "angle_to_goal_deg") if summary[key] is not None}
            if values:
                for output in getattr(self.logger, "output_formats", []):
                    output.write(values, {key: None for key in values}, int(self.model.num_timesteps))
            if self.bar is not None:
                self.bar.write(f"eval @ {record['timesteps']} steps: {sr_spl(summary)}")

    return TrainingCallback()


