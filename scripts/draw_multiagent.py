"""Draw docs/images/multiagent_two_agents.png: two agents in one ProcHouse house, each seeing the
other in its camera, beside the top-down map of both (docs/multiagent.md).

    python scripts/draw_multiagent.py [--embodiments habitat h1] [--gap 2.5] [--seed 0] [--out docs/images/multiagent_two_agents.png]
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np
from PIL import Image

from navgym.core.specs import AgentState
from navgym.multiagent import parallel_env


def facing_pair(env, gap: float, seed: int) -> None:
    """Put agents 0 and 1 ``gap`` metres apart on a free straight line, facing each other."""
    sim = env.sim
    a, b = (s.agent_id for s in env.seats[:2])
    rng = np.random.default_rng(seed)
    for _ in range(5000):
        p = sim.sample_navigable_point(rng, a)
        yaw = float(rng.uniform(-np.pi, np.pi))
        heading = np.array([-math.sin(yaw), 0.0, -math.cos(yaw)])
        line = [p + heading * t for t in np.linspace(-0.6, gap + 0.6, 60)]
        if all(sim.is_navigable(q, a) and sim.is_navigable(q, b) and abs(q[1] - p[1]) < 0.05 for q in line):
            sim.set_agent_state(AgentState.from_yaw(p, yaw), agent_id=a)
            sim.set_agent_state(AgentState.from_yaw(p + heading * gap, yaw + math.pi), agent_id=b)
            return
    raise SystemExit(f"no free straight {gap} m line found; try another --seed or a smaller --gap")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--embodiments", nargs=2, default=["habitat", "h1"], help="the two bodies")
    parser.add_argument("--gap", type=float, default=2.5, help="metres between the agents")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--resolution", type=int, default=192, help="camera width in pixels")
    parser.add_argument("--out", type=Path, default=Path("docs/images/multiagent_two_agents.png"))
    args = parser.parse_args(argv)
    env = parallel_env(
        "ObjectNav-ProcHouse-v0", num_agents=2, embodiments=args.embodiments, render_mode="rgb_array", num_scenes=1, episodes_per_scene=2,
    )
    env.reset(seed=args.seed)
    for seat in env.seats:  # each body keeps its own aspect ratio
        cam = seat.env._camera
        seat.env._camera = cam.with_(width=args.resolution, height=round(args.resolution * cam.height / cam.width))
    facing_pair(env, args.gap, args.seed)
    for seat in env.seats:
        seat.path = [env.sim.get_agent_state(seat.agent_id).position]
    env._observe(env.seats)
    frame = env.render()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(frame).save(args.out)
    print(f"wrote {args.out} ({frame.shape[1]} x {frame.shape[0]})")


if __name__ == "__main__":
    main()
