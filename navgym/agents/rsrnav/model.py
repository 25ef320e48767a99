"""RSRNav's model: the encoder, a 2-layer recurrent policy, PPO settings, and safe checkpoints.

The policy is sb3-contrib's ``MultiInputLstmPolicy`` (navgym's
:class:`~navgym.agents.rsrnav.policy.RSRNavLstmPolicy`, which also takes compact image minibatches)
on :class:`~navgym.agents.rsrnav.encoders.RSRNavEncoder`.
Differences from the paper, all forced or chosen for a CPU budget:

* **LSTM, not GRU.** The paper (after ZER) uses a 2-layer GRU of size 128; sb3-contrib only has
  LSTMs, so navgym uses a 2-layer LSTM of size 128.
* **Separate actor and critic LSTMs over one shared encoder** (sb3-contrib's
  ``enable_critic_lstm=True``). Its only shared-LSTM mode detaches the critic from the LSTM, so
  the value loss would never train the encoder; a second LSTM costs little next to the CNN.
* **No previous-action embedding.** The authors' code feeds a 32-d embedding of the last action
  to the GRU; SB3 policies see observations only.
* **Linear actor and critic heads** on the LSTM output (``net_arch=dict(pi=[], vf=[])``), as in
  habitat-baselines.

Checkpoints are SB3 ``.zip`` files plus ``navgym_rsrnav.json`` inside them (this module's
config, the spaces and the step count). They are loaded **without unpickling**: SB3 2.9's
``load_from_zip_file`` reads the ``.pth`` state dicts with ``torch.load(weights_only=True)``, but
``RecurrentPPO.load`` also un-cloudpickles the ``data`` entry (spaces, schedules, policy class),
which can run arbitrary code. :func:`load_policy` and :func:`restore_training_state` rebuild the
model from the JSON instead and read only the ``.pth`` files, always with ``weights_only=True``.
"""

from __future__ import annotations

import io
import json
import math
import pickle
import re
import zipfile
import zlib
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import torch
from gymnasium import spaces

from navgym.agents.rsrnav.encoders import HEADS, PRECISIONS, RSRNavEncoder
from navgym.core.checks import check_int, check_range
from navgym.core.options import choice, flag
from navgym.core.paths import replace_atomically
from navgym.errors import DataNotFoundError, InvalidArgumentError

#: Index of ``stop`` in every navgym task's actions (Habitat's order).
STOP_ACTION = 0
#: Name of the JSON entry navgym adds to SB3's checkpoint zip.
META_NAME = "navgym_rsrnav.json"
#: Version of that JSON's layout.
META_FORMAT = 1


