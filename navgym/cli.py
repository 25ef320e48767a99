"""The ``navgym`` command: list, evaluate, train, benchmark, demo."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Optional

import typer

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Goal-oriented embodied navigation envs on the CPU.")


def _parse_options(options: list[str]) -> dict[str, Any]:
    """``key=value`` pairs; values are JSON when they parse (numbers, lists, true/false), else strings."""
    parsed: dict[str, Any] = {}
    for item in options:
        if "=" not in item:
            raise typer.BadParameter(f"{item!r} is not key=value", param_hint="--env-option/--agent-option")
        key, value = item.split("=", 1)
        try:
            parsed[key] = json.loads(value)
        except json.JSONDecodeError:
            parsed[key] = value
    return parsed


def _make_env(env_id: str, split: str, render: bool, env_options: dict[str, Any], agent: str | None = None):
    import gymnasium as gym

    import navgym  # noqa: F401  (registers the ids)
    from navgym.agents import sensors_for
    from navgym.tasks import TASKS

    try:
        spec = gym.spec(env_id)
    except gym.error.Error as exc:
        raise typer.BadParameter(str(exc), param_hint="--env") from exc
    if agent is not None and "sensors" not in env_options and spec.kwargs.get("task") in TASKS:
        sensors = sensors_for(agent, TASKS.get(spec.kwargs["task"]))
        if sensors is not None:
            env_options = {**env_options, "sensors": sensors}
    try:
        return gym.make(env_id, split=split, render_mode="rgb_array" if render else None, **env_options)
    except gym.error.Error as exc:
        raise typer.BadParameter(str(exc), param_hint="--env") from exc
    except (ValueError, TypeError, FileNotFoundError) as exc:
        raise typer.BadParameter(str(exc), param_hint="--env / --split / --env-option") from exc


def _make_agent(name: str, env, agent_options: dict[str, Any]):
    from navgym.agents import make_for_env

    try:
        agent, env = make_for_env(name, env, **agent_options)
    except (ValueError, TypeError) as exc:
        raise typer.BadParameter(str(exc), param_hint="--agent / --agent-option") from exc
    if getattr(agent, "privileged", False):
        typer.echo(f"note: agent {name!r} is PRIVILEGED (reads the shortest path): an upper bound, not a method", err=True)
    return agent, env


@app.command("list")
def list_command(data_dir: Optional[Path] = typer.Option(None, help="Habitat-style data root (default $NAVGYM_DATA or ./data).")) -> None:
    """List env ids (and whether each can run here) and agents."""
    from navgym.agents import agent_names
    from navgym.core.paths import data_root
    from navgym.datasets.habitat import HABITAT_DATASETS
    from navgym.envs.factory import habitat_episode_file
    from navgym.envs.registration import env_ids

    root = data_root(data_dir)
    typer.echo(f"{'env id':<34} runs here?")
    for env_id in env_ids():
        task, dataset = env_id.split("-")[:2]
        if dataset in HABITAT_DATASETS:
            try:
                habitat_episode_file(task, dataset, "val", root)
                status = f"yes (data under {root})"
            except FileNotFoundError:
                status = f"needs {dataset} data under {root}/ (see docs/datasets.md)"
        else:
            status = "yes (embedded, generated)"
        typer.echo(f"{env_id:<34} {status}")
    typer.echo("\nagents:")
    for name, description in agent_names().items():
        typer.echo(f"  {name:<10} {description}")
    from navgym.embodiments import EMBODIMENTS
    from navgym.sims import SIMULATORS

    for title, registry in (("embodiments (embodiment=)", EMBODIMENTS), ("simulator backends (sim=)", SIMULATORS)):
        typer.echo(f"\n{title}:")
        for name in registry.names():
            typer.echo(f"  {name:<10} {registry.describe(name)}")


@app.command()
def evaluate(
    env: str = typer.Option(..., "--env", help="Env id, e.g. ObjectNav-ProcHouse-v0."),
    agent: str = typer.Option(..., "--agent", help="Agent name (navgym list)."),
    episodes: int = typer.Option(10, min=1, help="Number of episodes, in dataset order."),
    split: str = typer.Option("val", help="Dataset split."),
    seed: int = typer.Option(0, help="Base seed (episode i uses seed + i)."),
    out: Optional[Path] = typer.Option(None, help="Output folder: episodes.jsonl, summary.json, videos/, maps/."),
    video: bool = typer.Option(False, help="Write an mp4 per episode (egocentric view + top-down map)."),
    maps: bool = typer.Option(False, help="Write a top-down map PNG per episode."),
    resume: bool = typer.Option(False, help="Continue the run in --out, skipping finished episodes."),
    checkpoint: Optional[Path] = typer.Option(None, help="Checkpoint for learned agents."),
    goal_camera: str = typer.Option("agent", help="ImageNav goal photos: agent, user (FGPrompt's ranges) or extreme camera."),
    env_option: list[str] = typer.Option([], "--env-option", help="key=value passed to gym.make (repeatable)."),
    agent_option: list[str] = typer.Option([], "--agent-option", help="key=value passed to the agent (repeatable)."),
) -> None:
    """Run an agent on an env; print SR / SPL / SoftSPL with 95% confidence intervals."""
    from navgym.evaluation import evaluate as run, format_summary

    if (video or maps or resume) and out is None:
        raise typer.BadParameter("--video, --maps and --resume need --out", param_hint="--out")
    env_obj = _make_env(env, split, video or maps, _parse_options(env_option), agent=agent)
    if goal_camera != "agent":
        from navgym.wrappers import UserMatchedGoalCamera

        try:
            env_obj = UserMatchedGoalCamera(env_obj, goal_camera)
        except (ValueError, TypeError) as exc:
            env_obj.close()
            raise typer.BadParameter(str(exc), param_hint="--goal-camera") from exc
    agent_options = _parse_options(agent_option)
    if checkpoint is not None:
        agent_options["checkpoint"] = str(checkpoint)
    agent_obj, env_obj = _make_agent(agent, env_obj, agent_options)
    try:
        result = run(env_obj, agent_obj, episodes, out=out, seed=seed, resume=resume, video=video, maps=maps)
    except KeyboardInterrupt:
        typer.echo(f"\ninterrupted: finished episodes are kept in {out}/episodes.jsonl; rerun with --resume", err=True)
        raise typer.Exit(130)
    except (ValueError, FileExistsError) as exc:
        raise typer.BadParameter(str(exc)) from exc
    finally:
        env_obj.close()
    typer.echo(format_summary(result.summary(), title=f"{agent} on {env} ({split})"))
    if out is not None:
        typer.echo(f"wrote {out}/episodes.jsonl and {out}/summary.json" + (f", videos in {out}/videos" if video else ""))


@app.command()
def train(
    agent: str = typer.Option("rsrnav", "--agent", help="Agent to train (only rsrnav)."),
    head: str = typer.Option("direction", help="RSRNav head: baseline, baseline_map, minimalist, dense, direction."),
    env: str = typer.Option("ImageNav-ProcHouseEasy-v0", "--env", help="ImageNav env id to train on."),
    timesteps: int = typer.Option(100_000, min=1, help="Total env steps (a resumed run counts the steps already done)."),
    n_envs: int = typer.Option(2, "--n-envs", min=1, help="Parallel envs (subprocesses; 1 runs in-process)."),
    out: Path = typer.Option(..., "--out", help="Run folder: checkpoint.zip, eval.jsonl, tb/ (TensorBoard)."),
    resume: bool = typer.Option(False, help="Continue the run in --out from its checkpoint."),
    seed: int = typer.Option(0, help="Seed of the model and envs."),
    goal_camera: str = typer.Option("agent", help="Goal camera: agent, user (FGPrompt ranges) or extreme."),
    reward: str = typer.Option("rsrnav", help="Training reward: rsrnav (ZER-style shaping) or env (Habitat's)."),
    eval_every: int = typer.Option(10_000, min=0, help="Evaluate SR/SPL on val every this many steps (0: at the end)."),
    eval_episodes: int = typer.Option(20, min=0, help="Val episodes per evaluation (0: none)."),
    checkpoint_every: int = typer.Option(5_000, min=0, help="Write checkpoint.zip every this many steps (and at the end)."),
    max_minutes: Optional[float] = typer.Option(None, help="Stop after this much training time (minutes, evaluations excluded)."),
    max_cpu_minutes: Optional[float] = typer.Option(None, help="Stop after this much CPU time of training (minutes; exact with --n-envs 1)."),
    threads: int = typer.Option(1, min=1, help="Torch CPU threads while collecting rollouts."),
    update_threads: Optional[int] = typer.Option(None, min=1, help="Torch CPU threads during updates (default: all cores)."),
    progress: bool = typer.Option(True, help="Show a progress bar."),
    env_option: list[str] = typer.Option([], "--env-option", help="key=value passed to gym.make for train and val envs (repeatable)."),
    model_option: list[str] = typer.Option([], "--model-option", help="key=value RSRNav/PPO setting, e.g. n_steps=64 (repeatable)."),
) -> None:
    """Train a learned agent (RSRNav with recurrent PPO); resumable, logs to TensorBoard."""
    import gymnasium as gym

    from navgym.training import TrainArgs, TrainingInterrupted, train as run

    try:
        args = TrainArgs(
            agent=agent, head=head, env_id=env, timesteps=timesteps, n_envs=n_envs, out=out, resume=resume, seed=seed,
            goal_camera=goal_camera, reward=reward, eval_every=eval_every, eval_episodes=eval_episodes,
            checkpoint_every=checkpoint_every, max_minutes=max_minutes, max_cpu_minutes=max_cpu_minutes, torch_threads=threads,
            update_threads=update_threads, progress=progress,
            env_kwargs=_parse_options(env_option), model=_parse_options(model_option),
        )
        import navgym  # noqa: F401  (registers the ids)

        gym.spec(env)
    except gym.error.DependencyNotInstalled as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1)
    except gym.error.Error as exc:
        raise typer.BadParameter(str(exc), param_hint="--env") from exc
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    try:
        result = run(args)
    except TrainingInterrupted as exc:
        typer.echo(f"\n{exc}", err=True)
        raise typer.Exit(130)
    except (ValueError, FileExistsError, FileNotFoundError) as exc:
        raise typer.BadParameter(str(exc)) from exc
    typer.echo(
        f"trained {result.num_timesteps - result.start_timesteps} steps ({result.start_timesteps} -> {result.num_timesteps}) "
        f"in {result.training_seconds:.0f} s ({result.steps_per_second:.1f} steps/s)"
    )
    if result.evaluations:
        last = result.evaluations[-1]
        typer.echo(f"val @ {last['timesteps']} steps: SR {last['success']:.3f}  SPL {last['spl']:.3f} ({last['episodes']} episodes)")
    typer.echo(f"checkpoint: {result.checkpoint}\nevaluate: navgym evaluate --env {env} --agent rsrnav --checkpoint {result.checkpoint}")
    typer.echo(f"TensorBoard: tensorboard --logdir {out / 'tb'}")


@app.command()
def benchmark(
    steps: int = typer.Option(300, min=10, help="Steps per measurement."),
    resolution: int = typer.Option(128, min=16, help="Square camera resolution."),
    tasks: str = typer.Option("ImageNav,InstanceImageNav,ObjectNav,TextNav", help="Comma-separated tasks."),
) -> None:
    """Steps per second of each ProcHouse env and of the simulator alone, side by side."""
    from navgym.benchmark import env_speed_table

    typer.echo(env_speed_table([t.strip() for t in tasks.split(",") if t.strip()], steps=steps, resolution=resolution))


@app.command()
def demo(
    out: Path = typer.Option(Path("runs/demo"), help="Where the tables and videos go."),
    episodes: int = typer.Option(5, min=1, help="Episodes per agent."),
) -> None:
    """The README's main job: frontier on ObjectNav-ProcHouse and the oracle on ImageNav-ProcHouse."""
    from navgym.evaluation import evaluate as run, format_summary

    out.mkdir(parents=True, exist_ok=True)
    jobs = [("ObjectNav-ProcHouse-v0", "frontier"), ("ImageNav-ProcHouse-v0", "oracle")]
    for env_id, agent_name in jobs:
        run_dir = out / f"{agent_name}_{env_id.split('-')[0].lower()}"
        env_obj = _make_env(env_id, "val", True, {}, agent=agent_name)
        agent_obj, env_obj = _make_agent(agent_name, env_obj, {})
        result = run(env_obj, agent_obj, episodes, out=run_dir, resume=True, video=True)
        env_obj.close()
        typer.echo(format_summary(result.summary(), title=f"\n{agent_name} on {env_id} (val)"))
        typer.echo(f"videos: {run_dir}/videos/")


def main(argv: list[str] | None = None) -> None:
    """Console entry point."""
    app(args=argv if argv is not None else sys.argv[1:], prog_name="navgym")


if __name__ == "__main__":
    main()
