"""What a real Cosys-AirSim / Microsoft AirSim server does differently, and what the backend makes of
it: byte order of uncompressed frames, camera mounts, vehicle and camera names, host names. The
client (cosysairsim) and the transport are real; servers that behave like Unreal's are navgym's
server with the one behaviour changed (documented in Cosys-AirSim's and AirSim's sources)."""

from __future__ import annotations

import time

import numpy as np
import pytest

cosysairsim = pytest.importorskip("cosysairsim")

from navgym.core.specs import CameraSpec  # noqa: E402
from navgym.sims.airsim import frames  # noqa: E402
from navgym.sims.airsim.client import AirSimConnectionError, AirSimProtocolError  # noqa: E402
from navgym.sims.airsim.server import AirSimService, EmbeddedAirSimServer  # noqa: E402
from navgym.sims.airsim.simulator import AirSimSimulator  # noqa: E402
from navgym.sims.embedded.simulator import EmbeddedSimulator  # noqa: E402

SCENE = "prochouse/1000003"
W, H = 32, 24
SPEC = CameraSpec(width=W, height=H, outputs=("rgb", "semantic"))


@pytest.fixture(scope="module")
def server():
    with EmbeddedAirSimServer(SCENE, port=0, camera_resolution=(W, H)) as running:
        yield running


@pytest.fixture(scope="module")
def truth():
    """The embedded simulator's frames at the server's start pose."""
    embedded = EmbeddedSimulator(SCENE)
    state = embedded.get_agent_state()
    return state, embedded.render([(state, SPEC)])[0]


def test_uncompressed_frames_are_rgb_as_cosys_airsim_sends_them(server, truth):
    """Cosys-AirSim (server version 4) sends uncompressed Scene / Segmentation bytes as R, G, B
    (RenderRequest.cpp, since 2019); navgym's server answers as Cosys-AirSim does."""
    client = cosysairsim.ComputerVisionClient(port=server.port, timeout_value=20)
    client.reset()
    assert client.getServerVersion() == 4
    scene, seg = client.simGetImages([cosysairsim.ImageRequest("0", cosysairsim.ImageType.Scene, False, False),
                                      cosysairsim.ImageRequest("0", cosysairsim.ImageType.Segmentation, False, False)])
    client.client.close()
    rgb = np.frombuffer(scene.image_data_uint8, np.uint8).reshape(H, W, 3)
    assert np.array_equal(rgb, truth[1]["rgb"])
    colours = np.frombuffer(seg.image_data_uint8, np.uint8).reshape(H, W, 3)
    assert np.array_equal(colours, cosysairsim.VehicleClient.simGetSegmentationColorMap()[truth[1]["semantic"]])


class _MicrosoftAirSim(AirSimService):
    """Microsoft AirSim's byte order (BGR) and version number (1)."""

    def getServerVersion(self):
        return 1

    def simGetImages(self, requests, vehicle_name=""):
        responses = super().simGetImages(requests, vehicle_name)
        for r in responses:
            if r["image_data_uint8"] and not r["compress"]:
                r["image_data_uint8"] = np.frombuffer(r["image_data_uint8"], np.uint8).reshape(r["height"], r["width"], 3)[..., ::-1].tobytes()
        return responses


class _MicrosoftLidar(_MicrosoftAirSim):
    """Microsoft AirSim's LiDAR: points in the world frame (its default DataFrame), world pose."""

    def getLidarData(self, lidar_name="", vehicle_name=""):
        from navgym.core.geometry import matrix_from_quat_wxyz

        reply = super().getLidarData(lidar_name, vehicle_name)
        vehicle = self._vehicle(vehicle_name)
        p_v, q_v = frames.nav_to_ned(vehicle.position), frames.nav_quat_to_ned(vehicle.rotation)
        p_s, _ = frames.read_pose(reply["pose"])
        local = np.asarray(reply["point_cloud"], dtype=np.float64).reshape(-1, 3)
        world = (local + p_s) @ matrix_from_quat_wxyz(q_v).T + p_v
        reply["point_cloud"] = world.ravel().tolist()
        reply["pose"] = frames.pose_msg(p_v + matrix_from_quat_wxyz(q_v) @ p_s, q_v)
        return reply


class _CosysMisses(AirSimService):
    """Cosys-AirSim's misses: [0, 0, 0] and 'out_of_range' for every laser that hit nothing."""

    def getLidarData(self, lidar_name="", vehicle_name=""):
        reply = super().getLidarData(lidar_name, vehicle_name)
        reply["point_cloud"] = [0.0, 0.0, 0.0] * 50 + reply["point_cloud"]
        reply["groundtruth"] = ["out_of_range"] * 50 + reply["groundtruth"]
        return reply


