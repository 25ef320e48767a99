"""The bottom layer: geometry, specs, paths, range checks and registries.

Nothing here imports another navgym module (except :mod:`navgym.errors`), so every layer above
can use it. See ``docs/architecture.md`` for the layers.
"""

from navgym.core.checks import check_int, check_range
from navgym.core.geometry import heading_vector, quaternion_to_yaw, wrap_angle, yaw_to_quaternion
from navgym.core.paths import cache_dir, data_root, resolve_scene_path
from navgym.core.registry import Registry
from navgym.core.specs import CAMERA_OUTPUTS, AgentState, BodySpec, CameraSpec

__all__ = [
    "CAMERA_OUTPUTS",
    "AgentState",
    "BodySpec",
    "CameraSpec",
    "Registry",
    "cache_dir",
    "check_int",
    "check_range",
    "data_root",
    "heading_vector",
    "quaternion_to_yaw",
    "resolve_scene_path",
    "wrap_angle",
    "yaw_to_quaternion",
]
