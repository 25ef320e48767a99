"""RSRNav (Qin et al., "Reasoning Spatial Relationship for Image-Goal Navigation"): a reference
ImageNav agent trained with PPO on navgym.

* :mod:`~navgym.agents.rsrnav.encoders`: the weight-shared ResNet-9 and the relationship heads
  (``baseline``, ``baseline_map``, ``minimalist``, ``dense``, ``direction``) as an SB3 features
  extractor (imports torch).
* :mod:`~navgym.agents.rsrnav.model`: the recurrent PPO model, its settings and safe checkpoints.
* :mod:`~navgym.agents.rsrnav.agent`: ``navgym.agents.make("rsrnav", checkpoint=...)``.

Train with :func:`navgym.training.train`. Importing this package registers the agent and does not
import torch.
"""

from navgym.agents.rsrnav.agent import RSRNavAgent, make_rsrnav_agent, require_rl

__all__ = ["RSRNavAgent", "make_rsrnav_agent", "require_rl"]