@dataclass
class RSRNavConfig:
    """The network and PPO settings of an RSRNav run (defaults: the paper's where it gives them,
    habitat-baselines' ImageNav PPO otherwise, scaled down for a CPU).

    Attributes:
        head: Relationship head, one of :data:`~navgym.agents.rsrnav.encoders.HEADS`.
        features_dim: Size of the policy's input embedding (paper: 128).
        base_channels: Trunk width (not in the paper's text; 16 here for CPU speed).
        levels, radius: Direction head's pyramid levels (paper: 3) and look-up radius (authors: 1).
        cue_norm: ``LayerNorm`` over the head's cue before the policy's input layer (navgym's
            addition, off by default; see :class:`~navgym.agents.rsrnav.encoders.RSRNavEncoder`).
        precision: ``"float32"`` or ``"bfloat16"`` (autocast of the trunk and head; faster for
            the direction head on CPUs with AMX, see docs/results/rsrnav_log.md, Training speed).
        lstm_hidden_size, n_lstm_layers: Recurrent state (paper: 2-layer GRU of 128; here LSTM).
        learning_rate: Adam step size (habitat-baselines: 2.5e-4).
        n_steps: Rollout length per env per update (authors: 128).
        batch_size: Samples per minibatch (2 minibatches per update with 2 envs, as habitat's 2).
        n_epochs: Passes over each rollout (habitat-baselines: 4; 2 here for CPU speed).
        gamma, gae_lambda, clip_range, ent_coef, vf_coef, max_grad_norm: PPO (habitat-baselines'
            ImageNav values: 0.99, 0.95, 0.2, 0.01, 0.5, 0.2).
        privileged_critic: An asymmetric actor-critic for training (navgym's addition, off by
            default): the critic's LSTM also reads ``obs["critic"]`` (the geodesic distance, the
            path's direction, the goal heading and the time used, added to the training envs by
            :class:`~navgym.wrappers.privileged.CriticObservation`); the actor reads only the
            images, in training and after (:mod:`navgym.agents.rsrnav.critic`). The critic's
            input layer grows by :data:`~navgym.wrappers.privileged.CRITIC_FEATURES` columns;
            a run started (``init_from``) from a checkpoint without it gets them at zero.
        initial_stop_probability: The untrained policy's probability of ``stop`` (the other
            actions share the rest), set through the actor's output bias. Uniform (0.25) makes
            the untrained agent stop after ~4 steps, almost never near the goal, and PPO then
            learns to stop at once (seen in docs/results/rsrnav.md); 0.05 lets it wander ~20
            steps first. Only the initialisation changes, not the objective.
    """

    head: str = "direction"
    features_dim: int = 128
    base_channels: int = 16
    levels: int = 3
    radius: int = 1
    cue_norm: bool = False
    precision: str = "float32"
    lstm_hidden_size: int = 128
    n_lstm_layers: int = 2
    learning_rate: float = 2.5e-4
    n_steps: int = 128
    batch_size: int = 128
    n_epochs: int = 2
    gamma: float = 0.99
    gae_lambda: float = 0.95
    clip_range: float = 0.2
    ent_coef: float = 0.01
    vf_coef: float = 0.5
    max_grad_norm: float = 0.2
    privileged_critic: bool = False
    initial_stop_probability: float = 0.05

    def __post_init__(self) -> None:
        if self.head not in HEADS:
            raise InvalidArgumentError(f"head={self.head!r} is not an RSRNav head; valid heads are {list(HEADS)}")
        for name in ("features_dim", "base_channels", "levels", "radius", "lstm_hidden_size", "n_lstm_layers", "n_steps", "batch_size", "n_epochs"):
            value = getattr(self, name)
            low = 0 if name == "radius" else 1
            setattr(self, name, check_int(name, value, low))
        for name, low, high, open_ends in (
            ("learning_rate", 0.0, math.inf, (True, True)),
            ("gamma", 0.0, 1.0, (False, False)),
            ("gae_lambda", 0.0, 1.0, (False, False)),
            ("clip_range", 0.0, math.inf, (True, True)),
            ("ent_coef", 0.0, math.inf, (False, True)),
            ("vf_coef", 0.0, math.inf, (False, True)),
            ("max_grad_norm", 0.0, math.inf, (True, True)),
            ("initial_stop_probability", 0.0, 1.0, (True, True)),
        ):
            value = getattr(self, name)
            if math.isinf(high) and isinstance(value, (int, float)) and not isinstance(value, bool) and math.isinf(value):
                raise InvalidArgumentError(f"{name}={value!r} must be a finite number")
            setattr(self, name, check_range(name, value, low, high, low_open=open_ends[0], high_open=open_ends[1]))
        self.cue_norm = flag("cue_norm", self.cue_norm)
        self.privileged_critic = flag("privileged_critic", self.privileged_critic)
        self.precision = choice("precision", self.precision, list(PRECISIONS))
        if self.n_steps < 2:
            raise InvalidArgumentError(f"n_steps={self.n_steps!r} must be at least 2 (PPO's advantage normalisation)")

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "RSRNavConfig":
        known = {f.name for f in fields(cls)}
        unknown = set(values) - known
        if unknown:
            raise InvalidArgumentError(f"Unknown RSRNav settings {sorted(unknown)}; valid settings are {sorted(known)}")
        return cls(**values)

    def policy_class(self):
        """:class:`~navgym.agents.rsrnav.policy.RSRNavLstmPolicy` (sb3-contrib's
        ``MultiInputLstmPolicy`` that also takes compact image minibatches), or with
        ``privileged_critic`` :class:`~navgym.agents.rsrnav.critic.PrivilegedCriticLstmPolicy`."""
        if self.privileged_critic:
            from navgym.agents.rsrnav.critic import PrivilegedCriticLstmPolicy

            return PrivilegedCriticLstmPolicy
        from navgym.agents.rsrnav.policy import RSRNavLstmPolicy

        return RSRNavLstmPolicy

    def policy_kwargs(self) -> dict[str, Any]:
        """``policy_kwargs`` for ``RecurrentPPO(self.policy_class(), ...)``."""
        return {
            "features_extractor_class": RSRNavEncoder,
            "features_extractor_kwargs": {
                "head": self.head,
                "features_dim": self.features_dim,
                "base_channels": self.base_channels,
                "levels": self.levels,
                "radius": self.radius,
                "cue_norm": self.cue_norm,
                "precision": self.precision,
            },
            "lstm_hidden_size": self.lstm_hidden_size,
            "n_lstm_layers": self.n_lstm_layers,
            "enable_critic_lstm": True,
            "shared_lstm": False,
            "net_arch": {"pi": [], "vf": []},
            "optimizer_kwargs": {"eps": 1e-5},
        }

    def ppo_kwargs(self) -> dict[str, Any]:
        """Keyword arguments of ``RecurrentPPO`` besides policy, env and logging."""
        return {
            "learning_rate": self.learning_rate,
            "n_steps": self.n_steps,
            "batch_size": self.batch_size,
            "n_epochs": self.n_epochs,
            "gamma": self.gamma,
            "gae_lambda": self.gae_lambda,
            "clip_range": self.clip_range,
            "ent_coef": self.ent_coef,
            "vf_coef": self.vf_coef,
            "max_grad_norm": self.max_grad_norm,
        }