class _MountedCamera(AirSimService):
    """A camera mounted 0.3 m ahead of where simSetCameraPose puts it, as settings.json's camera
    X = 0.3 does on Unreal (APIPCamera::setCameraPose is relative to the camera's mount)."""

    def _camera_world(self, vehicle, camera):
        position, rotation = super()._camera_world(vehicle, camera)
        return position + rotation @ np.array([0.3, 0.0, 0.0]), rotation


for _cls, _name in ((_MicrosoftAirSim, "getServerVersion"), (_MicrosoftAirSim, "simGetImages"),
                    (_MicrosoftLidar, "getLidarData"), (_CosysMisses, "getLidarData")):
    getattr(_cls, _name).__rpc__ = True


def test_channel_order_follows_the_server(server, truth):
    state, frame = truth
    sim = AirSimSimulator(SCENE, port=server.port, timeout=20)
    assert sim.channel_order == "rgb"
    got = sim.render([(state, SPEC)])[0]
    assert np.array_equal(got["semantic"], frame["semantic"]) and np.mean(np.abs(got["rgb"].astype(int) - frame["rgb"]) <= 2) > 0.99
    sim.close()
    with EmbeddedAirSimServer(_MicrosoftAirSim(SCENE, camera_resolution=(W, H)), port=0) as microsoft:
        sim = AirSimSimulator(SCENE, port=microsoft.port, timeout=20)
        assert sim.channel_order == "bgr"
        got = sim.render([(state, SPEC.with_(outputs=("rgb",)))])[0]
        assert np.mean(np.abs(got["rgb"].astype(int) - frame["rgb"]) <= 2) > 0.99
        # Microsoft AirSim's segmentation palette is not Cosys-AirSim's colormap: refused, not all zeros.
        with pytest.raises(AirSimProtocolError, match=r"reports version 1 \(Microsoft AirSim.*leave 'semantic' out"):
            sim.render([(state, SPEC)])
        sim.close()
        wrong = AirSimSimulator(SCENE, port=microsoft.port, timeout=20, channel_order="rgb")
        swapped = wrong.render([(state, SPEC.with_(outputs=("rgb",)))])[0]
        assert not np.array_equal(swapped["rgb"], got["rgb"]) and np.array_equal(swapped["rgb"][..., ::-1], got["rgb"])
        wrong.close()
    with pytest.raises(ValueError, match="channel_order='RGBA'.*'bgr'"):
        AirSimSimulator(SCENE, port=server.port, channel_order="RGBA")


def test_a_camera_mount_offset_is_an_error_not_a_shifted_frame(truth):
    with EmbeddedAirSimServer(_MountedCamera(SCENE, camera_resolution=(W, H)), port=0) as mounted:
        sim = AirSimSimulator(SCENE, port=mounted.port, timeout=20)
        with pytest.raises(AirSimProtocolError, match=r"0\.300 m and 0\.0 degrees from the pose.*X, Y, Z, Pitch, Roll, Yaw = 0"):
            sim.render([(truth[0], SPEC)])
        sim.close()


def test_unknown_vehicle_and_camera_name_the_parameter_at_construction(server):
    with pytest.raises(ValueError, match=r"vehicle='Drone1' is not a vehicle .*\['ComputerVision'\].*vehicle=''"):
        AirSimSimulator(SCENE, port=server.port, vehicle="Drone1")
    # An Unreal AirSim dereferences a missing camera: the name is checked before any call uses it.
    with pytest.raises(ValueError, match="camera='front_centre' is not a camera .*front_center"):
        AirSimSimulator(SCENE, port=server.port, camera="front_centre")
    with pytest.raises(ValueError, match="timeout=True"):
        AirSimSimulator(SCENE, port=server.port, timeout=True)
    sim = AirSimSimulator(SCENE, port=server.port, camera=0, vehicle="ComputerVision", timeout=20)  # AirSim's pre-1.2 number
    assert sim.render([(sim.get_agent_state(), SPEC)])[0]["rgb"].shape == (H, W, 3)
    sim.close()


def test_a_host_that_does_not_resolve_fails_at_once_naming_host(server):
    started = time.monotonic()
    with pytest.raises(AirSimConnectionError, match=r"cannot resolve .*host='no-such-host\.invalid'.*NAVGYM_AIRSIM_HOST"):
        AirSimSimulator(SCENE, host="no-such-host.invalid", port=server.port, timeout=30)
    assert time.monotonic() - started < 15  # not the 30 s timeout (a slow resolver may take seconds)


