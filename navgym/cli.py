"""The ``navgym`` command: list, evaluate (one agent, or a team: ``--agent a,b``), train, benchmark, semnav-data, airsim-server, demo, cache.

Errors: a user error (a bad option value, an unwritable ``--out``, a missing or unsafe checkpoint,
a run folder that does not match) is ONE line on stderr, ``error: <message>``, and exit status 2;
a bug keeps its traceback (exit 1). The rule lives in :func:`main` and :func:`_user_input`:

* anything navgym raises on purpose (:class:`navgym.errors.NavgymError`) and click's usage errors
  are user errors wherever they come from;
* ``ValueError``, ``TypeError``, ``OSError`` and ``gymnasium.error.Error`` are user errors only
  where they come from user input: parsing options, building the env and the agent, checking
  ``--out`` (the blocks wrapped in :func:`_user_input`). Raised while episodes or training run,
  they are bugs and keep their tracebacks.

``NAVGYM_DEBUG=1`` shows the traceback of user errors too.
"""

from __future__ import annotations

import json
import os
import sys
import warnings
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Optional

import typer

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Goal-oriented embodied navigation envs on the CPU.")


def _click_errors():
    """The click exception classes typer raises (typer >= 0.20 vendors click as ``typer._click``)."""
    try:
        from typer._click import exceptions
    except ImportError:  # older typer: click itself
        from click import exceptions
    return exceptions


@contextmanager
def _user_input(param_hint: str | None = None) -> Iterator[None]:
    """Turn the errors a block raises from user input into one-line usage errors (exit 2)."""
    import gymnasium as gym

    try:
        yield
    except _click_errors().ClickException:
        raise
    except gym.error.DependencyNotInstalled:
        raise  # main() shows it as one line
    except (ValueError, TypeError, OSError, gym.error.Error) as exc:
        raise typer.BadParameter(str(exc), param_hint=param_hint) from exc


def _no_progress_bars() -> None:
    """``--no-progress``: no bar at all, also the ones deep in the library (a first generation of
    ProcHouse episodes reads it when it starts) and in worker processes started after this. The
    setting is undone when the command ends (a command invoked in a longer-lived process, a test's
    CliRunner or a notebook, leaves the process's bars as it found them)."""
    try:
        from typer._click.globals import get_current_context
    except ImportError:  # older typer: click itself
        from click import get_current_context

    previous = os.environ.get("TQDM_DISABLE")
    os.environ["TQDM_DISABLE"] = "1"

    def restore() -> None:
        if previous is None:
            os.environ.pop("TQDM_DISABLE", None)
        else:
            os.environ["TQDM_DISABLE"] = previous

    context = get_current_context(silent=True)
    if context is not None:
        context.call_on_close(restore)


def _check_out(path: Path, option: str = "--out") -> None:
    """Fail now, with one line, when ``path`` cannot be a writable folder (creates nothing)."""
    import tempfile

    path = path.expanduser()
    if path.exists() and not path.is_dir():
        raise typer.BadParameter(f"{path} exists and is not a folder", param_hint=option)
    ancestor = path
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise typer.BadParameter(f"cannot create {path}: {ancestor} is not a folder", param_hint=option)
    try:
        os.rmdir(tempfile.mkdtemp(prefix=".navgym-write-test-", dir=ancestor))
    except OSError as exc:
        raise typer.BadParameter(f"cannot write {path}: {exc.strerror or exc} in {ancestor}", param_hint=option) from exc


def _parse_options(options: list[str], hint: str = "--env-option/--agent-option") -> dict[str, Any]:
    """``key=value`` pairs; values are JSON when they parse (numbers, lists, true/false), else
    Python literal numbers, tuples, lists or dicts (``resolution=(96,128)``), else strings
    (:func:`navgym.core.options.option_value`)."""
    from navgym.core.options import key_values
    from navgym.errors import InvalidArgumentError

    try:
        return key_values(options, hint)
    except InvalidArgumentError as error:
        raise typer.BadParameter(str(error), param_hint=hint) from None


def _make_env(spec):
    """The env of an :class:`~navgym.evaluation.EvalSpec`, each step's errors named by its option."""
    import gymnasium as gym

    import navgym  # noqa: F401  (registers the ids)

    with _user_input("--env"):
        gym.spec(spec.env_id)
    with _user_input("--agent"):
        kwargs = spec.make_kwargs()
    with _user_input("--env / --split / --env-option"):
        env = gym.make(spec.env_id, **kwargs)
    try:
        with _user_input("--goal-camera"):
            return spec.wrap_goal_camera(env)
    except BaseException:
        env.close()
        raise


def _make_agent(spec, env):
    with _user_input("--agent / --agent-option / --checkpoint"):
        return spec.make_agent(env)


def _note_privileged(name: str, agent) -> None:
    if getattr(agent, "privileged", False):
        typer.echo(f"note: agent {name!r} is PRIVILEGED (reads the shortest path): an upper bound, not a method", err=True)


