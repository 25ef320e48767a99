"""UniGoal (Yin et al., CVPR 2025), one zero-shot agent for ObjectNav, InstanceImageNav and TextNav.

* :mod:`~navgym.agents.unigoal.goal`: goal graphs for the three goal types, decomposition, coordinate projection.
* :mod:`~navgym.agents.unigoal.matching`: graph matching (:class:`GraphMatcher`) and the :class:`Blacklist`.
* :mod:`~navgym.agents.unigoal.agent`: :class:`UniGoalAgent` (registered as ``"unigoal"``).

Built on the perception and reasoner seams and the online scene graph; see ``docs/agents.md``.
"""

from navgym.agents.unigoal.agent import UniGoalAgent
from navgym.agents.unigoal.goal import UniGoalGoal, decompose, image_goal, object_goal, project_coordinates, text_goal
from navgym.agents.unigoal.matching import Blacklist, GraphMatch, GraphMatcher

__all__ = [
    "Blacklist", "GraphMatch", "GraphMatcher", "UniGoalAgent", "UniGoalGoal", "decompose", "image_goal", "object_goal", "project_coordinates", "text_goal",
]
