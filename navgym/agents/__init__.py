"""Agents: one ``reset()`` / ``policy(obs)`` interface, built by name with :func:`make`.

``baselines/`` (random, oracle, frontier), the papers' agents (``rsrnav/``), and their shared
parts (``mapping/``, ``planning/``).
"""

from navgym.agents.base import Agent, SB3Agent
from navgym.agents.registry import AGENTS, agent_names, make, make_for_env, register_agent, sensors_for

__all__ = ["AGENTS", "Agent", "SB3Agent", "agent_names", "make", "make_for_env", "register_agent", "sensors_for"]