@app.command("list")
def list_command(data_dir: Optional[Path] = typer.Option(None, help="Habitat-style data root (default $NAVGYM_DATA or ./data).")) -> None:
    """List env ids (and whether each can run here) and agents."""
    import gymnasium as gym

    import navgym  # noqa: F401  (registers the ids)
    from navgym.agents import agent_names
    from navgym.core.paths import data_root
    from navgym.datasets.habitat import HABITAT_DATASETS
    from navgym.envs.factory import habitat_episode_file
    from navgym.envs.registration import env_ids
    from navgym.sims import SIMULATORS

    root = data_root(data_dir)
    typer.echo(f"{'env id':<34} runs here?")
    for env_id in env_ids():
        task, dataset = env_id.split("-")[:2]
        sim = gym.spec(env_id).kwargs.get("sim", "embedded")  # the id's preset backend (sim="airsim")
        if dataset in HABITAT_DATASETS:
            try:
                habitat_episode_file(task, dataset, "val", root)
                status = f"yes (data under {root})"
            except FileNotFoundError:
                status = f"needs {dataset} data under {root}/ (see docs/datasets.md)"
        else:
            status = "yes (embedded, generated)"
        if sim != "embedded":
            needs = f"needs sim={sim!r}: {SIMULATORS.describe(sim)}"
            status = needs if status.startswith("yes") else f"{needs}; {status}"
        typer.echo(f"{env_id:<34} {status}")
    typer.echo("\nagents:")
    for name, description in agent_names().items():
        typer.echo(f"  {name:<10} {description}")
    from navgym.embodiments import EMBODIMENTS

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
    seed: int = typer.Option(0, min=0, help="Base seed (episode i uses seed + i)."),
    out: Optional[Path] = typer.Option(None, help="Output folder: run.json, episodes.jsonl, summary.json, videos/, maps/."),
    video: bool = typer.Option(False, help="Write an mp4 per episode (egocentric view + top-down map)."),
    maps: bool = typer.Option(False, help="Write a top-down map PNG per episode."),
    resume: bool = typer.Option(
        False, help="Continue the run in --out, skipping finished episodes; refused when its run.json records other options."
    ),
    checkpoint: Optional[Path] = typer.Option(None, help="Checkpoint for learned agents."),
    goal_camera: str = typer.Option("agent", help="ImageNav goal photos: agent, user (FGPrompt's ranges) or extreme camera."),
    threads: int = typer.Option(1, min=1, help="Torch CPU threads of this process (1: several runs side by side do not oversubscribe the cores)."),
    env_option: list[str] = typer.Option([], "--env-option", help="key=value passed to gym.make (repeatable)."),
    agent_option: list[str] = typer.Option([], "--agent-option", help="key=value passed to the agent (repeatable)."),
    ray: Optional[str] = typer.Option(
        None, "--ray", metavar="[ADDRESS]",
        help="Spread episodes over Ray actors (pip install 'navgym\\[ray]'): alone, a local Ray on this machine; with ADDRESS (host:port or 'auto'), that cluster.",
    ),
    workers: Optional[int] = typer.Option(None, min=1, help="Ray actors, one env and agent each (with --ray; default 2)."),
    progress: bool = typer.Option(True, help="Show progress bars: the episodes, a first generation of ProcHouse episodes (--no-progress for logs and scripts)."),
) -> None:
    """Run an agent on an env; print SR / SPL / SoftSPL with 95% confidence intervals."""
    from navgym.evaluation import EvalSpec
    from navgym.evaluation import evaluate as run
    from navgym.evaluation import format_summary

    if not progress:
        _no_progress_bars()

    if (video or maps or resume) and out is None:
        raise typer.BadParameter("--video, --maps and --resume need --out", param_hint="--out")
    if out is not None:
        _check_out(out)
    if workers is not None and ray is None:
        raise typer.BadParameter(f"--workers {workers} spreads episodes over Ray actors: add --ray (a local Ray) or --ray ADDRESS", param_hint="--workers")
    if checkpoint is not None and not checkpoint.is_file():
        what = "is a folder, not a file" if checkpoint.is_dir() else "does not exist"
        wrote = ("the .pt file scripts/train_grounding.py wrote (--export; docs/grounding.md)" if agent in ("dual-heatmap", "point-regression")
                 else "the checkpoint.zip a training run wrote")
        raise typer.BadParameter(f"{checkpoint} {what}; give {wrote}", param_hint="--checkpoint")
    if "," in agent or "," in env:  # a team: one agent per seat (docs/multiagent.md)
        if ray is not None:
            raise typer.BadParameter("--ray evaluates one agent; a team (comma-separated --agent) runs in this process", param_hint="--ray")
        if checkpoint is not None or goal_camera != "agent":
            raise typer.BadParameter("a team (comma-separated --agent) takes no --checkpoint or --goal-camera; pass them per agent with --agent-option", param_hint="--agent")
        _evaluate_team(env, agent, episodes, split, seed, out, video, maps, resume, env_option, agent_option, progress)
        return
    agent_options = _parse_options(agent_option, "--agent-option")
    if checkpoint is not None:
        agent_options["checkpoint"] = str(checkpoint)
    spec = EvalSpec(env, agent, split, _parse_options(env_option, "--env-option"), agent_options, goal_camera, render=video or maps)
    runner = None
    if ray is not None:
        from navgym.distributed import RayEpisodeRunner

        with _user_input("--ray / --workers"):
            runner = RayEpisodeRunner(spec, workers=2 if workers is None else workers, address=None if ray == "local" else ray, threads=threads)
        if runner.address is not None:  # a HOST:PORT that does not answer fails here, before --out gets a run.json and a bar starts
            from navgym.distributed.cluster import probe_address

            probe_address(runner.address)
    env_obj = _make_env(spec)
    try:
        agent_obj, env_obj = _make_agent(spec, env_obj)
        result = run(
            env_obj, agent_obj, episodes, out=out, seed=seed, resume=resume, video=video, maps=maps, run_info=spec.run_info(), threads=threads,
            runner=runner, progress=progress,
        )
    except KeyboardInterrupt:
        kept = f"finished episodes are kept in {out}/episodes.jsonl; rerun with --resume" if out is not None else "nothing kept (no --out)"
        typer.echo(f"\ninterrupted: {kept}", err=True)
        raise typer.Exit(130)
    finally:
        env_obj.close()
    summary = result.summary()
    typer.echo(format_summary(summary, title=f"{agent} on {env} ({split})"))
    _note_privileged(agent, agent_obj)
    _report_reuse(result, out)
    if out is not None:
        typer.echo(f"wrote {out}/episodes.jsonl and {out}/summary.json" + (f", videos in {out}/videos" if video else ""))
    if not summary["episodes"]["n"] and summary.get("skipped", {}).get("n"):
        first = next((r["skipped"] for r in result.records if r.get("skipped")), "")
        typer.echo(
            f"error: every episode was skipped (none could start), so nothing was evaluated; the first: {first}", err=True
        )
        raise typer.Exit(1)


