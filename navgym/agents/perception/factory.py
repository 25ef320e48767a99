"""Perception by name for agents: ``"ground_truth"``, ``"noisy"`` or an instance."""

from __future__ import annotations

from typing import Any

from navgym.core.checks import check_int
from navgym.core.options import choice
from navgym.errors import InvalidArgumentError

PERCEPTIONS = ("ground_truth", "noisy")
#: Default noise of ``perception="noisy"``.
NOISE = {"miss_rate": 0.2, "false_positives_per_frame": 0.1, "confusion_rate": 0.1, "position_noise": 0.05, "drop_instance_ids": True}


def make_perception(env: Any, perception: Any, seed: int = 0, *, who: str = "the agent", attributes: bool = True, **noise: float | None) -> Any:
    """A :class:`~navgym.agents.perception.Perception`: ``"ground_truth"`` (the env's semantic
    sensor and scene labels: privileged), ``"noisy"`` (the same through
    :class:`~navgym.agents.perception.NoisyPerception` with :data:`NOISE`, overridden by the
    ``noise`` keywords that are not ``None``, seeded by ``seed``), or an object with ``detect``
    returned as it is. Noise keywords with another perception are an error (they would be ignored)."""
    seed = check_int("noise_seed", seed, 0)
    given = sorted(k for k, v in noise.items() if v is not None)
    if perception != "noisy" and given:
        raise InvalidArgumentError(
            f"{', '.join(f'{k}={noise[k]!r}' for k in given)}: noise options apply to perception='noisy' only ({who} has "
            f"perception={perception!r}, which has no noise); add perception=noisy or drop them"
        )
    if not isinstance(perception, str):
        if not callable(getattr(perception, "detect", None)):
            raise InvalidArgumentError(f"perception={perception!r} is neither one of {list(PERCEPTIONS)} nor a Perception (no detect())")
        return perception
    choice("perception", perception, PERCEPTIONS)
    if env is None:
        raise InvalidArgumentError(f"perception={perception!r} reads the env's semantic labels ({who}): pass env=, or a Perception instance")
    from navgym.agents.perception.ground_truth import GroundTruthPerception
    from navgym.agents.perception.noisy import NoisyPerception

    truth = GroundTruthPerception.from_env(env, attributes=attributes)
    if perception == "ground_truth":
        return truth
    merged = {**NOISE, **{k: v for k, v in noise.items() if v is not None}}
    return NoisyPerception(truth, seed=check_int("noise_seed", seed, 0), **merged)
