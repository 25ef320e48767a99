"""PPO rollout throughput (env steps per second) with the envs in SB3 ``SubprocVecEnv`` workers,
in Ray actors (navgym's ``RayVecEnv``), and in RLlib's env runners, on this machine.

    python benchmarks/ray_rollouts.py [--envs pointnav,imagenav] [--setups subproc,ray,ray_batched,rllib]
        [--rollouts 3] [--rllib-python /path/to/venv/bin/python] [--json docs/results/ray_rollouts.json]

Each setup runs in a fresh Python process (its own Ray, started with ``--workers`` CPUs, torch
with one thread everywhere) and builds its envs and model, runs one warm-up rollout and update,
then times ``--rollouts`` more: "rollout" is the collection phase alone (env steps + policy
inference + moving observations), "total" rollouts plus PPO updates.

* pointnav: ``PointNav-ProcHouseSmall-v0``, depth 16x16 + GPS+compass, SB3 ``PPO`` with the
  settings of ``examples/train_pointnav.py`` (MultiInputPolicy, n_steps 512 per env); an env
  step costs about 1.3 ms, the order of a Ray round trip.
* imagenav: ``ImageNav-ProcHouseEasy-v0`` at 128x128 with ``navgym.training``'s envs (goal camera,
  RSRNav reward, ``Monitor``) and RSRNav's recurrent PPO (``direction`` head, n_steps 128 per
  env); an env step costs about 5 ms and its observation is 96 KiB.

Setups (``--workers`` worker processes each): ``subproc`` SB3 ``SubprocVecEnv`` with one env
per process; ``ray`` ``RayVecEnv`` with one env per actor; ``ray_compiled`` the same stepped
through a Ray compiled graph (``compiled=True``); ``ray_batched`` ``RayVecEnv`` with
``--batch`` envs per actor (``--workers * --batch`` envs); ``subproc_many`` ``SubprocVecEnv``
with as many envs as ``ray_batched`` (one process each, so more processes than cores);
``rllib`` RLlib PPO (new API stack) with the env registered through ``ray.tune.register_env``
(FlattenObservation, a 64-64 MLP like SB3's; pointnav only: RSRNav's network is an SB3 policy),
``--workers`` env runners of one env each: RLlib pins gymnasium to an older version than navgym's
venv has, so ``--rllib-python`` names another interpreter (a throwaway venv) to run it in.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SB3_SETUPS = ("subproc", "ray", "ray_compiled", "ray_batched", "subproc_many")
POINTNAV_KWARGS = {"split": "train", "sensors": ("depth", "pointgoal_with_gps_compass"), "resolution": 16}


class PointNavFactory:
    """A picklable PointNav env constructor (one torch thread in the worker)."""

    def __init__(self, flatten: bool = False):
        self.flatten = flatten

    def __call__(self):
        import gymnasium as gym

        import navgym  # noqa: F401

        try:
            import torch

            torch.set_num_threads(1)
        except ImportError:
            pass
        env = gym.make("PointNav-ProcHouseSmall-v0", **POINTNAV_KWARGS)
        if self.flatten:
            env = gym.wrappers.FlattenObservation(env)
        else:
            from stable_baselines3.common.monitor import Monitor

            env = Monitor(env)
        return env


def _vec_env(setup: str, factory_for, workers: int, batch: int):
    from stable_baselines3.common.vec_env import SubprocVecEnv

    from navgym.distributed.vec_env import RayVecEnv

    n_envs = workers * batch if setup in ("ray_batched", "subproc_many") else workers
    factories = [factory_for() for _ in range(n_envs)]
    if setup.startswith("subproc"):
        return SubprocVecEnv(factories)
    return RayVecEnv(factories, envs_per_actor=batch if setup == "ray_batched" else 1, num_cpus=workers, compiled=setup == "ray_compiled")


def measure_sb3(env: str, setup: str, workers: int, batch: int, rollouts: int) -> dict:
    import torch
    from _phases import rollout_timer

    torch.set_num_threads(1)

    out = None
    began_setup = time.perf_counter()
    if env == "pointnav":
        import gymnasium as gym
        from stable_baselines3 import PPO

        import navgym  # noqa: F401

        gym.make("PointNav-ProcHouseSmall-v0", **POINTNAV_KWARGS).close()  # generate and cache the episodes once
        vec_env = _vec_env(setup, PointNavFactory, workers, batch)
        n_steps = 512
        model = PPO("MultiInputPolicy", vec_env, n_steps=n_steps, learning_rate=5e-4, seed=0, verbose=0, device="cpu")
    else:
        from navgym.agents.rsrnav.model import build_model
        from navgym.training import TrainArgs, make_training_env
        from navgym.training.envs import _EnvFactory

        out = Path(tempfile.mkdtemp(prefix="navgym_ray_rollouts_"))
        n_steps = 128
        args = TrainArgs(head="direction", n_envs=workers, model={"n_steps": n_steps}, env_kwargs={"num_scenes": 4, "episodes_per_scene": 20},
                         out=out, torch_threads=1, update_threads=1, eval_episodes=0, eval_every=0, checkpoint_every=0, progress=False)
        make_training_env(args.env_id, "train", **args.env_kwargs).close()
        vec_env = _vec_env(setup, lambda: _EnvFactory(args, worker=True), workers, batch)
        model = build_model(args.config(), vec_env, seed=0)
    setup_seconds = time.perf_counter() - began_setup
    try:
        samples = n_steps * vec_env.num_envs
        model.learn(samples)  # warm-up: one rollout + one update
        phases = rollout_timer()
        began = time.perf_counter()
        model.learn(samples * rollouts, callback=phases, reset_num_timesteps=False)
        total = time.perf_counter() - began
        learned = int(model.num_timesteps)
    finally:
        vec_env.close()
        if out is not None:
            shutil.rmtree(out, ignore_errors=True)
    steps = samples * rollouts
    return {
        "env": env, "setup": setup, "workers": workers, "n_envs": vec_env.num_envs, "n_steps_per_env": n_steps,
        "rollout_steps_per_second": round(steps / phases.rollout, 1), "total_steps_per_second": round(steps / total, 1),
        "setup_seconds": round(setup_seconds, 1), "ppo_learn_timesteps": learned, "ppo_learn_ok": learned >= samples * (rollouts + 1),
    }


def measure_rllib(env: str, workers: int, rollouts: int) -> dict:
    """RLlib PPO sampling throughput: ``--workers`` remote env runners, one env each, sampling
    ``512 * workers`` steps per round (timed ``rollouts`` rounds after a warm-up), and whole
    ``algo.train()`` iterations (sampling + learner update) for the total."""
    if env != "pointnav":
        raise SystemExit("rllib: pointnav only (RSRNav's recurrent network is an SB3 policy)")
    import ray
    import torch
    from ray.rllib.algorithms.ppo import PPOConfig
    from ray.tune.registry import register_env

    torch.set_num_threads(1)
    import gymnasium as gym

    import navgym  # noqa: F401

    gym.make("PointNav-ProcHouseSmall-v0", **POINTNAV_KWARGS).close()
    began_setup = time.perf_counter()
    # logical CPUs: the env runners plus the driver's learner, as SB3 has its learner in the driver
    ray.init(num_cpus=workers + 1, include_dashboard=False, log_to_driver=False)
    register_env("navgym-pointnav-small", lambda config: PointNavFactory(flatten=True)())
    n_steps = 512
    config = (
        PPOConfig()
        .environment("navgym-pointnav-small")
        .framework("torch")
        .env_runners(num_env_runners=workers, num_envs_per_env_runner=1, rollout_fragment_length=n_steps, num_cpus_per_env_runner=1)
        .training(train_batch_size=n_steps * workers, minibatch_size=64, num_epochs=10, lr=5e-4)
        .rl_module(model_config={"fcnet_hiddens": [64, 64]})
        .debugging(seed=0)
    )
    algo = config.build_algo() if hasattr(config, "build_algo") else config.build()
    setup_seconds = time.perf_counter() - began_setup
    try:
        group = algo.env_runner_group
        group.foreach_env_runner(lambda runner: len(runner.sample(num_timesteps=n_steps)), local_env_runner=False)  # warm-up
        began = time.perf_counter()
        sampled = 0
        for _ in range(rollouts):
            sampled += sum(sum(len(episode) for episode in episodes) for episodes in group.foreach_env_runner(
                lambda runner: runner.sample(num_timesteps=n_steps), local_env_runner=False))
        sample_seconds = time.perf_counter() - began
        algo.train()  # warm-up iteration
        began = time.perf_counter()
        trained = 0
        for _ in range(rollouts):
            result = algo.train()
            trained += n_steps * workers
        total = time.perf_counter() - began
        lifetime = result.get("env_runners", {}).get("num_env_steps_sampled_lifetime")
    finally:
        algo.stop()
        ray.shutdown()
    return {
        "env": env, "setup": "rllib", "workers": workers, "n_envs": workers, "n_steps_per_env": n_steps,
        "rollout_steps_per_second": round(sampled / sample_seconds, 1), "total_steps_per_second": round(trained / total, 1),
        "setup_seconds": round(setup_seconds, 1), "rllib_env_steps_sampled_lifetime": lifetime, "ray": ray.__version__,
        "gymnasium": gym.__version__,
    }


def run_one(env: str, setup: str, workers: int, batch: int, rollouts: int, python: str) -> dict:
    command = [python, str(Path(__file__).resolve()), "--one", f"{env}:{setup}", "--workers", str(workers), "--batch", str(batch),
               "--rollouts", str(rollouts)]
    environ = {**os.environ, "OMP_NUM_THREADS": "1", "NUMBA_NUM_THREADS": "1", "PYTHONPATH": str(ROOT), "PYTHONWARNINGS": "ignore"}
    proc = subprocess.run(command, capture_output=True, text=True, env=environ, cwd=ROOT)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        return {"env": env, "setup": setup, "workers": workers, "error": (proc.stderr or proc.stdout).strip().splitlines()[-5:]}
    return json.loads(lines[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--envs", default="pointnav,imagenav", help="Comma-separated: pointnav, imagenav.")
    parser.add_argument("--setups", default="subproc,ray,ray_compiled,ray_batched,subproc_many,rllib", help="Comma-separated setups (see above).")
    parser.add_argument("--workers", type=int, default=2, help="Worker processes (env runners / actors / subprocesses).")
    parser.add_argument("--batch", type=int, default=2, help="Envs per actor of ray_batched.")
    parser.add_argument("--rollouts", type=int, default=3, help="Timed rollouts after the warm-up.")
    parser.add_argument("--rllib-python", default=sys.executable, help="Python with ray[rllib] installed.")
    parser.add_argument("--json", default=None, help="Write the results here (e.g. docs/results/ray_rollouts.json).")
    parser.add_argument("--one", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        env, setup = args.one.split(":")
        if setup == "rllib":
            result = measure_rllib(env, args.workers, args.rollouts)
        else:
            result = measure_sb3(env, setup, args.workers, args.batch, args.rollouts)
        print(json.dumps(result))
        return

    results = []
    for env in args.envs.split(","):
        for setup in args.setups.split(","):
            if setup == "rllib" and env != "pointnav":
                continue
            python = args.rllib_python if setup == "rllib" else sys.executable
            result = run_one(env, setup, args.workers, args.batch, args.rollouts, python)
            print(json.dumps(result), file=sys.stderr, flush=True)
            results.append(result)
    for env in args.envs.split(","):
        base = next((r for r in results if r["env"] == env and r["setup"] == "subproc" and "error" not in r), None)
        for r in results:
            if r["env"] == env and base and "error" not in r:
                r["rollout_vs_subproc"] = round(r["rollout_steps_per_second"] / base["rollout_steps_per_second"], 2)
                r["total_vs_subproc"] = round(r["total_steps_per_second"] / base["total_steps_per_second"], 2)
    print(f"{'env':<9} {'setup':<13} {'envs':>4} {'rollout steps/s':>16} {'vs subproc':>10} {'total steps/s':>14} {'vs subproc':>10} {'setup s':>8}")
    for r in results:
        if "error" in r:
            print(f"{r['env']:<9} {r['setup']:<13} error: {r['error'][-1] if r['error'] else '?'}")
            continue
        print(f"{r['env']:<9} {r['setup']:<13} {r['n_envs']:>4} {r['rollout_steps_per_second']:>16.1f} {r.get('rollout_vs_subproc', float('nan')):>10.2f} "
              f"{r['total_steps_per_second']:>14.1f} {r.get('total_vs_subproc', float('nan')):>10.2f} {r['setup_seconds']:>8.1f}")
    if args.json:
        import ray
        import stable_baselines3
        import torch

        report = {
            "command": "python " + " ".join(shlex.quote(a) for a in ["benchmarks/ray_rollouts.py", *sys.argv[1:]]),
            "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.processor() or platform.platform()}",
            "python": platform.python_version(), "ray": ray.__version__, "stable_baselines3": stable_baselines3.__version__,
            "torch": torch.__version__, "torch_threads": 1, "results": results,
        }
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
