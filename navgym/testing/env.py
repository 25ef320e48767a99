"""Conformance of a navigation env: Gymnasium's and SB3's checkers, seeding, pickling, ``info``.

:func:`check_nav_env` accepts an env or a zero-argument factory. A factory is what "two fresh
envs" needs; for a plain env the kit rebuilds fresh ones with ``gym.make(env.spec)`` (the env's
id, its ``gym.make`` keyword arguments, step limit and recorded wrappers) and skips the checks
that need fresh envs when the env has no spec.
"""

from __future__ import annotations

import contextlib
import copy
import importlib.util
import math
import pickle
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from navgym.errors import InvalidArgumentError
from navgym.testing._report import Check, ConformanceReport, Runner

__all__ = ["INFO_KEYS", "check_nav_env"]

#: What ``info`` must carry after every step (navgym's evaluation reads them).
INFO_KEYS = ("success", "spl", "distance_to_goal", "num_steps")


@dataclass
class _Record:
    """One reset or step of a rollout."""

    kind: str  # "reset(seed=s)", "reset()" or "step"
    action: Any
    obs: Any
    info: dict
    reward: Any = None
    terminated: Any = None
    truncated: Any = None


def _describe(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"{value.dtype}{value.shape}"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _diff(a: Any, b: Any, path: str = "") -> str | None:
    """Where ``a`` and ``b`` differ (bitwise for arrays; NaN equals NaN), or ``None``."""
    if isinstance(a, dict) and isinstance(b, dict):
        if set(a) != set(b):
            return f"{path or 'keys'}: keys {sorted(set(a) ^ set(b))} in only one of them"
        for key in a:
            found = _diff(a[key], b[key], f"{path}[{key!r}]")
            if found:
                return found
        return None
    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)):
        if len(a) != len(b):
            return f"{path}: lengths {len(a)} != {len(b)}"
        for index, (x, y) in enumerate(zip(a, b)):
            found = _diff(x, y, f"{path}[{index}]")
            if found:
                return found
        return None
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        x, y = np.asarray(a), np.asarray(b)
        if x.dtype != y.dtype or x.shape != y.shape:
            return f"{path}: {x.dtype}{x.shape} != {y.dtype}{y.shape}"
        if x.tobytes() != y.tobytes():
            if x.dtype.kind in "fiub":
                unequal = int((x != y).sum()) if x.dtype.kind != "f" else int(((x != y) & ~(np.isnan(x) & np.isnan(y))).sum())
                if unequal == 0:
                    return None
                return f"{path}: {unequal} of {x.size} elements differ"
            return f"{path}: arrays differ"
        return None
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return None
    try:
        equal = bool(a == b)
    except Exception:  # noqa: BLE001 - incomparable values are different values
        equal = False
    return None if equal else f"{path}: {_describe(a)} != {_describe(b)}"


def _has_text(space: spaces.Space) -> bool:
    if isinstance(space, spaces.Text):
        return True
    if isinstance(space, spaces.Dict):
        return any(_has_text(s) for s in space.spaces.values())
    if isinstance(space, spaces.Tuple):
        return any(_has_text(s) for s in space.spaces)
    if isinstance(space, (spaces.Sequence,)):
        return _has_text(space.feature_space)
    return False


def _space_violations(space: spaces.Space, obs: Any) -> list[str]:
    """Which observation entries are outside their space."""
    if isinstance(space, spaces.Dict) and isinstance(obs, dict):
        problems = [f"obs lacks {key!r}" for key in space.spaces if key not in obs]
        problems += [f"obs has {key!r}, which the observation space lacks" for key in obs if key not in space.spaces]
        for key, sub in space.spaces.items():
            if key in obs and not sub.contains(obs[key]):
                problems.append(f"obs[{key!r}] = {_describe(obs[key])} is outside {sub}")
        return problems
    return [] if space.contains(obs) else [f"obs {_describe(obs)} is outside {space}"]


def _episode_name(record: _Record) -> str:
    info = record.info or {}
    return str(info.get("episode_id", "?")) + (f" of scene {info['scene_id']}" if "scene_id" in info else "")


