"""Ground-truth perception against scenes whose truth the tests know: a hand-built room and a
small ProcHouse house (the tests read the true scene; the library never does)."""

from __future__ import annotations

import math

import gymnasium as gym
import numpy as np
import pytest

import navgym  # noqa: F401
from navgym.agents.mapping import Pose2D
from navgym.agents.perception import Detection, GroundTruthPerception, InstanceLabel, Perception, SceneInstanceLabels
from navgym.core.specs import AgentState
from navgym.errors import InvalidArgumentError
from navgym.sims.embedded.simulator import EmbeddedSimulator

from perception_scenes import CAMERA, room_with_furniture  # noqa: E402  (helper module beside this file)


@pytest.fixture(scope="module")
def room():
    scene, ids = room_with_furniture()
    sim = EmbeddedSimulator(scene)
    labels = {inst.id: InstanceLabel(inst.category, dict(inst.attributes)) for inst in scene.instances}
    return sim, scene, ids, labels


def frame_at(sim, position, yaw):
    return sim.render([(AgentState.from_yaw(position, yaw), CAMERA)])[0]


def test_gt_detections_lie_on_the_true_boxes_and_only_what_is_seen(room):
    sim, scene, ids, labels = room
    perception = GroundTruthPerception(labels, CAMERA)
    assert isinstance(perception, Perception) and perception.privileged
    start = np.array([2.0, 0.0, 2.6])  # facing -z: the table, the chair and the vase; the cabinet is behind
    frame = frame_at(sim, start, 0.0)
    detections = perception.detect(frame, Pose2D(0.0, 0.0, 0.0))
    by_category = {d.category: d for d in detections}
    assert set(by_category) == {"table", "chair", "vase"}  # walls/floor ignored, the cabinet unseen
    for name in ("table", "chair", "vase"):
        det, inst = by_category[scene.instance(ids[name]).category], scene.instance(ids[name])
        assert det.instance_id == ids[name] and det.confidence == 1.0 and det.frame == "start"
        assert det.mask.sum() == det.pixels >= 20 and det.box[2] > det.box[0]
        lo, hi = (np.asarray(v) + start for v in det.extent)  # start frame at yaw 0 = world shifted
        assert np.all(lo >= inst.bbox_min - 0.03) and np.all(hi <= inst.bbox_max + 0.03), name
        assert np.all(det.position + start >= inst.bbox_min - 0.03) and np.all(det.position + start <= inst.bbox_max + 0.03)
    assert by_category["chair"].attributes == {"color": "red"}


def test_gt_positions_come_from_depth_and_pose_not_from_the_scene(room):
    sim, scene, ids, labels = room
    perception = GroundTruthPerception(labels, CAMERA)
    position, yaw = np.array([3.2, 0.0, 2.2]), math.radians(40.0)
    frame = frame_at(sim, position, yaw)
    # The start was at (2, 0, 2.6) facing -z; the agent is now at `position`, turned 40° left.
    pose = Pose2D(x=position[0] - 2.0, z=position[2] - 2.6, yaw=yaw)
    table = next(d for d in perception.detect(frame, pose) if d.instance_id == ids["table"])
    truth = scene.instance(ids["table"])
    assert np.all(table.position + [2.0, 0.0, 2.6] >= truth.bbox_min - 0.03)
    assert np.all(table.position + [2.0, 0.0, 2.6] <= truth.bbox_max + 0.03)
    # Scale the depth: the position scales about the camera with it, the scene is not consulted.
    scaled = dict(frame, depth=frame["depth"] * 1.2)
    moved = next(d for d in perception.detect(scaled, pose) if d.instance_id == ids["table"])
    camera_at = np.array([pose.x, CAMERA.camera_height, pose.z])
    np.testing.assert_allclose(moved.position - camera_at, 1.2 * (table.position - camera_at), atol=0.02)


def test_gt_small_instances_and_missing_sensors(room):
    sim, scene, ids, labels = room
    frame = frame_at(sim, [2.0, 0.0, 2.6], 0.0)
    vase_pixels = int((frame["semantic"] == ids["vase"]).sum())
    few = GroundTruthPerception(labels, CAMERA, min_pixels=vase_pixels + 1).detect(frame, Pose2D(0, 0, 0))
    assert ids["vase"] not in {d.instance_id for d in few}
    with pytest.raises(KeyError, match="semantic"):
        GroundTruthPerception(labels, CAMERA).detect({"depth": frame["depth"]}, Pose2D(0, 0, 0))
    with pytest.raises(InvalidArgumentError, match="GoalImageSemantics"):
        GroundTruthPerception(labels, CAMERA).detect_image(frame["rgb"])
    with pytest.raises(InvalidArgumentError, match="min_pixels"):
        GroundTruthPerception(labels, CAMERA, min_pixels=0)


