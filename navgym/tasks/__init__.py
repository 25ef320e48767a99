"""Tasks: what the goal is (goal sensors, success, measures, reward) and how a ProcHouse episode
of it is made. One module per task; :data:`TASKS` is the registry (entry-point group
``navgym.tasks``) that env registration, the env factory and generation iterate.

A new task is one module with a :class:`~navgym.tasks.base.Task` subclass plus one line here.
"""

from navgym.core.registry import Registry
from navgym.tasks.base import Task

#: Tasks by name (the ``{Task}`` of env ids).
TASKS: Registry = Registry("task", "navgym.tasks", "task")
TASKS.register("ImageNav", "navgym.tasks.imagenav:ImageNavTask", "Reach the place a goal photo was taken from")
TASKS.register("InstanceImageNav", "navgym.tasks.instance_imagenav:InstanceImageNavTask", "Find the object instance shown in a goal photo")
TASKS.register("ObjectNav", "navgym.tasks.objectnav:ObjectNavTask", "Find any instance of an object category")
TASKS.register("TextNav", "navgym.tasks.textnav:TextNavTask", "Find the object instance a sentence describes")
TASKS.register("MultiGoalVLN", "navgym.tasks.multigoal_vln:MultiGoalVLNTask", "Visit the 2-4 object instances an instruction names, in its order when it has one")
TASKS.register("SemanticNav", "navgym.tasks.semantic_nav:SemanticNavTask", "Reach and face the in-view target a text, image or interleaved prompt names")
TASKS.register("PointNav", "navgym.tasks.pointnav:PointNavTask", "Reach a point given by its distance and direction from the agent (GPS+compass)")

__all__ = ["TASKS", "Task"]
