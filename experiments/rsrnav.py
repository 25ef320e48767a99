"""The RSRNav experiment of ``docs/results/rsrnav.md``: heads trained with the same CPU budget on
a budget ImageNav setting, evaluated under agent-matched, user-matched and extreme goal cameras
against the random agent and the (privileged) oracle.

    python experiments/rsrnav.py --env ImageNav-ProcHouseNear-v0 train --head direction --cpu-minutes 12 --out runs/rsrnav_near
    python experiments/rsrnav.py --env ImageNav-ProcHouseNear-v0 evaluate --out runs/rsrnav_near --episodes 100
    python experiments/rsrnav.py --env ImageNav-ProcHouseNear-v0 plot --out runs/rsrnav_near --png docs/results/rsrnav_near_curves.png

``train`` is :func:`navgym.training.train` with the experiment's settings (``--set key=value``
overrides an ``RSRNavConfig`` setting); ``evaluate`` writes ``evaluation.json`` (and each row's
episodes, resumable) and prints a Markdown table; ``plot`` draws the learning curves from each
run's TensorBoard files and ``eval.jsonl`` (with Pillow, so no plotting library is needed).
"""

from __future__ import annotations

import argparse
import json
import warnings
from pathlib import Path
from typing import Any

from navgym.wrappers.goal_camera import GOAL_CAMERA_SETTINGS

ENV_ID = "ImageNav-ProcHouseEasy-v0"
#: Training scenes (of ProcHouse's train split); val uses its default 10 scenes.
TRAIN_ENV_KWARGS = {"num_scenes": 20}
#: Periodic evaluations during training: 2 episodes in each of the 10 val houses.
EVAL_ENV_KWARGS = {"num_scenes": 10, "episodes_per_scene": 2}
#: Goal cameras of the evaluation (training always uses agent-matched goals, as the paper does).
GOAL_CAMERAS = tuple(GOAL_CAMERA_SETTINGS)
CAMERA_LABELS = {"agent": "agent-matched", "user": "user-matched", "extreme": "extreme"}
#: Heads of the experiment.
HEADS = ("baseline", "minimalist", "dense", "direction")
#: PPO settings of the experiment (others: RSRNavConfig's defaults).
MODEL = {"learning_rate": 5e-4}


def train_head(
    head: str, cpu_minutes: float, out: Path, seed: int = 0, eval_every: int = 8000, eval_episodes: int = 20, resume: bool = False,
    model: dict[str, Any] | None = None, env_id: str = ENV_ID,
) -> dict[str, Any]:
    """Train one head for ``cpu_minutes`` of CPU time (one env in-process, one torch thread, so
    one core's worth; evaluations not counted)."""
    from navgym.training import train

    result = train(
        head=head,
        env_id=env_id,
        timesteps=10_000_000,
        n_envs=1,
        out=out / head,
        resume=resume,
        seed=seed,
        eval_every=eval_every,
        eval_episodes=eval_episodes,
        checkpoint_every=2048,
        env_kwargs=TRAIN_ENV_KWARGS,
        eval_env_kwargs=EVAL_ENV_KWARGS,
        torch_threads=1,
        update_threads=1,
        max_cpu_minutes=cpu_minutes,
        progress=False,
        model={**MODEL, **(model or {})},
    )
    summary = {
        "head": head,
        "timesteps": result.num_timesteps,
        "training_cpu_seconds": result.training_cpu_seconds,
        "training_seconds": result.training_seconds,
        "wall_seconds": result.wall_time,
        "steps_per_cpu_second": (result.num_timesteps - result.start_timesteps) / max(result.training_cpu_seconds, 1e-9),
    }
    (out / head / "train_summary.json").write_text(json.dumps(summary, indent=2))
    return summary


def _evaluate(agent_name: str, goal_camera: str, episodes: int, checkpoint: Path | None, out: Path, env_id: str = ENV_ID) -> dict[str, Any]:
    """One (agent, goal camera) row; episodes go to ``out/episodes.jsonl`` and an interrupted
    row resumes from it."""
    import warnings

    import gymnasium as gym
    import torch

    import navgym  # noqa: F401
    from navgym.agents import make_for_env
    from navgym.evaluation import evaluate
    from navgym.evaluation import mean_measures
    from navgym.wrappers import UserMatchedGoalCamera

    warnings.filterwarnings("ignore", message=".*starts off the navigable area.*")
    torch.set_num_threads(1)
    env = gym.make(env_id, split="val")
    if goal_camera != "agent":
        env = UserMatchedGoalCamera(env, goal_camera)
    options = {"checkpoint": str(checkpoint)} if checkpoint is not None else {}
    agent, env = make_for_env(agent_name, env, **options)
    episodes = min(episodes, len(env.unwrapped.dataset.episodes))
    result = evaluate(env, agent, episodes, seed=0, progress=False, out=out, resume=True)
    env.close()
    summary = result.summary()
    return {
        **mean_measures(result.records),
        "success_ci95": summary["success"]["ci95"],
        "spl_ci95": summary["spl"]["ci95"],
    }


