"""navgym next to two peer simulators, MiniWorld and ViZDoom, in one interleaved run.

    python benchmarks/peers.py [--steps 1500] [--rounds 3] [--size 128] [--out peers.json]
                               [--peers-venv ~/.cache/navgym/bench-peers-venv] [--no-install]
                               [--llvmpipe-threads N] [--navgym-pythonpath NAME=DIR ...]

Contenders, each timed as steps/s of random actions after a 50-step warm-up:

* ``navgym``: ``ObjectNav-ProcHouse-v0`` (``num_scenes=1, episodes_per_scene=5``) with the task's
  default RGB-D sensors at ``--size`` x ``--size`` (``resolution=`` of ``gym.make``), random
  non-stop actions (1..n-1), as in ``benchmarks/env_step.py``. Runs in this interpreter.
* ``MiniWorld-OneRoom`` and ``MiniWorld-Maze``: ``MiniWorld-OneRoom-v0`` / ``MiniWorld-Maze-v0``
  with ``obs_width = obs_height = --size``, rendered headless through EGL (Mesa's llvmpipe on a
  machine without a GPU; no X display needed): ``PYGLET_HEADLESS=1`` is what does it with
  miniworld 2.1 / pyglet 1.5 (``PYOPENGL_PLATFORM=egl``, MiniWorld's own switch, is set too but alone
  is not enough). MiniWorld asks for 8x MSAA; llvmpipe gives 4x ("Falling back to num_samples=4").
* ``ViZDoom-MyWayHome``: ``VizdoomMyWayHome-vN`` of ``vizdoom.gymnasium_wrapper`` as registered,
  the newest N (``-v1`` since vizdoom 1.3, ``-v0`` before): its scenario's screen resolution (320x240
  RGB in vizdoom 1.3), printed before the rounds; no frame skip.
* ``navgym-raster``: the same with ``sim_options={"render_backend": "raster"}`` (camera frames
  rasterised instead of ray-cast; docs/simulator.md, "Speed").
* ``--navgym-pythonpath NAME=DIR`` (repeatable): the navgym measurement again with
  ``PYTHONPATH=DIR``, e.g. another checkout, so two navgym versions meet the same load.

The peers live in their own virtual environment (``--peers-venv``), created with ``python -m venv``
and ``pip install miniworld vizdoom`` on first use (``--no-install``: use an existing one only). A
peer that does not install, import or render (no network, no OpenGL) is skipped with a one-line
reason; the others still run.

Every measurement is a fresh subprocess with ``OMP_NUM_THREADS=OPENBLAS_NUM_THREADS=MKL_NUM_THREADS=1``.
Each round runs every contender once, in the order navgym, navgym-raster, OneRoom, Maze, MyWayHome (then the extra
navgym checkouts), so background load hits all of them alike. Printed: a table per round, the median
steps/s per contender, and navgym's ratio to each peer (median of the per-round ratios).

Caveats: the numbers depend on the machine (CPU, load, Mesa version) and are not comparable across
machines; the contenders render different pictures (navgym: RGB + depth by CPU ray casting; MiniWorld:
RGB by OpenGL rasterisation in llvmpipe, which threads itself unless ``LP_NUM_THREADS`` /
``--llvmpipe-threads`` says otherwise; ViZDoom: the Doom software renderer, in its own engine process,
at its scenario's resolution).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# Only the standard library at module level: the worker mode runs in the peers' venv too.

DEFAULT_PEERS_VENV = Path("~/.cache/navgym/bench-peers-venv")
PEER_PACKAGES = {"miniworld": ["miniworld"], "vizdoom": ["vizdoom"]}
WARMUP = 50
HINTS = {"miniworld": " (MiniWorld renders headless through EGL with PYGLET_HEADLESS=1: it needs libEGL, e.g. Mesa's)"}
SINGLE_THREAD = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


# --------------------------------------------------------------------------------------------
# Worker side: one measurement in one process; prints one JSON line.
# --------------------------------------------------------------------------------------------


def _time_loop(env, sample, steps: int) -> float:
    for _ in range(WARMUP):
        _, _, terminated, truncated, _ = env.step(sample())
        if terminated or truncated:
            env.reset()
    t0 = time.perf_counter()
    for _ in range(steps):
        _, _, terminated, truncated, _ = env.step(sample())
        if terminated or truncated:
            env.reset()
    return steps / (time.perf_counter() - t0)


def _shapes(space) -> str:
    spaces = getattr(space, "spaces", None)
    if isinstance(spaces, dict):
        return " ".join(f"{k}{tuple(v.shape)}" for k, v in spaces.items() if getattr(v, "shape", None))
    return str(tuple(space.shape))


def _version(dist: str) -> str | None:
    from importlib import metadata

    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def _worker_navgym(spec: dict) -> dict:
    import gymnasium as gym
    import numpy as np

    import navgym

    kwargs = {"num_scenes": 1, "episodes_per_scene": 5}
    if spec.get("sim_options"):
        kwargs["sim_options"] = spec["sim_options"]
    try:
        env = gym.make(spec["env_id"], resolution=spec["size"], **kwargs)
        resolution = "resolution"
    except TypeError:  # a navgym checkout without resolution=: its default camera
        env = gym.make(spec["env_id"], **kwargs)
        resolution = "default camera"
    rng = np.random.default_rng(0)
    n = env.action_space.n
    env.reset(seed=0)
    info = {
        "obs": _shapes(env.observation_space),
        "resolution_from": resolution,
        "version": getattr(navgym, "__version__", None),
        "module": str(Path(navgym.__file__).parent),
    }
    try:
        info["raycast_backend"] = env.unwrapped.sim.caster.backend
    except Exception:  # another checkout's internals: not needed for the number
        pass
    if spec["probe"]:
        env.step(int(rng.integers(1, n)))
        rate = None
    else:
        rate = _time_loop(env, lambda: int(rng.integers(1, n)), spec["steps"])
    env.close()
    return {"steps_per_s": rate, **info}


def _worker_miniworld(spec: dict) -> dict:
    import gymnasium as gym

    import miniworld  # noqa: F401  (registers MiniWorld-*)

    env = gym.make(spec["env_id"], obs_width=spec["size"], obs_height=spec["size"])
    env.reset(seed=0)
    env.action_space.seed(0)
    info = {"obs": _shapes(env.observation_space), "version": _version("miniworld"), "pyglet": _version("pyglet")}
    try:
        from pyglet import gl

        info["gl_renderer"] = gl.gl_info.get_renderer()
    except Exception:
        pass
    return _random_actions(env, spec, info)


def _random_actions(env, spec: dict, info: dict) -> dict:
    """A probe step, or steps/s of the action space's random samples; closes the env."""
    if spec["probe"]:
        env.step(env.action_space.sample())
        rate = None
    else:
        rate = _time_loop(env, env.action_space.sample, spec["steps"])
    env.close()
    return {"steps_per_s": rate, **info}