def build_model(config: RSRNavConfig, env, seed: int | None = 0, tensorboard_log: str | None = None, device: str = "cpu"):
    """A fresh ``RecurrentPPO`` (an :class:`~navgym.agents.rsrnav.rollouts.OverlappingRecurrentPPO`:
    set its ``overlap_rollouts`` to overlap acting and env steps) with RSRNav's policy on a
    (vectorised) ImageNav env, with a :class:`~navgym.agents.rsrnav.policy.CompactRolloutBuffer`
    (uint8 images, unpadded image minibatches; the same updates as sb3-contrib's buffer, faster)."""
    from navgym.agents.rsrnav.policy import use_compact_rollouts
    from navgym.agents.rsrnav.rollouts import OverlappingRecurrentPPO

    model = OverlappingRecurrentPPO(
        config.policy_class(),
        env,
        policy_kwargs=config.policy_kwargs(),
        tensorboard_log=tensorboard_log,
        seed=seed,
        device=device,
        verbose=0,
        **config.ppo_kwargs(),
    )
    set_initial_stop_probability(model.policy, config.initial_stop_probability)
    use_compact_rollouts(model)
    return model


def set_initial_stop_probability(policy, probability: float) -> None:
    """Set the actor's output bias so the untrained policy calls ``stop`` (action 0, Habitat's
    order) with ``probability`` and the other actions share the rest (the output weights start
    near zero, gain 0.01, so the bias decides the first action distribution)."""
    bias = policy.action_net.bias
    n = bias.shape[0]
    with torch.no_grad():
        bias.zero_()
        bias[STOP_ACTION] = float(np.log(probability * (n - 1) / (1.0 - probability)))


def image_spaces(observation_space: spaces.Dict) -> dict[str, list[int]]:
    """The (H, W, C) shapes of ``rgb`` and ``imagegoal`` as the env emits them (channel-last)."""
    shapes = {}
    for key in ("rgb", "imagegoal"):
        if key not in observation_space.spaces:
            raise ValueError(f"RSRNav needs observation '{key}'; the env has {list(observation_space.spaces)}")
        shape = [int(n) for n in observation_space[key].shape]
        shapes[key] = shape if shape[-1] in (1, 3, 4) else [shape[1], shape[2], shape[0]]
    return shapes


