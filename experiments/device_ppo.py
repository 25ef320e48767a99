"""RSRNav PPO runs side by side on one many-core machine with a GPU, inside a fixed wall-clock budget.

Written for the short loans of a GPU machine (one call of at most ten minutes, a bare machine):
it readies the houses first (generated in parallel into navgym's cache, and the simulator's numba
kernels compiled once, so the envs of every run start at once), then runs several
:func:`navgym.training.train` processes at once (each with its own subprocess envs, all sharing
the GPU), stops them at a rollout boundary before the deadline, and packs each run folder
(settings, checkpoint meta, TensorBoard scalars, policy-only snapshots taken while it trained,
its console log) into one ``<out>/runs_<head>.tar.gz`` per start (a loan returns at most eight
files of 16 MiB: ``--pack-snapshots last`` keeps only each run's final snapshot). Nothing here
needs a GPU: ``--device cpu`` runs the same on any machine (how it is tested).

    python experiments/device_ppo.py --out OUT --budget 480 --envs 7 --seeds 0,1 \\
        --init-from docs/results/rsrnav/checkpoints/bcn_near_direction_l1_view.zip

``--init-from`` may be given several times (one run per checkpoint and seed: the head table
after PPO, equal budgets side by side); each run takes its head and network settings from its
checkpoint. Each run is the 40-CPU-minute command of docs/results/rsrnav_log.md's section "PPO with the encoder
frozen" (encoder frozen, ``ent_coef=0``, PIRLNav's warm-up, RSRNav's reward) with ``--envs`` envs
and minibatches of half a rollout. The snapshots are evaluated afterwards with ``navgym evaluate``.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import shutil
import tarfile
import threading
import time
import traceback
from pathlib import Path

ENV_ID = "ImageNav-ProcHouseNear-v0"


def _load_house(seed: int) -> int:
    from navgym.scenes.sources import load_prochouse

    load_prochouse(int(seed))
    return int(seed)


def ready_houses(num_scenes: int, workers: int, log, manifest: Path | None = None) -> None:
    """Compile the raster kernels in this process (numba caches them on disk for the env
    workers), generate the first ``num_scenes`` train houses in ``workers`` processes, then the
    train episodes (one process; about 1.7 s a house). Episode files already in navgym's cache
    (carried from another machine) are used only when every house's ``.glb`` has the SHA-256
    that ``manifest`` (JSON, seed -> digest, written by ``--write-manifest`` there) gives: the same
    houses, so the same episodes; otherwise they are deleted and generated here."""
    import gymnasium as gym

    import navgym  # noqa: F401  (registers the envs)
    from navgym.scenes.prochouse import SPLITS

    began = time.time()
    seeds = list(SPLITS["train"][:num_scenes])
    env = gym.make(ENV_ID, split="train", num_scenes=1, sim_options={"render_backend": "raster"})
    env.reset(seed=0)
    env.step(env.action_space.sample())
    env.close()
    log(f"kernels compiled, first house ready in {time.time() - began:.1f} s")
    with mp.get_context("spawn").Pool(max(1, workers)) as pool:
        pool.map(_load_house, seeds, chunksize=1)
    log(f"{len(seeds)} train houses ready in {time.time() - began:.1f} s")
    if manifest is not None:
        _check_houses(seeds, manifest, log)
    gym.make(ENV_ID, split="train", num_scenes=num_scenes).close()  # the episodes, from the cached houses
    log(f"train episodes ready in {time.time() - began:.1f} s")


def _house_digest(seed: int) -> str:
    import hashlib

    from navgym.scenes.sources import prochouse_cache_path

    return hashlib.sha256(prochouse_cache_path(seed).read_bytes()).hexdigest()


def _check_houses(seeds: list[int], manifest: Path, log) -> None:
    """Keep the cached Near train episodes of these houses only if every house is the manifest's."""
    from navgym.core.paths import cache_dir

    expected = json.loads(manifest.read_text())
    differ = [seed for seed in seeds if expected.get(str(seed)) != _house_digest(seed)]
    if not differ:
        log(f"all {len(seeds)} houses match {manifest}: the carried episodes are kept")
        return
    log(f"{len(differ)} houses differ from {manifest} (first: seed {differ[0]}): generating the episodes here")
    for path in (cache_dir() / "episodes" / "imagenav").glob(f"*_train_near_s{len(seeds)}_*.json.gz"):
        path.unlink()


def run_training(kwargs: dict, log_path: str) -> None:
    """One training run (a spawned process), its output to ``log_path``."""
    import sys

    sys.stdout = sys.stderr = open(log_path, "a", buffering=1)  # left open: Python's own exit messages go there too
    try:
        from navgym.training import train

        result = train(**kwargs)
        print(f"finished: {result}")
    except BaseException:
        traceback.print_exc()
        sys.exit(1)