def test_gt_detect_image_gives_camera_frame_positions(room):
    sim, scene, ids, labels = room
    frame = frame_at(sim, [2.0, 0.0, 2.6], 0.0)
    detections = GroundTruthPerception(labels, CAMERA).detect_image(frame["rgb"], frame["depth"], semantic=frame["semantic"])
    table = next(d for d in detections if d.instance_id == ids["table"])
    assert table.frame == "camera"
    # Camera frame: x right, y up from the optical centre (1.25 m), looking along -z.
    world = table.position + np.array([2.0, 1.25, 2.6])
    truth = scene.instance(ids["table"])
    assert np.all(world >= truth.bbox_min - 0.03) and np.all(world <= truth.bbox_max + 0.03)
    no_depth = GroundTruthPerception(labels, CAMERA).detect_image(frame["rgb"], semantic=frame["semantic"])
    assert {d.instance_id for d in no_depth} == {d.instance_id for d in detections} and all(d.position is None for d in no_depth)


# -- ProcHouse --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def house():
    env = gym.make("ObjectNav-ProcHouse-v0", num_scenes=1, episodes_per_scene=2, sensors=("rgb", "depth", "semantic", "gps", "compass", "objectgoal"))
    env.reset(seed=0)
    yield env
    env.close()


def test_scene_labels_pass_on_no_geometry(house):
    table = SceneInstanceLabels(house, fronts=True)()
    assert table and all(set(vars(label)) == {"category", "attributes", "front"} for label in table.values())
    assert all(set(label.attributes) <= {"color", "material", "size"} for label in table.values())
    assert all(label.front is None for label in SceneInstanceLabels(house)().values())
    with pytest.raises(InvalidArgumentError, match="sensors"):
        GroundTruthPerception.from_env(gym.make("ObjectNav-ProcHouse-v0", num_scenes=1, episodes_per_scene=2, sensors=("rgb", "depth")))


def test_prochouse_gt_positions_within_the_true_boxes(house):
    """A full turn at each room's centre: every detection's visible extent lies inside the true
    box (5 cm slack); the centre's floor error is under the box's half diagonal (measured: median
    0.17 m, 90th percentile 0.44 m, max 0.97 of the half diagonal); fronts rotate back to the truth."""
    nav = house.unwrapped
    sim = nav.sim
    truth = sim.scene_graph()
    start = sim.get_agent_state().copy()
    perception = GroundTruthPerception.from_env(house, fronts=True)
    c, s = math.cos(start.yaw), math.sin(start.yaw)

    def world(p):
        return np.array([c * p[0] + s * p[2] + start.position[0], p[1] + start.position[1], -s * p[0] + c * p[2] + start.position[2]])

    def to_start(p):
        d = np.asarray(p) - start.position
        return np.array([c * d[0] - s * d[2], d[1], s * d[0] + c * d[2]])

    errors, relative, fronts, seen = [], [], 0, set()
    for room in truth.rooms:
        sim.set_agent_state(AgentState.from_yaw(sim.snap_point(np.array([room.center[0], 0.0, room.center[1]])), 0.0))
        for _ in range(12):
            obs, *_ = house.step(nav.actions.index("turn_left"))
            pose = Pose2D.from_gps_compass(obs["gps"], obs["compass"])
            for det in perception.detect(obs, pose):
                inst = truth.instance(det.instance_id)
                assert det.category == inst.category and not inst.structural
                seen.add(det.instance_id)
                if det.position is None:
                    continue
                # The true box in the start frame (its corners' bounding box) holds the visible extent.
                corners = np.array([[x, y, z] for x in (inst.bbox_min[0], inst.bbox_max[0]) for y in (inst.bbox_min[1], inst.bbox_max[1]) for z in (inst.bbox_min[2], inst.bbox_max[2])])
                local = np.array([to_start(p) for p in corners])
                assert np.all(det.extent[0] >= local.min(axis=0) - 0.05) and np.all(det.extent[1] <= local.max(axis=0) + 0.05), inst.category
                error = float(np.hypot(*(world(det.position) - inst.center)[[0, 2]]))
                half_diagonal = float(np.hypot(*(inst.bbox_max - inst.bbox_min)[[0, 2]]) / 2)
                assert error <= half_diagonal + 0.05
                errors.append(error)
                relative.append(error / half_diagonal)
                if det.front is not None:
                    fronts += 1
                    f = det.front
                    np.testing.assert_allclose([c * f[0] + s * f[1], -s * f[0] + c * f[1]], inst.front, atol=1e-6)
    sim.set_agent_state(start)
    assert len(seen) >= 0.8 * len(truth.objects()) and fronts > 10
    assert np.median(errors) < 0.3 and np.median(relative) < 0.6
    print(f"GT detection floor error: median {np.median(errors):.3f} m, p90 {np.quantile(errors, 0.9):.3f} m, max {max(errors):.3f} m; "
          f"relative to the half diagonal: median {np.median(relative):.2f}, max {max(relative):.2f}; {len(seen)}/{len(truth.objects())} objects seen")


def test_detection_copy_keeps_attributes_apart():
    det = Detection("chair", attributes={"color": "red"})
    other = det.copy(category="sofa")
    other.attributes["color"] = "blue"
    assert det.attributes == {"color": "red"} and other.category == "sofa"
