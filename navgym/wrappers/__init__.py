"""Wrappers for navgym envs: goal camera settings, reward shaping and privileged observations."""

from navgym.wrappers.goal_camera import (
    EXTREME,
    GOAL_CAMERA_SETTINGS,
    USER_MATCHED,
    GoalCameraRanges,
    UserMatchedGoalCamera,
    draw_goal_camera,
)
from navgym.wrappers.privileged import CriticObservation, PrivilegedObservation
from navgym.wrappers.rsrnav_reward import RSRNavReward

__all__ = [
    "CriticObservation",
    "EXTREME",
    "GOAL_CAMERA_SETTINGS",
    "USER_MATCHED",
    "GoalCameraRanges",
    "PrivilegedObservation",
    "RSRNavReward",
    "UserMatchedGoalCamera",
    "draw_goal_camera",
]
