"""Embodiments: who acts. A body (for navigability and collisions), a sensor rig, an action space,
and how an action becomes simulator commands.

Registered by name in :data:`EMBODIMENTS` (entry-point group ``navgym.embodiments``):

* ``"habitat"``: Habitat's discrete agent (stop, move_forward, turn_left, turn_right, optionally
  look_up/look_down), the default of every Habitat task.
* ``"unicycle"``: continuous (linear, angular velocity, stop) commands integrated over ``dt``.
* ``"jetbot"``, ``"h1"``, ``"aliengo"``: the dual-heatmap paper's bodies (NVIDIA JetBot, Unitree
  H1, Unitree Aliengo): ``Box`` velocity commands through a locomotion model (lag, bounded
  acceleration, command noise, gait), their own cameras and footprints (docs/embodiments.md).
"""

from navgym.core.registry import Registry
from navgym.embodiments.base import ActionResult, Embodiment
from navgym.embodiments.aliengo import AliengoAgent
from navgym.embodiments.h1 import H1Agent
from navgym.embodiments.habitat import HabitatDiscreteAgent
from navgym.embodiments.jetbot import JetbotAgent
from navgym.embodiments.locomotion import VelocityBody
from navgym.embodiments.unicycle import UnicycleAgent

#: Embodiments by name.
EMBODIMENTS: Registry = Registry("embodiment", "navgym.embodiments", "embodiment")
EMBODIMENTS.register("habitat", HabitatDiscreteAgent, "Habitat's discrete agent: stop, move_forward, turn_left/right (+ look_up/down)")
EMBODIMENTS.register("unicycle", UnicycleAgent, "Continuous (v, omega, stop) velocity commands integrated over dt, with sliding")
EMBODIMENTS.register("jetbot", JetbotAgent, "NVIDIA JetBot: differential drive, (v, yaw_rate, stop), low 128° camera")
EMBODIMENTS.register("h1", H1Agent, "Unitree H1 humanoid: (vx 0..1, yaw_rate ±1, stop), head D435 at 1.74 m pitched 50.8° down")
EMBODIMENTS.register("aliengo", AliengoAgent, "Unitree Aliengo quadruped: (vx, vy, yaw_rate, stop), 0.647 x 0.31 m rectangle footprint")

__all__ = [
    "EMBODIMENTS", "ActionResult", "AliengoAgent", "Embodiment", "H1Agent", "HabitatDiscreteAgent", "JetbotAgent",
    "UnicycleAgent", "VelocityBody",
]
