"""Conformance of an agent: the :class:`~navgym.agents.Agent` protocol, its actions, its sensors.

:func:`check_agent` runs an agent (built by name with :func:`navgym.agents.make_for_env`, or
given as an instance) for a few capped episodes of an env and checks that every action is in the
env's action space, that the agent reads only the sensors it declares, that privileged agents get
(and only they get) the privileged observation, and that ``reset()`` between episodes works.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import gymnasium as gym
from gymnasium import spaces

from navgym.agents import Agent, make_for_env
from navgym.agents.registry import AGENTS
from navgym.errors import InvalidArgumentError
from navgym.testing._report import Check, ConformanceReport, Runner

__all__ = ["PRIVILEGED_KEYS", "check_agent"]

#: Observation keys that privileged wrappers add (not sensors, so not declared in needed_sensors):
#: ``oracle_action`` for discrete action spaces, the ego path, distance and facing target for ``Box`` ones.
PRIVILEGED_KEYS = ("oracle_action", "oracle_path", "oracle_distance", "oracle_facing")


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


class _Episodes:
    """Runs the episodes and sorts what went wrong by check."""

    def __init__(self) -> None:
        self.problems: dict[str, list[str]] = {"actions_in_space": [], "needed_sensors": [], "policy": [], "reset_between_episodes": []}
        self.summaries: list[str] = []
        self.actions: Counter = Counter()
        self.undeclared: set = set()

    def view(self, obs: Any, allowed: set[str] | None) -> Any:
        """The observation restricted to what the agent declared (and the task's defaults)."""
        if allowed is None or not isinstance(obs, dict):
            return obs
        return {key: value for key, value in obs.items() if key in allowed}

    def act(self, agent: Any, obs: Any, allowed: set[str] | None, where: str) -> tuple[bool, Any]:
        """``agent.policy`` on the declared view; an undeclared read is a needed_sensors problem,
        after which the step is retried with the whole observation."""
        try:
            return True, agent.policy(self.view(obs, allowed))
        except KeyError as exc:
            key = exc.args[0] if exc.args else None
            if allowed is None or not isinstance(obs, dict) or key in allowed or key not in obs:
                self.problems["policy"].append(f"{where}: policy raised KeyError: {exc}")
                return False, None
            if key not in self.undeclared:  # once per key
                self.undeclared.add(key)
                self.problems["needed_sensors"].append(
                    f"{where}: policy read obs[{key!r}] (KeyError), which needed_sensors does not declare "
                    f"(given {sorted(allowed & set(obs))})"
                )
        except Exception as exc:  # noqa: BLE001 - a raising policy is a failed check
            self.problems["policy"].append(f"{where}: policy raised {type(exc).__name__}: {exc}")
            return False, None
        try:
            return True, agent.policy(obs)
        except Exception as exc:  # noqa: BLE001
            self.problems["policy"].append(f"{where}: policy raised {type(exc).__name__}: {exc} (with every sensor)")
            return False, None

    def run(self, agent: Any, env: gym.Env, allowed: set[str] | None, episodes: int, max_steps: int, seed: int) -> None:
        for episode in range(episodes):
            try:
                agent.reset()
            except Exception as exc:  # noqa: BLE001
                self.problems["reset_between_episodes"].append(f"episode {episode}: reset() raised {type(exc).__name__}: {exc}")
                return
            obs, info = env.reset(seed=seed + episode)
            steps, ended = 0, "max_steps"
            for step in range(max_steps):
                where = f"episode {episode}, step {step}"
                ok, action = self.act(agent, obs, allowed, where)
                if not ok:
                    ended = "policy error"
                    break
                if not env.action_space.contains(action):
                    self.problems["actions_in_space"].append(f"{where}: policy returned {_short(action)} ({type(action).__name__}), not in {env.action_space}")
                    ended = "invalid action"
                    break
                self.actions[_short(action)] += 1
                try:
                    obs, _, terminated, truncated, info = env.step(action)
                except Exception as exc:  # noqa: BLE001 - the env rejected an action its space contains
                    self.problems["actions_in_space"].append(f"{where}: env.step({_short(action)}) raised {type(exc).__name__}: {exc}")
                    ended = "step error"
                    break
                steps += 1
                if terminated or truncated:
                    ended = "terminated" if terminated else "truncated"
                    break
            success = info.get("success") if isinstance(info, dict) else None
            self.summaries.append(f"episode {episode}: {steps} steps, {ended}" + (f", success {success}" if success is not None else ""))
        if episodes == 1:  # reset() after an episode, then act once more
            try:
                agent.reset()
                obs, _ = env.reset(seed=seed + 1)
                ok, action = self.act(agent, obs, allowed, "after reset()")
                if ok and not env.action_space.contains(action):
                    self.problems["actions_in_space"].append(f"after reset(): policy returned {_short(action)}, not in {env.action_space}")
            except Exception as exc:  # noqa: BLE001
                self.problems["reset_between_episodes"].append(f"reset() after an episode raised {type(exc).__name__}: {exc}")


def _declared_sensors(c: Check, needed: Any, env: gym.Env) -> set[str] | None:
    """Validate ``needed_sensors(task)``; returns the observation keys the agent may read."""
    task = getattr(env.unwrapped, "task", None)
    if task is None:
        c.note("the env has no navgym task: needed_sensors not checked")
        return None
    declared = needed(task)
    if not c.expect(isinstance(declared, (tuple, list)) and all(isinstance(s, str) for s in declared),
                    f"needed_sensors(task) returned {_short(declared)}; expected a tuple of sensor names"):
        return None
    valid = tuple(getattr(task, "valid_sensors", ()))
    unknown = [s for s in declared if valid and s not in valid]
    c.expect(not unknown, f"needed_sensors declares {unknown}, which are not sensors of {type(task).__name__} (valid: {list(valid)})")
    keys = set(env.observation_space.spaces) if isinstance(env.observation_space, spaces.Dict) else set()
    missing = [s for s in declared if s not in keys]
    c.expect(not missing, f"the env does not emit the declared sensors {missing}; make it with sensors={tuple(dict.fromkeys(tuple(task.default_sensors) + tuple(declared)))}")
    c.note(f"declares {list(declared)}")
    return set(task.default_sensors) | set(declared) | set(PRIVILEGED_KEYS)


def check_agent(
    agent_or_name: Any,
    env: gym.Env,
    *,
    episodes: int = 1,
    max_steps: int = 50,
    seed: int = 0,
    agent_kwargs: dict[str, Any] | None = None,
) -> ConformanceReport:
    """Check an agent against an env: protocol, actions, sensor declaration, privilege, resets.

    Checks, all run even when some fail:

    * ``construct``: a name builds with :func:`navgym.agents.make_for_env` (``agent_kwargs``
      passed on).
    * ``protocol``: the agent satisfies :class:`navgym.agents.Agent` (callable ``reset`` and
      ``policy``).
    * ``privileged``: a privileged agent (``privileged = True``) acts in the env wrapped by
      :class:`~navgym.wrappers.privileged.PrivilegedObservation`, as ``make_for_env`` does (an
      instance is wrapped the same way here); an agent with ``wrap_env(env)`` acts in what that
      returns (the keys its wrappers add count as declared), which must not be the privileged
      observation unless the agent is privileged; other agents act in the env as given.
    * ``needed_sensors``: when the agent declares ``needed_sensors(task)``, its names are sensors
      of the task, the env emits them, and the policy reads nothing else: it is given only the
      task's default sensors, the declared ones and privileged keys. (Skipped when it declares
      none.)
    * ``policy``: ``policy(obs)`` does not raise.
    * ``actions_in_space``: every action of ``episodes`` episodes (each capped at ``max_steps``)
      is in ``env.action_space``.
    * ``reset_between_episodes``: ``reset()`` before every episode (and, with one episode, after
      it, followed by one more action) works.

    Args:
        agent_or_name: A registered agent name (built with ``make_for_env(name, env)``) or an agent.
        env: The env to act in (not closed by the kit).
        episodes: Episodes to run; ``reset(seed=seed + i)`` starts episode ``i``.
        max_steps: Step cap per episode.
        seed: Base seed of the episodes.
        agent_kwargs: Keyword arguments for building a named agent.

    Returns:
        A :class:`~navgym.testing.ConformanceReport`.

    Raises:
        ConformanceError: (an ``AssertionError``) listing every failed check.
    """
    if isinstance(episodes, bool) or not isinstance(episodes, int) or episodes < 1:
        raise InvalidArgumentError(f"episodes={episodes!r} must be an integer >= 1")
    if isinstance(max_steps, bool) or not isinstance(max_steps, int) or max_steps < 1:
        raise InvalidArgumentError(f"max_steps={max_steps!r} must be an integer >= 1")
    name = agent_or_name if isinstance(agent_or_name, str) else None
    runner = Runner(f"agent {name!r}" if name else f"agent {type(agent_or_name).__name__}")
    built: dict[str, Any] = {}

    def construct(c: Check) -> None:
        if name is not None:
            built["agent"], built["env"] = make_for_env(name, env, **(agent_kwargs or {}))
            return
        if agent_kwargs:
            c.fail("agent_kwargs only apply to an agent given by name")
        agent, run_env = agent_or_name, env
        if callable(getattr(agent, "wrap_env", None)):
            run_env = agent.wrap_env(run_env)
        if getattr(agent, "privileged", False) and not _has_privileged_keys(run_env):
            from navgym.wrappers.privileged import PrivilegedObservation

            run_env = PrivilegedObservation(env)
        built["agent"], built["env"] = agent, run_env

    if not runner.run("construct", construct):
        return runner.finish()
    agent, run_env = built["agent"], built["env"]

    def protocol(c: Check) -> None:
        c.expect(isinstance(agent, Agent), f"{type(agent).__name__} does not satisfy navgym.agents.Agent (needs reset() and policy(obs))")
        for method in ("reset", "policy"):
            c.expect(callable(getattr(agent, method, None)), f"{type(agent).__name__}.{method} is not callable")

    if not runner.run("protocol", protocol):
        return runner.finish()

    def privileged(c: Check) -> None:
        is_privileged = getattr(agent, "privileged", False)
        c.expect(isinstance(is_privileged, bool), f"privileged = {is_privileged!r}; expected a bool")
        if is_privileged:
            c.expect(_has_privileged_keys(run_env), f"a privileged agent acts in {run_env} without the privileged observation {list(PRIVILEGED_KEYS)}")
            c.note("privileged: runs through PrivilegedObservation")
        elif callable(getattr(agent, "wrap_env", None)):
            c.expect(not _has_privileged_keys(run_env), "a non-privileged agent's wrap_env gave it the privileged observation")
            c.note(f"acts in agent.wrap_env(env): {type(run_env).__name__}")
        else:
            c.expect(run_env is env, "a non-privileged agent got a wrapped env")

    runner.run("privileged", privileged)
    needed = getattr(agent, "needed_sensors", None)
    if needed is None and name is not None:
        needed = getattr(AGENTS.get(name), "needed_sensors", None)
    episodes_run = _Episodes()

    def problems(c: Check, key: str) -> None:
        for problem in episodes_run.problems[key][:5]:
            c.fail(problem)
        if len(episodes_run.problems[key]) > 5:
            c.fail(f"... and {len(episodes_run.problems[key]) - 5} more")

    # The declaration is validated first (it decides what the policy is given), and reported
    # after the episodes, together with any undeclared read they revealed.
    allowed: set[str] | None = None
    declaration = Check("needed_sensors")
    if needed is not None:
        try:
            allowed = _declared_sensors(declaration, needed, run_env)
        except Exception as exc:  # noqa: BLE001 - a raising declaration is a failed check
            declaration.fail(f"needed_sensors(task) raised {type(exc).__name__}: {exc}")
    if allowed is not None and run_env is not env and isinstance(run_env.observation_space, spaces.Dict) and isinstance(env.observation_space, spaces.Dict):
        allowed |= set(run_env.observation_space.spaces) - set(env.observation_space.spaces)  # keys its wrappers add
    episodes_run.run(agent, run_env, allowed, episodes, max_steps, seed)

    def sensors(c: Check) -> None:
        c.problems.extend(declaration.problems)
        c.notes.extend(declaration.notes)
        problems(c, "needed_sensors")

    if needed is None:
        runner.skip("needed_sensors", f"{type(agent).__name__} declares no needed_sensors")
    else:
        runner.run("needed_sensors", sensors)
    runner.run("policy", problems, "policy")

    def actions(c: Check) -> None:
        problems(c, "actions_in_space")
        c.note("; ".join(episodes_run.summaries) + f"; actions {dict(episodes_run.actions)}")

    runner.run("actions_in_space", actions)
    runner.run("reset_between_episodes", problems, "reset_between_episodes")
    return runner.finish()


def _has_privileged_keys(env: gym.Env) -> bool:
    space = env.observation_space
    from navgym.wrappers.privileged import CONTINUOUS_KEYS, DISCRETE_KEYS

    return isinstance(space, spaces.Dict) and any(all(key in space.spaces for key in keys) for keys in (DISCRETE_KEYS, CONTINUOUS_KEYS))
