"""BeliefMapNav (Zhou et al., 2025) on navgym's perception and reasoner seams (issue 18).

* :mod:`~navgym.agents.beliefmap.features`: multi-scale patches, the hierarchical feature
  scorers, and the :class:`SemanticFeatures` seam (default :class:`DetectionCaptions`);
* :mod:`~navgym.agents.beliefmap.voxels`: the 3D voxel map (semantics, prior, visibility, posterior);
* :mod:`~navgym.agents.beliefmap.landmarks`: hierarchical landmarks from the reasoner, per target;
* :mod:`~navgym.agents.beliefmap.planner`: frontier observation belief and the expected-distance
  visiting order (simulated annealing, ``simanneal``);
* :mod:`~navgym.agents.beliefmap.agent`: :class:`BeliefMapNavAgent` (registered ``beliefmapnav``);
* :mod:`~navgym.agents.beliefmap.render`: prior / visibility / posterior pictures and the video panel.

See ``docs/agents.md`` and ``docs/results/beliefmapnav.md``.
"""

from navgym.agents.beliefmap.features import LEVELS, DetectionCaptions, SemanticFeatures, pixel_features
from navgym.agents.beliefmap.voxels import VoxelBeliefMap, detection_confidence

__all__ = ["LEVELS", "DetectionCaptions", "SemanticFeatures", "VoxelBeliefMap", "detection_confidence", "pixel_features"]