def _worker_vizdoom(spec: dict) -> dict:
    import gymnasium as gym

    import vizdoom.gymnasium_wrapper  # noqa: F401  (registers Vizdoom*-vN)

    env_id = spec["env_id"]
    if "-v" not in env_id:  # the newest registered version (vizdoom 1.3 moved from -v0 to -v1)
        versions = [k for k in gym.registry if k.startswith(env_id + "-v") and k[len(env_id) + 2:].isdigit()]
        if not versions:
            raise SystemExit(f"vizdoom {_version('vizdoom')} registers no {env_id}-vN")
        env_id = max(versions, key=lambda k: int(k[len(env_id) + 2:]))
    env = gym.make(env_id)
    env.reset(seed=0)
    env.action_space.seed(0)
    info = {"env_id": env_id, "obs": _shapes(env.observation_space), "action_space": str(env.action_space),
            "version": _version("vizdoom")}
    return _random_actions(env, spec, info)


WORKERS = {"navgym": _worker_navgym, "miniworld": _worker_miniworld, "vizdoom": _worker_vizdoom}


def worker_main(spec_json: str) -> None:
    spec = json.loads(spec_json)
    result = WORKERS[spec["kind"]](spec)
    print(json.dumps(result), flush=True)


# --------------------------------------------------------------------------------------------
# Driver side.
# --------------------------------------------------------------------------------------------


