"""Where a PPO rollout's time goes: the wall seconds of each part of sb3-contrib's collection loop
(the policy's forward pass, sending the actions to the env workers, waiting for their steps, the
rollout buffer) and, inside the forward pass, of the encoder's parts (the trunk, the relationship
head, the goal-feature cache), for RSRNav PPO with ``--envs`` envs in subprocesses (or, with
``--env-threads N``, in this process on N threads: ``navgym train --env-threads``).

    python experiments/rollout_parts.py [--init-from CHECKPOINT] [--env-id ImageNav-ProcHouseNear-v0]
        [--envs 8] [--threads 2] [--rollouts 3] [--n-steps 128] [--num-scenes 4] [--env-threads 0]
        [--model-option precision=bfloat16] [--json parts.json]

It builds the model as ``navgym train`` does (from ``--init-from``'s policy and network settings
when given, so episodes run as long as in fine-tuning), runs one warm-up rollout and update, then
times ``--rollouts`` more with each part wrapped in a timer. Parts nest (the trunk runs inside the
forward pass; the trunk and head also run in the updates, so their call counts are larger), and
the env workers' own time is not in it: "step_wait" is the main process waiting for the slowest
worker. Prints seconds, calls and milliseconds per call; the results page quotes it
(docs/results/rsrnav_log.md, "Training speed").
"""

from __future__ import annotations

import argparse
import collections
import json
import shutil
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))


def _timed(seconds: collections.Counter, calls: collections.Counter, owner, name: str, key: str) -> None:
    """Wrap ``owner.name`` so each call adds its wall time to ``seconds[key]``."""
    function = getattr(owner, name)

    def timed(*args, **kwargs):
        began = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            seconds[key] += time.perf_counter() - began
            calls[key] += 1

    setattr(owner, name, timed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--init-from", type=Path, default=None, help="RSRNav checkpoint to start from (its network settings too).")
    parser.add_argument("--head", default="direction", help="Head (with --init-from: the checkpoint's).")
    parser.add_argument("--env-id", default="ImageNav-ProcHouseEasy-v0", help="Training env id.")
    parser.add_argument("--envs", type=int, default=8, help="Training envs (2 or more; in subprocesses unless --env-threads).")
    parser.add_argument("--threads", type=int, default=2, help="Torch threads while collecting.")
    parser.add_argument("--rollouts", type=int, default=3, help="Timed rollouts.")
    parser.add_argument("--n-steps", type=int, default=128, help="Rollout length per env.")
    parser.add_argument("--num-scenes", type=int, default=4, help="ProcHouse houses.")
    parser.add_argument("--render-backend", default="raster", help="sim_options render_backend of the envs.")
    parser.add_argument("--env-threads", type=int, default=0,
                        help="0: the envs in subprocesses; N: all in this process, stepped on N threads (TrainArgs.env_threads).")
    parser.add_argument("--model-option", action="append", default=[], metavar="KEY=VALUE", help="RSRNavConfig setting (repeatable).")
    parser.add_argument("--json", type=Path, default=None, help="Also write the parts to this JSON file.")
    options = parser.parse_args()
    for name, low in (("envs", 2), ("rollouts", 1), ("threads", 1), ("n_steps", 1), ("num_scenes", 1), ("env_threads", 0)):
        if getattr(options, name) < low:
            raise SystemExit(f"--{name.replace('_', '-')} {getattr(options, name)} must be at least {low}")
    warnings.filterwarnings("ignore", message=".*starts off the navigable area.*")

    import torch
    from stable_baselines3.common.callbacks import CallbackList
    from train_speed import network_settings, parse_model_option

    from _phases import rollout_timer
    from navgym.agents.rsrnav.model import build_model
    from navgym.training import TrainArgs, make_callback, make_training_env, make_vec_env

    settings = network_settings(options.init_from, options.head) if options.init_from is not None else {}
    model_options = {**settings, **dict(parse_model_option(text) for text in options.model_option), "n_steps": options.n_steps}
    torch.set_num_threads(options.threads)
    out = Path(tempfile.mkdtemp(prefix="navgym_rollout_parts_"))
    args = TrainArgs(head=options.head, env_id=options.env_id, n_envs=options.envs, model=model_options, out=out,
                     env_kwargs={"num_scenes": options.num_scenes, "sim_options": {"render_backend": options.render_backend}},
                     torch_threads=options.threads, env_threads=options.env_threads, eval_episodes=0, eval_every=0, checkpoint_every=0, progress=False)
    make_training_env(args.env_id, "train", **args.env_kwargs).close()
    vec_env = make_vec_env(args)
    seconds: collections.Counter = collections.Counter()
    calls: collections.Counter = collections.Counter()
    try:
        model = build_model(args.config(), vec_env, seed=0)
        if options.init_from is not None:
            args.trainer.init_weights(model, options.init_from, args.config())
        samples = options.n_steps * options.envs
        model.learn(samples)  # warm-up
        encoder = model.policy.features_extractor
        for owner, name, key in ((model.env, "step_async", "env step_async"), (model.env, "step_wait", "env step_wait"),
                                 (model.policy, "forward", "policy forward"), (model.rollout_buffer, "add", "buffer add"),
                                 (encoder, "_goal_features", "  goal features (cache)"), (encoder.trunk, "forward", "  trunk (also in updates)"),
                                 (encoder.head, "forward", "  head (also in updates)")):
            _timed(seconds, calls, owner, name, key)
        phases = rollout_timer()
        callbacks = CallbackList([make_callback(args, args.config(), None, time.time(), samples), phases])
        began = time.perf_counter()
        model.learn(samples * options.rollouts, callback=callbacks, reset_num_timesteps=False)
        total = time.perf_counter() - began
        lengths = [float(info["l"]) for info in model.ep_info_buffer]
    finally:
        vec_env.close()
        shutil.rmtree(out, ignore_errors=True)
    steps = samples * options.rollouts
    vector_steps = steps // options.envs
    where = f"in this process on {options.env_threads} threads" if options.env_threads else "in subprocesses"
    print(f"{options.envs} envs ({where}), {options.threads} threads; {steps} env steps: {total:.1f} s in all, rollouts {phases.rollout:.1f} s "
          f"({steps / phases.rollout:.0f} env steps/s, {1000 * phases.rollout / vector_steps:.1f} ms per vector step); "
          f"mean episode {sum(lengths) / max(len(lengths), 1):.1f} steps")
    print(f"{'part':<28}{'s':>8}{'calls':>8}{'ms/call':>10}{'ms/vector step':>16}")
    rows = []
    for key, value in seconds.most_common():
        print(f"{key:<28}{value:>8.2f}{calls[key]:>8d}{1000 * value / calls[key]:>10.2f}{1000 * value / vector_steps:>16.2f}")
        rows.append({"part": key.strip(), "seconds": value, "calls": calls[key]})
    if options.json is not None:
        options.json.write_text(json.dumps({"options": {k: str(v) if isinstance(v, Path) else v for k, v in vars(options).items()},
                                            "total_seconds": total, "rollout_seconds": phases.rollout, "env_steps": steps, "parts": rows}, indent=2) + "\n")


if __name__ == "__main__":
    main()
