"""RSRNav PPO training speed: env steps per second end to end (rollouts + updates), at 128x128,
with one env in-process and two envs in subprocesses, printed side by side.

    python benchmarks/train_speed.py [--heads direction] [--rollouts 4] [--n-steps 128] [--threads 1]
        [--envs 1,2] [--num-scenes 4] [--episodes-per-scene 20] [--size 128] [--render-backend raster]
        [--model-option precision=bfloat16] [--ppo-freeze none,encoder] [--overlap off,on] [--env-threads 0,2]
        [--init-from CHECKPOINT] [--env-id ImageNav-ProcHouseNear-v0] [--ppo-encoder-lr-scale 0.1] [--json results.json]

Each configuration builds the envs and the model, runs one warm-up rollout and update, then times
``--rollouts`` more, with navgym's training callback (it switches torch threads: ``--threads``
while collecting, ``--update-threads`` (default: all cores) while updating). "rollout" is the collection phase alone (env steps + policy inference),
"update" the PPO epochs over one rollout. ``ImageNav-ProcHouseEasy-v0``, RSRNav reward, the
default RSRNavConfig (2 epochs, 2 minibatches of 128 with 2 envs). ``--envs``, ``--num-scenes``,
``--episodes-per-scene`` and ``--size`` shrink a run; ``--env-threads 0,2`` adds rows with all envs
in the training process, stepped on two threads (``navgym train --env-threads 2``; "env-threads" 0:
subprocesses); ``--render-backend raster`` renders the training
envs' frames by rasterising (docs/simulator.md); ``--model-option`` sets RSRNavConfig fields (as
``navgym train --model-option``); ``--ppo-freeze`` (comma-separated) holds part of the encoder
fixed as ``navgym train --ppo-freeze`` does (fine-tuning a cloned policy: the frozen part's
features are computed once while acting); ``--overlap off,on`` adds rows with
``navgym train --overlap-rollouts`` (the policy acts for one half of the envs while the other
half steps; two envs or more, so rows with one env are skipped); ``--json`` also writes the rows
to a file. "episode steps" is the mean length of the last (at most 100) training episodes: a
freshly built policy calls ``stop`` about every fourth step, so its rollouts spend much of their
time on resets (a new goal photo rendered by the env and encoded by the policy) that PPO
fine-tuning a cloned policy, whose episodes run longer, meets less often. ``--init-from`` starts
each configuration from a checkpoint's policy (its head's network settings; ``--model-option``
still sets PPO's and the precision) to time that case, with ``--env-id`` the env it was cloned on.
CI runs it with a tiny budget (tests/scripts/test_train_speed_benchmark.py), checking only that it
runs and reports sane numbers, nothing about speed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
import warnings
from pathlib import Path

from _phases import processor, rollout_timer, write_report


def network_settings(checkpoint: Path, head: str) -> dict:
    """The network settings checkpoint ``checkpoint`` was trained with (what a run starting from
    its weights must keep; PPO's own settings and the precision stay free), for ``head``; exits
    naming ``--init-from`` when it is missing or of another head."""
    from navgym.training.args import TRAINERS
    from navgym.training.loop import recorded_config

    if not checkpoint.is_file():
        raise SystemExit(f"--init-from {str(checkpoint)!r} is not a file; give an RSRNav checkpoint, e.g. docs/results/rsrnav/checkpoints/pipeg30_direction_s0.zip")
    trainer = TRAINERS.get("rsrnav")
    try:
        recorded = recorded_config(trainer, checkpoint)
    except Exception as error:  # not a checkpoint navgym can read: say which option gave it
        raise SystemExit(f"--init-from {str(checkpoint)!r} is not an RSRNav checkpoint this navgym can read ({error})") from None
    if recorded["head"] != head:
        raise SystemExit(f"--init-from {str(checkpoint)!r} is a {recorded['head']!r} head's checkpoint, not {head!r}; pass --heads {recorded['head']}")
    free = {"head", "precision", *trainer.fine_tuning_settings}
    return {key: value for key, value in recorded.items() if key not in free}


def measure(head: str, n_envs: int, rollouts: int, n_steps: int, threads: int, update_threads: int | None,
            env_kwargs: dict, model: dict | None = None, freeze: str = "none", overlap: bool = False,
            init_from: Path | None = None, env_id: str | None = None, network: dict | None = None, env_threads: int = 0,
            encoder_lr_scale: float = 1.0) -> dict[str, float]:
    import torch
    from stable_baselines3.common.callbacks import CallbackList

    from navgym.agents.rsrnav.model import build_model
    from navgym.training import TrainArgs, make_callback, make_training_env, make_vec_env

    torch.set_num_threads(threads)
    out = Path(tempfile.mkdtemp(prefix="navgym_train_speed_"))
    args = TrainArgs(
        head=head, n_envs=n_envs, model={**(network or {}), **(model or {}), "n_steps": n_steps}, env_kwargs=env_kwargs,
        **({"env_id": env_id} if env_id else {}),
        out=out, torch_threads=threads, update_threads=update_threads, eval_episodes=0, eval_every=0, checkpoint_every=0, progress=False,
        ppo_freeze=freeze, overlap_rollouts=overlap, env_threads=env_threads,
        ppo_encoder_lr_scale=encoder_lr_scale if freeze != "encoder" else 1.0,
    )
    make_training_env(args.env_id, "train", **args.env_kwargs).close()  # generate and cache the houses first
    vec_env = make_vec_env(args)

    try:
        model = build_model(args.config(), vec_env, seed=0)
        if init_from is not None:  # a cloned policy: its episodes run as long as in fine-tuning
            args.trainer.init_weights(model, init_from, args.config())
        if freeze != "none":
            args.trainer.freeze(model, freeze)
        warmup = None
        if args.ppo_encoder_lr_scale != 1.0:  # the encoder's PPO steps scaled, as navgym train does
            from navgym.training.warmup import ActorWarmup

            warmup = ActorWarmup(model.policy, encoder_scale=args.ppo_encoder_lr_scale)
        samples = n_steps * n_envs
        model.learn(samples, callback=make_callback(args, args.config(), None, time.time(), 0, warmup=warmup))  # warm-up: one rollout + one update
        phases = rollout_timer()
        # navgym's training callback too: it switches torch threads between rollouts and updates.
        callbacks = CallbackList([make_callback(args, args.config(), None, time.time(), samples, warmup=warmup), phases])
        began = time.perf_counter()
        model.learn(samples * rollouts, callback=callbacks, reset_num_timesteps=False)
        total = time.perf_counter() - began
        lengths = [float(info["l"]) for info in model.ep_info_buffer]  # the last (at most 100) episodes
        if (getattr(model, "overlapped_rollouts", 0) > 0) != overlap:
            raise RuntimeError(f"overlap={overlap} but {getattr(model, 'overlapped_rollouts', 0)} rollouts were overlapped")
    finally:
        vec_env.close()
        shutil.rmtree(out, ignore_errors=True)
    steps = samples * rollouts
    return {
        "steps_per_second": steps / total,
        "rollout_steps_per_second": steps / phases.rollout,
        "update_seconds": (total - phases.rollout) / rollouts,
        "samples_per_update": samples,
        # Every reset renders a new goal photo and the policy encodes it: short episodes cost more.
        "episode_steps": sum(lengths) / len(lengths) if lengths else float("nan"),
        "encoder_lr_scale": args.ppo_encoder_lr_scale,
    }


def parse_model_option(text: str) -> tuple[str, object]:
    """``KEY=VALUE``; the value is JSON when it parses (numbers, true/false), else a string."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise SystemExit(f"--model-option {text!r} must be KEY=VALUE, e.g. precision=bfloat16")
    from navgym.core.options import option_value

    return key.strip(), option_value(value.strip())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--heads", default="direction", help="Comma-separated RSRNav heads.")
    parser.add_argument("--rollouts", type=int, default=4, help="Timed rollouts (+ updates) per configuration.")
    parser.add_argument("--n-steps", type=int, default=128, help="Rollout length per env.")
    parser.add_argument("--threads", type=int, default=1, help="Torch CPU threads while collecting rollouts.")
    parser.add_argument("--update-threads", type=int, default=None, help="Torch CPU threads during updates (default: all cores).")
    parser.add_argument("--envs", default="1,2", help="Comma-separated env counts (1: in-process, more: subprocesses).")
    parser.add_argument("--num-scenes", type=int, default=4, help="ProcHouse houses to train in.")
    parser.add_argument("--episodes-per-scene", type=int, default=20, help="Episodes per house.")
    parser.add_argument("--size", type=int, default=None, help="Camera side in pixels (default: the embodiment's, 128).")
    parser.add_argument("--render-backend", default=None, help="sim_options render_backend of the training envs, e.g. raster (default: the simulator's).")
    parser.add_argument("--model-option", action="append", default=[], metavar="KEY=VALUE",
                        help="RSRNavConfig setting, e.g. precision=bfloat16 (repeatable).")
    parser.add_argument("--ppo-freeze", default="none", help="Comma-separated parts of the encoder PPO holds fixed: none, trunk, encoder.")
    parser.add_argument("--ppo-encoder-lr-scale", type=float, default=1.0,
                        help="The encoder's PPO step size relative to the actor's where it trains (navgym train --ppo-encoder-lr-scale; "
                             "rows with --ppo-freeze encoder ignore it). It changes how far the encoder moves, "
                             "and so how long episodes run from a clone, not the work of an update.")
    parser.add_argument("--overlap", default="off", help="Comma-separated: off, on (navgym train --overlap-rollouts; envs >= 2 only).")
    parser.add_argument("--env-threads", default="0",
                        help="Comma-separated: 0 (envs in subprocesses, one in-process), N (all envs in this process, stepped on N threads: "
                             "navgym train --env-threads N).")
    parser.add_argument("--init-from", type=Path, default=None,
                        help="Start each configuration from this RSRNav checkpoint's policy (a clone, as PPO fine-tuning does): "
                             "its network settings, episodes as long as the policy makes them. Default: a freshly built model.")
    parser.add_argument("--env-id", default=None, help="Training env id (default: ImageNav-ProcHouseEasy-v0).")
    parser.add_argument("--json", type=Path, default=None, help="Also write the options and rows to this JSON file.")
    options = parser.parse_args()
    if not 0 < options.ppo_encoder_lr_scale < float("inf"):
        parser.error(f"--ppo-encoder-lr-scale {options.ppo_encoder_lr_scale!r} must be a positive finite number (1: PPO's own step)")
    warnings.filterwarnings("ignore", message=".*starts off the navigable area.*")
    warnings.filterwarnings("ignore", message=".*holds the randomly initialised.*")  # speed only: random weights are fine
    model = dict(parse_model_option(text) for text in options.model_option)
    heads = [h.strip() for h in options.heads.split(",") if h.strip()]
    env_counts = [int(n) for n in options.envs.split(",") if n.strip()]
    # --init-from's network settings per head, read once (exits naming --init-from when it cannot serve).
    networks = {head: network_settings(options.init_from, head) for head in heads} if options.init_from is not None else {}
    freezes = [f.strip() for f in options.ppo_freeze.split(",") if f.strip()]
    overlaps = [o.strip() for o in options.overlap.split(",") if o.strip()]
    if not overlaps or set(overlaps) - {"off", "on"}:
        raise SystemExit(f"--overlap {options.overlap!r} must be off, on or off,on")
    try:
        env_threads = [int(n) for n in options.env_threads.split(",") if n.strip()]
    except ValueError:
        env_threads = []
    if not env_threads or min(env_threads) < 0:
        raise SystemExit(f"--env-threads {options.env_threads!r} must be comma-separated whole numbers >= 0, e.g. 0,2")
    env_kwargs = {"num_scenes": options.num_scenes, "episodes_per_scene": options.episodes_per_scene}
    if options.size is not None:
        env_kwargs["resolution"] = options.size
    if options.render_backend is not None:
        env_kwargs["sim_options"] = {"render_backend": options.render_backend}
    print(
        f"machine: {processor()}, {os.cpu_count()} CPUs; torch threads: {options.threads} in rollouts, "
        f"{options.update_threads or 'all cores'} in updates; n_steps {options.n_steps} per env"
        + (f"; encoder's PPO step x{options.ppo_encoder_lr_scale:g} where it trains" if options.ppo_encoder_lr_scale != 1.0 else "")
    )
    print(f"{'head':<14}{'frozen':<9}{'overlap':<8}{'envs':>5}{'env-threads':>12}{'steps/s':>10}{'rollout steps/s':>17}{'update s':>10}{'samples/update':>16}{'episode steps':>15}")
    rows = []
    configurations = [(head, freeze, overlap, n_envs, threads) for head in heads for freeze in freezes for overlap in overlaps
                      for n_envs in env_counts for threads in env_threads
                      if overlap == "off" or (n_envs >= 2 and threads == 0)]
    for head, freeze, overlap, n_envs, threads in configurations:
        r = measure(head, n_envs, options.rollouts, options.n_steps, options.threads, options.update_threads, env_kwargs, model,
                    freeze, overlap == "on", options.init_from, options.env_id, networks.get(head), threads, options.ppo_encoder_lr_scale)
        print(
            f"{head:<14}{freeze:<9}{overlap:<8}{n_envs:>5}{threads:>12}{r['steps_per_second']:>10.1f}{r['rollout_steps_per_second']:>17.1f}"
            f"{r['update_seconds']:>10.2f}{r['samples_per_update']:>16d}{r['episode_steps']:>15.1f}",
            flush=True,
        )
        rows.append({"head": head, "frozen": freeze, "overlap": overlap == "on", "envs": n_envs, "env_threads": threads, **r})
    if options.json is not None:
        write_report(options.json, options, rows)


if __name__ == "__main__":
    main()
