"""The detector seam: any 2D detector (boxes or masks) + depth -> 3D detections. The stand-in
detector here reads the semantic image (the tests know the truth); a real one plugs in the same way."""

from __future__ import annotations

import numpy as np
import pytest

from navgym.agents.mapping import Pose2D
from navgym.agents.perception import Detection2D, Detector, DetectorPerception, GroundTruthPerception, InstanceLabel, Perception
from navgym.core.specs import AgentState
from navgym.errors import InvalidArgumentError
from navgym.sims.embedded.simulator import EmbeddedSimulator

from perception_scenes import CAMERA, room_with_furniture  # helper module beside this file


class SemanticBoxDetector:
    """Boxes (or masks) of the objects in a semantic image, labelled 'tbl' / 'chr' / ...: a fake
    detector with a known truth."""

    def __init__(self, semantic, names, masks=False, score=0.9):
        self.semantic, self.names, self.masks, self.score = semantic, names, masks, score

    def detect(self, rgb):
        out = []
        for instance_id, name in self.names.items():
            mask = self.semantic == instance_id
            if mask.sum() < 20:
                continue
            rows, cols = np.nonzero(mask)
            box = (cols.min(), rows.min(), cols.max() + 1, rows.max() + 1)
            out.append(Detection2D(name, self.score, box=box, mask=mask if self.masks else None, attributes={"seen_by": "fake"}))
        return out


@pytest.fixture(scope="module")
def scene():
    scene, ids = room_with_furniture()
    sim = EmbeddedSimulator(scene)
    frame = sim.render([(AgentState.from_yaw([2.0, 0.0, 2.6], 0.0), CAMERA)])[0]
    return scene, ids, frame


def test_masks_give_the_same_positions_as_ground_truth(scene):
    sc, ids, frame = scene
    names = {ids["table"]: "tbl", ids["chair"]: "chr"}
    perception = DetectorPerception(SemanticBoxDetector(frame["semantic"], names, masks=True), CAMERA, label_map={"tbl": "table", "chr": "chair"})
    assert isinstance(perception, Perception) and not perception.privileged
    assert isinstance(perception.detector, Detector)
    detections = perception.detect(frame, Pose2D(0, 0, 0))
    truth = GroundTruthPerception({i: InstanceLabel(sc.instance(i).category) for i in names}, CAMERA).detect(frame, Pose2D(0, 0, 0))
    for det in detections:
        gt = next(t for t in truth if t.category == det.category)
        assert det.instance_id is None and det.confidence == 0.9 and det.attributes == {"seen_by": "fake"}
        np.testing.assert_allclose(det.position, gt.position, atol=1e-9)


def test_boxes_alone_find_the_object_surface(scene):
    sc, ids, frame = scene
    names = {ids["table"]: "table", ids["chair"]: "chair", ids["vase"]: "vase"}
    perception = DetectorPerception(SemanticBoxDetector(frame["semantic"], names), CAMERA)
    detections = perception.detect(frame, Pose2D(0, 0, 0))
    assert {d.category for d in detections} == set(names.values())
    for det in detections:
        inst = next(i for i in sc.instances if i.category == det.category)
        world = det.position + [2.0, 0.0, 2.6]
        # Box-only: the nearest surface in the box's core, within 0.3 m of the true box.
        assert np.all(world >= inst.bbox_min - 0.3) and np.all(world <= inst.bbox_max + 0.3), det.category
        assert det.mask is None and det.pixels == (det.box[2] - det.box[0]) * (det.box[3] - det.box[1])


def test_thresholds_label_map_and_plain_functions(scene):
    sc, ids, frame = scene
    fake = SemanticBoxDetector(frame["semantic"], {ids["table"]: "table", ids["chair"]: "chair"}, score=0.2)
    assert DetectorPerception(fake, CAMERA).detect(frame, Pose2D(0, 0, 0)) == []
    kept = DetectorPerception(fake.detect, CAMERA, score_threshold=0.1, label_map={"chair": None}).detect(frame, Pose2D(0, 0, 0))
    assert [d.category for d in kept] == ["table"]
    image = DetectorPerception(fake.detect, CAMERA, score_threshold=0.1).detect_image(frame["rgb"])
    assert len(image) == 2 and all(d.position is None and d.frame == "camera" for d in image)
    with pytest.raises(InvalidArgumentError, match="detector"):
        DetectorPerception(42, CAMERA)
    with pytest.raises(ValueError, match="neither"):
        DetectorPerception(lambda rgb: [Detection2D("x", 1.0)], CAMERA).detect(frame, Pose2D(0, 0, 0))