def policy_observation_space(shapes: dict[str, list[int]]) -> spaces.Dict:
    """The channel-first Dict space the policy was built on (SB3 transposes image observations)."""
    return spaces.Dict({key: spaces.Box(0, 255, (h_w_c[2], h_w_c[0], h_w_c[1]), dtype=np.uint8) for key, h_w_c in shapes.items()})


# -- checkpoints ------------------------------------------------------------------------------------------
def save_checkpoint(model, path: str | Path, config: RSRNavConfig, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Save ``model`` to ``path`` (atomically) with navgym's JSON inside; returns that JSON.

    The JSON holds the config, the image shapes, the action count, ``num_timesteps`` and
    ``n_updates`` (so training resumes from the same step) and ``extra``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    meta = {
        "format": META_FORMAT,
        "agent": "rsrnav",
        "config": asdict(config),
        "observation_shapes": image_spaces(model.observation_space),
        "n_actions": int(model.action_space.n),
        "num_timesteps": int(model.num_timesteps),
        "n_updates": int(getattr(model, "_n_updates", 0)),
        **(extra or {}),
    }
    def write(tmp: Path) -> None:
        model.save(tmp)  # the temporary name ends in .zip: SB3 would append .zip to any other suffix
        with zipfile.ZipFile(tmp, "a") as archive:
            archive.writestr(META_NAME, json.dumps(meta, indent=2))

    replace_atomically(path, write, suffix=".tmp.zip")
    return meta


def read_checkpoint_meta(path: str | Path) -> dict[str, Any]:
    """navgym's JSON from a checkpoint zip (no unpickling)."""
    path = Path(path)
    if not path.is_file():
        what = "is a folder, not a file" if path.is_dir() else "does not exist"
        raise DataNotFoundError(f"checkpoint={str(path)!r} {what}; give the checkpoint.zip a training run wrote (train one with `navgym train`)")
    try:
        with zipfile.ZipFile(path) as archive:
            if META_NAME not in archive.namelist():
                raise InvalidArgumentError(f"checkpoint={str(path)!r} has no {META_NAME}: it was not written by navgym's RSRNav training")
            meta = json.loads(archive.read(META_NAME))
    except zipfile.BadZipFile as exc:
        raise InvalidArgumentError(f"checkpoint={str(path)!r} is not a zip file (an SB3 checkpoint)") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InvalidArgumentError(f"checkpoint={str(path)!r}: its {META_NAME} is not valid JSON ({exc})") from exc
    if not isinstance(meta, dict) or meta.get("format") != META_FORMAT:
        found = meta.get("format") if isinstance(meta, dict) else None
        raise InvalidArgumentError(f"checkpoint={str(path)!r} has format {found!r}; this navgym reads format {META_FORMAT}")
    return meta


def read_state_dicts(path: str | Path) -> dict[str, Any]:
    """The ``.pth`` entries of an SB3 zip (``policy``, ``policy.optimizer``), each loaded with
    ``torch.load(weights_only=True)``."""
    out = {}
    try:
        with zipfile.ZipFile(path) as archive:
            for name in archive.namelist():
                if name.endswith(".pth") and name != "pytorch_variables.pth":
                    out[name[: -len(".pth")]] = _load_weights(path, name, archive.read(name))
    except (zipfile.BadZipFile, zlib.error, EOFError) as exc:  # cut short, or an entry failing its CRC check
        raise InvalidArgumentError(
            f"checkpoint={str(path)!r} is damaged ({type(exc).__name__}: {exc}); copy it again, or use another checkpoint written by navgym train"
        ) from None
    return out


def _load_weights(path: str | Path, entry: str, data: bytes) -> Any:
    """One ``.pth`` entry with ``torch.load(weights_only=True)``; an entry holding anything but
    tensors and plain containers (a pickle) is refused, naming the file and the entry."""
    try:
        return torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, ValueError) as exc:
        found = re.search(r"Unsupported global: GLOBAL ([\w.]+)", str(exc))
        reason = f"it holds pickled Python objects ({found.group(1)})" if found else f"it is not a weights-only state dict ({type(exc).__name__})"
        raise InvalidArgumentError(
            f"checkpoint={str(path)!r}: entry {entry!r} cannot be loaded safely: {reason}. navgym reads checkpoints with "
            "torch.load(weights_only=True) and never unpickles them (that could run code); use a checkpoint written by navgym train"
        ) from exc


