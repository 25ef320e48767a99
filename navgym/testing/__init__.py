"""navgym's conformance kit: checks that backend authors, agent authors and navgym's own tests run.

Like PettingZoo's ``parallel_api_test``, each function runs every check it has, then returns a
:class:`ConformanceReport` or raises one :class:`ConformanceError` (an ``AssertionError``) that
lists every failed check with measured and expected values:

* :func:`check_simulator`: a :class:`~navgym.sims.base.Simulator` backend against analytic ground
  truth in hand-built box scenes (depth, semantics, motion, geodesics, agents, pickling).
* :func:`check_nav_env`: a navigation env against Gymnasium's (and stable-baselines3's)
  checkers, seeding determinism, pickling and navgym's ``info`` contract.
* :func:`check_agent`: an :class:`~navgym.agents.Agent` against an env's action space and its
  own sensor declaration.

Example:
    >>> from navgym.sims.embedded.simulator import EmbeddedSimulator
    >>> from navgym.testing import check_simulator
    >>> report = check_simulator(lambda scene, body: EmbeddedSimulator(scene, body=body))

The kit does not import pytest; stable-baselines3 is used only when installed.
"""

from navgym.testing._report import CheckFailure, ConformanceError, ConformanceReport
from navgym.testing.agent import check_agent
from navgym.testing.env import check_nav_env
from navgym.testing.simulator import check_simulator

__all__ = ["CheckFailure", "ConformanceError", "ConformanceReport", "check_agent", "check_nav_env", "check_simulator"]
