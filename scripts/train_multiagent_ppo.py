"""Train one shared PPO policy for every agent of a navgym parallel env (docs/multiagent.md).

    python scripts/train_multiagent_ppo.py --env ImageNav-ProcHouseNear-v0 --agents 2 --timesteps 20000 --out runs/multiagent_ppo

The parallel env goes through SuperSuit (black_death_v3 -> pettingzoo_env_to_vec_env_v1 ->
concat_vec_envs_v1(..., base_class="stable_baselines3")) to SB3's PPO; each agent is one slot of
the vector env, all slots share the policy. Needs the multiagent extra: pip install 'navgym[multiagent]'.
"""

from __future__ import annotations

import argparse
import sys

import torch


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="ImageNav-ProcHouseNear-v0", help="navgym env id of every agent")
    parser.add_argument("--agents", type=int, default=2, help="agents in the scene (one shared policy)")
    parser.add_argument("--timesteps", type=int, default=20_000, help="agent steps in total")
    parser.add_argument("--n-steps", type=int, default=128, help="PPO rollout length per vector slot")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--resolution", type=int, default=32, help="camera side in pixels (flattened for the MLP)")
    parser.add_argument("--split", default="train", help="dataset split to train on (evaluate on val)")
    parser.add_argument("--num-scenes", type=int, default=None, help="ProcHouse houses (default: the split's)")
    parser.add_argument("--episodes-per-scene", type=int, default=None)
    parser.add_argument("--sensors", default=None,
                        help="comma-separated observations of every agent (default: the task's); leave Text ones out, "
                             "e.g. SemanticNav: rgb,depth,prompt_image")
    parser.add_argument("--embodiment", default=None, help="body of every agent (default: the task's), e.g. jetbot, h1, aliengo")
    parser.add_argument("--env-option", action="append", default=[], metavar="KEY=VALUE",
                        help="another gym.make keyword of every agent's env (repeatable), e.g. prompt_kinds=image")
    parser.add_argument("--out", default="runs/multiagent_ppo", help="folder for model.zip")
    args = parser.parse_args(argv)

    torch.set_num_threads(1)  # one thread: the env and the small MLP do not gain from more
    from navgym.core.options import key_values
    from navgym.errors import NavgymError
    from navgym.multiagent.training import train_shared_ppo

    try:
        env_kwargs = {**key_values(args.env_option, "--env-option"), "resolution": args.resolution, "split": args.split}
    except NavgymError as exc:
        parser.error(str(exc))
    if args.sensors is not None:
        env_kwargs["sensors"] = tuple(s.strip() for s in args.sensors.split(",") if s.strip())
    if args.embodiment is not None:
        env_kwargs["embodiments"] = args.embodiment
    if args.num_scenes is not None:
        env_kwargs["num_scenes"] = args.num_scenes
    if args.episodes_per_scene is not None:
        env_kwargs["episodes_per_scene"] = args.episodes_per_scene
    try:
        result = train_shared_ppo(
            args.env, args.agents, timesteps=args.timesteps, out=args.out, seed=args.seed,
            ppo_kwargs={"n_steps": args.n_steps, "batch_size": min(64, args.n_steps * args.agents)}, **env_kwargs,
        )
    except NavgymError as exc:  # bad options, unusable sensors: one line, as the navgym commands give
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    print(f"trained {result.timesteps} agent steps in {result.seconds:.1f} s; model: {result.model_path}"
          + (f"; TensorBoard: {result.model_path.parent / 'tb'}" if (result.model_path.parent / "tb").is_dir() else ""))


if __name__ == "__main__":
    main()