def test_response_camera_pose_is_the_pose_asked_for(server, truth):
    """navgym's server reports each frame's camera pose in world NED, as Unreal's does."""
    sim = AirSimSimulator(SCENE, port=server.port, timeout=20)
    state = truth[0]
    eye, rotation = frames.camera_world_pose(state, SPEC.with_(pitch=-30.0))
    sim.render([(state, SPEC.with_(pitch=-30.0))])  # no error: the check passes on a faithful server
    client = cosysairsim.ComputerVisionClient(port=server.port, timeout_value=20)
    response = client.simGetImages([cosysairsim.ImageRequest("0", cosysairsim.ImageType.Scene, False, False)])[0]
    client.client.close()
    assert np.allclose(frames.read_vector(response.camera_position), eye, atol=1e-6)
    sim.close()


class _Unreal(AirSimService):
    """Unreal-like: no navgym calls (image sizes are settings.json's), and a second camera
    'probe' of 1x1 pixels besides front_center's 256x144, as settings.json would declare it."""

    def _load(self, scene):
        super()._load(scene)
        for vehicle in self.vehicles.values():
            probe = type(vehicle.cameras["0"])(np.zeros(3), np.array([1.0, 0.0, 0.0, 0.0]), 90.0, 1, 1)
            vehicle.cameras["probe"] = probe

    def navgymSceneId(self):
        return None

    def navgymSetCameraResolution(self, *args):
        return None

    def navgymSetVehicleBody(self, *args):
        return None


for _name in ("navgymSceneId", "navgymSetCameraResolution", "navgymSetVehicleBody"):
    getattr(_Unreal, _name).__rpc__ = False


def test_fixed_size_cameras_of_an_unreal_server_by_size(truth):
    """On Unreal each camera has one size: a request of another size names the fix, and
    cameras={'WxH': name} sends requests of that size to a camera that has it."""
    state = truth[0]
    big = CameraSpec(width=256, height=144, outputs=("rgb", "depth"))
    probe = CameraSpec(1, 1, 5.0, 0.05, pitch=90.0, outputs=("depth",), max_depth=1000.0)  # the env's ceiling probe
    with EmbeddedAirSimServer(_Unreal(SCENE), port=0) as unreal:
        sim = AirSimSimulator(SCENE, port=unreal.port, timeout=20)
        assert not sim.is_navgym_server
        assert sim.render([(state, big)])[0]["rgb"].shape == (144, 256, 3)
        with pytest.raises(AirSimProtocolError, match=r"returned a 256x144 image; the camera spec asks for 1x1.*'cameras': \{'1x1'"):
            sim.render([(state, probe)])
        sim.close()
        sim = AirSimSimulator(SCENE, port=unreal.port, timeout=20, cameras={"1x1": "probe"})
        big_frame, probe_frame = sim.render([(state, big), (state, probe)])
        assert big_frame["depth"].shape == (144, 256, 1) and probe_frame["depth"].shape == (1, 1, 1)
        assert 0.5 < float(probe_frame["depth"][0, 0, 0]) < 10.0  # the ceiling above the start
        sim.close()
        with pytest.raises(ValueError, match=r"cameras\['1x1'\]='probes' is not a camera"):
            AirSimSimulator(SCENE, port=unreal.port, cameras={"1x1": "probes"})
        with pytest.raises(ValueError, match="cameras=.*'WxH': camera name"):
            AirSimSimulator(SCENE, port=unreal.port, cameras={"tiny": "probe"})


def test_lidar_frames_of_cosys_and_microsoft_airsim(server):
    """Cosys-AirSim sends LiDAR points in the sensor's frame with the sensor's pose relative to
    the vehicle (UnrealLidarSensor.cpp: transformToBodyFrame), and [0, 0, 0] for misses;
    Microsoft AirSim sends world points. The backend gives the same world cloud from each."""
    from navgym.core.specs import AgentState

    sim = AirSimSimulator(SCENE, port=server.port, timeout=20)
    start = sim.get_agent_state()
    state = sim.set_agent_state(AgentState.from_yaw(start.position, 2.0))
    reference = sim.lidar()
    sim.close()
    assert len(reference) > 1000
    # Every point within the LiDAR's range of the sensor, 0.5 m above the floor point.
    sensor = state.position + [0.0, 0.5, 0.0]
    assert np.linalg.norm(reference - sensor, axis=1).max() <= 20.0 + 1e-3
    for service in (_MicrosoftLidar(SCENE, camera_resolution=(W, H)), _CosysMisses(SCENE, camera_resolution=(W, H))):
        with EmbeddedAirSimServer(service, port=0) as other:
            sim = AirSimSimulator(SCENE, port=other.port, timeout=20)
            sim.set_agent_state(state)
            cloud = sim.lidar()
            sim.close()
        assert cloud.shape == reference.shape and np.allclose(cloud, reference, atol=1e-4), type(service).__name__


