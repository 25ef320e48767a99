"""habitat-sim backend (``sim="habitat"``): navgym's simulator interface over habitat-sim v0.3.x.

Nothing in this package imports habitat-sim at import time: :mod:`~navgym.sims.habitat.config` is
plain numpy, and building a :class:`~navgym.sims.habitat.simulator.HabitatSimulator` without
habitat-sim raises ``gymnasium.error.DependencyNotInstalled`` naming how to install it (conda;
habitat-sim has no pip wheel for Linux).

It has never run on a real habitat-sim (navgym's machines have no GPU and no conda habitat-sim):
its tests check the adapter's logic against fake ``habitat_sim`` modules; a user with habitat-sim
checks the rest with ``navgym.testing.check_simulator`` (docs/simulator.md).
"""

from navgym.sims.habitat.simulator import HabitatSimulator

__all__ = ["HabitatSimulator"]