def export_snapshot(run: Path) -> int:
    """A policy-only copy of ``run``'s checkpoint, ``snapshots/policy_<steps>.zip``; returns its steps."""
    from navgym.agents.rsrnav.model import export_policy

    steps = json.loads((run / "checkpoint.json").read_text())["num_timesteps"]
    path = run / "snapshots" / f"policy_{steps:07d}.zip"
    if not path.exists():
        export_policy(run / "checkpoint.zip", path)
    return steps


def snapshots(run: Path, every: float, stop: threading.Event, log) -> None:
    """:func:`export_snapshot` every ``every`` seconds while the run trains."""
    last = None
    while not stop.wait(every):
        try:
            steps = export_snapshot(run)
            if steps != last:
                last = steps
                log(f"{run.name}: snapshot at {steps} steps")
        except (OSError, KeyError, ValueError) as exc:  # no checkpoint yet, or one being replaced
            log(f"{run.name}: no snapshot ({type(exc).__name__})")


def start_settings(path: Path) -> tuple[str, dict]:
    """The head and network settings ``path`` (a checkpoint) was trained with, without the PPO
    settings a fine-tune may change (the trainer's ``fine_tuning_settings``)."""
    from navgym.training import TRAINERS
    from navgym.training.loop import recorded_config

    trainer = TRAINERS.get("rsrnav")
    recorded = recorded_config(trainer, path)
    head = recorded.pop("head")
    return head, {k: v for k, v in recorded.items() if k not in trainer.fine_tuning_settings and k != "precision"}


