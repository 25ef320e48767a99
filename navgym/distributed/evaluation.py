"""Evaluation spread over Ray actors: :class:`RayEpisodeRunner` runs :func:`navgym.evaluation.evaluate`'s
episodes on workers that each own an env and an agent.

The driver (the process that calls ``evaluate``) keeps the run folder: it writes each episode's
record to ``episodes.jsonl`` as soon as a worker returns it, so ``--resume`` works exactly as for a
serial run, and one progress bar counts the episodes. A worker that dies (its process killed, its
node lost) loses only the episode it was running: a new worker replaces it and that episode runs
again (up to ``max_attempts`` times). An episode that raises is a bug or a bad input, not a lost
worker: its error stops the run once the other workers have finished (and handed over) the
episodes they were running, so what finished is kept and ``--resume`` runs only the rest.

Episode ``i`` is reset with seed ``seed + i`` and the agent with the same seed
(:func:`navgym.evaluation.reset_agent`), so the records equal the serial run's whichever worker ran
which episode (``tests/distributed/test_ray_evaluation.py`` checks it).
"""

from __future__ import annotations

import os
import warnings
from collections import deque
from typing import Any, Iterator

import numpy as np

from navgym.core.checks import check_int
from navgym.distributed.cluster import check_address, connect, require_ray
from navgym.errors import InvalidArgumentError, NavgymError
from navgym.evaluation import EvalSpec, _TorchThreads, run_episode


class WorkerError(NavgymError, RuntimeError):
    """A Ray worker could not be built, or an episode lost its worker too many times."""


class WorkerLostWarning(UserWarning):
    """A Ray worker died; its episode runs again on a new worker."""


class _EpisodeWorker:
    """One env and one agent in a Ray actor (built on the worker's machine)."""

    def __init__(self, spec: EvalSpec, threads: int | None):
        self.threads = threads
        with _TorchThreads(threads):
            self.agent, self.env = spec.build()

    def pid(self) -> int:
        return os.getpid()

    def run(self, index: int, seed: int, frames: bool) -> tuple[dict[str, Any], list[np.ndarray]]:
        with _TorchThreads(self.threads):
            return run_episode(self.env, self.agent, index, seed, video=frames)

    def close(self) -> None:
        self.env.close()


class RayEpisodeRunner:
    """Runs an evaluation's episodes on ``workers`` Ray actors (an :class:`~navgym.evaluation.EpisodeRunner`).

    Args:
        spec: How each worker builds its env and agent (the CLI's ``--env``, ``--agent``, options).
        workers: Actors, one CPU each; each runs one episode at a time.
        address: ``None`` starts a local Ray with ``workers`` CPUs (or joins the one this process
            already started); ``"auto"`` or ``"host:6379"`` joins that cluster (``ray start``).
        threads: Torch CPU threads in each worker (``None``: torch's default).
        max_attempts: How often one episode may lose its worker before the run stops.

    After a call, :attr:`pids` holds the process id of each worker started (replacements appended).

    Raises:
        DependencyNotInstalled: Ray is missing (``pip install "navgym[ray]"``).
        InvalidArgumentError: a bad ``workers``, ``threads``, ``max_attempts`` or ``address``; when
            run, more ``workers`` than the Ray cluster has CPUs (they could never all start).
        RayConnectionError: when run, no Ray cluster answers at ``address``.
    """

    def __init__(self, spec: EvalSpec, workers: int = 2, address: str | None = None, threads: int | None = 1, max_attempts: int = 3):
        require_ray()
        self.spec = spec
        self.workers = check_int("workers", workers, 1)
        self.address = check_address(address)
        self.threads = None if threads is None else check_int("threads", threads, 1)
        self.max_attempts = check_int("max_attempts", max_attempts, 1)
        self.pids: list[int] = []

    def __call__(self, indices: list[int], seed: int, frames: bool) -> Iterator[tuple[dict[str, Any], list[np.ndarray]]]:
        if not indices:
            return
        ray = require_ray()
        started = connect(self.address, num_cpus=self.workers)
        worker_class = ray.remote(num_cpus=1)(_EpisodeWorker)
        actors: list[Any] = []
        try:
            count = min(self.workers, len(indices))
            self._check_cpus(ray, count)
            actors = self._start(worker_class, count)
            yield from self._run(ray, worker_class, actors, deque(indices), seed, frames)
        finally:
            for actor in actors:
                ray.kill(actor)
            if started:
                ray.shutdown()

    def _check_cpus(self, ray: Any, count: int) -> None:
        """Refuse more workers than the cluster has CPUs: the extra actors would wait for a CPU
        forever, and the run with them."""
        available = float(ray.cluster_resources().get("CPU", 0.0))
        if count > available + 1e-9:
            where = f"the Ray cluster at {self.address!r}" if self.address else "the Ray this process is connected to"
            fits = int(available)
            raise InvalidArgumentError(
                f"workers={self.workers} needs {count} Ray CPUs (one per worker) but {where} has {available:g}: "
                + (f"pass workers={fits} (--workers {fits}) or add nodes" if fits >= 1 else "add nodes with CPUs")
            )

    def _start(self, worker_class: Any, count: int) -> list[Any]:
        """``count`` workers, built in parallel; a worker that cannot build its env or agent
        raises :class:`WorkerError` with the worker's own error."""
        ray = require_ray()
        actors = [worker_class.remote(self.spec, self.threads) for _ in range(count)]
        try:
            self.pids.extend(ray.get([actor.pid.remote() for actor in actors]))
        except ray.exceptions.RayError as exc:
            for actor in actors:
                ray.kill(actor)
            raise WorkerError(f"a Ray worker could not build {self.spec.env_id} with agent {self.spec.agent!r}: {exc}") from exc
        return actors

    def _run(self, ray: Any, worker_class: Any, actors: list[Any], queue: deque, seed: int, frames: bool):
        lost: dict[int, int] = {}
        running: dict[Any, tuple[Any, int]] = {}

        def submit(actor: Any) -> None:
            index = queue.popleft()
            running[actor.run.remote(index, seed, frames)] = (actor, index)

        for actor in actors:
            submit(actor)
        while running:
            (ref,), _ = ray.wait(list(running), num_returns=1)
            actor, index = running.pop(ref)
            try:
                result = ray.get(ref)
            except ray.exceptions.RayTaskError:
                # the episode raised: the other workers finish the episodes they are running (at
                # most one each, none started anew) and those are handed over, so that a resume
                # runs again only what did not finish; then the error stops the run
                for other in list(running):
                    running.pop(other)
                    try:
                        finished = ray.get(other)
                    except ray.exceptions.RayError:
                        continue
                    yield finished
                raise
            except (ray.exceptions.RayActorError, ray.exceptions.ActorUnavailableError) as exc:
                lost[index] = lost.get(index, 0) + 1
                if lost[index] >= self.max_attempts:
                    raise WorkerError(
                        f"episode {index} lost its Ray worker {lost[index]} times (last: {type(exc).__name__}); the finished episodes are "
                        "kept: resume the run (--resume) once the workers are healthy"
                    ) from exc
                warnings.warn(f"a Ray worker died running episode {index} ({type(exc).__name__}); it runs again on a new worker",
                              WorkerLostWarning, stacklevel=2)
                ray.kill(actor)
                actors.remove(actor)
                actor = self._start(worker_class, 1)[0]
                actors.append(actor)
                queue.appendleft(index)
            else:
                yield result
            if queue:
                submit(actor)