class _ComputerVisionMode(AirSimService):
    """Unreal AirSim in ComputerVision SimMode: no multirotor calls."""

    def moveByVelocity(self, *args):
        return None


_ComputerVisionMode.moveByVelocity.__rpc__ = False


def test_velocity_motion_on_a_server_without_move_by_velocity_names_motion():
    with EmbeddedAirSimServer(_ComputerVisionMode(SCENE, camera_resolution=(W, H)), port=0) as cv_mode:
        sim = AirSimSimulator(SCENE, port=cv_mode.port, timeout=20, motion="velocity")
        with pytest.raises(ValueError, match=r"motion='velocity' needs moveByVelocity.*use motion='pose'"):
            sim.move_agent([0.0, 0.0, -0.25])
        sim.close()


class _InactiveCapture(AirSimService):
    """Cosys-AirSim's answer for a capture type that is not active: an empty image and a message."""

    def simGetImages(self, requests, vehicle_name=""):
        responses = super().simGetImages(requests, vehicle_name)
        for r in responses:
            if r["image_type"] == 5:
                r.update(width=0, height=0, image_data_uint8=b"", message="Can't take screenshot because none camera type is not active")
        return responses


_InactiveCapture.simGetImages.__rpc__ = True


def test_an_empty_image_reports_the_servers_message(truth):
    with EmbeddedAirSimServer(_InactiveCapture(SCENE, camera_resolution=(W, H)), port=0) as inactive:
        sim = AirSimSimulator(SCENE, port=inactive.port, timeout=20)
        with pytest.raises(AirSimProtocolError, match=r"no image for camera '0' \(image_type 5\): .Can't take screenshot"):
            sim.render([(truth[0], SPEC)])
        assert sim.render([(truth[0], SPEC.with_(outputs=("rgb",)))])[0]["rgb"].shape == (H, W, 3)
        sim.close()


def test_backends_of_two_scenes_on_one_server_each_get_their_scene():
    """An env keeps a backend per recent scene; on navgym's server each loads its scene with
    simLoadLevel. Going back to an earlier scene's backend must not render the later scene."""
    spec = CameraSpec(width=W, height=H, outputs=("depth", "semantic"))
    with EmbeddedAirSimServer(SCENE, port=0, camera_resolution=(W, H)) as shared:
        first = AirSimSimulator(SCENE, port=shared.port, timeout=20)
        second = AirSimSimulator("prochouse/1000004", port=shared.port, timeout=20)
        assert shared.service.scene_id == "prochouse/1000004"
        state = first.get_agent_state()
        frame = first.render([(state, spec)])[0]
        assert shared.service.scene_id == SCENE
        embedded = EmbeddedSimulator(SCENE)
        embedded.set_agent_state(state)
        truth = embedded.render([(state, spec)])[0]
        assert np.array_equal(frame["semantic"], truth["semantic"]) and np.allclose(frame["depth"], truth["depth"], atol=1e-3)
        assert np.allclose(first.get_agent_state().position, state.position)
        second.get_agent_state()  # and back again
        assert shared.service.scene_id == "prochouse/1000004"
        first.close()
        second.close()


def test_two_backends_sharing_a_vehicle_is_an_error_not_mixed_states(server):
    from navgym.core.specs import AgentState

    a = AirSimSimulator(SCENE, port=server.port, timeout=20)
    b = AirSimSimulator(SCENE, port=server.port, timeout=20)
    rng = np.random.default_rng(0)
    a.set_agent_state(AgentState.from_yaw(a.sample_navigable_point(rng), 0.3))
    b.set_agent_state(AgentState.from_yaw(b.sample_navigable_point(rng), 1.3))
    with pytest.raises(AirSimProtocolError, match=r"another client drives it.*own server \(port=\) or its own vehicle="):
        a.get_agent_state()
    with pytest.raises(AirSimProtocolError, match="another client drives it"):
        a.move_agent([0.0, 0.0, -0.25])
    assert b.get_agent_state() is not None  # the last one to place it reads its own pose
    a.close()
    b.close()


