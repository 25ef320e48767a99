"""AirSim backend (``sim="airsim"``) and navgym's embedded AirSim-protocol server.

* :mod:`~navgym.sims.airsim.simulator`: :class:`AirSimSimulator`, navgym's simulator interface
  over an AirSim server through the Cosys-AirSim client (``pip install "navgym[airsim]"``).
* :mod:`~navgym.sims.airsim.server`: ``navgym airsim-server``, the embedded simulator behind
  AirSim's RPC API on 127.0.0.1, so AirSim-API code runs on a laptop.
* :mod:`~navgym.sims.airsim.frames`: navgym (y up) <-> AirSim NED (z down), in one place.

Nothing here imports cosysairsim or msgpackrpc at import time. docs/airsim.md says what was
verified (everything against navgym's own server; nothing against Unreal AirSim).
"""