def _evaluate_team(env: str, agent: str, episodes: int, split: str, seed: int, out: Optional[Path], video: bool, maps: bool, resume: bool,
                   env_option: list[str], agent_option: list[str], progress: bool = True) -> None:
    """``navgym evaluate`` with several agents in one scene: ``--agent a,b`` (one per seat),
    ``--env`` one id or one per seat; per-agent and team rows (navgym.multiagent.evaluate)."""
    names = [n.strip() for n in agent.split(",")]
    ids = [i.strip() for i in env.split(",")]
    if "" in names or "" in ids:
        raise typer.BadParameter(f"--agent {agent!r} / --env {env!r} has an empty name; write e.g. --agent frontier,random", param_hint="--agent")
    if len(ids) not in (1, len(names)):
        raise typer.BadParameter(f"--env lists {len(ids)} ids for {len(names)} agents; give one id, or one per agent", param_hint="--env")
    with _user_input("--env / --split / --env-option"):
        from navgym.multiagent import parallel_env
        from navgym.multiagent.evaluate import evaluate_team, format_team_summary, make_team

        options = _team_sensors(names, ids, _parse_options(env_option, "--env-option"))
        par = parallel_env(ids if len(ids) > 1 else ids[0], len(names), split=split, render_mode="rgb_array" if video or maps else None, **options)
    try:
        agent_options = _parse_options(agent_option, "--agent-option")
        with _user_input("--agent / --agent-option"):
            team = make_team(par, names, [agent_options] * len(names))
        run_info = {"agents": names, "agent_options": agent_options}
        result = evaluate_team(par, team, episodes, out=out, seed=seed, resume=resume, video=video, maps=maps, run_info=run_info,
                               progress=progress)
    except KeyboardInterrupt:
        kept = f"finished episodes are kept in {out}/episodes.jsonl; rerun with --resume" if out is not None else "nothing kept (no --out)"
        typer.echo(f"\ninterrupted: {kept}", err=True)
        raise typer.Exit(130)
    finally:
        par.close()
    typer.echo(format_team_summary(result.summary(), title=f"{agent} on {env} ({split}), agents {', '.join(par.possible_agents)}"))
    _report_reuse(result, out)
    if out is not None:
        typer.echo(f"wrote {out}/episodes.jsonl (per-agent and team measures) and {out}/summary.json" + (f", videos in {out}/videos" if video else ""))


def _team_sensors(names: list[str], ids: list[str], options: dict[str, Any]) -> dict[str, Any]:
    """``options`` with each seat's sensors set to what its agent needs (as ``navgym evaluate``
    does for one agent: the frontier agent reads ``semantic``), through ``seat_kwargs``; sensors
    given with ``sensors=`` (for all) or in a seat's ``seat_kwargs`` are kept."""
    import gymnasium as gym

    from navgym.agents import sensors_for
    from navgym.tasks import TASKS

    if "sensors" in options:
        return options
    seats = options.get("seat_kwargs")
    if seats is None:
        seats = [{} for _ in names]
    if not isinstance(seats, (list, tuple)) or len(seats) != len(names) or not all(isinstance(k, dict) for k in seats):
        return options  # parallel_env says what is wrong with it
    seats = [dict(k) for k in seats]
    for index, (name, seat) in enumerate(zip(names, seats)):
        task = gym.spec(ids[index] if len(ids) > 1 else ids[0]).kwargs.get("task")
        if "sensors" not in seat and task in TASKS:
            sensors = sensors_for(name, TASKS.get(task))
            if sensors is not None:
                seat["sensors"] = sensors
    return {**options, "seat_kwargs": seats} if any(seats) else options


def _report_reuse(result, out: Path | None, fresh_hint: str = "") -> None:
    """Say which reported episodes were read from the run folder rather than run now."""
    if out is None or not result.reused:
        return
    n = len(result.records)
    typer.echo(
        f"note: {result.reused} of these {n} episodes were read from {out}/episodes.jsonl (finished earlier by a run with the same "
        f"setup, per {out}/run.json); {n - result.reused} ran now{fresh_hint}",
        err=True,
    )