def evaluate_all(out: Path, episodes: int, heads: list[str], jobs: int = 2, env_id: str = ENV_ID) -> dict[str, Any]:
    """Every head's final checkpoint, random and oracle, under each goal camera, ``jobs`` rows at
    a time; writes ``out/evaluation.json`` (episodes under ``out/eval/<agent>_<camera>/``)."""
    from concurrent.futures import ProcessPoolExecutor

    from tqdm.auto import tqdm

    tasks = {}
    for goal_camera in GOAL_CAMERAS:
        tasks[f"random/{goal_camera}"] = ("random", goal_camera, None)
        tasks[f"oracle/{goal_camera}"] = ("oracle", goal_camera, None)
        for head in heads:
            tasks[f"rsrnav-{head}/{goal_camera}"] = ("rsrnav", goal_camera, out / head / "checkpoint.zip")
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        futures = {
            key: pool.submit(_evaluate, name, camera, episodes, checkpoint, out / "eval" / key.replace("/", "_"), env_id)
            for key, (name, camera, checkpoint) in tasks.items()
        }
        rows = {key: future.result() for key, future in tqdm(futures.items(), desc="evaluations", unit="row")}
    (out / "evaluation.json").write_text(json.dumps(rows, indent=2))
    return rows


def markdown_table(rows: dict[str, Any], out: Path) -> str:
    lines = [
        "| agent | goal camera | training steps | SR | SPL | final angle to goal view, all / successes (°) | steps | episodes |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for key, row in rows.items():
        agent, camera = key.split("/")
        steps = "-"
        if agent.startswith("rsrnav-"):
            meta = out / agent.removeprefix("rsrnav-") / "checkpoint.json"  # the checkpoint evaluated
            if meta.exists():
                steps = f"{json.loads(meta.read_text())['num_timesteps']:,}"
        angle = "/".join("-" if row[k] is None else f"{row[k]:.0f}" for k in ("angle_to_goal_deg", "angle_to_goal_success_deg"))
        lines.append(
            f"| {agent} | {CAMERA_LABELS[camera]} | {steps} | {row['success']:.3f} ± {row['success_ci95']:.3f} | "
            f"{row['spl']:.3f} ± {row['spl_ci95']:.3f} | {angle} | {row['num_steps']:.0f} | {row['episodes']} |"
        )
    return "\n".join(lines)


# -- plotting with Pillow ------------------------------------------------------------------------------------
COLORS = [(31, 119, 180), (214, 39, 40), (44, 160, 44), (148, 103, 189), (255, 127, 14)]


def plot_learning_curves(curves: dict[str, list[dict[str, float]]], path: Path, title: str) -> Path:
    """Three panels, one line per run: val SR against training env steps, val SPL against steps,
    and val SR against training CPU minutes (the budget the runs share). ``curves[name]`` holds
    the run's ``eval.jsonl`` records."""
    from PIL import Image, ImageDraw, ImageFont

    width, height, margin = 1500, 470, 60
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default()
    draw.text((margin, 12), title, fill="black", font=font)
    records = [r for points in curves.values() for r in points]
    panels = (
        ("training success rate (last 100 episodes) vs env steps", "timesteps", "train_success", 1.0),
        ("training episode length (steps) vs env steps", "timesteps", "train_episode_length", 1.0),
        ("val success rate (deterministic) vs training CPU minutes", "cpu_minutes", "success", 1 / 60.0),
    )
    panel_width = (width - 4 * margin) // 3
    for panel, (label, x_key, y_key, _) in enumerate(panels):
        source_key = "training_cpu_seconds" if x_key == "cpu_minutes" else x_key
        scale = 1 / 60.0 if x_key == "cpu_minutes" else 1.0
        rows = [r for r in records if y_key in r]
        x_max = max((float(r.get(source_key) or 0.0) * scale for r in rows), default=1.0) or 1.0
        left = margin + panel * (panel_width + margin)
        top, bottom, right = 50, height - 80, left + panel_width
        draw.rectangle((left, top, right, bottom), outline="black")
        draw.text((left, bottom + 28), label, fill="black", font=font)
        y_max = max((float(r.get(y_key) or 0.0) for r in rows), default=0.1)
        y_top = max(0.1, min(1.0, y_max * 1.2)) if y_key != "train_episode_length" else max(1.0, y_max * 1.1)
        for tick in range(6):
            y = bottom - (bottom - top) * tick / 5
            draw.line((left - 4, y, left, y), fill="black")
            draw.text((left - 34, y - 6), f"{y_top * tick / 5:.2f}" if y_top <= 1.0 else f"{y_top * tick / 5:.0f}", fill="black", font=font)
            x = left + (right - left) * tick / 5
            draw.line((x, bottom, x, bottom + 4), fill="black")
            tick_value = x_max * tick / 5
            draw.text((x - 14, bottom + 8), f"{tick_value / 1000:.1f}k" if x_key == "timesteps" else f"{tick_value:.1f}", fill="black", font=font)
        for color, points in zip(COLORS, curves.values()):
            xy = [
                (left + (right - left) * float(r.get(source_key) or 0.0) * scale / x_max,
                 bottom - (bottom - top) * min(max(float(r.get(y_key) or 0.0), 0.0), y_top) / y_top)
                for r in points
                if y_key in r
            ]
            if len(xy) > 1:
                draw.line(xy, fill=color, width=2)
            for x, y in xy:
                draw.ellipse((x - 3, y - 3, x + 3, y + 3), fill=color)
    for i, (color, name) in enumerate(zip(COLORS, curves)):
        x = margin + 170 * i
        draw.line((x, height - 18, x + 24, height - 18), fill=color, width=3)
        draw.text((x + 30, height - 24), name, fill="black", font=font)
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path)
    return path


