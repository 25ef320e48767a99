"""A stable-baselines3 ``VecEnv`` whose envs live in Ray actors, on this machine or a cluster.

``RayVecEnv(env_fns)`` is a drop-in for SB3's ``SubprocVecEnv``: the same auto-reset (a finished
episode's last observation in ``info["terminal_observation"]``, the next episode's first one
returned, its reset info in ``reset_infos``), the same one-shot ``seed()`` / ``set_options()``
for the next ``reset()``, ``TimeLimit.truncated`` in the infos, and ``get_attr`` / ``set_attr`` /
``env_method`` / ``env_is_wrapped`` / ``get_images``. Each actor (``num_cpus_per_actor`` Ray CPUs,
one torch thread) holds ``envs_per_actor`` envs and steps them one after the other; Ray places the
actors on any node of the cluster it is connected to.

Connecting (:func:`navgym.distributed.cluster`): a process already connected to Ray keeps that
connection; otherwise ``address=None`` starts a local Ray (``ray.init(num_cpus=...,
include_dashboard=False)``), ``address="auto"`` joins the cluster started on this machine with
``ray start``, ``address="HOST:6379"`` or ``"ray://HOST:10001"`` another one, and ``close()``
disconnects again (stopping a local Ray it started). Every node must be able to import
what the env factories need (navgym installed there, or a ``runtime_env`` in ``ray_init_kwargs``).

Failures: an env that raises in ``step``/``reset`` re-raises here (Ray's ``RayTaskError``, an
instance of the env's own exception class, with the remote traceback); an actor whose process
died (killed, out of memory, its node lost) raises :class:`EnvWorkerDiedError` naming the env
indices it held. Nothing is restarted: the training loop's last checkpoint is what survives, and
``train(..., resume=True)`` continues from it.

Ray is optional: without it, constructing a ``RayVecEnv`` raises
``gymnasium.error.DependencyNotInstalled`` naming the extra (``pip install "navgym[ray]"``).
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from stable_baselines3.common.vec_env.base_vec_env import CloudpickleWrapper, VecEnv, VecEnvIndices, VecEnvObs, VecEnvStepReturn

from navgym.distributed.cluster import check_address, connect, probe_address, require_ray
from navgym.errors import InvalidArgumentError, NavgymError


class EnvWorkerDiedError(NavgymError, RuntimeError):
    """The Ray actor (worker process) holding some of a :class:`RayVecEnv`'s envs died; the
    message names the env indices and Ray's reason. The vec env cannot continue: close it."""


class _EnvWorker:
    """Several envs in one Ray actor (the class is wrapped with ``ray.remote`` when first used)."""

    def __init__(self, env_fns: CloudpickleWrapper, torch_threads: int | None):
        if torch_threads is not None:
            try:
                import torch
            except ImportError:
                pass
            else:
                torch.set_num_threads(torch_threads)
        from stable_baselines3.common.vec_env.patch_gym import _patch_env

        self.envs = [_patch_env(env_fn()) for env_fn in env_fns.var]
        # like SubprocVecEnv's worker: an env's last reset info until its next reset
        self.reset_infos: list[dict[str, Any]] = [{} for _ in self.envs]

    def pid(self) -> int:
        return os.getpid()

    def get_spaces(self) -> tuple[gym.Space, gym.Space]:
        return self.envs[0].observation_space, self.envs[0].action_space

    def step(self, actions: Sequence[Any]) -> list[tuple]:
        results = []
        for i, (env, action) in enumerate(zip(self.envs, actions, strict=True)):
            observation, reward, terminated, truncated, info = env.step(action)
            # SB3's VecEnv API, exactly as SubprocVecEnv's worker
            done = terminated or truncated
            info["TimeLimit.truncated"] = truncated and not terminated
            if done:
                info["terminal_observation"] = observation
                observation, self.reset_infos[i] = env.reset()
            results.append((observation, reward, done, info, self.reset_infos[i]))
        return results

    def reset(self, seeds: Sequence[int | None], options: Sequence[dict[str, Any]]) -> list[tuple]:
        results = []
        for i, (env, seed, option) in enumerate(zip(self.envs, seeds, options, strict=True)):
            maybe_options = {"options": option} if option else {}
            observation, self.reset_infos[i] = env.reset(seed=seed, **maybe_options)
            results.append((observation, self.reset_infos[i]))
        return results

    def render(self, local: Sequence[int]) -> list[Any]:
        return [self.envs[i].render() for i in local]

    def get_attr(self, name: str, local: Sequence[int]) -> list[Any]:
        return [self.envs[i].get_wrapper_attr(name) for i in local]

    def has_attr(self, name: str, local: Sequence[int]) -> bool:
        try:
            self.get_attr(name, local)
        except AttributeError:
            return False
        return True

    def set_attr(self, name: str, value: Any, local: Sequence[int]) -> None:
        for i in local:
            setattr(self.envs[i], name, value)

    def env_method(self, name: str, args: tuple, kwargs: dict[str, Any], local: Sequence[int]) -> list[Any]:
        return [self.envs[i].get_wrapper_attr(name)(*args, **kwargs) for i in local]

    def is_wrapped(self, wrapper_class: type[gym.Wrapper], local: Sequence[int]) -> list[bool]:
        from stable_baselines3.common.env_util import is_wrapped

        return [is_wrapped(self.envs[i], wrapper_class) for i in local]

    def close(self) -> None:
        for env in self.envs:
            env.close()