def run_names(heads: list[str], seeds: list[int], envs: int) -> list[str]:
    """``ppo_e<envs>_s<seed>`` for one start; ``ppo_<head>_e<envs>_s<seed>`` for several (one per head)."""
    if len(heads) == 1:
        return [f"ppo_e{envs}_s{seed}" for seed in seeds]
    if len(set(heads)) != len(heads):
        raise SystemExit(f"--init-from: the checkpoints' heads {heads} repeat; give one start per head")
    return [f"ppo_{head}_e{envs}_s{seed}" for head in heads for seed in seeds]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="where the packed runs and the log go")
    parser.add_argument("--work", type=Path, default=Path("runs/device"), help="run folders")
    parser.add_argument("--budget", type=float, help="seconds from start to the last rollout")
    parser.add_argument("--envs", type=int, default=7, help="subprocess envs per run")
    parser.add_argument("--seeds", default="0,1", help="one run per seed, side by side")
    parser.add_argument("--init-from", type=Path, action="append",
                        help="policy checkpoint PPO starts from (several: one run per checkpoint and seed)")
    parser.add_argument("--timesteps", type=int, default=10_000_000, help="env steps per run at most (the budget may end it first)")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--num-scenes", type=int, default=80)
    parser.add_argument("--fallback-minutes", type=float, default=2.0,
                        help="a run that fails off the CPU starts again on the CPU while more than this is left")
    parser.add_argument("--snapshot-every", type=float, default=120.0, help="seconds between policy-only snapshots")
    parser.add_argument("--pack-snapshots", choices=("all", "last"), default="all",
                        help="pack every policy-only snapshot, or only each run's final one")
    parser.add_argument("--manifest", type=Path, help="house digests that carried episode files were made from (see ready_houses)")
    parser.add_argument("--write-manifest", type=Path, help="write this machine's house digests there and exit")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=JSON",
                        help="extra train() or model setting, e.g. model.privileged_critic=true or ppo_critic_lr_scale=10")
    args = parser.parse_args()
    if args.write_manifest is not None:
        from navgym.scenes.prochouse import SPLITS

        seeds = list(SPLITS["train"][:args.num_scenes])
        for seed in seeds:
            _load_house(seed)
        args.write_manifest.write_text(json.dumps({str(seed): _house_digest(seed) for seed in seeds}, indent=0))
        return
    missing = [flag for flag, value in (("--out", args.out), ("--budget", args.budget), ("--init-from", args.init_from)) if value is None]
    if missing:
        parser.error(f"{', '.join(missing)} required (except with --write-manifest)")
    rollout = 128 * args.envs
    starts = [(path, *start_settings(path)) for path in args.init_from]
    model = {"ent_coef": 0.0, "n_steps": 128, "batch_size": rollout // 2}
    extra: dict = {}
    for item in args.set:
        name, _, value = item.partition("=")
        target, name = (model, name[len("model."):]) if name.startswith("model.") else (extra, name)
        try:
            target[name] = json.loads(value)
        except ValueError:
            parser.error(f"--set {item!r}: the value must be JSON (a number, true/false, a quoted string)")
    began = time.time()
    args.out.mkdir(parents=True, exist_ok=True)
    log_file = open(args.out / "driver.log", "a", buffering=1)

    def log(message: str) -> None:
        line = f"[{time.time() - began:6.1f} s] {message}"
        print(line, flush=True)
        log_file.write(line + "\n")

    import torch

    log(f"torch {torch.__version__}, cuda available: {torch.cuda.is_available()}"
        + (f" ({torch.cuda.get_device_name(0)})" if torch.cuda.is_available() else "") + f", {os.cpu_count()} CPUs")
    seeds = [int(s) for s in args.seeds.split(",")]
    ready_houses(args.num_scenes, min(os.cpu_count() or 1, 16), log, args.manifest)
    minutes = (args.budget - (time.time() - began)) / 60.0
    if minutes <= 0.5:
        raise SystemExit(f"--budget {args.budget} s leaves {minutes:.2f} minutes after readying the houses")
    runs = []
    ctx = mp.get_context("spawn")
    stop = threading.Event()

    def start(out: Path, kwargs: dict) -> None:
        """One run's process, and a thread taking its snapshots."""
        process = ctx.Process(target=run_training, args=(kwargs, str(args.out / f"{out.name}.log")))
        process.start()
        runs.append((out, process, kwargs))
        threading.Thread(target=snapshots, args=(out, args.snapshot_every, stop, log), daemon=True).start()

    names = iter(run_names([head for _, head, _ in starts], seeds, args.envs))
    for (init_from, head, network), seed in ((start, seed) for start in starts for seed in seeds):
        out = args.work / next(names)
        if out.exists():
            shutil.rmtree(out)
        run_model = {**network, **model}
        kwargs = dict(
            head=head, env_id=ENV_ID, timesteps=args.timesteps, n_envs=args.envs, seed=seed, out=str(out),
            init_from=str(init_from), bc_teacher="view", ppo_freeze="encoder",
            ppo_critic_warmup=8192, ppo_actor_warmup=16384, eval_every=0, eval_episodes=0,
            checkpoint_every=2048, max_minutes=minutes, device=args.device, progress=False,
            demo_workers=1, torch_threads=1, update_threads=1,
            env_kwargs={"num_scenes": args.num_scenes, "sim_options": {"render_backend": "raster"}},
            model=run_model, **extra,
        )
        start(out, kwargs)
        log(f"started {out.name} ({args.envs} envs, {minutes:.2f} minutes, device {args.device}, from {init_from}, model {run_model}, {extra})")
    # A run that fails on the GPU is started again on the CPU (a new folder, ``_cpu``) while
    # more than --fallback-minutes are left, so a loan is not lost to a CUDA-only bug.
    pending = list(range(len(runs)))
    while pending:
        time.sleep(2.0)
        for index in list(pending):
            out, process, kwargs = runs[index]
            if process.is_alive():
                continue
            pending.remove(index)
            log(f"{out.name} exited with code {process.exitcode}")
            left = (args.budget - (time.time() - began)) / 60.0
            if process.exitcode != 0 and kwargs["device"] != "cpu" and left > args.fallback_minutes:
                out = out.with_name(out.name + "_cpu")
                start(out, {**kwargs, "device": "cpu", "out": str(out), "max_minutes": left})
                pending.append(len(runs) - 1)
                log(f"started {out.name} on the CPU instead ({left:.2f} minutes)")
    stop.set()
    for head in dict.fromkeys(kwargs["head"] for _, _, kwargs in runs):
        with tarfile.open(args.out / f"runs_{head}.tar.gz", "w:gz") as tar:
            for out, _, kwargs in runs:
                if kwargs["head"] == head:
                    pack(tar, out, args.out / f"{out.name}.log", args.pack_snapshots == "last", log)
    log("done")


def pack(tar: tarfile.TarFile, out: Path, console: Path, last_only: bool, log) -> None:
    """Add run ``out`` (its final policy exported first; without the optimiser state) and its console log."""
    if console.exists():
        tar.add(console, arcname=console.name)
        console.unlink()
    if not out.exists():
        return
    final = None
    try:
        final = export_snapshot(out)
        log(f"{out.name}: final policy at {final} steps")
    except (OSError, KeyError, ValueError) as exc:
        log(f"{out.name}: no final checkpoint ({exc})")
    for path in sorted(out.rglob("*")):
        if not path.is_file() or path.name == "checkpoint.zip":  # the optimiser state stays behind
            continue
        if last_only and final is not None and path.parent.name == "snapshots" and path.name != f"policy_{final:07d}.zip":
            continue
        tar.add(path, arcname=str(path.relative_to(out.parent)))


if __name__ == "__main__":
    main()