def read_curves(out: Path, heads: list[str]) -> dict[str, list[dict[str, float]]]:
    """Each head's ``eval.jsonl`` records (periodic evaluations on val) plus its TensorBoard
    training curves (``rollout/success_rate``, ``rollout/ep_len_mean``), merged by step."""
    curves = {}
    for head in heads:
        log = out / head / "eval.jsonl"
        points = [json.loads(line) for line in log.read_text().splitlines() if line.strip()] if log.exists() else []
        for step, success, length in _training_scalars(out / head / "tb"):
            points.append({"timesteps": step, "train_success": success, "train_episode_length": length})
        if points:
            curves[head] = sorted(points, key=lambda r: r["timesteps"])
    return curves


def _training_scalars(tb_dir: Path) -> list[tuple[int, float, float]]:
    """(step, training success rate, mean episode length) from a run's TensorBoard files."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    rows = []
    for run in sorted(tb_dir.glob("*")):
        events = EventAccumulator(str(run))
        events.Reload()
        tags = events.Tags()["scalars"]
        if "rollout/success_rate" not in tags or "rollout/ep_len_mean" not in tags:
            continue
        lengths = {e.step: e.value for e in events.Scalars("rollout/ep_len_mean")}
        rows += [(e.step, e.value, lengths[e.step]) for e in events.Scalars("rollout/success_rate") if e.step in lengths]
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--env", default=ENV_ID, help="ImageNav env id of the experiment.")
    sub = parser.add_subparsers(dest="command", required=True)
    p_train = sub.add_parser("train", help="Train one head for a time budget.")
    p_train.add_argument("--head", required=True)
    p_train.add_argument("--cpu-minutes", type=float, required=True)
    p_train.add_argument("--resume", action="store_true")
    p_train.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="Override an RSRNavConfig setting (repeatable).")
    p_train.add_argument("--out", type=Path, default=Path("runs/rsrnav_exp"))
    p_train.add_argument("--seed", type=int, default=0)
    p_eval = sub.add_parser("evaluate", help="Evaluate every trained head, random and oracle.")
    p_eval.add_argument("--out", type=Path, default=Path("runs/rsrnav_exp"))
    p_eval.add_argument("--episodes", type=int, default=100, help="Val episodes per row (the easy val split has 86).")
    p_eval.add_argument("--jobs", type=int, default=2, help="Rows evaluated in parallel.")
    p_eval.add_argument("--heads", default=",".join(HEADS))
    p_plot = sub.add_parser("plot", help="Draw the learning curves.")
    p_plot.add_argument("--out", type=Path, default=Path("runs/rsrnav_exp"))
    p_plot.add_argument("--heads", default=",".join(HEADS))
    p_plot.add_argument("--title", default=None, help="Picture title (default: the env and 'equal CPU budget').")
    p_plot.add_argument("--png", type=Path, default=Path("docs/results/rsrnav_learning_curve.png"))
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore", message=".*starts off the navigable area.*")
    if args.command == "train":
        overrides = {}
        for item in args.set:
            key, _, value = item.partition("=")
            try:
                overrides[key] = json.loads(value)
            except json.JSONDecodeError:
                parser.error(f"--set {item!r}: the value must be a number or JSON")
        print(json.dumps(train_head(args.head, args.cpu_minutes, args.out, seed=args.seed, resume=args.resume, model=overrides, env_id=args.env), indent=2))
    elif args.command == "evaluate":
        heads = [h for h in args.heads.split(",") if h]
        rows = evaluate_all(args.out, args.episodes, heads, jobs=args.jobs, env_id=args.env)
        print(markdown_table(rows, args.out))
    else:
        heads = [h for h in args.heads.split(",") if h]
        curves = read_curves(args.out, heads)
        if not curves or not any(curves.values()):
            raise SystemExit(f"no eval.jsonl under {args.out}/<head>/")
        print(plot_learning_curves(curves, args.png, args.title or f"RSRNav heads on {args.env}, agent-matched goals, equal CPU budget"))


if __name__ == "__main__":
    main()
