"""RSRNav's recurrent policy and a rollout buffer that keeps PPO's image minibatches small.

sb3-contrib's recurrent PPO pads each minibatch's sequences (pieces of episodes) to the longest one
with all-zero observations, then runs the features extractor over the padded batch and masks the
padding out of the losses. With 128x128
images and short episodes most of a padded minibatch can be padding: SB3's ``float / 255`` of it,
the encoder's check for padding rows and the copies took most of a PPO update once the encoder
was frozen (docs/results/rsrnav_log.md, "Training speed").

:class:`CompactRolloutBuffer` hands out minibatches whose image entries hold only the real rows, in the padded layout's
order, plus :data:`REAL_ROWS_KEY`, a bool mask over the padded rows. :class:`RSRNavLstmPolicy`
(sb3-contrib's ``MultiInputLstmPolicy`` otherwise) runs the encoder on the real rows and puts the
features into the padded layout with zeros on padding rows, which is what the padded path gives
(:class:`~navgym.agents.rsrnav.encoders.RSRNavEncoder` already gives zero features to padding
rows). The losses, gradients and updates are the same (tests/agents/test_compact_rollouts.py).

:class:`RSRNavLstmPolicy` also runs the recurrent cores over a minibatch's padded sequences in
one call where sb3-contrib steps through them one time step at a time: a minibatch's sequences
are cut at episode starts, so a state is reset, if at all, only at a sequence's first step, and
resetting the initial state there gives the same outputs (to float rounding) as the step loop.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from gymnasium import spaces
from sb3_contrib.common.recurrent.buffers import RecurrentDictRolloutBuffer
from sb3_contrib.ppo_recurrent.policies import MultiInputLstmPolicy
from stable_baselines3.common.preprocessing import is_image_space, preprocess_obs

#: Key of a compact minibatch's bool mask over the padded rows (True: a real step).
REAL_ROWS_KEY = "__real_rows__"


def image_keys(observation_space: spaces.Space) -> tuple[str, ...]:
    """Keys of a Dict space's uint8 image entries (those :class:`CompactRolloutBuffer` compacts)."""
    if not isinstance(observation_space, spaces.Dict):
        return ()
    return tuple(
        key
        for key, space in observation_space.spaces.items()
        if isinstance(space, spaces.Box) and space.dtype == np.uint8 and is_image_space(space, check_channels=False)
    )


