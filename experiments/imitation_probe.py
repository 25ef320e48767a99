"""Where behaviour cloning of RSRNav gets stuck: the same oracle demonstrations, the same encoder,
with and without the policy's recurrent core (docs/results/rsrnav_log.md, "Imitation").

    python experiments/imitation_probe.py --head dense --epochs 6 --out docs/results/rsrnav/imitation_probe.json

Trains, from the same initial weights and on the same train demonstrations (cached oracle
episodes of ``--env``'s train split):

* ``policy``: the whole RSRNav policy (encoder, 2-layer LSTM, actor), as ``navgym train
  --pretrain bc`` does;
* ``no_memory``: the encoder and a linear layer on its features, each step on its own.

and reports each epoch's training loss and accuracy and the accuracy on the val split's oracle
demonstrations (states it never saw), beside the share of the most common action.

    python experiments/imitation_probe.py --fit 4 --head dense

instead fits the oracle's labels of the first 4 train episodes (one house of
``ImageNav-ProcHouseEasy-v0``, about 60 states) with 40 full-batch Adam steps (learning rate 3e-3)
and prints the loss every 5 steps for the encoder with a linear layer and for the policy with a
1- and a 2-layer LSTM: how fast each can fit a handful of states.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="ImageNav-ProcHouseNear-v0")
    parser.add_argument("--head", default="dense")
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--batch-steps", type=int, default=64)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--train-scenes", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--fit", type=int, default=0, help="fit this many episodes instead (see the docstring)")
    args = parser.parse_args()
    if args.fit:
        return fit_few(args)

    import torch
    import torch.nn.functional as F

    from navgym.agents.rsrnav.model import RSRNavConfig, build_model
    from navgym.training import TrainArgs, make_vec_env
    from navgym.training.imitation import (
        CollectSpec, _batches, _padded, action_agreement, behaviour_cloning, episode_count, oracle_demonstrations,
    )

    torch.set_num_threads(1)
    kwargs = {"num_scenes": args.train_scenes}
    train_spec = CollectSpec(args.env, "train", env_kwargs=tuple(sorted(kwargs.items())), seed=args.seed)
    val_spec = CollectSpec(args.env, "val", env_kwargs=(), seed=args.seed)
    train = oracle_demonstrations(train_spec, list(range(episode_count(args.env, "train", **kwargs))))
    val = oracle_demonstrations(val_spec, list(range(episode_count(args.env, "val"))))
    labels = np.concatenate(train.labels)
    majority = {"train": float(max(np.mean(labels == a) for a in range(4))),
                "val": float(max(np.mean(np.concatenate(val.labels) == a) for a in range(4)))}
    print(f"train {len(train)} episodes / {train.steps} steps, val {len(val)} / {val.steps}; most common action: {majority}")

    def model():
        vec = make_vec_env(TrainArgs(env_id=args.env, n_envs=1, head=args.head, env_kwargs=kwargs))
        built = build_model(RSRNavConfig(head=args.head), vec, seed=args.seed)
        vec.close()
        return built.policy

    results = {"env": args.env, "head": args.head, "epochs": args.epochs, "batch_steps": args.batch_steps, "lr": args.lr,
               "train_steps": train.steps, "val_steps": val.steps, "majority": majority, "runs": {}}
    # The whole policy, as --pretrain bc trains it.
    policy = model()
    history = []
    began = time.process_time()
    for epoch in range(args.epochs):
        record = behaviour_cloning(policy, train, epochs=1, learning_rate=args.lr, batch_steps=args.batch_steps, seed=args.seed + epoch,
                                   progress=False)[0]
        record["epoch"] = epoch + 1
        record["accuracy"] = action_agreement(policy, train)  # after the epoch, like no_memory's
        record["val_accuracy"] = action_agreement(policy, val)
        record["cpu_seconds"] = time.process_time() - began
        history.append(record)
        print("policy", {k: round(v, 3) for k, v in record.items()}, flush=True)
    results["runs"]["policy"] = history

    # The same encoder (same initial weights) and a linear layer, no memory.
    policy = model()
    head = torch.nn.Linear(policy.features_extractor.features_dim, 4)
    optimiser = torch.optim.Adam(list(policy.features_extractor.parameters()) + list(head.parameters()), lr=args.lr)
    rng = np.random.default_rng(args.seed)
    zeros = [np.zeros(len(a), np.float32) for a in train.labels]

    def accuracy(demos) -> float:
        correct = total = 0.0
        with torch.no_grad():
            for group in _batches([len(a) for a in demos.labels], 256, np.random.default_rng(0)):
                obs, y, _, mask, _, _ = _padded(policy, demos, group, [np.zeros(len(a), np.float32) for a in demos.labels])
                predicted = head(policy.extract_features(obs)).argmax(dim=1)
                correct += float(((predicted == y).float() * mask).sum())
                total += float(mask.sum())
        return correct / total

    history = []
    began = time.process_time()
    for epoch in range(args.epochs):
        policy.set_training_mode(True)
        losses, count = 0.0, 0.0
        for group in _batches([len(a) for a in train.labels], args.batch_steps, rng):
            obs, y, _, mask, _, _ = _padded(policy, train, group, zeros)
            loss = (F.cross_entropy(head(policy.extract_features(obs)), y, reduction="none") * mask).sum() / mask.sum()
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            losses += loss.item() * float(mask.sum())
            count += float(mask.sum())
        policy.set_training_mode(False)
        record = {"epoch": epoch + 1, "bc_loss": losses / count, "accuracy": accuracy(train), "val_accuracy": accuracy(val),
                  "cpu_seconds": time.process_time() - began}
        history.append(record)
        print("no_memory", {k: round(v, 3) for k, v in record.items()}, flush=True)
    results["runs"]["no_memory"] = history
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, indent=2))
        print(f"wrote {args.out}")


def fit_few(args) -> None:
    import torch
    import torch.nn.functional as F

    from navgym.agents.rsrnav.model import RSRNavConfig, build_model
    from navgym.training import TrainArgs, make_vec_env
    from navgym.training.imitation import CollectSpec, _forward, _padded, collect

    torch.set_num_threads(1)
    env_id, kwargs = "ImageNav-ProcHouseEasy-v0", {"num_scenes": 1, "episodes_per_scene": args.fit}
    demos = collect(CollectSpec(env_id, "train", env_kwargs=tuple(sorted(kwargs.items())), seed=5), range(args.fit), progress=False)
    print(f"{len(demos)} episodes, {demos.steps} states")
    for name, model_kwargs in (("no_memory", {}), ("lstm_1_layer", {"n_lstm_layers": 1}), ("lstm_2_layers", {"n_lstm_layers": 2})):
        vec = make_vec_env(TrainArgs(env_id=env_id, n_envs=1, head=args.head, env_kwargs=kwargs, model=model_kwargs))
        policy = build_model(RSRNavConfig(head=args.head, **model_kwargs), vec, seed=args.seed).policy
        vec.close()
        group = list(range(len(demos)))
        obs, labels, _, mask, starts, states = _padded(policy, demos, group, [np.zeros(len(a), np.float32) for a in demos.labels])
        head = torch.nn.Linear(policy.features_extractor.features_dim, 4)
        if name == "no_memory":
            params = list(policy.features_extractor.parameters()) + list(head.parameters())
            forward = lambda: head(policy.extract_features(obs))  # noqa: E731
        else:
            params = list(policy.parameters())
            forward = lambda: _forward(policy, obs, states, starts)[0]  # noqa: E731
        optimiser = torch.optim.Adam(params, lr=3e-3)
        losses = []
        for step in range(40):
            loss = (F.cross_entropy(forward(), labels, reduction="none") * mask).sum() / mask.sum()
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            if step % 5 == 0 or step == 39:
                losses.append(round(loss.item(), 3))
        print(f"{name:14s} loss at steps 0,5,...,35,39: {losses}", flush=True)


if __name__ == "__main__":
    main()
