"""Agents: one ``reset()`` / ``policy(obs)`` interface, built by name with :func:`make`."""

from navgym.agents.base import Agent, SB3Agent, agent_names, make, register_agent, sensors_for

__all__ = ["Agent", "SB3Agent", "agent_names", "make", "register_agent", "sensors_for"]
