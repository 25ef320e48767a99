"""Embodiments: who acts. A body (for navigability and collisions), a sensor rig, an action space,
and how an action becomes simulator commands.

Registered by name in :data:`EMBODIMENTS` (entry-point group ``navgym.embodiments``):

* ``"habitat"``: Habitat's discrete agent (stop, move_forward, turn_left, turn_right, optionally
  look_up/look_down), the default of every Habitat task.
* ``"unicycle"``: continuous (linear, angular velocity, stop) commands integrated over ``dt``.
"""

from navgym.core.registry import Registry
from navgym.embodiments.base import ActionResult, Embodiment
from navgym.embodiments.habitat import HabitatDiscreteAgent
from navgym.embodiments.unicycle import UnicycleAgent

#: Embodiments by name.
EMBODIMENTS: Registry = Registry("embodiment", "navgym.embodiments", "embodiment")
EMBODIMENTS.register("habitat", HabitatDiscreteAgent, "Habitat's discrete agent: stop, move_forward, turn_left/right (+ look_up/down)")
EMBODIMENTS.register("unicycle", UnicycleAgent, "Continuous (v, omega, stop) velocity commands integrated over dt, with sliding")

__all__ = ["EMBODIMENTS", "ActionResult", "Embodiment", "HabitatDiscreteAgent", "UnicycleAgent"]