@app.command()
def train(
    agent: str = typer.Option("rsrnav", "--agent", help="Agent to train (only rsrnav)."),
    head: str = typer.Option("direction", help="RSRNav head: baseline, baseline_map, minimalist, dense, direction."),
    env: str = typer.Option("ImageNav-ProcHouseEasy-v0", "--env", help="ImageNav env id to train on."),
    timesteps: int = typer.Option(100_000, min=0, help="Total PPO env steps (a resumed run counts the steps already done; 0 with --pretrain: no PPO)."),
    n_envs: int = typer.Option(2, "--n-envs", min=1, help="Parallel envs (subprocesses; 1 runs in-process)."),
    out: Path = typer.Option(..., "--out", help="Run folder: checkpoint.zip, eval.jsonl, tb/ (TensorBoard)."),
    resume: bool = typer.Option(False, help="Continue the run in --out from its checkpoint."),
    seed: int = typer.Option(0, min=0, help="Seed of the model and envs."),
    goal_camera: str = typer.Option("agent", help="Goal camera: agent, user (FGPrompt ranges) or extreme."),
    reward: str = typer.Option("rsrnav", help="Training reward: rsrnav (ZER-style shaping) or env (Habitat's)."),
    reward_option: list[str] = typer.Option([], "--reward-option", help="key=value argument of the rsrnav reward, e.g. failed_stop_reward=-2.5 (repeatable)."),
    eval_every: int = typer.Option(10_000, min=0, help="Evaluate SR/SPL on val every this many steps (0: at the end)."),
    eval_episodes: int = typer.Option(20, min=0, help="Val episodes per evaluation (0: none)."),
    checkpoint_every: int = typer.Option(5_000, min=0, help="Write checkpoint.zip every this many steps (and at the end)."),
    max_minutes: Optional[float] = typer.Option(None, help="Stop after this much training time (minutes, evaluations excluded)."),
    max_cpu_minutes: Optional[float] = typer.Option(None, help="Stop after this much CPU time of training (minutes; exact with --n-envs 1)."),
    threads: int = typer.Option(1, min=1, help="Torch CPU threads while collecting rollouts and evaluating (env workers use 1)."),
    update_threads: Optional[int] = typer.Option(None, min=1, help="Torch CPU threads during updates (default: all cores)."),
    progress: bool = typer.Option(True, help="Show progress bars (training, each evaluation on val, a first generation of ProcHouse episodes)."),
    env_option: list[str] = typer.Option([], "--env-option", help="key=value passed to gym.make for train and val envs (repeatable)."),
    eval_env_option: list[str] = typer.Option(
        [], "--eval-env-option", help="key=value passed to gym.make for the val env only, over --env-option (repeatable).",
    ),
    model_option: list[str] = typer.Option([], "--model-option", help="key=value RSRNav/PPO setting, e.g. n_steps=64 (repeatable)."),
    pretrain: Optional[str] = typer.Option(None, help="Imitate the shortest-path follower before PPO: bc or dagger."),
    demos: Optional[int] = typer.Option(None, min=1, help="Oracle demonstration episodes for --pretrain (default: every train episode)."),
    bc_epochs: int = typer.Option(10, min=1, help="Behaviour-cloning passes over the demonstrations."),
    bc_aux_coef: float = typer.Option(
        0.0, min=0.0, help="Weight of an auxiliary loss predicting the goal's distance and bearing from the encoder's features during BC and DAgger (0: off).",
    ),
    bc_learning_rate: float = typer.Option(1e-3, help="Behaviour cloning's Adam step size (a positive number)."),
    bc_batch_steps: int = typer.Option(64, min=1, help="States per behaviour-cloning minibatch (whole episodes, padded)."),
    bc_augment: bool = typer.Option(False, help="Behaviour-clone on randomly shifted, brightened and contrasted copies of the images."),
    bc_lr_schedule: str = typer.Option("constant", help="Behaviour cloning's step size over its passes: constant or cosine."),
    bc_freeze: str = typer.Option(
        "none", help="What of the encoder cloning (BC, DAgger) leaves as it is: none, trunk or encoder (as --ppo-freeze); "
        "for cloning on top of an encoder trained elsewhere (--init-from) without overwriting it.",
    ),
    pose_episodes: int = typer.Option(
        0, min=0, help="Goal-pose pretraining before cloning (with --pretrain): train episodes whose goal photos are viewed from their start "
        "and from random poses nearby; the encoder learns where the goal is (0: none). Keep it with --bc-freeze encoder.",
    ),
    pose_views: int = typer.Option(8, min=1, help="Views per goal photo for --pose-episodes (the start and random poses within 3 m)."),
    pose_env_option: list[str] = typer.Option(
        [], "--pose-env-option", help="key=value for the goal-pose pairs' env, over --env-option, e.g. num_scenes=240 (repeatable).",
    ),
    pose_val_episodes: int = typer.Option(0, min=0, help="Val episodes whose goal-pose pairs score each pass (0: none)."),
    pose_epochs: int = typer.Option(30, min=1, help="Passes over the goal-pose pairs."),
    pose_max_minutes: Optional[float] = typer.Option(
        None, help="Wall-clock cap of the goal-pose pretraining in minutes (default 15, none with --pose-max-cpu-minutes).",
    ),
    pose_max_cpu_minutes: Optional[float] = typer.Option(
        None, help="CPU-time cap of the goal-pose pretraining in minutes: other jobs on the machine do not shorten it.",
    ),
    pose_learning_rate: float = typer.Option(3e-4, help="Adam step size of the goal-pose pretraining (a positive number)."),
    pose_group: int = typer.Option(1, min=1, help="Views of one goal photo side by side in a goal-pose minibatch (8: each photo encoded once per 8 pairs; 1: independent pairs)."),
    bc_teacher: str = typer.Option("path", help="Who labels the demonstrations: path (the oracle's shortest-path follower, stopping inside "
                                   "the success radius), view (on to the goal photo's position and heading, then stop) or look (view after a first "
                                   "turn until the goal photo's scene is in view)."),
    dagger_rounds: int = typer.Option(2, min=0, help="DAgger rounds (--pretrain dagger)."),
    dagger_episodes: int = typer.Option(200, min=1, help="Episodes the learner runs per DAgger round."),
    dagger_epochs: int = typer.Option(5, min=1, help="Behaviour-cloning passes after each DAgger round."),
    demo_workers: int = typer.Option(2, min=1, help="Processes collecting demonstrations."),
    ppo_bc_batches: int = typer.Option(
        0, min=0, help="Behaviour cloning between PPO updates: oracle-demonstration minibatches (of --bc-batch-steps states) after each update, one optimiser step each (0: plain PPO).",
    ),
    ppo_critic_warmup: int = typer.Option(0, min=0, help="PPO trains only the critic for this many env steps (the cloned actor held fixed; PIRLNav's warm-up)."),
    ppo_actor_warmup: int = typer.Option(0, min=0, help="Then the actor's step size rises linearly from 0 to full over this many env steps."),
    ppo_critic_lr_scale: float = typer.Option(1.0, help="The critic's PPO step size relative to the actor's (a positive number; 1: the same)."),
    ppo_encoder_lr_scale: float = typer.Option(
        1.0, help="The encoder's PPO step size relative to the actor's (a positive number; 1: the same), when PPO trains it (--ppo-freeze none|trunk).",
    ),
    ppo_freeze: str = typer.Option(
        "none", help="What of the encoder PPO leaves as it is: none, trunk (the ResNet-9) or encoder (trunk, head and input layer; "
        "only the recurrent cores and action/value layers train). Frozen features are computed once while acting: faster updates.",
    ),
    init_from: Optional[Path] = typer.Option(
        None, help="Start from this checkpoint's policy (e.g. a run's pretrain.zip): PPO, or with --pretrain the cloning; PPO settings (--model-option learning_rate=...) may differ.",
    ),
    init_parts: str = typer.Option(
        "all", help="What --init-from loads: all (the whole policy) or encoder (trunk, head and input layer; the rest starts fresh from --seed).",
    ),
    device: str = typer.Option("auto", help="Torch device of the learner: auto (CUDA when there is a GPU, else the CPU), cpu, cuda or cuda:N."),
    ray: Optional[str] = typer.Option(
        None, "--ray", metavar="[ADDRESS]",
        help="Run the --n-envs training envs in Ray actors (pip install 'navgym\\[ray]'): alone, a local Ray; with ADDRESS ('auto', host:6379), that cluster.",
    ),
    overlap_rollouts: bool = typer.Option(
        False, help="Overlap acting and env steps (two halves of --n-envs, >= 2, in subprocesses): the policy acts for one half while the other steps.",
    ),
    env_threads: int = typer.Option(
        0, help="0: the --n-envs envs (2 or more) in subprocesses; N: all of them in this process, stepped on N threads (2 on two cores; same results).",
    ),
) -> None:
    """Train a learned agent (RSRNav with recurrent PPO, optionally after imitation); resumable, logs to TensorBoard."""
    import gymnasium as gym

    from navgym.training import TrainArgs, TrainingInterrupted
    from navgym.training import train as run

    _check_out(out)
    if not progress:
        _no_progress_bars()
    with _user_input("--env"):
        import navgym  # noqa: F401  (registers the ids)

        gym.spec(env)
    if ray is not None:
        with _user_input("--ray"):  # named as the user wrote it, not as TrainArgs' ray_address
            from navgym.distributed.cluster import check_address

            check_address(ray, "--ray")
    with _user_input():
        args = TrainArgs(
            agent=agent, head=head, env_id=env, timesteps=timesteps, n_envs=n_envs, out=out, resume=resume, seed=seed,
            goal_camera=goal_camera, reward=reward, reward_options=_parse_options(reward_option, "--reward-option"), eval_every=eval_every, eval_episodes=eval_episodes,
            checkpoint_every=checkpoint_every, max_minutes=max_minutes, max_cpu_minutes=max_cpu_minutes, torch_threads=threads,
            update_threads=update_threads, progress=progress,
            env_kwargs=_parse_options(env_option, "--env-option"), eval_env_kwargs=_parse_options(eval_env_option, "--eval-env-option"),
            model=_parse_options(model_option, "--model-option"), pretrain=pretrain, demos=demos, bc_epochs=bc_epochs, bc_learning_rate=bc_learning_rate, bc_batch_steps=bc_batch_steps,
            bc_aux_coef=bc_aux_coef, bc_augment=bc_augment,
            bc_lr_schedule=bc_lr_schedule, bc_freeze=bc_freeze, bc_teacher=bc_teacher,
            pose_episodes=pose_episodes, pose_views=pose_views, pose_env_kwargs=_parse_options(pose_env_option, "--pose-env-option"),
            pose_val_episodes=pose_val_episodes, pose_epochs=pose_epochs, pose_max_minutes=pose_max_minutes if pose_max_minutes is not None else (None if pose_max_cpu_minutes is not None else 15.0),
            pose_max_cpu_minutes=pose_max_cpu_minutes, pose_learning_rate=pose_learning_rate, pose_group=pose_group, dagger_rounds=dagger_rounds, dagger_episodes=dagger_episodes,
            dagger_epochs=dagger_epochs, demo_workers=demo_workers, ppo_bc_batches=ppo_bc_batches,
            ppo_critic_warmup=ppo_critic_warmup, ppo_actor_warmup=ppo_actor_warmup, ppo_critic_lr_scale=ppo_critic_lr_scale,
            ppo_encoder_lr_scale=ppo_encoder_lr_scale, ppo_freeze=ppo_freeze, init_from=init_from, init_parts=init_parts,
            ray=ray is not None, ray_address=ray, overlap_rollouts=overlap_rollouts, env_threads=env_threads, device=device,
        )
    from navgym.evaluation import sr_spl

    try:
        result = run(args)  # its setup errors are NavgymErrors (one line, from main); later errors are bugs
    except TrainingInterrupted as exc:
        typer.echo(f"\n{exc}", err=True)
        raise typer.Exit(130)
    if result.pretrain:
        last = result.pretrain["records"][-1]
        val = f", val {sr_spl(last['val'], 3)}" if last.get("val") else ""
        pose = next((r["pose"] for r in result.pretrain["records"] if r["stage"] == "pose"), None)
        if pose is not None:
            final = pose["passes"][-1]
            scored = f", val bearing error {final['bearing_median_deg']:.0f} deg median" if "bearing_median_deg" in final else ""
            typer.echo(f"goal-pose pretraining: {final['pass']} passes over {pose['train_pairs']} pairs{scored}")
        typer.echo(f"pretrained ({last['stage']}) on {last['episodes']} episodes / {last['steps']} steps{val}: {result.pretrain['checkpoint']}")
    trained_line = _trained_line(result, timesteps)
    if trained_line:
        typer.echo(trained_line)
    if result.evaluations:
        last = result.evaluations[-1]
        typer.echo(f"val @ {last['timesteps']} steps: {sr_spl(last, 3)} ({last['episodes']} episodes)")
    typer.echo(f"checkpoint: {result.checkpoint}\nevaluate: {_evaluate_command(env, result.checkpoint, goal_camera, env_option, eval_env_option)}")
    if (out / "tb").is_dir():  # PPO writes it; a pretraining alone (--timesteps 0) does not
        typer.echo(f"TensorBoard: tensorboard --logdir {out / 'tb'}")


