"""Training navgym's learned agents with stable-baselines3 (RSRNav: sb3-contrib's recurrent PPO).

Generic here: arguments, envs, the callback, the loop; what is particular to an agent (config,
network, checkpoints, the envs it accepts) is its trainer, registered in :data:`TRAINERS`
(RSRNav's: :mod:`navgym.agents.rsrnav.training`).

``train(TrainArgs(...))`` (or ``train(head="dense", timesteps=..., out=...)``) writes to ``out/``:

* ``checkpoint.zip``: the latest model at a rollout boundary, with navgym's JSON inside
  (config, spaces, step count); ``checkpoint.json`` repeats that JSON for people and scripts;
* ``train_args.json``: the arguments of the run;
* ``eval.jsonl``: one line per periodic evaluation on the val split (SR, SPL, angle to goal);
* ``tb/``: TensorBoard logs (``tensorboard --logdir out/tb``).

``resume=True`` rebuilds the model, loads the checkpoint's weights and optimiser state (with
``torch.load(weights_only=True)``, never unpickling) and continues from its step count to
``timesteps``. Envs are reset on resume: episodes in flight when the checkpoint was written start
over, and the LSTM state starts from zero.
"""

from navgym.training.args import REWARDS, TRAINERS, TrainArgs, TrainResult
from navgym.training.callbacks import available_cores, make_callback
from navgym.training.envs import make_training_env, make_vec_env
from navgym.training.loop import TrainingInterrupted, train

__all__ = [
    "REWARDS", "TRAINERS", "TrainArgs", "TrainResult", "TrainingInterrupted", "available_cores", "make_callback",
    "make_training_env", "make_vec_env", "train",
]
