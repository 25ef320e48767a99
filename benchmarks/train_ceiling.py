"""The most env steps per second that RSRNav PPO trained end to end could reach on this machine:
an upper bound from the measured cost of its parts, for each head, precision and PPO epoch count.

    python benchmarks/train_ceiling.py [--heads direction] [--precisions float32,bfloat16] [--epochs 1,2]
        [--env ImageNav-ProcHouseNear-v0] [--num-scenes 4] [--render-backend raster] [--size 128] [--base-channels 16,8]
        [--act-batch 8] [--update-batch 128] [--goal-every 32] [--repeats 5] [--env-steps 200] [--json results.json]

Every env step of PPO costs at least: one env step (render, measures, reward), the encoder's
forward pass over its observation while acting (a batch of ``--act-batch`` envs, the goal's
features cached, as in a rollout) and, per PPO epoch, the encoder's forward and backward pass over
it in an update (minibatches of ``--update-batch``, one goal photo per ``--goal-every`` samples,
whose features the encoder computes once per minibatch). Each part is timed on one torch thread,
alone (median of ``--repeats``; the env over ``--env-steps`` steps without ``stop``, so without
resets). On ``C`` cores, no schedule runs them faster than ``C * 1000 / (sum of the parts in ms)``
steps per second: that is the ceiling printed, with the parts beside it. It leaves out the
recurrent cores, the action and value layers, the optimiser, resets and every copy between
processes, so real training (``benchmarks/train_speed.py``) stays below it; one thread's cost per
image is the cheapest this machine has measured (two threads split a batch at 1.5-1.6x, not 2x:
docs/results/rsrnav_log.md, "Training speed"). The FLOP counts (``torch.utils.flop_counter``)
show how close the trunk's convolutions already run to the processor's peak.

The issue's target is 150 env steps/s with the direction head at 128x128 (issue 15): a ceiling
below it says no scheduling, batching or copying change reaches it with this network and epoch
count on this machine; only less arithmetic (a smaller network, fewer epochs, lower precision
where the processor has it) or a GPU does. CI runs it with a tiny budget
(tests/scripts/test_train_speed_benchmark.py); it asserts nothing about speed.
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import time
import warnings
from pathlib import Path

from _phases import processor, whole_numbers, write_report


def _median_seconds(call, repeats: int) -> float:
    call()  # warm-up (oneDNN picks its kernels on the first call)
    times = []
    for _ in range(repeats):
        began = time.perf_counter()
        call()
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def encoder_costs(head: str, precision: str, size: int, act_batch: int, update_batch: int, goal_every: int, repeats: int,
                  base_channels: int = 16) -> dict[str, float]:
    """Milliseconds per observation of the encoder acting (no gradients) and training (forward and
    backward), on one torch thread, and the FLOPs of each per observation."""
    import numpy as np
    import torch
    from gymnasium import spaces
    from torch.utils.flop_counter import FlopCounterMode

    from navgym.agents.rsrnav.encoders import RSRNavEncoder

    torch.set_num_threads(1)
    torch.manual_seed(0)
    space = spaces.Dict({key: spaces.Box(0, 255, (size, size, 3), np.uint8) for key in ("rgb", "imagegoal")})
    encoder = RSRNavEncoder(space, head=head, precision=precision, base_channels=base_channels)
    generator = torch.Generator().manual_seed(0)

    def images(n: int) -> torch.Tensor:
        return torch.randint(0, 256, (n, size, size, 3), dtype=torch.uint8, generator=generator)

    acting = {"rgb": images(act_batch), "imagegoal": images(1).expand(act_batch, -1, -1, -1).contiguous()}
    goals = images(-(-update_batch // goal_every)).repeat_interleave(goal_every, dim=0)[:update_batch].contiguous()
    training = {"rgb": images(update_batch), "imagegoal": goals}

    def act() -> None:
        with torch.no_grad():
            encoder(acting)

    def train() -> None:
        encoder.zero_grad(set_to_none=True)
        encoder(training).square().mean().backward()

    encoder.eval()
    act_seconds = _median_seconds(act, repeats)
    with FlopCounterMode(display=False) as counter:
        act()
    act_flops = counter.get_total_flops()
    encoder.train()
    train_seconds = _median_seconds(train, repeats)
    with FlopCounterMode(display=False) as counter:
        train()
    train_flops = counter.get_total_flops()
    return {
        "act_ms": act_seconds * 1e3 / act_batch,
        "train_ms": train_seconds * 1e3 / update_batch,
        "act_gflop": act_flops / act_batch / 1e9,
        "train_gflop": train_flops / update_batch / 1e9,
        "act_gflops_per_s": act_flops / act_seconds / 1e9,
        "train_gflops_per_s": train_flops / train_seconds / 1e9,
    }


def env_step_ms(env_id: str, env_kwargs: dict, steps: int) -> float:
    """Milliseconds per env step on one thread, moving and turning only (no ``stop``, no reset)."""
    import gymnasium as gym
    import numpy as np
    import torch

    import navgym  # noqa: F401  (registers the envs)

    torch.set_num_threads(1)
    env = gym.make(env_id, split="train", **env_kwargs)
    try:
        env.reset(seed=0)
        moves = [i for i, name in enumerate(env.unwrapped.actions) if name != "stop"]
        rng = np.random.default_rng(0)
        env.step(moves[0])  # warm-up
        began = time.perf_counter()
        for _ in range(steps):
            _, _, terminated, truncated, _ = env.step(int(rng.choice(moves)))
            if terminated or truncated:  # a time-out: its reset is not counted
                paused = time.perf_counter()
                env.reset()
                began += time.perf_counter() - paused
        return (time.perf_counter() - began) * 1e3 / steps
    finally:
        env.close()


def ceiling(cores: int, env_ms: float, act_ms: float, train_ms: float, epochs: int) -> float:
    """Env steps per second that ``cores`` cores cannot beat: each step needs ``env_ms + act_ms +
    epochs * train_ms`` milliseconds of one core's time."""
    return cores * 1e3 / (env_ms + act_ms + epochs * train_ms)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--heads", default="direction", help="Comma-separated RSRNav heads.")
    parser.add_argument("--precisions", default="float32,bfloat16", help="Comma-separated: float32, bfloat16 (RSRNavConfig.precision).")
    parser.add_argument("--epochs", default="1,2", help="Comma-separated PPO epochs per rollout (RSRNavConfig.n_epochs; default 2).")
    parser.add_argument("--env", default="ImageNav-ProcHouseNear-v0", help="Env id whose step is timed.")
    parser.add_argument("--num-scenes", type=int, default=4, help="ProcHouse houses of the timed env.")
    parser.add_argument("--render-backend", default="raster", help="sim_options render_backend of the timed env ('' for the simulator's default).")
    parser.add_argument("--size", type=int, default=128, help="Image side in pixels.")
    parser.add_argument("--base-channels", default="16", help="Comma-separated trunk widths (RSRNavConfig.base_channels; default 16).")
    parser.add_argument("--act-batch", type=int, default=8, help="Envs acting at once (one batch per acting step).")
    parser.add_argument("--update-batch", type=int, default=128, help="Samples per update minibatch.")
    parser.add_argument("--goal-every", type=int, default=32, help="Samples per distinct goal photo in an update minibatch (about an episode's length).")
    parser.add_argument("--repeats", type=int, default=5, help="Timed calls per encoder measurement (the median is kept).")
    parser.add_argument("--env-steps", type=int, default=200, help="Timed env steps.")
    parser.add_argument("--cores", type=int, default=None, help="Cores the ceiling is for (default: this machine's).")
    parser.add_argument("--target", type=float, default=150.0, help="Env steps per second the ceiling is compared with.")
    parser.add_argument("--json", type=Path, default=None, help="Also write the options and rows to this JSON file.")
    options = parser.parse_args()
    for name in ("size", "act_batch", "update_batch", "goal_every", "repeats", "env_steps"):
        if getattr(options, name) < 1:
            raise SystemExit(f"--{name.replace('_', '-')} {getattr(options, name)} must be at least 1")
    heads = [h.strip() for h in options.heads.split(",") if h.strip()]
    from navgym.agents.rsrnav.encoders import PRECISIONS

    precisions = [p.strip() for p in options.precisions.split(",") if p.strip()]
    if not precisions or set(precisions) - set(PRECISIONS):
        raise SystemExit(f"--precisions {options.precisions!r} must list some of {', '.join(PRECISIONS)}")
    epochs = whole_numbers(options.epochs, "epochs", "1,2")
    widths = whole_numbers(options.base_channels, "base-channels", "16,8")
    if any(width % 4 for width in widths):
        raise SystemExit(f"--base-channels {options.base_channels!r}: each trunk width must be a multiple of 4 (GroupNorm groups), e.g. 16,8")
    cores = options.cores or os.cpu_count() or 1
    warnings.filterwarnings("ignore", message=".*starts off the navigable area.*")

    env_kwargs: dict = {"num_scenes": options.num_scenes, "resolution": options.size}
    if options.render_backend:
        env_kwargs["sim_options"] = {"render_backend": options.render_backend}
    env_ms = env_step_ms(options.env, env_kwargs, options.env_steps)
    print(f"machine: {processor()}, {os.cpu_count()} CPUs; ceiling for {cores} cores; {options.size}x{options.size} images; "
          f"env step ({options.env}): {env_ms:.2f} ms")
    print(f"{'head':<12}{'width':>6} {'precision':<10}{'act ms':>8}{'train ms':>10}{'GFLOP fwd':>10}{'GFLOP f+b':>10}{'GFLOP/s':>9}"
          f"{'epochs':>7}{'ceiling steps/s':>17}{'target':>8}")
    rows = []
    for head, width, precision in itertools.product(heads, widths, precisions):
        costs = encoder_costs(head, precision, options.size, options.act_batch, options.update_batch, options.goal_every, options.repeats,
                              base_channels=width)
        for n_epochs in epochs:
            bound = ceiling(cores, env_ms, costs["act_ms"], costs["train_ms"], n_epochs)
            verdict = "above" if bound >= options.target else "below"
            print(f"{head:<12}{width:>6} {precision:<10}{costs['act_ms']:>8.2f}{costs['train_ms']:>10.2f}{costs['act_gflop']:>10.3f}"
                  f"{costs['train_gflop']:>10.3f}{costs['train_gflops_per_s']:>9.1f}{n_epochs:>7}{bound:>17.1f}{verdict:>8}", flush=True)
            rows.append({"head": head, "base_channels": width, "precision": precision, "epochs": n_epochs, "env_ms": env_ms, "cores": cores,
                         **costs, "ceiling_steps_per_second": bound})
    if options.json is not None:
        write_report(options.json, options, rows)


if __name__ == "__main__":
    main()
