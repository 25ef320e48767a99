"""Simulator backends behind one interface (:mod:`navgym.sims.base`), registered by name.

``sim=`` of ``gym.make`` picks one from :data:`SIMULATORS`: ``"embedded"`` (CPU ray casting,
always available; ``"auto"`` means it), ``"isaac"`` (Isaac Sim / Isaac Lab, imported only when
used; unverified without an RTX GPU, docs/isaac.md), ``"airsim"`` (docs/airsim.md) and
``"habitat"`` (habitat-sim, a conda install; written against its documented API and tested
against fakes only, docs/simulator.md).
Third-party backends register under the ``navgym.simulators`` entry-point group: a class (or
factory) called as ``factory(scene_id, body=BodySpec, data_root=Path)``.
"""

from navgym.core.registry import Registry
from navgym.sims.base import AgentState, BodySpec, CameraSpec, Simulator, TopDownMap

#: Simulator backends by name.
SIMULATORS: Registry = Registry("simulator backend", "navgym.simulators", "sim")
SIMULATORS.register("embedded", "navgym.sims.embedded.simulator:EmbeddedSimulator", "CPU ray casting (Embree) + navigability grid; runs anywhere")
SIMULATORS.register("isaac", "navgym.sims.isaac.simulator:IsaacSimulator", "Isaac Sim 5.1 / Isaac Lab 2.3 (RTX GPU; never run by navgym's developers, see docs/isaac.md)")
SIMULATORS.register("airsim", "navgym.sims.airsim.simulator:AirSimSimulator", "an AirSim server (Cosys-AirSim client; `navgym airsim-server` or Unreal AirSim, docs/airsim.md)")
SIMULATORS.register("habitat", "navgym.sims.habitat:HabitatSimulator", "habitat-sim v0.3 (conda install, GPU; never run by navgym's developers, see docs/simulator.md)")

__all__ = ["SIMULATORS", "AgentState", "BodySpec", "CameraSpec", "Simulator", "TopDownMap"]
