"""Isaac Sim backend (``sim="isaac"``): navgym's simulator interface over Isaac Sim / Isaac Lab.

Nothing in this package imports Isaac at import time: :mod:`~navgym.sims.isaac.frames`,
:mod:`~navgym.sims.isaac.robots` and :mod:`~navgym.sims.isaac.usd` are plain numpy,
:mod:`~navgym.sims.isaac.runtime` imports Isaac inside its functions, and building an
:class:`~navgym.sims.isaac.simulator.IsaacSimulator` without Isaac installed raises
``gymnasium.error.DependencyNotInstalled`` naming what to install.

It has never run on a real Isaac Sim (navgym's machines have no RTX GPU): docs/isaac.md says what
is verified (the adapter logic, against fake Isaac modules) and how a user with Isaac checks the
rest with ``navgym.testing.check_simulator``.
"""