def _trained_line(result, timesteps: int) -> str | None:
    """What ``navgym train`` says of its PPO steps: how many and how fast; that a resumed run had
    none left to train (not "0 steps ... nan steps/s"); nothing after a pretraining alone."""
    trained = result.num_timesteps - result.start_timesteps
    if trained > 0:
        return (f"trained {trained} steps ({result.start_timesteps} -> {result.num_timesteps}) "
                f"in {result.training_seconds:.0f} s ({result.steps_per_second:.1f} steps/s)")
    if timesteps == 0:
        return None
    return (f"no PPO steps left to train: the run is at {result.num_timesteps} steps and --timesteps is {timesteps} "
            "(a larger --timesteps continues it)")


def _evaluate_command(env: str, checkpoint: Path, goal_camera: str, env_option: list[str], eval_env_option: list[str]) -> str:
    """The ``navgym evaluate`` command for a trained checkpoint, on the env of the run's periodic
    evaluations (its ``--env-option``s, ``--eval-env-option``s over them, and its goal camera):
    without them a run at another resolution would be refused by the agent."""
    import shlex

    options: dict[str, str] = {}
    for item in [*env_option, *eval_env_option]:
        options[item.partition("=")[0]] = item
    words = ["navgym", "evaluate", "--env", env, "--agent", "rsrnav", "--checkpoint", str(checkpoint)]
    if goal_camera != "agent":
        words += ["--goal-camera", goal_camera]
    for item in options.values():
        words += ["--env-option", item]
    return shlex.join(words)


