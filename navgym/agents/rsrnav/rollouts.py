"""Overlapped rollouts for recurrent PPO: the policy acts for one half of the envs while the
other half steps.

sb3-contrib's ``RecurrentPPO.collect_rollouts`` alternates: the policy acts for all envs in the
main process while the env workers wait, then the workers step while the policy waits. With the
envs split in two halves the two phases overlap: half A's workers step while the policy acts for
half B, and the other way round. Each env sees the same sequence of calls as before, and the
rollout buffer receives the same kind of rows (observation, action, reward, episode start,
value, log-probability and LSTM states of every env at every step); only the random stream is
drawn in a different order (actions are sampled per half), so a run is reproducible with itself,
not step for step with a run without overlap.

:class:`OverlappingSubprocVecEnv` is a ``SubprocVecEnv`` that can step a subset of its envs;
:class:`OverlappingRecurrentPPO` is ``RecurrentPPO`` whose ``collect_rollouts`` overlaps when
``overlap_rollouts`` is set (``navgym train --overlap-rollouts``, two envs or more in
subprocesses), and is sb3-contrib's own otherwise.

A callback that stops training in the middle of a rollout (``on_step`` returning ``False``)
finds the next step of both halves under way; they are waited for and dropped (not in the
buffer), so the envs are two steps past the last recorded observation (sb3-contrib's loop: one).
The same happens when an error interrupts the collection, so the workers are idle and close
cleanly. navgym's training callback stops only at a rollout's first step, after the checkpoint,
so nothing recorded is lost. Callbacks run while those next steps are under way: they must not
call the env's methods (``get_attr``, ``env_method``) from ``on_step``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch as th
from gymnasium import spaces
from sb3_contrib import RecurrentPPO
from sb3_contrib.common.recurrent.type_aliases import RNNStates
from stable_baselines3.common.utils import obs_as_tensor
from stable_baselines3.common.vec_env import SubprocVecEnv, VecEnv, VecTransposeImage
from stable_baselines3.common.vec_env.subproc_vec_env import _stack_obs


class OverlappingSubprocVecEnv(SubprocVecEnv):
    """A ``SubprocVecEnv`` whose envs can also be stepped in subsets:
    :meth:`step_async_some` then :meth:`step_wait_some` with the same indices, while the others
    are idle or stepping on their own."""

    def step_async_some(self, indices: Sequence[int], actions: np.ndarray) -> None:
        if len(indices) != len(actions):
            raise ValueError(f"step_async_some: {len(indices)} indices, {len(actions)} actions")
        for index, action in zip(indices, actions):
            self.remotes[index].send(("step", action))

    def step_wait_some(self, indices: Sequence[int]):
        """The stepped envs' ``(obs, rewards, dones, infos)``, stacked in the order of ``indices``."""
        results = [self.remotes[index].recv() for index in indices]
        obs, rews, dones, infos, reset_infos = zip(*results)
        stored = list(self.reset_infos)  # SubprocVecEnv keeps them as a tuple
        for index, reset_info in zip(indices, reset_infos):
            stored[index] = reset_info
        self.reset_infos = stored
        return _stack_obs(obs, self.observation_space), np.stack(rews), np.stack(dones), infos


def _halves(venv: VecEnv) -> tuple[OverlappingSubprocVecEnv, VecTransposeImage | None]:
    """The overlapping base env under ``venv`` and the image-transposing wrapper SB3 may have
    put on it; any other wrapper is refused (its step would be skipped)."""
    transpose = None
    env = venv
    if isinstance(env, VecTransposeImage):
        transpose, env = env, env.venv
    if not isinstance(env, OverlappingSubprocVecEnv):
        raise TypeError(
            f"overlap_rollouts needs the training envs in an OverlappingSubprocVecEnv (navgym train --overlap-rollouts "
            f"with n_envs >= 2 builds one); this model's env is {type(venv).__name__} over {type(env).__name__}"
        )
    if env.num_envs < 2:
        raise ValueError(f"overlap_rollouts needs n_envs >= 2 (two halves); this env has {env.num_envs}")
    return env, transpose