class _Rollouts:
    """Runs seeded rollouts and records the step-level contract violations it sees."""

    def __init__(self, steps: int):
        self.steps = steps
        self.rejected: list[str] = []
        self.out_of_space: list[str] = []
        self.bad_info: list[str] = []

    def run(self, env: gym.Env, seed: int, extra_resets: int = 2, inspect: bool = True) -> list[_Record]:
        """``reset(seed)``, ``steps`` actions sampled from the action space seeded with ``seed``
        (unseeded ``reset()`` after an episode ends), then ``extra_resets`` unseeded resets."""
        action_space = copy.deepcopy(env.action_space)
        action_space.seed(seed)
        obs, info = env.reset(seed=seed)
        records = [_Record(f"reset(seed={seed})", None, obs, info)]
        steps_in_episode = 0
        for index in range(self.steps):
            action = action_space.sample()
            try:
                obs, reward, terminated, truncated, info = env.step(action)
            except Exception as exc:  # noqa: BLE001 - a sampled action must be accepted
                if inspect:
                    self.rejected.append(f"seed {seed}, step {index}: step({action!r}) raised {type(exc).__name__}: {exc}")
                return records
            steps_in_episode += 1
            records.append(_Record("step", action, obs, info, reward, terminated, truncated))
            if inspect:
                self._inspect(env, seed, index, obs, info, steps_in_episode)
            if terminated or truncated:
                obs, info = env.reset()
                records.append(_Record("reset()", None, obs, info))
                steps_in_episode = 0
        for _ in range(extra_resets):
            obs, info = env.reset()
            records.append(_Record("reset()", None, obs, info))
        return records

    def _inspect(self, env: gym.Env, seed: int, index: int, obs: Any, info: dict, steps_in_episode: int) -> None:
        where = f"seed {seed}, step {index}"
        for problem in _space_violations(env.observation_space, obs):
            self.out_of_space.append(f"{where}: {problem}")
        missing = [key for key in INFO_KEYS if key not in info]
        if missing:
            self.bad_info.append(f"{where}: info lacks {missing} (has {sorted(info)})")
            return
        if info["num_steps"] != steps_in_episode:
            self.bad_info.append(f"{where}: info['num_steps'] = {info['num_steps']!r}; expected {steps_in_episode} steps since the reset")
        for key in ("success", "spl"):
            value = info[key]
            if not (isinstance(value, (int, float, np.number)) and 0.0 <= float(value) <= 1.0):
                self.bad_info.append(f"{where}: info[{key!r}] = {value!r}; expected a number in [0, 1]")
        distance = info["distance_to_goal"]
        if not (isinstance(distance, (int, float, np.number)) and float(distance) >= 0.0):
            self.bad_info.append(f"{where}: info['distance_to_goal'] = {distance!r}; expected a number >= 0 (inf when unreachable)")


def _compare(check: Check, label: str, left: list[_Record], right: list[_Record], names: tuple[str, str]) -> None:
    """Record the first difference between two rollouts."""
    for index, (a, b) in enumerate(zip(left, right)):
        at = f"{label}, record {index} ({a.kind}{'' if a.action is None else f' action {a.action!r}'})"
        for what, x, y in (("observation", a.obs, b.obs), ("info", a.info, b.info), ("reward", a.reward, b.reward),
                           ("terminated", a.terminated, b.terminated), ("truncated", a.truncated, b.truncated)):
            found = _diff(x, y)
            if found:
                check.fail(f"{at}: {what} differs between {names[0]} and {names[1]}: {found} "
                           f"(episodes {_episode_name(a)} vs {_episode_name(b)})")
                return
    if len(left) != len(right):
        check.fail(f"{label}: {names[0]} ran {len(left)} resets/steps, {names[1]} {len(right)}")