@app.command()
def benchmark(
    steps: int = typer.Option(300, min=10, help="Steps per measurement."),
    resolution: int = typer.Option(128, min=16, help="Square camera resolution."),
    tasks: str = typer.Option("ImageNav,InstanceImageNav,ObjectNav,TextNav", help="Comma-separated tasks."),
    render_backend: str = typer.Option(
        "auto", "--render-backend", help="How the embedded simulator makes camera frames: auto (Embree packets), packets, embreex or raster (faster; docs/simulator.md)."
    ),
) -> None:
    """Steps per second of each ProcHouse env and of the simulator alone, side by side."""
    from navgym.benchmark import env_speed_table
    from navgym.tasks import TASKS

    names = [t.strip() for t in tasks.split(",") if t.strip()]
    if not names:
        raise typer.BadParameter("no task given; e.g. --tasks ObjectNav,ImageNav", param_hint="--tasks")
    with _user_input("--tasks"):
        for name in names:
            TASKS.get(name)
    from navgym.sims.embedded.raycast import BACKENDS

    if render_backend not in BACKENDS:
        raise typer.BadParameter(f"{render_backend!r} is not one of {', '.join(BACKENDS)}", param_hint="--render-backend")
    typer.echo(env_speed_table(names, steps=steps, resolution=resolution, render_backend=render_backend))