def _rows(obs, index: slice):
    return {key: value[index] for key, value in obs.items()} if isinstance(obs, dict) else obs[index]


def _join_obs(parts: list):
    if isinstance(parts[0], dict):
        return {key: np.concatenate([part[key] for part in parts]) for key in parts[0]}
    return np.concatenate(parts)


def _state_rows(states: RNNStates, index: slice) -> RNNStates:
    return RNNStates(
        pi=(states.pi[0][:, index].contiguous(), states.pi[1][:, index].contiguous()),
        vf=(states.vf[0][:, index].contiguous(), states.vf[1][:, index].contiguous()),
    )


def _join_states(parts: list[RNNStates]) -> RNNStates:
    return RNNStates(
        pi=(th.cat([p.pi[0] for p in parts], dim=1), th.cat([p.pi[1] for p in parts], dim=1)),
        vf=(th.cat([p.vf[0] for p in parts], dim=1), th.cat([p.vf[1] for p in parts], dim=1)),
    )


class OverlappingRecurrentPPO(RecurrentPPO):
    """``RecurrentPPO`` that collects rollouts with the policy acting for one half of the envs
    while the other half steps (see the module's docstring).

    ``overlap_rollouts``: ``None`` (default) overlaps when the training env is an
    :class:`OverlappingSubprocVecEnv` of two envs or more (what ``navgym train
    --overlap-rollouts`` builds) and uses sb3-contrib's collection otherwise; ``True`` insists
    (an env that cannot step in halves is refused); ``False`` never overlaps.
    ``overlapped_rollouts`` counts the rollouts collected with overlap.
    """

    overlap_rollouts: bool | None = None
    overlapped_rollouts: int = 0

    def _excluded_save_params(self) -> list[str]:
        return [*super()._excluded_save_params(), "overlap_rollouts", "overlapped_rollouts"]

    def _overlaps(self, env) -> bool:
        if self.overlap_rollouts is None:
            base = env.venv if isinstance(env, VecTransposeImage) else env
            return isinstance(base, OverlappingSubprocVecEnv) and base.num_envs >= 2
        return bool(self.overlap_rollouts)

    def collect_rollouts(self, env, callback, rollout_buffer, n_rollout_steps: int) -> bool:
        if not self._overlaps(env):
            return super().collect_rollouts(env, callback, rollout_buffer, n_rollout_steps)
        base, transpose = _halves(env)
        if self.use_sde:
            raise ValueError("overlap_rollouts does not support use_sde (state-dependent exploration)")
        in_flight: set[int] = set()
        try:
            done = self._collect_overlapped(base, transpose, callback, rollout_buffer, n_rollout_steps, in_flight)
        except BaseException:
            _drain(base, in_flight)  # leave no worker blocked on a result nobody reads
            raise
        _drain(base, in_flight)
        if done:
            self.overlapped_rollouts += 1
        return done

    def _act(self, obs, starts: np.ndarray, states: RNNStates):
        with th.no_grad():
            obs_tensor = obs_as_tensor(obs, self.device)
            episode_starts = th.tensor(starts, dtype=th.float32, device=self.device)
            actions, values, log_probs, states = self.policy(obs_tensor, states, episode_starts)
        return actions.cpu().numpy(), values, log_probs, states

    def _collect_overlapped(self, base, transpose, callback, rollout_buffer, n_rollout_steps: int, in_flight: set[int]) -> bool:  # noqa: C901
        assert self._last_obs is not None, "No previous observation was provided"
        self.policy.set_training_mode(False)
        rollout_buffer.reset()
        callback.on_rollout_start()

        n = base.num_envs
        halves = [slice(0, n // 2), slice(n // 2, n)]
        indices = [list(range(n))[half] for half in halves]

        def send(h: int, actions: np.ndarray) -> None:
            clipped = actions
            if isinstance(self.action_space, spaces.Box):
                clipped = np.clip(actions, self.action_space.low, self.action_space.high)
            base.step_async_some(indices[h], clipped)
            in_flight.add(h)

        def receive(h: int):
            obs, rewards, dones, infos = base.step_wait_some(indices[h])
            in_flight.discard(h)
            if transpose is not None:
                for i, done in enumerate(dones):
                    if done and "terminal_observation" in infos[i]:
                        infos[i]["terminal_observation"] = transpose.transpose_observations(infos[i]["terminal_observation"])
                obs = transpose.transpose_observations(obs)
            return obs, rewards, dones, list(infos)

        # Each half acts on its rows of the last observation, then steps.
        acted = []
        for h, half in enumerate(halves):
            starts = np.asarray(self._last_episode_starts)[half]
            acted.append(self._act(_rows(self._last_obs, half), starts, _state_rows(self._last_lstm_states, half)))
            send(h, acted[h][0])

        n_steps = 0
        new_obs = dones = None
        lstm_states = None
        while n_steps < n_rollout_steps:
            last = n_steps + 1 >= n_rollout_steps
            step = []
            next_acted = [None, None]
            for h in range(2):
                obs_h, rewards_h, dones_h, infos_h = receive(h)
                step.append((obs_h, rewards_h, dones_h, infos_h))
                if not last:  # act on this half's new observation while the other half steps
                    next_acted[h] = self._act(obs_h, dones_h, acted[h][3])
                    send(h, next_acted[h][0])

            new_obs = _join_obs([s[0] for s in step])
            rewards = np.concatenate([s[1] for s in step])
            dones = np.concatenate([s[2] for s in step])
            infos = step[0][3] + step[1][3]
            actions = np.concatenate([a[0] for a in acted])
            clipped_actions = actions
            values = th.cat([a[1] for a in acted])
            log_probs = th.cat([a[2] for a in acted])
            lstm_states = _join_states([a[3] for a in acted])
            self.num_timesteps += n

            # Give access to local variables (as sb3-contrib's loop; the next step of each half
            # is already under way, so a callback must not call the env's methods here)
            callback.update_locals(locals())
            if not callback.on_step():
                return False

            self._update_info_buffer(infos, dones)
            n_steps += 1
            if isinstance(self.action_space, spaces.Discrete):
                actions = actions.reshape(-1, 1)

            # Time-limit bootstrapping with the value function, as sb3-contrib does (GitHub issue #633)
            for idx, done_ in enumerate(dones):
                if done_ and infos[idx].get("terminal_observation") is not None and infos[idx].get("TimeLimit.truncated", False):
                    terminal_obs = self.policy.obs_to_tensor(infos[idx]["terminal_observation"])[0]
                    with th.no_grad():
                        terminal_lstm_state = (
                            lstm_states.vf[0][:, idx : idx + 1, :].contiguous(),
                            lstm_states.vf[1][:, idx : idx + 1, :].contiguous(),
                        )
                        episode_starts = th.tensor([False], dtype=th.float32, device=self.device)
                        terminal_value = self.policy.predict_values(terminal_obs, terminal_lstm_state, episode_starts)[0]
                    rewards[idx] += self.gamma * terminal_value

            rollout_buffer.add(
                self._last_obs,
                actions,
                rewards,
                self._last_episode_starts,
                values,
                log_probs,
                lstm_states=self._last_lstm_states,
            )
            self._last_obs = new_obs
            self._last_episode_starts = dones
            self._last_lstm_states = lstm_states
            acted = next_acted

        with th.no_grad():
            episode_starts = th.tensor(dones, dtype=th.float32, device=self.device)
            values = self.policy.predict_values(obs_as_tensor(new_obs, self.device), lstm_states.vf, episode_starts)
        rollout_buffer.compute_returns_and_advantage(last_values=values, dones=dones)
        callback.on_rollout_end()
        return True


def _drain(base: OverlappingSubprocVecEnv, in_flight: set[int]) -> None:
    """Wait for (and drop) the steps still under way, so the workers are idle again."""
    for remote_half in sorted(in_flight):
        n = base.num_envs
        indices = list(range(n))[slice(0, n // 2) if remote_half == 0 else slice(n // 2, n)]
        for index in indices:
            try:
                base.remotes[index].recv()
            except (EOFError, OSError):  # a worker that died has nothing to wait for
                pass
    in_flight.clear()