def test_an_env_resets_on_a_server_whose_cameras_have_fixed_sizes(monkeypatch):
    """The env's camera-above-ceiling check renders a 1x1 probe, which an Unreal server with
    fixed-size cameras cannot; the check is skipped there, so the env resets and steps without
    cameras={'1x1': ...}."""
    import gymnasium as gym

    import navgym  # noqa: F401

    options = dict(split="val", num_scenes=1, episodes_per_scene=1, resolution=(144, 256))
    embedded = gym.make("ObjectNav-ProcHouse-v0", **options)
    embedded.reset(seed=0)
    scene = embedded.unwrapped.episode.scene_id
    embedded.close()
    with EmbeddedAirSimServer(_Unreal(scene), port=0) as unreal:
        monkeypatch.setenv("NAVGYM_AIRSIM_PORT", str(unreal.port))
        env = gym.make("ObjectNav-ProcHouse-v0", sim="airsim", **options)
        obs, _ = env.reset(seed=0)
        assert obs["rgb"].shape == (144, 256, 3) and obs["depth"].shape == (144, 256, 1)
        obs, *_ = env.step(1)
        assert obs["rgb"].shape == (144, 256, 3)
        env.close()


class _Hovering(AirSimService):
    """A multirotor that keeps moving 2 cm per read after moveByVelocity (hovering, braking)."""

    moved = False

    def simGetVehiclePose(self, vehicle_name=""):
        if self.moved:  # the vehicle itself drifts 2 cm (north) before each read
            self._vehicle(vehicle_name).position[0] += 0.02
        return super().simGetVehiclePose(vehicle_name)

    def moveByVelocity(self, vx, vy, vz, duration, drivetrain=0, yaw_mode=None, vehicle_name=""):
        self.moved = True
        return super().moveByVelocity(vx, vy, vz, duration, drivetrain, yaw_mode, vehicle_name)


for _name in ("simGetVehiclePose", "moveByVelocity"):
    getattr(_Hovering, _name).__rpc__ = True


def test_a_flying_vehicle_that_drifts_is_not_taken_for_another_client():
    """motion='velocity' flies a multirotor, which moves on its own between reads: the check for a
    second client driving the vehicle (1 cm) is for computer-vision vehicles only."""
    with EmbeddedAirSimServer(_Hovering(SCENE, camera_resolution=(W, H)), port=0) as running:
        sim = AirSimSimulator(SCENE, port=running.port, timeout=20, motion="velocity")
        sim.move_agent([0.0, 0.0, -0.25])
        sim.get_agent_state()
        sim.render([(sim.get_agent_state(), SPEC)])
        sim.close()


def test_a_step_asks_the_server_for_its_scene_only_after_another_backend_changed_it(server, monkeypatch):
    """Each state read, render and move asked navgymSceneId (7 extra calls per env step, about
    half again the step's time); now only after a backend of this process served another scene."""
    from navgym.sims.airsim import client

    calls = []
    real_call = client.Connection.call

    def counting(self, method, *args):
        calls.append(method)
        return real_call(self, method, *args)

    sim = AirSimSimulator(SCENE, port=server.port, timeout=20)
    monkeypatch.setattr(client.Connection, "call", counting)
    state = sim.get_agent_state()
    for _ in range(3):
        sim.move_agent([0.0, 0.0, -0.25])
        state = sim.get_agent_state()
        sim.render([(state, SPEC)])
    assert "simGetImages" in calls and "navgymSceneId" not in calls
    sim.close()


class _UnrealWithoutSettings(_Unreal):
    """An older AirSim that cannot report its settings.json (no getSettingsString)."""

    def getSettingsString(self):
        return None


_UnrealWithoutSettings.getSettingsString.__rpc__ = False


def test_camera_names_are_not_refused_where_the_server_cannot_list_them(truth):
    """Without getSettingsString the backend cannot know settings.json's cameras: a camera
    declared there ('probe') is passed on rather than refused as unknown."""
    state = truth[0]
    probe = CameraSpec(1, 1, 5.0, 0.05, pitch=90.0, outputs=("depth",), max_depth=1000.0)
    with EmbeddedAirSimServer(_UnrealWithoutSettings(SCENE), port=0) as unreal:
        sim = AirSimSimulator(SCENE, port=unreal.port, timeout=20, cameras={"1x1": "probe"})
        assert sim.render([(state, probe)])[0]["depth"].shape == (1, 1, 1)
        sim.close()
