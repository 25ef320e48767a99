"""An asymmetric actor-critic: RSRNav's recurrent policy with a critic that also reads privileged state.

PPO needs a critic only to weigh the actor's updates (the advantages); it never acts. RSRNav's
critic, which sees only the two images, explained none of the return's variance in every PPO run
from a cloned policy (docs/results/rsrnav.md), so the advantages were mostly noise. With
``RSRNavConfig(privileged_critic=True)`` the critic's recurrent core gets, beside the encoder's
features, the :data:`~navgym.wrappers.privileged.CRITIC_FEATURES` numbers of
:class:`~navgym.wrappers.privileged.CriticObservation` (the geodesic distance, the path's direction,
the goal heading, the share of the time limit used): the state RSRNav's shaped reward is computed
from. The actor is :class:`MultiInputLstmPolicy`'s, unchanged: it never reads ``obs["critic"]``
(:meth:`PrivilegedCriticLstmPolicy.get_distribution` is sb3-contrib's), so an evaluated policy
acts from the images alone and an env without the key serves it (:meth:`obs_to_tensor` fills
zeros the actor does not read).

Where the key is missing during training (behaviour cloning's demonstrations) the critic reads
zeros in its place; PIRLNav's critic warm-up (``ppo_critic_warmup``) then fits it to the real ones.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from sb3_contrib.common.recurrent.type_aliases import RNNStates

from navgym.agents.rsrnav.policy import RSRNavLstmPolicy
from navgym.wrappers.privileged import CRITIC_FEATURES, CRITIC_KEY


class PrivilegedCriticLstmPolicy(RSRNavLstmPolicy):
    """navgym's :class:`~navgym.agents.rsrnav.policy.RSRNavLstmPolicy` (separate actor and critic
    LSTMs over one shared encoder) whose critic LSTM reads ``[encoder features, obs["critic"]]``.

    Args:
        critic_inputs: Length of ``obs["critic"]`` (:data:`~navgym.wrappers.privileged.CRITIC_FEATURES`).
        *args, **kwargs: ``MultiInputLstmPolicy``'s; ``enable_critic_lstm`` must stay true and
            ``shared_lstm`` false (the critic has its own LSTM).
    """

    def __init__(self, observation_space, action_space, lr_schedule, *args: Any, critic_inputs: int = CRITIC_FEATURES, **kwargs: Any):
        super().__init__(observation_space, action_space, lr_schedule, *args, **kwargs)
        if self.lstm_critic is None or not self.share_features_extractor:
            raise ValueError("PrivilegedCriticLstmPolicy needs a critic LSTM (enable_critic_lstm=True, shared_lstm=False) and one shared encoder")
        self.critic_inputs = int(critic_inputs)
        old = self.lstm_critic
        self.lstm_critic = torch.nn.LSTM(old.input_size + self.critic_inputs, old.hidden_size, num_layers=old.num_layers, **self.lstm_kwargs)
        self.lstm_critic.to(self.device)
        # The optimiser was built over the old critic LSTM: build it again (as sb3-contrib does last).
        self.optimizer = self.optimizer_class(self.parameters(), lr=lr_schedule(1), **self.optimizer_kwargs)

    def _get_constructor_parameters(self) -> dict[str, Any]:
        return {**super()._get_constructor_parameters(), "critic_inputs": self.critic_inputs}

    def critic_input(self, features: torch.Tensor, obs: dict[str, torch.Tensor]) -> torch.Tensor:
        """The critic LSTM's input: the encoder's features and ``obs["critic"]`` (zeros without it)."""
        privileged = obs.get(CRITIC_KEY) if isinstance(obs, dict) else None
        if privileged is None:
            privileged = features.new_zeros((features.shape[0], self.critic_inputs))
        else:
            privileged = privileged.to(features.dtype).reshape(features.shape[0], self.critic_inputs)
        return torch.cat([features, privileged], dim=1)

    def _latents(self, obs, lstm_states: RNNStates, episode_starts: torch.Tensor):
        features = self.extract_features(obs)
        latent_pi, states_pi = self._process_sequence(features, lstm_states.pi, episode_starts, self.lstm_actor)
        latent_vf, states_vf = self._process_sequence(self.critic_input(features, obs), lstm_states.vf, episode_starts, self.lstm_critic)
        return self.mlp_extractor.forward_actor(latent_pi), self.mlp_extractor.forward_critic(latent_vf), RNNStates(states_pi, states_vf)

    def forward(self, obs, lstm_states: RNNStates, episode_starts: torch.Tensor, deterministic: bool = False):
        latent_pi, latent_vf, states = self._latents(obs, lstm_states, episode_starts)
        distribution = self._get_action_dist_from_latent(latent_pi)
        actions = distribution.get_actions(deterministic=deterministic)
        log_prob = distribution.log_prob(actions)
        return actions.reshape((-1, *self.action_space.shape)), self.value_net(latent_vf), log_prob, states

    def evaluate_actions(self, obs, actions: torch.Tensor, lstm_states: RNNStates, episode_starts: torch.Tensor):
        latent_pi, latent_vf, _ = self._latents(obs, lstm_states, episode_starts)
        distribution = self._get_action_dist_from_latent(latent_pi)
        return self.value_net(latent_vf), distribution.log_prob(actions), distribution.entropy()

    def predict_values(self, obs, lstm_states: tuple[torch.Tensor, torch.Tensor], episode_starts: torch.Tensor) -> torch.Tensor:
        features = self.extract_features(obs)
        latent_vf, _ = self._process_sequence(self.critic_input(features, obs), lstm_states, episode_starts, self.lstm_critic)
        return self.value_net(self.mlp_extractor.forward_critic(latent_vf))

    def obs_to_tensor(self, observation):
        """SB3's conversion, with ``obs["critic"]`` filled with zeros when the caller has none
        (an agent acting in an env without :class:`~navgym.wrappers.privileged.CriticObservation`):
        acting reads the actor only, which never reads it."""
        if isinstance(observation, dict) and CRITIC_KEY in self.observation_space.spaces and CRITIC_KEY not in observation:
            batch = np.asarray(observation["rgb"]).shape[:-3] if "rgb" in observation else ()
            observation = {**observation, CRITIC_KEY: np.zeros((*batch, self.critic_inputs), np.float32)}
        return super().obs_to_tensor(observation)