class Contender:
    def __init__(self, name: str, kind: str, env_id: str, python: str, env: dict[str, str], sim_options: dict | None = None):
        self.name, self.kind, self.env_id, self.python, self.env = name, kind, env_id, python, env
        self.sim_options = sim_options
        self.info: dict = {}
        self.skip: str | None = None


def _one_line(text: str, limit: int = 300) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    line = lines[-1] if lines else "no output"
    return line if len(line) <= limit else line[: limit - 3] + "..."


def run_worker(c: Contender, size: int, steps: int, probe: bool, timeout: float) -> tuple[dict | None, str | None]:
    """(result, None) or (None, one-line reason)."""
    spec = {"kind": c.kind, "env_id": c.env_id, "size": size, "steps": steps, "probe": probe, "sim_options": c.sim_options}
    cmd = [c.python, os.path.abspath(__file__), "--worker", json.dumps(spec)]
    env = {**os.environ, **SINGLE_THREAD, **c.env}
    # ViZDoom writes _vizdoom.ini (and more) into its working directory: give it a scratch one.
    with tempfile.TemporaryDirectory(prefix="navgym-peer-") as scratch:
        try:
            proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout, cwd=scratch if c.kind == "vizdoom" else None)
        except subprocess.TimeoutExpired:
            return None, f"no result within {timeout:g} s (--timeout)"
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith("{"):
            try:
                result = json.loads(line)
            except json.JSONDecodeError:
                continue
            if "steps_per_s" in result and proc.returncode == 0:
                return result, None
    return None, f"exit {proc.returncode}: {_one_line(proc.stderr or proc.stdout)}"


def venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def prepare_peers_venv(venv: Path, install: bool, log) -> tuple[Path | None, dict[str, str]]:
    """The peers' interpreter and {peer: reason} for the peers not usable in it."""
    python = venv_python(venv)
    if not python.exists():
        if not install:
            return None, {p: f"no peers venv at {venv} (--no-install)" for p in PEER_PACKAGES}
        log(f"creating the peers venv {venv}")
        proc = subprocess.run([sys.executable, "-m", "venv", str(venv)], capture_output=True, text=True)
        if proc.returncode != 0:
            return None, {p: f"python -m venv {venv} failed: {_one_line(proc.stderr)}" for p in PEER_PACKAGES}
    missing: dict[str, str] = {}
    for peer, packages in PEER_PACKAGES.items():
        # find_spec, not import: importing miniworld opens a pyglet window (needs a display or EGL).
        probe = f"import importlib.util, sys; sys.exit(importlib.util.find_spec({peer!r}) is None)"
        check = subprocess.run([str(python), "-c", probe], capture_output=True, text=True)
        if check.returncode == 0:
            continue
        if not install:
            missing[peer] = f"{peer} is not installed in {venv} (--no-install)"
            continue
        log(f"pip install {' '.join(packages)} into {venv}")
        proc = subprocess.run([str(python), "-m", "pip", "install", "-q", *packages], capture_output=True, text=True)
        if proc.returncode != 0:
            missing[peer] = f"pip install {' '.join(packages)} failed: {_one_line(proc.stderr)}"
    return python, missing


def contenders(args, peers_python: Path | None, peer_problems: dict[str, str]) -> list[Contender]:
    mw_env = {"PYGLET_HEADLESS": "1", "PYOPENGL_PLATFORM": "egl"}
    if args.llvmpipe_threads is not None:
        mw_env["LP_NUM_THREADS"] = str(args.llvmpipe_threads)
    peers_py = str(peers_python) if peers_python else ""
    out = [
        Contender("navgym", "navgym", args.navgym_env, sys.executable, {}),
        Contender("navgym-raster", "navgym", args.navgym_env, sys.executable, {}, {"render_backend": "raster"}),
        Contender("MiniWorld-OneRoom", "miniworld", "MiniWorld-OneRoom-v0", peers_py, mw_env),
        Contender("MiniWorld-Maze", "miniworld", "MiniWorld-Maze-v0", peers_py, mw_env),
        Contender("ViZDoom-MyWayHome", "vizdoom", "VizdoomMyWayHome", peers_py, {}),
    ]
    for c in out[1:]:
        c.skip = peer_problems.get(c.kind)
    for item in args.navgym_pythonpath:
        name, _, path = item.partition("=")
        if not name or not path:
            raise SystemExit(f"--navgym-pythonpath {item!r}: expected NAME=DIR")
        if name in {c.name for c in out}:
            raise SystemExit(f"--navgym-pythonpath {item!r}: the name {name!r} is taken")
        pythonpath = os.pathsep.join(p for p in (os.path.abspath(path), os.environ.get("PYTHONPATH", "")) if p)
        out.append(Contender(name, "navgym", args.navgym_env, sys.executable, {"PYTHONPATH": pythonpath}))
    return out