def _factory_for(env_or_factory: gym.Env | Callable[[], gym.Env]) -> tuple[gym.Env, Callable[[], gym.Env] | None, bool]:
    """(the env to check, a factory of fresh ones or None, whether the kit made the env)."""
    if isinstance(env_or_factory, gym.Env):
        env = env_or_factory
        spec = env.spec
        if spec is None:
            return env, None, False
        return env, lambda: gym.make(spec), False
    if callable(env_or_factory):
        env = env_or_factory()
        if not isinstance(env, gym.Env):
            raise InvalidArgumentError(f"the factory returned {type(env).__name__}; expected a gymnasium.Env")
        return env, env_or_factory, True
    raise InvalidArgumentError(f"env_or_factory={env_or_factory!r} must be a gymnasium.Env or a zero-argument callable returning one")


def check_nav_env(
    env_or_factory: gym.Env | Callable[[], gym.Env],
    *,
    seeds: Sequence[int] = (0, 1),
    steps: int = 20,
    check_reseed: bool = True,
) -> ConformanceReport:
    """Check a navigation env: Gymnasium's API, seeding, pickling and navgym's ``info`` contract.

    Checks, all run even when some fail:

    * ``gymnasium.check_env``: Gymnasium's checker on ``env.unwrapped``.
    * ``sb3.check_env``: stable-baselines3's checker on ``env.unwrapped`` (skipped, with the reason
      in the report, when SB3 is not installed or the observation space has a ``Text`` space).
    * ``step.accepts_action_samples``: every action sampled from the action space is accepted.
    * ``step.observation_in_space``: every step's observation is inside the observation space.
    * ``step.info``: ``info`` carries ``success``, ``spl`` (in [0, 1]), ``distance_to_goal``
      (>= 0) and ``num_steps`` (the steps since the reset) after every step.
    * ``determinism``: two fresh envs, ``reset(seed=s)`` and the same ``steps`` actions (drawn
      from the action space seeded with ``s``, unseeded resets when an episode ends, then two
      more unseeded resets) give bitwise-equal observations and equal infos and rewards.
    * ``reseed``: Gymnasium's seeding contract: ``reset(seed=s)`` on a used env behaves exactly as
      on a fresh env (same rollout as above).
    * ``pickle``: an env pickled mid-episode steps like the original, and both then give the same
      first observation after ``reset(seed=s)``.

    Args:
        env_or_factory: An env, or a zero-argument callable that makes a fresh one (needed for
            ``determinism`` and ``reseed``; a plain env is rebuilt with ``gym.make(env.spec)``,
            and those checks are skipped when it has no spec).
        seeds: Seeds of the determinism and reseed rollouts.
        steps: Random actions per rollout.
        check_reseed: Run the ``reseed`` check.

    Returns:
        A :class:`~navgym.testing.ConformanceReport`.

    Raises:
        ConformanceError: (an ``AssertionError``) listing every failed check with what differed.
    """
    seeds = tuple(int(s) for s in seeds)
    if not seeds:
        raise InvalidArgumentError("seeds=() is empty; give at least one seed, e.g. seeds=(0, 1)")
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 1:
        raise InvalidArgumentError(f"steps={steps!r} must be an integer >= 1")
    env, factory, owned = _factory_for(env_or_factory)
    subject = env.spec.id if env.spec is not None else type(env.unwrapped).__name__
    runner = Runner(f"env {subject}")
    made: list[gym.Env] = [env] if owned else []

    def fresh() -> gym.Env:
        assert factory is not None
        new = factory()
        made.append(new)
        return new

    runner.run("gymnasium.check_env", _gymnasium_check, env)
    if importlib.util.find_spec("stable_baselines3") is None:
        runner.skip("sb3.check_env", "stable_baselines3 is not installed (pip install 'navgym[rl]')")
    elif _has_text(env.observation_space):
        runner.skip("sb3.check_env", "the observation space has a Text space, which stable-baselines3 does not support")
    else:
        runner.run("sb3.check_env", _sb3_check, env)

    rollouts = _Rollouts(int(steps))
    pairs: list[tuple[int, list[_Record], list[_Record] | None]] = []
    for seed in seeds:
        first = fresh() if factory is not None else env
        second = fresh() if factory is not None else None
        left = rollouts.run(first, seed)
        right = rollouts.run(second, seed, inspect=False) if second is not None else None
        pairs.append((seed, left, right))

    def check_list(c: Check, problems: list[str]) -> None:
        # The same problem at many steps is reported once, where it first happened, with a count.
        grouped: dict[str, list[str]] = {}
        for problem in problems:
            where, _, what = problem.partition(": ")
            grouped.setdefault(what, []).append(where)
        for what, wheres in list(grouped.items())[:5]:
            c.fail(f"{wheres[0]}: {what}" + (f" (and at {len(wheres) - 1} more steps)" if len(wheres) > 1 else ""))
        if len(grouped) > 5:
            c.fail(f"... and {len(grouped) - 5} more problems")

    runner.run("step.accepts_action_samples", check_list, rollouts.rejected)
    runner.run("step.observation_in_space", check_list, rollouts.out_of_space)
    runner.run("step.info", check_list, rollouts.bad_info)
    if factory is None:
        why = "the env has no spec to rebuild it from; pass a zero-argument factory"
        runner.skip("determinism", why)
        runner.skip("reseed", why)
    else:

        def determinism(c: Check) -> None:
            for seed, left, right in pairs:
                _compare(c, f"seed {seed}", left, right, ("fresh env A", "fresh env B"))
            c.note(f"{len(pairs)} seeds x {steps} steps")

        runner.run("determinism", determinism)
        if check_reseed:
            runner.run("reseed", _reseed_check, fresh, seeds, rollouts)
        else:
            runner.skip("reseed", "check_reseed=False")
    runner.run("pickle", _pickle_check, fresh() if factory is not None else env, seeds)
    for made_env in made:
        with contextlib.suppress(Exception):  # closing is best effort here
            made_env.close()
    return runner.finish()