def build_policy(meta: dict[str, Any]):
    """An untrained policy with the settings of a checkpoint's JSON ``meta`` (its config, image
    shapes and action count), initialised as SB3 initialises a new one."""
    config = RSRNavConfig.from_dict(meta["config"])
    observation_space = policy_observation_space(meta["observation_shapes"])
    return config.policy_class()(
        observation_space, spaces.Discrete(int(meta["n_actions"])), lambda _: config.learning_rate, **config.policy_kwargs()
    )


def load_policy(path: str | Path, device: str = "cpu", precision: str | None = None):
    """Rebuild a trained RSRNav policy from a checkpoint without unpickling anything.

    Args:
        path: The checkpoint zip.
        device: Torch device.
        precision: ``None`` (default) computes as the policy was trained (its config's
            ``precision``); ``"float32"`` or ``"bfloat16"`` overrides it. The weights are float32
            either way, so a bfloat16-trained policy runs in float32 on any CPU; its actions then
            match its bfloat16 self in most steps, not all (bfloat16 kernels also round differently
            between CPUs, e.g. AMX and AVX-512 BF16).

    Returns:
        (policy, meta): an sb3-contrib ``RecurrentActorCriticPolicy`` in eval mode (it has
        ``predict(obs, state, episode_start, deterministic)``) and the checkpoint's JSON (with
        an overridden ``precision`` in its config, and the trained one under
        ``"trained_precision"``).
    """
    meta = read_checkpoint_meta(path)
    if precision is not None:  # RSRNavConfig checks the value when build_policy reads it
        config = meta["config"]
        meta = {**meta, "trained_precision": config.get("precision", "float32"), "config": {**config, "precision": precision}}
    policy = build_policy(meta)
    state = read_state_dicts(path)
    if "policy" not in state:
        raise InvalidArgumentError(f"checkpoint={str(path)!r} has no policy.pth")
    policy.load_state_dict(state["policy"], strict=True)
    policy.to(device)
    policy.set_training_mode(False)
    return policy, meta


def restore_training_state(model, path: str | Path) -> dict[str, Any]:
    """Load a checkpoint's weights, optimiser state and step count into a freshly built ``model``
    (``weights_only=True`` loads only), so ``learn(..., reset_num_timesteps=False)`` continues it."""
    meta = read_checkpoint_meta(path)
    if meta.get("policy_only"):
        raise InvalidArgumentError(f"checkpoint={str(path)!r} is a policy-only export (no optimiser state); resume from the run's checkpoint.zip")
    model.set_parameters(read_state_dicts(path), exact_match=True, device=model.device)
    model.num_timesteps = int(meta["num_timesteps"])
    model._n_updates = int(meta["n_updates"])
    return meta


def export_policy(checkpoint: str | Path, path: str | Path) -> Path:
    """Write a policy-only copy of a checkpoint (no optimiser state: about a third of the size),
    loadable by :func:`load_policy` and ``make("rsrnav", checkpoint=path)`` but not resumable."""
    meta = read_checkpoint_meta(checkpoint)
    def write(tmp: Path) -> None:
        with zipfile.ZipFile(checkpoint) as source, zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as target:
            target.writestr("policy.pth", source.read("policy.pth"))
            target.writestr(META_NAME, json.dumps({**meta, "policy_only": True}, indent=2))

    return replace_atomically(path, write)  # a crash never leaves half a zip under the final name