def machine_info() -> dict:
    info = {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "python": sys.version.split()[0],
        "cpu_count": os.cpu_count(),
        "LP_NUM_THREADS": os.environ.get("LP_NUM_THREADS"),
    }
    if hasattr(os, "sched_getaffinity"):
        info["cpus_available"] = len(os.sched_getaffinity(0))
    if hasattr(os, "getloadavg"):
        info["loadavg_at_start"] = list(os.getloadavg())
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu_model"] = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return info


def _fmt(rate: float | None) -> str:
    return f"{rate:10.1f}" if rate is not None else f"{'-':>10}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description="\n\n".join(__doc__.split("\n\n")[:2]),
        epilog="Numbers depend on the machine (CPU, load, Mesa); see the module docstring for what each contender renders.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--steps", type=int, default=1500, help="timed random steps per measurement, after a %d-step warm-up (default: 1500)" % WARMUP)
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds; each runs every contender once (default: 3)")
    parser.add_argument("--size", type=int, default=128, help="observation side in pixels for navgym and MiniWorld (default: 128; ViZDoom keeps its scenario's)")
    parser.add_argument("--navgym-env", default="ObjectNav-ProcHouse-v0", help="navgym id to time (default: ObjectNav-ProcHouse-v0)")
    parser.add_argument("--peers-venv", type=Path, metavar="PATH", default=DEFAULT_PEERS_VENV, help="virtual environment holding miniworld and vizdoom (default: %s)" % DEFAULT_PEERS_VENV)
    parser.add_argument("--no-install", action="store_true", help="do not create the peers venv or pip install into it; peers missing there are skipped")
    parser.add_argument("--llvmpipe-threads", type=int, default=None, metavar="N", help="set LP_NUM_THREADS=N for MiniWorld (Mesa llvmpipe's rasteriser threads; default: leave the environment as it is)")
    parser.add_argument("--navgym-pythonpath", action="append", default=[], metavar="NAME=DIR", help="extra contender NAME: the navgym measurement with PYTHONPATH=DIR (e.g. another checkout); repeatable")
    parser.add_argument("--skip", action="append", default=[], metavar="NAME", help="leave out a contender (navgym, navgym-raster, MiniWorld-OneRoom, MiniWorld-Maze, ViZDoom-MyWayHome, or a --navgym-pythonpath NAME); repeatable")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds one measurement may take (default: 900)")
    parser.add_argument("--out", type=Path, default=None, metavar="FILE.json", help="save raw numbers and machine info")
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker is not None:
        worker_main(args.worker)
        return
    if args.steps < 1 or args.rounds < 1 or args.size < 8:
        parser.error("--steps and --rounds must be >= 1, --size >= 8")

    def log(msg: str) -> None:
        print(msg, flush=True)

    venv = args.peers_venv.expanduser()
    peers_python, problems = prepare_peers_venv(venv, not args.no_install, log)
    cs = contenders(args, peers_python, problems)
    known = {c.name for c in cs}
    for name in args.skip:
        if name not in known:
            parser.error(f"--skip {name!r}: contenders are {sorted(known)}")
    for c in cs:
        if c.name in args.skip:
            c.skip = "--skip"

    # Probe each contender once (build the env, one step): a skip gets its reason before the rounds.
    for c in cs:
        if c.skip is None:
            result, reason = run_worker(c, args.size, args.steps, probe=True, timeout=args.timeout)
            if result is None:
                c.skip = reason + (HINTS.get(c.kind, "") if "exit" in reason else "")
            else:
                result.pop("steps_per_s", None)
                c.info = result
    lp = os.environ.get("LP_NUM_THREADS")
    log(f"machine: {platform.platform()}, Python {sys.version.split()[0]}, {os.cpu_count()} CPUs; "
        f"LP_NUM_THREADS={lp if lp is not None else 'unset'} in the environment"
        + (f", {args.llvmpipe_threads} for MiniWorld (--llvmpipe-threads)" if args.llvmpipe_threads is not None else ""))
    for c in cs:
        if c.skip:
            log(f"skip {c.name}: {c.skip}")
        else:
            extra = {k: v for k, v in c.info.items() if k not in ("obs", "env_id")}
            log(f"{c.name}: {c.info.get('env_id', c.env_id)}, obs {c.info.get('obs')}; " + ", ".join(f"{k}={v}" for k, v in extra.items()))
    active = [c for c in cs if c.skip is None]
    if not active:
        raise SystemExit("no contender could run")

    rates: dict[str, list[float | None]] = {c.name: [] for c in active}
    errors: dict[str, list[str | None]] = {c.name: [] for c in active}
    for r in range(args.rounds):
        log(f"\nround {r + 1}/{args.rounds}  ({args.steps} steps each)")
        for c in active:
            result, reason = run_worker(c, args.size, args.steps, probe=False, timeout=args.timeout)
            rate = result["steps_per_s"] if result else None
            rates[c.name].append(rate)
            errors[c.name].append(reason)
            log(f"  {c.name:<22}{_fmt(rate)} steps/s" + (f"   failed: {reason}" if reason else ""))

    medians = {n: (statistics.median(v) if (v := [x for x in rs if x is not None]) else None) for n, rs in rates.items()}
    log(f"\nmedian over {args.rounds} round(s)")
    for c in active:
        got = [x for x in rates[c.name] if x is not None]
        spread = f"  (min {min(got):.1f}, max {max(got):.1f})" if len(got) > 1 else ""
        log(f"  {c.name:<22}{_fmt(medians[c.name])} steps/s{spread}   obs {c.info.get('obs')}")

    ratios: dict[str, float] = {}
    navgyms = [c.name for c in active if c.kind == "navgym"]
    peers = [c.name for c in active if c.kind != "navgym"]
    pairs = [(a, b) for a in navgyms for b in peers]
    if "navgym" in navgyms:
        pairs += [(a, "navgym") for a in navgyms if a != "navgym"]
    if pairs:
        log("\nratios (median of per-round ratios)")
    for a, b in pairs:
        per_round = [x / y for x, y in zip(rates[a], rates[b]) if x is not None and y]
        if per_round:
            ratios[f"{a}/{b}"] = statistics.median(per_round)
            log(f"  {a + '/' + b:<40}{ratios[f'{a}/{b}']:8.2f}x")

    if args.out is not None:
        record = {
            "command": " ".join(shlex.quote(a) for a in [sys.executable, *sys.argv]),
            "settings": {"steps": args.steps, "warmup": WARMUP, "rounds": args.rounds, "size": args.size,
                         "llvmpipe_threads": args.llvmpipe_threads, "peers_venv": str(venv),
                         "single_thread_env": SINGLE_THREAD},
            "machine": machine_info(),
            "versions": {"navgym": c.info.get("version") for c in cs if c.name == "navgym"}
            | {c.kind: c.info.get("version") for c in cs if c.kind != "navgym" and c.info},
            "navgym_raycast_backend": {c.name: c.info.get("raycast_backend") for c in cs if c.kind == "navgym" and c.info},
            "contenders": {c.name: {"kind": c.kind, "sim_options": c.sim_options, "env_id": c.info.get("env_id", c.env_id), "python": c.python, "env": c.env,
                                    "skipped": c.skip, "info": c.info,
                                    "steps_per_s": rates.get(c.name), "errors": errors.get(c.name),
                                    "median": medians.get(c.name)} for c in cs},
            "ratios": ratios,
        }
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(record, indent=2) + "\n")
        log(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