def _gymnasium_check(c: Check, env: gym.Env) -> None:
    from gymnasium.utils.env_checker import check_env

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check_env(env.unwrapped)
    _note_warnings(c, caught)


def _sb3_check(c: Check, env: gym.Env) -> None:
    from stable_baselines3.common.env_checker import check_env

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check_env(env.unwrapped, warn=True)
    _note_warnings(c, caught)


def _note_warnings(c: Check, caught: list) -> None:
    messages = sorted({str(w.message).replace("\x1b[33m", "").replace("\x1b[0m", "").split(". ")[0] for w in caught})
    if messages:
        c.note(f"{len(messages)} warning(s): " + " | ".join(messages))


def _reseed_check(c: Check, fresh: Callable[[], gym.Env], seeds: tuple[int, ...], rollouts: _Rollouts) -> None:
    used = fresh()
    rollouts.run(used, seeds[-1] + 1000, inspect=False)  # a used env: episodes, steps, unseeded resets
    for seed in seeds:
        left = rollouts.run(used, seed, inspect=False)
        right = rollouts.run(fresh(), seed, inspect=False)
        _compare(c, f"reset(seed={seed}) after use", left, right, ("the used env", "a fresh env"))


def _pickle_check(c: Check, env: gym.Env, seeds: tuple[int, ...]) -> None:
    action_space = copy.deepcopy(env.action_space)
    action_space.seed(seeds[0])
    env.reset(seed=seeds[0])
    for _ in range(3):
        _, _, terminated, truncated, _ = env.step(action_space.sample())
        if terminated or truncated:  # pickle in the middle of a live episode
            env.reset()
    clone = pickle.loads(pickle.dumps(env))
    try:
        for index in range(3):
            action = action_space.sample()
            a, b = env.step(action), clone.step(action)
            found = _diff(list(a), list(b))
            if found:
                c.fail(f"mid-episode step {index} after pickling: original and clone differ: {found}")
                return
            if a[2] or a[3]:  # the episode ended: stepping on is not allowed
                break
        (obs_a, info_a), (obs_b, info_b) = env.reset(seed=seeds[-1]), clone.reset(seed=seeds[-1])
        found = _diff(obs_a, obs_b) or _diff(info_a, info_b)
        c.expect(found is None, f"reset(seed={seeds[-1]}) of the original and of the unpickled clone differ: {found}")
    finally:
        clone.close()