class RayVecEnv(VecEnv):
    """SB3 ``VecEnv`` over Ray actors (see the module docstring).

    Args:
        env_fns: One picklable factory per env (``cloudpickle``: lambdas and closures work; what
            they reference must be importable on every node).
        envs_per_actor: Envs per actor, stepped in turn. 1 (default) steps all envs in parallel;
            more saves actors (processes, memory) and round trips when an env step is cheaper
            than a Ray call (about 1 ms).
        num_cpus_per_actor: Ray CPUs each actor reserves (fractions pack several actors per core).
        address: ``None``: the Ray already initialised in this process, else a new local one;
            a string: ``ray.init(address=...)`` (``"auto"``, ``"HOST:6379"``, ``"ray://HOST:10001"``)
            unless this process is already connected.
        num_cpus: CPUs of a Ray started here (``None``: this machine's cores, raised to what the
            actors need so that they all start).
        torch_threads: Torch CPU threads in each actor (``None``: leave torch's default).
        ray_init_kwargs: More keyword arguments of ``ray.init`` (e.g. ``runtime_env``).
        actor_options: More ``.options(...)`` of each actor (e.g. ``{"resources": {...}}``,
            ``{"scheduling_strategy": "SPREAD"}``).
        compiled: Step through a Ray compiled graph (``experimental_compile``: shared-memory
            channels instead of a task per call; on 2 cores a step of 2 cheap envs took 1.2 ms
            instead of 2.2 ms). Ray marks the API experimental, so it is off by default. Resets
            and attribute calls stay ordinary actor calls.
    """

    def __init__(
        self,
        env_fns: Sequence[Callable[[], gym.Env]],
        envs_per_actor: int = 1,
        num_cpus_per_actor: float = 1.0,
        address: str | None = None,
        num_cpus: int | None = None,
        torch_threads: int | None = 1,
        ray_init_kwargs: dict[str, Any] | None = None,
        actor_options: dict[str, Any] | None = None,
        compiled: bool = False,
    ):
        ray = require_ray()
        self.waiting = False
        self.closed = True  # until the actors exist
        env_fns = list(env_fns)
        if not env_fns:
            raise InvalidArgumentError("env_fns is empty: RayVecEnv needs at least one env factory")
        if isinstance(envs_per_actor, bool) or not isinstance(envs_per_actor, (int, np.integer)) or envs_per_actor < 1:
            raise InvalidArgumentError(f"envs_per_actor={envs_per_actor!r} must be an integer >= 1")
        if isinstance(num_cpus_per_actor, bool) or not isinstance(num_cpus_per_actor, (int, float)) or not 0 <= num_cpus_per_actor < math.inf:
            raise InvalidArgumentError(f"num_cpus_per_actor={num_cpus_per_actor!r} must be a number >= 0")
        address = check_address(address)
        n_envs = self._n_envs = len(env_fns)
        self.envs_per_actor = int(envs_per_actor)
        # env i lives in actor i // envs_per_actor, at position i % envs_per_actor
        self._slices = [range(start, min(start + envs_per_actor, n_envs)) for start in range(0, n_envs, envs_per_actor)]
        need_cpus = len(self._slices) * num_cpus_per_actor

        # local Ray: this machine's cores, raised to what the actors need so that they all start
        cpus = num_cpus if num_cpus is not None else max(os.cpu_count() or 1, math.ceil(need_cpus))
        if ray.is_initialized():
            self._started_ray = False
            if address is not None:
                warnings.warn(f"Ray is already initialised in this process; RayVecEnv uses that cluster, not address={address!r}")
        elif ray_init_kwargs:
            if address is not None:
                probe_address(address)
            local = {"address": "local", "num_cpus": cpus, "include_dashboard": False} if address is None else {"address": address}
            ray.init(**{**local, **ray_init_kwargs})
            self._started_ray = True
        else:
            self._started_ray = connect(address, num_cpus=cpus)

        available = ray.cluster_resources().get("CPU", 0.0)
        if need_cpus > available + 1e-9:
            self._shutdown_if_started()
            raise InvalidArgumentError(
                f"{len(self._slices)} Ray actors of {num_cpus_per_actor} CPU each need {need_cpus:g} CPUs but the cluster has "
                f"{available:g}: add nodes, raise envs_per_actor, or lower num_cpus_per_actor (e.g. 0.5 puts two actors on a core)"
            )

        worker_cls = ray.remote(_EnvWorker)
        options = {"num_cpus": num_cpus_per_actor, "max_restarts": 0, **(actor_options or {})}
        self.actors = [
            worker_cls.options(**options).remote(CloudpickleWrapper([env_fns[i] for i in indices]), torch_threads)
            for indices in self._slices
        ]
        self.closed = False
        self._compiled = None
        try:
            observation_space, action_space = self._get(self.actors[0].get_spaces.remote(), 0)
            super().__init__(n_envs, observation_space, action_space)
            if compiled:
                from ray.dag import InputNode, MultiOutputNode

                with InputNode() as actions:
                    graph = MultiOutputNode([actor.step.bind(actions[a]) for a, actor in enumerate(self.actors)])
                self._compiled = graph.experimental_compile()
        except BaseException:
            self.close()
            raise

    # -- Ray calls ----------------------------------------------------------------------------

    def _get(self, ref, actor: int):
        """``ray.get`` of one actor's call; a dead actor becomes :class:`EnvWorkerDiedError`."""
        import ray

        try:
            return ray.get(ref)
        except ray.exceptions.RayActorError as exc:
            indices = list(self._slices[actor])
            raise EnvWorkerDiedError(
                f"the Ray actor (worker process) holding env{'s' if len(indices) > 1 else ''} "
                f"{', '.join(map(str, indices))} of {self._n_envs} died "
                f"({type(exc).__name__}: {_first_line(exc)}); close this vec env. Training resumes from its last "
                "checkpoint with resume=True"
            ) from None

    def _gather(self, refs: Sequence[Any]) -> list[Any]:
        """The results of one call per actor, in actor order."""
        import ray

        try:
            return ray.get(list(refs))
        except (ray.exceptions.RayActorError, ray.exceptions.RayTaskError):
            # find the first actor that failed and raise its error (named by env index)
            for actor, ref in enumerate(refs):
                self._get(ref, actor)
            raise

    def _local_targets(self, indices: VecEnvIndices) -> list[tuple[int, list[int]]]:
        """(actor, positions in that actor) of ``indices``, in the order the indices come."""
        targets: list[tuple[int, list[int]]] = []
        for i in self._get_indices(indices):
            actor, local = divmod(int(i), self.envs_per_actor)
            if targets and targets[-1][0] == actor:
                targets[-1][1].append(local)
            else:
                targets.append((actor, [local]))
        return targets

    def _call(self, method: str, indices: VecEnvIndices, *args: Any) -> list[Any]:
        """Call ``method(*args, local_positions)`` on the actors of ``indices``; a flat list."""
        targets = self._local_targets(indices)
        refs = [getattr(self.actors[actor], method).remote(*args, local) for actor, local in targets]
        results = []
        for (actor, _), ref in zip(targets, refs, strict=True):
            results.extend(self._get(ref, actor))
        return results

    # -- VecEnv API ---------------------------------------------------------------------------

    def _raise_dead_actor(self) -> None:
        """After a compiled step failed with a dead actor: find it (an ordinary call) and raise."""
        import ray

        refs = [actor.pid.remote() for actor in self.actors]
        for actor, ref in enumerate(refs):
            try:
                ray.get(ref, timeout=30)
            except ray.exceptions.RayActorError:
                self._get(ref, actor)
            except ray.exceptions.GetTimeoutError:
                pass

    def step_async(self, actions: np.ndarray) -> None:
        per_actor = [[actions[i] for i in indices] for indices in self._slices]
        if self._compiled is not None:
            import ray

            try:
                self._step_refs = self._compiled.execute(*per_actor)
            except (ray.exceptions.RayActorError, ray.exceptions.RayChannelError):
                # Ray tears the graph down when it sees an actor die: name the env, else re-raise
                self._raise_dead_actor()
                raise
        else:
            self._step_refs = [self.actors[a].step.remote(actions) for a, actions in enumerate(per_actor)]
        self.waiting = True

    def step_wait(self) -> VecEnvStepReturn:
        import ray

        try:
            if self._compiled is not None:
                try:
                    gathered = ray.get(self._step_refs)
                except (ray.exceptions.RayActorError, ray.exceptions.RayChannelError):
                    self._raise_dead_actor()
                    raise
            else:
                gathered = self._gather(self._step_refs)
            results = [result for per_actor in gathered for result in per_actor]
        finally:
            self.waiting = False
            self._step_refs = []
        obs, rews, dones, infos, reset_infos = zip(*results, strict=True)
        for info in infos:  # Ray hands back read-only arrays; SB3 turns this one into a tensor
            if "terminal_observation" in info:
                info["terminal_observation"] = _writable(info["terminal_observation"])
        self.reset_infos = list(reset_infos)
        return _stack_obs(obs, self.observation_space), np.stack(rews), np.stack(dones), infos  # type: ignore[return-value]

    def reset(self) -> VecEnvObs:
        refs = [
            self.actors[a].reset.remote([self._seeds[i] for i in indices], [self._options[i] for i in indices])
            for a, indices in enumerate(self._slices)
        ]
        results = [result for per_actor in self._gather(refs) for result in per_actor]
        obs, reset_infos = zip(*results, strict=True)
        self.reset_infos = list(reset_infos)
        # seeds and options are used once, as in SB3's vec envs
        self._reset_seeds()
        self._reset_options()
        return _stack_obs(obs, self.observation_space)

    def close(self) -> None:
        """Close the envs and kill their actors (and disconnect from the Ray this vec env connected to)."""
        if self.closed:
            return
        import ray

        self.closed = True
        if getattr(self, "_compiled", None) is not None:
            try:
                if self.waiting:  # a compiled graph's results must be read before it can go
                    ray.get(self._step_refs, timeout=30)
            except Exception:  # noqa: BLE001
                pass
            try:
                self._compiled.teardown()
            except Exception:  # noqa: BLE001  (an actor already dead)
                pass
            self._compiled = None
        refs = [actor.close.remote() for actor in self.actors]
        try:
            ray.wait(refs, num_returns=len(refs), timeout=30)
        except Exception:  # noqa: BLE001  (dead actors: nothing to close)
            pass
        for actor in self.actors:
            try:
                ray.kill(actor)
            except Exception:  # noqa: BLE001
                pass
        self.actors = []
        self.waiting = False
        self._shutdown_if_started()

    def _shutdown_if_started(self) -> None:
        if self._started_ray:
            import ray

            self._started_ray = False
            ray.shutdown()

    def get_images(self) -> Sequence[np.ndarray | None]:
        if self.render_mode != "rgb_array":
            warnings.warn(f"The render mode is {self.render_mode}, but this method assumes it is `rgb_array` to obtain images.")
            return [None for _ in range(self.num_envs)]
        return self._call("render", None)

    def has_attr(self, attr_name: str) -> bool:
        targets = self._local_targets(None)
        refs = [self.actors[actor].has_attr.remote(attr_name, local) for actor, local in targets]
        return all(self._get(ref, actor) for (actor, _), ref in zip(targets, refs, strict=True))

    def get_attr(self, attr_name: str, indices: VecEnvIndices = None) -> list[Any]:
        return self._call("get_attr", indices, attr_name)

    def set_attr(self, attr_name: str, value: Any, indices: VecEnvIndices = None) -> None:
        targets = self._local_targets(indices)
        refs = [self.actors[actor].set_attr.remote(attr_name, value, local) for actor, local in targets]
        for (actor, _), ref in zip(targets, refs, strict=True):
            self._get(ref, actor)

    def env_method(self, method_name: str, *method_args: Any, indices: VecEnvIndices = None, **method_kwargs: Any) -> list[Any]:
        return self._call("env_method", indices, method_name, method_args, method_kwargs)

    def env_is_wrapped(self, wrapper_class: type[gym.Wrapper], indices: VecEnvIndices = None) -> list[bool]:
        return self._call("is_wrapped", indices, wrapper_class)

    def worker_pids(self) -> list[int]:
        """The process id of each actor (env ``i`` is in actor ``i // envs_per_actor``)."""
        return [self._get(actor.pid.remote(), a) for a, actor in enumerate(self.actors)]

    def __del__(self) -> None:
        try:
            import ray

            if ray.is_initialized():
                self.close()
        except Exception:  # noqa: BLE001  (interpreter shutdown)
            pass


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else "no reason given"


def _writable(obs: Any) -> Any:
    if isinstance(obs, np.ndarray):
        return obs if obs.flags.writeable else obs.copy()
    if isinstance(obs, dict):
        return {key: _writable(value) for key, value in obs.items()}
    if isinstance(obs, tuple):
        return tuple(_writable(value) for value in obs)
    return obs


def _stack_obs(obs_list: Sequence[Any], space: gym.Space) -> VecEnvObs:
    """Stack per-env observations like SB3's ``SubprocVecEnv`` (dict and tuple spaces key by key)."""
    from stable_baselines3.common.vec_env.subproc_vec_env import _stack_obs as sb3_stack_obs

    return sb3_stack_obs(list(obs_list), space)
