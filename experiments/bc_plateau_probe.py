"""Where behaviour cloning starts: the first ``--episodes`` of a run's cached oracle
demonstrations, BC from fresh weights for ``--epochs`` passes, each pass's accuracy, cross-entropy
and value loss (docs/results/rsrnav_log.md, "A teacher that stops on the goal photo's pose").

    python experiments/bc_plateau_probe.py --head direction --episodes 200 --epochs 10
    python experiments/bc_plateau_probe.py --head dense --episodes 200 --epochs 3 --variants default,novf,noclip,lr3e-4

The demonstrations are those of ``navgym train --env ImageNav-ProcHouseNear-v0 --env-option
num_scenes=80 --bc-teacher view`` with the raster backend (collected on first use, about 2 minutes,
then read from the cache). Variants: ``default`` (as ``--pretrain bc``), ``novf`` (no value loss),
``noclip`` (no gradient clipping), ``lr3e-4``. One torch thread.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--head", default="direction")
    parser.add_argument("--episodes", type=int, default=200)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--variants", default="default")
    parser.add_argument("--scenes", type=int, default=80)
    parser.add_argument("--teacher", default="view")
    args = parser.parse_args()

    import numpy as np
    import torch

    from navgym.agents.rsrnav.model import RSRNavConfig, build_model
    from navgym.training import TrainArgs, make_vec_env
    from navgym.training.imitation import Demonstrations, behaviour_cloning, training_demonstrations

    torch.set_num_threads(1)
    run = TrainArgs(head=args.head, env_id="ImageNav-ProcHouseNear-v0", n_envs=1, pretrain="bc", bc_teacher=args.teacher, demo_workers=1,
                    env_kwargs={"num_scenes": args.scenes, "sim_options": {"render_backend": "raster"}}, model={"n_lstm_layers": 1})
    full = training_demonstrations(run)
    demos = Demonstrations(**{f.name: getattr(full, f.name)[: args.episodes] for f in dataclasses.fields(full)})
    del full
    print(f"{len(demos)} episodes, {demos.steps} states; commonest action share "
          f"{np.bincount(np.concatenate(demos.labels)).max() / demos.steps:.3f}", flush=True)
    settings = {"default": {}, "novf": {"vf_coef": 0.0}, "noclip": {"max_grad_norm": 1e9}, "lr3e-4": {"learning_rate": 3e-4}}
    for variant in args.variants.split(","):
        vec_env = make_vec_env(TrainArgs(env_id=run.env_id, n_envs=1, env_kwargs={"num_scenes": 2}, model=run.model, head=args.head))
        model = build_model(RSRNavConfig(head=args.head, n_lstm_layers=1), vec_env, seed=0)
        vec_env.close()
        began = time.time()
        history = behaviour_cloning(model.policy, demos, epochs=args.epochs, gamma=0.99, seed=0, progress=False,
                                    **{"learning_rate": 1e-3, **settings[variant]})
        print(json.dumps({"head": args.head, "variant": variant, "seconds": round(time.time() - began),
                          "accuracy": [round(h["accuracy"], 3) for h in history], "bc_loss": [round(h["bc_loss"], 3) for h in history],
                          "value_loss": [round(h["value_loss"], 2) for h in history]}), flush=True)


if __name__ == "__main__":
    main()