class RSRNavLstmPolicy(MultiInputLstmPolicy):
    """sb3-contrib's ``MultiInputLstmPolicy`` that also takes :class:`CompactRolloutBuffer`'s
    minibatches (images of the real rows only and a :data:`REAL_ROWS_KEY` mask), and runs the
    recurrent cores over a minibatch's sequences in one call (see the module's doc); any other
    observation dict goes through SB3's path unchanged."""

    def extract_features(self, obs, features_extractor=None):  # type: ignore[override]
        real = obs.get(REAL_ROWS_KEY) if isinstance(obs, dict) else None
        if real is not None:
            images = set(image_keys(self.observation_space))
            obs = {key: value if key in images else value[real] for key, value in obs.items() if key != REAL_ROWS_KEY}
            for key in images & set(obs):
                if obs[key].shape[0] != int(real.sum()):
                    raise ValueError(f"compact minibatch: obs[{key!r}] has {obs[key].shape[0]} rows for {int(real.sum())} real steps")
        if self.share_features_extractor and isinstance(obs, dict):
            features = self._encode(obs, self.features_extractor if features_extractor is None else features_extractor)
        else:
            features = super().extract_features(obs, features_extractor)
        if real is None:
            return features
        return tuple(self._pad(f, real) for f in features) if isinstance(features, tuple) else self._pad(features, real)

    def _encode(self, obs: dict[str, torch.Tensor], extractor) -> torch.Tensor:
        """SB3's ``preprocess_obs`` then ``extractor``, except that uint8 images go to an
        :class:`~navgym.agents.rsrnav.encoders.RSRNavEncoder` as they are: it converts them
        (``float() / 255``, SB3's conversion) only where it computes, and its frozen-feature cache
        hashes a quarter of the bytes."""
        from navgym.agents.rsrnav.encoders import RSRNavEncoder

        raw = [key for key in image_keys(self.observation_space) if key in obs and obs[key].dtype == torch.uint8]
        if not raw or not self.normalize_images or not isinstance(extractor, RSRNavEncoder):
            return extractor(preprocess_obs(obs, self.observation_space, normalize_images=self.normalize_images))
        rest = preprocess_obs({key: value for key, value in obs.items() if key not in raw}, self.observation_space, normalize_images=True)
        return extractor({**rest, **{key: obs[key] for key in raw}})

    @staticmethod
    def _process_sequence(features, lstm_states, episode_starts, lstm):
        """sb3-contrib's LSTM pass, in one call when episodes start only at the sequences' first
        steps (PPO's and behaviour cloning's padded minibatches), else sb3-contrib's."""
        n_seq = lstm_states[0].shape[1]
        starts = episode_starts.reshape((n_seq, -1)).swapaxes(0, 1)
        if starts.shape[0] > 1 and not bool(torch.any(starts[1:] != 0.0)):
            keep = (1.0 - starts[0]).view(1, n_seq, 1)
            sequence = features.reshape((n_seq, -1, lstm.input_size)).swapaxes(0, 1)
            output, states = lstm(sequence, (keep * lstm_states[0], keep * lstm_states[1]))
            return torch.flatten(output.transpose(0, 1), start_dim=0, end_dim=1), states
        return MultiInputLstmPolicy._process_sequence(features, lstm_states, episode_starts, lstm)

    @staticmethod
    def _pad(features: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
        out = features.new_zeros((real.shape[0], *features.shape[1:]))
        out[real] = features
        return out


class CompactRolloutBuffer(RecurrentDictRolloutBuffer):
    """sb3-contrib's ``RecurrentDictRolloutBuffer`` that leaves uint8 images unpadded in
    minibatches (see the module's doc); for :class:`RSRNavLstmPolicy`."""

    def _get_samples(self, batch_inds: np.ndarray, env_change: np.ndarray, env=None):
        keys = image_keys(self.observation_space)
        everything = self.observations
        self.observations = {key: value for key, value in everything.items() if key not in keys}
        try:
            samples = super()._get_samples(batch_inds, env_change, env)
        finally:
            self.observations = everything
        real = samples.mask > 0
        if int(real.sum()) != len(batch_inds):
            raise RuntimeError(f"compact minibatch: {int(real.sum())} real rows in the padded layout for {len(batch_inds)} samples")
        # The padded layout is sequence by sequence, each in batch order: its real rows, in
        # order, are the batch's rows in order.
        observations: dict[str, Any] = {}
        for key in everything:
            observations[key] = self.to_torch(everything[key][batch_inds]) if key in keys else samples.observations[key]
        observations[REAL_ROWS_KEY] = real
        return samples._replace(observations=observations)


def use_compact_rollouts(model) -> None:
    """Give a ``RecurrentPPO`` built with :class:`RSRNavLstmPolicy` (or a subclass) a
    :class:`CompactRolloutBuffer` of the same size in place of sb3-contrib's buffer."""
    if not isinstance(model.policy, RSRNavLstmPolicy):
        raise TypeError(f"compact rollouts need an RSRNavLstmPolicy; this model's policy is {type(model.policy).__name__}")
    old = model.rollout_buffer
    model.rollout_buffer = CompactRolloutBuffer(
        old.buffer_size,
        old.observation_space,
        old.action_space,
        old.hidden_state_shape,
        old.device,
        gamma=old.gamma,
        gae_lambda=old.gae_lambda,
        n_envs=old.n_envs,
    )
