"""Agents: one ``reset()`` / ``policy(obs)`` interface, built by name with :func:`make`."""

from navgym.agents.base import Agent, SB3Agent, agent_names, make, make_for_env, register_agent, sensors_for

__all__ = ["Agent", "SB3Agent", "agent_names", "make", "make_for_env", "register_agent", "sensors_for"]