@app.command("semnav-data")
def semnav_data(
    houses: int = typer.Option(..., "--houses", min=1, max=1000, help="ProcHouse houses, split train/val/test by house."),
    out: Path = typer.Option(..., "--out", help="Dataset folder: manifest.json, houses/h<seed>/<body>/ (new, empty, or one to resume)."),
    bodies: list[str] = typer.Option(
        ["jetbot", "h1", "aliengo"], "--bodies", help="Bodies, comma-separated or repeated: --bodies jetbot,h1 or --bodies jetbot --bodies h1."
    ),
    views_per_house: int = typer.Option(10, "--views-per-house", min=1, max=10_000, help="Views (positive samples) per house and body."),
    split_seed: int = typer.Option(0, "--split-seed", min=0, help="0: the first seeds of each ProcHouse split; else a seeded draw of houses."),
    split_fractions: tuple[float, float, float] = typer.Option((0.7, 0.15, 0.15), "--split-fractions", help="Train, val, test shares of the houses (divided by their sum: 1 1 1 is thirds)."),
    resolution: Optional[int] = typer.Option(None, "--resolution", min=16, max=1024, help="Image width in pixels, each body's aspect kept (default: the body's camera)."),
    negative_fraction: float = typer.Option(0.1, "--negative-fraction", min=0.0, max=1.0, help="Share of views that also get a negative sample (target not in view)."),
    progress: bool = typer.Option(True, help="Show a progress bar over (house, body) pairs."),
) -> None:
    """Write SemanticNav grounding data: each body's view, text/image/interleaved prompts and the
    navigation and facing heatmaps (docs/semnav_data.md). Rerun the same command to resume."""
    from navgym.semnav.data import DataOptions, generate, house_key, resolve_bodies

    _check_out(out)
    if not progress:
        _no_progress_bars()
    with _user_input("--bodies"):
        names = resolve_bodies(bodies)
    with _user_input():
        options = DataOptions(
            views_per_house=views_per_house, split_seed=split_seed, split_fractions=split_fractions, resolution=resolution,
            negative_fraction=negative_fraction,
        )  # fmt: skip
    try:
        result = generate(out, houses, names, options, progress=progress)  # folder mismatches are NavgymErrors (one line)
    except KeyboardInterrupt:
        typer.echo(f"\ninterrupted: finished houses are kept in {out}; rerun the same command to continue", err=True)
        raise typer.Exit(130)
    counts = result.manifest["counts"]
    by_split = ", ".join(f"{split} {counts['by_split'].get(split, 0)}" for split in ("train", "val", "test"))
    typer.echo(f"{counts['samples']} samples ({by_split}; {counts['negatives']} negative) from {counts['houses']} house{'s' if counts['houses'] != 1 else ''} in {out}")
    if result.skipped:
        typer.echo(f"note: {len(result.skipped)} house-body pairs were already finished in {out} and kept", err=True)
    if result.made:
        per_body: dict[str, list[tuple[float, float]]] = {}
        for seed, body in result.made:
            pair = result.manifest["houses"][house_key(seed)]["bodies"][body]
            per_body.setdefault(body, []).append((pair["seconds"], pair["cpu_seconds"]))
        typer.echo(
            "per house (wall / CPU seconds): "
            + ", ".join(f"{b} {sum(w for w, _ in s) / len(s):.1f} / {sum(c for _, c in s) / len(s):.1f}" for b, s in per_body.items())
        )
    for key, house in result.manifest["houses"].items():
        for body, pair in house["bodies"].items():
            if pair.get("note") and (house["seed"], body) in result.made:
                typer.echo(f"note: {key} {body}: {pair['note']}", err=True)
    typer.echo(f"manifest: {out / 'manifest.json'}")


#: What ``navgym demo`` runs: (env id, agent).
DEMO_JOBS = (("ObjectNav-ProcHouse-v0", "frontier"), ("ImageNav-ProcHouse-v0", "oracle"))


@app.command()
def demo(
    out: Path = typer.Option(Path("runs/demo"), help="Where the tables and videos go."),
    episodes: int = typer.Option(5, min=1, help="Episodes per agent."),
    fresh: bool = typer.Option(False, help="Delete the results an earlier demo left in --out and run every episode again."),
) -> None:
    """The README's main job: frontier on ObjectNav-ProcHouse and the oracle on ImageNav-ProcHouse.

    Run again into the same --out, it reuses the episodes an earlier demo finished there (only when
    each folder's run.json matches: same env, agent, seed, navgym version), runs the missing ones,
    and says how many were reused; --fresh reruns everything."""
    from navgym.evaluation import EvalSpec, RunFolderError, format_summary
    from navgym.evaluation import evaluate as run

    _check_out(out)
    for env_id, agent_name in DEMO_JOBS:
        run_dir = out / f"{agent_name}_{env_id.split('-')[0].lower()}"
        if fresh:
            _remove_run(run_dir)
        spec = EvalSpec(env_id, agent_name, "val", render=True)
        env_obj = _make_env(spec)
        try:
            agent_obj, env_obj = _make_agent(spec, env_obj)
            result = run(env_obj, agent_obj, episodes, out=run_dir, resume=True, video=True, run_info=spec.run_info())
        except RunFolderError as exc:
            raise typer.BadParameter(f"{exc}; or pass --fresh to rerun the demo there", param_hint="--out") from exc
        finally:
            env_obj.close()
        typer.echo(format_summary(result.summary(), title=f"\n{agent_name} on {env_id} (val)"))
        _note_privileged(agent_name, agent_obj)
        _report_reuse(result, run_dir, fresh_hint="; --fresh reruns them")
        typer.echo(f"videos: {run_dir}/videos/")


@app.command("dataset-stats")
def dataset_stats(
    env: list[str] = typer.Option(["ObjectNav-ProcHouse-v0"], "--env", help="Env id (repeatable: one table row each)."),
    split: str = typer.Option("test", help="Dataset split."),
    env_option: list[str] = typer.Option([], "--env-option", help="key=value passed to gym.make (repeatable, every --env)."),
    json_out: Optional[Path] = typer.Option(None, "--json", help="Also write every scene's and episode's numbers to this JSON file."),
) -> None:
    """How big a benchmark is: rooms, storeys, navigable area and objects per scene, start-goal
    geodesic distance and its ratio to the straight line, as a markdown table (docs/datasets.md)."""
    from navgym.datasets.stats import as_records, dataset_statistics, markdown_table, summary_row
    from navgym.evaluation import EvalSpec

    rows, records = [], {}
    options = _parse_options(env_option, "--env-option")
    for env_id in env:
        env_obj = _make_env(EvalSpec(env_id, None, split, options))
        try:
            with _user_input("--env / --split / --env-option"):
                scenes, episodes = dataset_statistics(env_obj)
        finally:
            env_obj.close()
        rows.append(summary_row(f"{env_id} ({split})", scenes, episodes))
        records[env_id] = as_records(scenes, episodes)
    typer.echo(markdown_table(rows))
    if json_out is not None:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps(records, indent=1))
        typer.echo(f"wrote {json_out}")


