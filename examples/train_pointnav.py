"""PPO from scratch on PointNav-ProcHouseSmall-v0 with depth + GPS+compass point goal (a course example).

    python examples/train_pointnav.py --minutes 30 --out runs/pointnav_course

Writes TensorBoard logs, the Monitor's per-episode CSV (reward, length, success) and
<out>/curve.json: the training success rate per block of --bin env steps. One env, one torch thread.
Depth is 16x16: SB3 flattens a float image into the MLP, and at 32x32 its 1024 inputs drowned the
2 point-goal numbers (success 0.02 after 44k steps vs 0.4-0.65 at 16x16; docs/training.md).
"""
import argparse, csv, json, os, time

import gymnasium as gym, torch
from stable_baselines3 import PPO
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.monitor import Monitor

import navgym  # noqa: F401  (registers the ids)

p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
p.add_argument("--timesteps", type=int, default=1_000_000)
p.add_argument("--minutes", type=float, default=30.0, help="stop after this much wall-clock time")
p.add_argument("--bin", type=int, default=20_000, help="env steps per point of the learning curve")
p.add_argument("--out", default="runs/pointnav_course")
p.add_argument("--seed", type=int, default=0)
args = p.parse_args()
torch.set_num_threads(1)
os.makedirs(args.out, exist_ok=True)

env = gym.make("PointNav-ProcHouseSmall-v0", split="train", sensors=("depth", "pointgoal_with_gps_compass"), resolution=16)
env = Monitor(env, f"{args.out}/monitor.csv", info_keywords=("success",))  # episode success from the last info
# SB3's defaults except shorter rollouts and a higher learning rate (faster on a CPU budget).
model = PPO("MultiInputPolicy", env, n_steps=512, learning_rate=5e-4, seed=args.seed, tensorboard_log=f"{args.out}/tb", verbose=0)


class WallClock(BaseCallback):  # stop at the time budget
    def _on_step(self):
        return time.time() - start < 60 * args.minutes


start, cpu = time.time(), time.process_time()
try:
    model.learn(args.timesteps, callback=WallClock())
except KeyboardInterrupt:  # Ctrl-C: keep what was learned, and its curve
    print(f"interrupted at {model.num_timesteps} steps: saving the model and the curve so far")
model.save(f"{args.out}/ppo_pointnav")

with open(f"{args.out}/monitor.csv") as f:  # one row per finished episode: r, l, t, success
    f.readline()
    episodes = list(csv.DictReader(f))
curve, steps = [], 0
for row in episodes:
    steps += int(row["l"])
    if not curve or steps > curve[-1]["steps"]:
        curve.append({"steps": ((steps - 1) // args.bin + 1) * args.bin, "episodes": 0, "successes": 0})
    curve[-1]["episodes"] += 1
    curve[-1]["successes"] += int(float(row["success"]))
    curve[-1]["wall_minutes"] = round(float(row["t"]) / 60, 2)
for point in curve:
    point["success"] = round(point["successes"] / point["episodes"], 3)
if curve and steps < curve[-1]["steps"]:  # the last block ended early (budget or Ctrl-C)
    curve[-1]["partial_steps"] = steps - (curve[-1]["steps"] - args.bin)
summary = {"env_id": "PointNav-ProcHouseSmall-v0", "timesteps": int(model.num_timesteps), "cpu_minutes": round((time.process_time() - cpu) / 60, 2),
           "wall_minutes": round((time.time() - start) / 60, 2), "curve": curve}
json.dump(summary, open(f"{args.out}/curve.json", "w"), indent=1)
for point in curve:
    part = f", a partial block of {point['partial_steps']} steps" if "partial_steps" in point else ""
    print(f"{point['steps']:>8} steps {point['wall_minutes']:6.1f} min  success {point['success']:.3f} ({point['episodes']} episodes{part})")