@app.command("cache")
def cache_command(
    clear: Optional[str] = typer.Option(None, "--clear", help="Remove these parts (comma-separated, e.g. pose_pairs,demonstrations; or all)."),
) -> None:
    """Show what navgym's cache folder ($NAVGYM_CACHE or the user cache folder) holds, or clear parts
    of it. Everything there is regenerated on demand; training caches grow by gigabytes."""
    from navgym.core.cache import cache_usage, clear_cache, human_bytes
    from navgym.core.paths import cache_dir

    if clear is not None:
        with _user_input("--clear"):
            removed = clear_cache([k.strip() for k in clear.split(",") if k.strip()])
        for part in removed:
            typer.echo(f"removed {part.kind}: {part.files} files, {human_bytes(part.bytes)} ({part.path})")
        if not removed:
            typer.echo("nothing to remove")
        return
    parts = cache_usage()
    typer.echo(f"cache folder: {cache_dir()}")
    if not parts:
        typer.echo("(empty)")
        return
    typer.echo(f"{'part':<16} {'files':>7} {'size':>9}  what")
    for part in parts:
        typer.echo(f"{part.kind:<16} {part.files:>7} {human_bytes(part.bytes):>9}  {part.description}")
    typer.echo(f"{'total':<16} {sum(p.files for p in parts):>7} {human_bytes(sum(p.bytes for p in parts)):>9}")
    typer.echo("clear parts with: navgym cache --clear pose_pairs,demonstrations (or all)")


@app.command("airsim-server")
def airsim_server(
    scene: str = typer.Option("prochouse:1000003", "--scene", help="What to serve: prochouse:SEED, or a mesh path under the data root."),
    port: int = typer.Option(41451, "--port", min=0, max=65535, help="TCP port on 127.0.0.1 (AirSim's default 41451; 0: a free port)."),
    data_dir: Optional[Path] = typer.Option(None, help="Habitat-style data root for mesh paths (default $NAVGYM_DATA or ./data)."),
) -> None:
    """Serve a navgym scene over AirSim's RPC API on 127.0.0.1, for AirSim-API code (cosysairsim)
    and sim="airsim" (docs/airsim.md). Ctrl-C stops it."""
    from navgym.sims.airsim.server import EmbeddedAirSimServer
    from navgym.sims.airsim.simulator import AirSimSimulator

    AirSimSimulator.require()
    with _user_input("--scene"):
        server = EmbeddedAirSimServer(scene, port=port, data_root=data_dir)
    with _user_input("--port"):
        server.serve_forever(
            on_ready=lambda s: typer.echo(
                f"navgym airsim-server: serving {s.service.scene_id} over the AirSim API on {s.host}:{s.port} "
                f"(cosysairsim.ComputerVisionClient(ip='{s.host}', port={s.port})); Ctrl-C stops it",
                err=False,
            )
        )


def _remove_run(run_dir: Path) -> None:
    """Delete what an evaluation wrote in ``run_dir`` (and nothing else)."""
    from navgym.evaluation import MANIFEST_NAME, RECORDS_NAME, SUMMARY_NAME

    for name in (RECORDS_NAME, SUMMARY_NAME, MANIFEST_NAME):  # run.json last: a half-removed folder stays refusable
        (run_dir / name).unlink(missing_ok=True)
    for sub, patterns in (("videos", ("episode_*.mp4", "episode_*.gif")), ("maps", ("episode_*.png",))):
        for pattern in patterns:
            for path in (run_dir / sub).glob(pattern):
                path.unlink()


def _one_line(message: str) -> str:
    return " ".join(part.strip() for part in str(message).splitlines() if part.strip())


def _fail(message: str, code: int = 2) -> None:
    typer.echo(f"error: {_one_line(message)}", err=True)
    sys.exit(code)


def _show_warning(message, category, filename, lineno, file=None, line=None, _default=warnings.showwarning) -> None:
    """navgym's run-folder warnings as one line (``warning: ...``); others as Python shows them."""
    from navgym.evaluation import RunFolderWarning

    if issubclass(category, RunFolderWarning):
        typer.echo(f"warning: {_one_line(str(message))}", err=True)
    else:
        _default(message, category, filename, lineno, file, line)


#: Options whose value may be left out, and the value they then take (``--ray`` alone: a local Ray).
OPTIONAL_VALUES = {"--ray": "local"}


def _optional_values(args: list[str]) -> list[str]:
    """``args`` with the default value inserted after each option of :data:`OPTIONAL_VALUES`
    given without one (at the end, or followed by another option)."""
    out: list[str] = []
    for position, arg in enumerate(args):
        out.append(arg)
        if arg in OPTIONAL_VALUES and (position + 1 == len(args) or args[position + 1].startswith("-")):
            out.append(OPTIONAL_VALUES[arg])
    return out


def main(argv: list[str] | None = None) -> None:
    """Console entry point: runs the command, then exits 0, 2 with one ``error:`` line for a user
    error (see the module docstring), 130 on Ctrl-C, or 1 with a traceback for a bug."""
    import gymnasium as gym

    from navgym.errors import NavgymError

    click = _click_errors()
    debug = bool(os.environ.get("NAVGYM_DEBUG"))
    with warnings.catch_warnings():
        warnings.showwarning = _show_warning
        try:
            args = _optional_values(list(argv if argv is not None else sys.argv[1:]))
            code = app(args=args, prog_name="navgym", standalone_mode=False)
        except click.NoArgsIsHelpError as exc:
            typer.echo(exc.ctx.get_help(), err=True)
            sys.exit(2)
        except click.UsageError as exc:
            message = exc.format_message()
            if exc.ctx is not None and not isinstance(exc, click.BadParameter):
                message += f" (see '{exc.ctx.command_path} --help')"
            _fail(message)
        except click.ClickException as exc:
            _fail(exc.format_message(), exc.exit_code)
        except typer.Abort:
            typer.echo("Aborted!", err=True)
            sys.exit(1)
        except (NavgymError, gym.error.DependencyNotInstalled) as exc:
            if debug:
                raise
            _fail(str(exc))
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
