"""navgym's AirSim-protocol server, driven by the real Cosys-AirSim client over loopback TCP."""

from __future__ import annotations

import io
import math
import socket

import numpy as np
import pytest

cosysairsim = pytest.importorskip("cosysairsim")
from msgpackrpc.error import RPCError  # noqa: E402  (rpc-msgpack comes with cosysairsim)

from navgym.core.specs import AgentState, CameraSpec  # noqa: E402
from navgym.errors import InvalidArgumentError  # noqa: E402
from navgym.sims.airsim import frames  # noqa: E402
from navgym.sims.airsim.server import EmbeddedAirSimServer, scene_id_from_cli  # noqa: E402
from navgym.sims.embedded.lidar import lidar_points  # noqa: E402
from navgym.sims.embedded.simulator import EmbeddedSimulator  # noqa: E402
from navgym.testing.simulator import room_scene  # noqa: E402

SCENE = "prochouse/1000003"
W, H = 64, 48


@pytest.fixture(scope="module")
def server():
    with EmbeddedAirSimServer(SCENE, port=0, camera_resolution=(W, H)) as running:
        yield running


@pytest.fixture
def client(server):
    client = cosysairsim.ComputerVisionClient(port=server.port, timeout_value=20)
    client.reset()
    yield client
    client.client.close()


@pytest.fixture(scope="module")
def embedded():
    return EmbeddedSimulator(SCENE)


def _non_loopback_ip() -> str | None:
    """This machine's address on its default route (None without one)."""
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect(("10.255.255.255", 1))  # UDP: no packet is sent
        ip = probe.getsockname()[0]
    except OSError:
        return None
    finally:
        probe.close()
    return None if ip.startswith("127.") else ip


def test_binds_loopback_only(server):
    assert server.bound and all(address[0] == "127.0.0.1" for address in server.bound)
    ip = _non_loopback_ip()
    if ip is not None:
        with pytest.raises(OSError):
            socket.create_connection((ip, server.port), timeout=2).close()
    with socket.create_connection(("127.0.0.1", server.port), timeout=2):
        pass
    with pytest.raises(InvalidArgumentError, match="loopback"):
        EmbeddedAirSimServer(SCENE, host="0.0.0.0", port=0)


def test_port_in_use_is_a_clear_error(server):
    with pytest.raises(OSError, match=f"127.0.0.1:{server.port}.*--port"):
        EmbeddedAirSimServer(server.service, port=server.port).start()


def test_scene_ids_from_the_cli():
    assert scene_id_from_cli("prochouse:42") == "prochouse/42"
    assert scene_id_from_cli("prochouse/42") == "prochouse/42"
    with pytest.raises(InvalidArgumentError, match="prochouse:SEED"):
        scene_id_from_cli("prochouse:forty")


def test_connection_and_versions(client, capsys):
    client.confirmConnection()
    out = capsys.readouterr().out
    assert "Connected!" in out and "Server Ver:4" in out
    assert client.ping() is True
    assert client.getServerVersion() >= client.getMinRequiredServerVersion()
    assert client.getMinRequiredClientVersion() <= client.getClientVersion()
    assert client.listVehicles() == ["ComputerVision"]
    client.enableApiControl(True)
    assert client.isApiControlEnabled() is True
    assert client.armDisarm(True) is True
    assert client.client.call("navgymSceneId") == SCENE


def test_unknown_method_and_bad_arguments_are_rpclib_errors(client):
    with pytest.raises(RPCError, match="could not find function 'simFlyToTheMoon' with argument count 2"):
        client.client.call("simFlyToTheMoon", 1, 2)
    with pytest.raises(RPCError, match="could not find function '__init__'"):
        client.client.call("__init__")  # only AirSim's names are callable, never Python internals
    with pytest.raises(RPCError, match=r"'simGetVehiclePose' \(taking 1 arg\(s\)\) called with 3"):
        client.client.call("simGetVehiclePose", "", "", "")
    with pytest.raises(RPCError, match="Vehicle API for 'nobody' is not available"):
        client.simGetVehiclePose("nobody")
    with pytest.raises(RPCError, match="simSetVehiclePose: pose"):
        client.client.call("simSetVehiclePose", {"position": 3}, True, "")


def test_pose_round_trip_in_ned(client):
    pose = cosysairsim.Pose(cosysairsim.Vector3r(1.25, -2.5, -0.0), cosysairsim.Quaternionr(0.0, 0.0, math.sin(0.35), math.cos(0.35)))
    client.simSetVehiclePose(pose, True)
    got = client.simGetVehiclePose()
    assert (got.position.x_val, got.position.y_val, got.position.z_val) == (1.25, -2.5, 0.0)
    assert got.orientation.z_val == pytest.approx(math.sin(0.35), abs=1e-12) and got.orientation.w_val == pytest.approx(math.cos(0.35), abs=1e-12)
    # In navgym's frame: north (+X) is -z, east (+Y) is +x; a yaw of 0.7 to the right is -0.7.
    state = frames.state_from_vehicle_pose(frames.read_vector(got.position), frames.read_quat(got.orientation))
    assert np.allclose(state.position, [-2.5, 0.0, -1.25]) and state.yaw == pytest.approx(-0.7, abs=1e-12)
    # NaN components keep the current value (AirSim's rule).
    client.simSetVehiclePose(cosysairsim.Pose(cosysairsim.Vector3r(np.nan, 4.0, np.nan), cosysairsim.Quaternionr.nanQuaternionr()), True)
    again = client.simGetVehiclePose()
    assert (again.position.x_val, again.position.y_val) == (1.25, 4.0) and again.orientation.z_val == pytest.approx(math.sin(0.35))


def _state_of_vehicle(client) -> AgentState:
    pose = client.simGetVehiclePose()
    return frames.state_from_vehicle_pose(frames.read_vector(pose.position), frames.read_quat(pose.orientation))


def test_images_match_the_embedded_renderer(client, embedded):
    """Scene raw (RGB bytes, as Cosys-AirSim sends them) and PNG, DepthPlanar floats and Segmentation colours, against the embedded
    simulator rendering the same camera: the default front_center, 1.25 m up, 90 degrees."""
    state = _state_of_vehicle(client)
    truth = embedded.render([(state, CameraSpec(width=W, height=H, hfov=90.0, camera_height=1.25, outputs=("rgb", "depth", "semantic"), max_depth=1000.0))])[0]
    requests = [
        cosysairsim.ImageRequest("0", cosysairsim.ImageType.Scene, False, False),
        cosysairsim.ImageRequest("front_center", cosysairsim.ImageType.Scene, False, True),
        cosysairsim.ImageRequest("0", cosysairsim.ImageType.DepthPlanar, True),
        cosysairsim.ImageRequest("0", cosysairsim.ImageType.DepthPerspective, True),
        cosysairsim.ImageRequest("0", cosysairsim.ImageType.Segmentation, False, False),
    ]
    raw, png, planar, perspective, segmentation = client.simGetImages(requests)
    assert all((r.width, r.height) == (W, H) for r in (raw, png, planar, perspective, segmentation))
    rgb = np.frombuffer(raw.image_data_uint8, dtype=np.uint8).reshape(H, W, 3)
    assert np.array_equal(rgb, truth["rgb"])
    from PIL import Image

    assert png.image_data_uint8[:8] == b"\x89PNG\r\n\x1a\n"
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(png.image_data_uint8)).convert("RGB")), truth["rgb"])
    depth = cosysairsim.get_pfm_array(planar)
    assert depth.shape == (H, W) and np.array_equal(depth, truth["depth"][..., 0])
    ray = cosysairsim.get_pfm_array(perspective)
    assert (ray >= depth - 1e-4).all() and ray[H // 2, W // 2] == pytest.approx(depth[H // 2, W // 2], rel=1e-3)
    assert ray[0, 0] > depth[0, 0] * 1.3  # a corner ray is longer than its z-depth at 90 degrees
    colours = np.frombuffer(segmentation.image_data_uint8, dtype=np.uint8).reshape(H, W, 3)
    colormap = np.load(f"{cosysairsim.__path__[0]}/colormap.npy", mmap_mode="r")
    assert np.array_equal(colours, np.asarray(colormap)[truth["semantic"]])
    names = client.simListInstanceSegmentationObjects()
    visible = set(np.unique(truth["semantic"]).tolist()) - {0}
    assert visible and all(names[i] and names[i].endswith(f"_{i}") for i in visible)
    # The camera pose in the response is the camera's world pose (NED).
    assert raw.camera_position.z_val == pytest.approx(-(state.position[1] + 1.25))
    assert client.simGetImage("0", cosysairsim.ImageType.Scene)[:4] == b"\x89PNG"


def test_camera_fov_pose_and_resolution(client, embedded):
    client.simSetCameraFov("0", 60.0)
    client.client.call("navgymSetCameraResolution", "0", 40, 30, "")
    tilt = math.radians(-20.0)  # pitch down 20 degrees: about the camera's +Y (right), NED
    client.simSetCameraPose("0", cosysairsim.Pose(cosysairsim.Vector3r(0.0, 0.0, -0.8), cosysairsim.Quaternionr(0.0, math.sin(tilt / 2), 0.0, math.cos(tilt / 2))))
    info = client.simGetCameraInfo("0")
    assert info.fov == 60.0
    state = _state_of_vehicle(client)
    (response,) = client.simGetImages([cosysairsim.ImageRequest("0", cosysairsim.ImageType.DepthPlanar, True)])
    assert (response.width, response.height) == (40, 30)
    truth = embedded.render([(state, CameraSpec(width=40, height=30, hfov=60.0, camera_height=0.8, pitch=-20.0, outputs=("depth",), max_depth=1000.0))])[0]
    depth = cosysairsim.get_pfm_array(response)
    close = np.isclose(depth, truth["depth"][..., 0], rtol=1e-4, atol=1e-4)
    assert close.mean() >= 0.99, close.mean()
    with pytest.raises(RPCError, match="fov_degrees"):
        client.simSetCameraFov("0", 200.0)
    with pytest.raises(RPCError, match="Camera 'nope' was not found"):
        client.simSetCameraFov("nope", 60.0)
    client.simSetCameraFov("0", 90.0)
    client.client.call("navgymSetCameraResolution", "0", W, H, "")
    client.simSetCameraPose("0", cosysairsim.Pose(cosysairsim.Vector3r(0.0, 0.0, -1.25), cosysairsim.Quaternionr()))


def test_depth_without_floats_and_unknown_image_types_are_errors(client):
    with pytest.raises(RPCError, match="pixels_as_float=True"):
        client.simGetImages([cosysairsim.ImageRequest("0", cosysairsim.ImageType.DepthPlanar, False, False)])
    with pytest.raises(RPCError, match="this server renders"):
        client.simGetImages([cosysairsim.ImageRequest("0", cosysairsim.ImageType.SurfaceNormals, False, False)])


def test_object_listing_and_poses(client, server):
    instances = server.service.sim.object_instances()
    names = client.simListSceneObjects()
    assert sorted(names) == sorted(f"{i.category}_{i.id}" for i in instances)
    chairs = client.simListSceneObjects("chair_.*")
    assert chairs and all(n.startswith("chair_") for n in chairs)
    first = instances[0]
    pose = client.simGetObjectPose(f"{first.category}_{first.id}")
    centre = frames.ned_to_nav(frames.read_vector(pose.position))
    assert np.allclose(centre, (np.asarray(first.bbox_min) + np.asarray(first.bbox_max)) / 2)
    assert client.simGetSegmentationObjectID(f"{first.category}_{first.id}") == first.id
    assert math.isnan(client.simGetObjectPose("no_such_object").position.x_val)  # AirSim's NaN pose
    with pytest.raises(RPCError, match="not a regular expression"):
        client.simListSceneObjects("([")


def test_lidar_matches_the_ray_ring(client, server):
    data = client.getLidarData()
    cloud = np.asarray(data.point_cloud, dtype=np.float64).reshape(-1, 3)
    assert len(cloud) > 1000 and len(data.groundtruth) == len(cloud)
    settings = server.service.lidar_settings
    # Cosys-AirSim's shape: points in the sensor's frame (NED axes), pose relative to the vehicle.
    assert np.allclose(frames.read_vector(data.pose.position), [0.0, 0.0, -settings["mount_height"]])
    assert np.linalg.norm(cloud, axis=1).max() <= settings["max_range"] + 1e-3
    # The same sweep from the function, in the sensor's axes (x forward, y right, z down).
    state = _state_of_vehicle(client)
    sim = server.service.sim
    sim.set_agent_state(state, snap=True)
    local = lidar_points(sim, 0, channels=settings["channels"], points_per_channel=settings["points_per_channel"],
                         vertical_fov=settings["vertical_fov"], max_range=settings["max_range"], mount_height=settings["mount_height"])
    assert np.allclose(cloud, np.stack([-local[:, 2], local[:, 0], -local[:, 1]], axis=1), atol=1e-4)
    with pytest.raises(RPCError, match="no LiDAR named 'radar'"):
        client.getLidarData("radar")


def test_lidar_points_in_a_known_room():
    """One horizontal ring of 4 rays in the 4 m x 3 m conformance room: ahead, right, behind, left."""
    sim = EmbeddedSimulator(room_scene().scene)
    sim.set_agent_state(AgentState.from_yaw([3.5, 0.0, 2.5], 0.0))
    points = lidar_points(sim, channels=1, points_per_channel=4, vertical_fov=(0.0, 0.0), max_range=20.0, mount_height=1.0)
    assert points.dtype == np.float32 and points.shape == (4, 3)
    assert np.allclose(points, [[0, 0, -2.5], [0.5, 0, 0], [0, 0, 0.5], [-3.5, 0, 0]], atol=1e-4)
    sim.set_agent_state(AgentState.from_yaw([3.5, 0.0, 2.5], math.pi / 2))  # facing west (-x)
    turned = lidar_points(sim, channels=1, points_per_channel=4, vertical_fov=(0.0, 0.0), mount_height=1.0)
    assert np.allclose(turned, [[0, 0, -3.5], [2.5, 0, 0], [0, 0, 0.5], [-0.5, 0, 0]], atol=1e-4)
    short = lidar_points(sim, channels=1, points_per_channel=4, vertical_fov=(0.0, 0.0), max_range=1.0, mount_height=1.0)
    assert len(short) == 2  # the far walls are out of range
    many = lidar_points(sim)
    assert many.shape[1] == 3 and 0 < len(many) <= 16 * 360
    with pytest.raises(InvalidArgumentError, match="vertical_fov"):
        lidar_points(sim, vertical_fov=(10.0, -10.0))
    with pytest.raises(InvalidArgumentError, match="channels"):
        lidar_points(sim, channels=0)


def test_move_by_velocity_slides_on_the_floor(client, server):
    """moveByVelocity is a multirotor call in AirSim's clients; the server does it kinematically."""
    client = cosysairsim.MultirotorClient(port=server.port, timeout_value=20)
    start = _state_of_vehicle(client)
    grid_sim = server.service.sim
    client.moveByVelocityAsync(0.0, 0.0, 0.0, 1.0, yaw_mode=cosysairsim.YawMode(True, 90.0)).join()
    turned = _state_of_vehicle(client)
    assert turned.yaw == pytest.approx(start.yaw - math.pi / 2, abs=1e-9)  # 90 deg/s to the right for 1 s
    # Find a free direction, then move 0.3 m along it in the world frame (NED north = -z).
    for north, east in ((0.3, 0.0), (-0.3, 0.0), (0.0, 0.3), (0.0, -0.3)):
        target = start.position + frames.ned_to_nav([north, east, 0.0])
        if grid_sim.is_navigable(target) and grid_sim.geodesic_distance(start.position, [target]) < 0.31:
            break
    else:
        pytest.fail("no free direction around the start")
    client.moveByVelocityAsync(north, east, 0.0, 1.0).join()
    moved = _state_of_vehicle(client)
    assert np.allclose(moved.position[[0, 2]], target[[0, 2]], atol=1e-6)
    # A long push into walls never leaves the navigable area.
    client.moveByVelocityAsync(10.0, 3.0, 0.0, 2.0).join()
    assert grid_sim.is_navigable(_state_of_vehicle(client).position)


def test_numpy2_client_arithmetic_issue_is_still_there():
    """cosysairsim 3.5's Vector3r * float and Quaternionr / float look up np.sctypes, which
    numpy 2 removed; navgym converts through frames.py and never uses them. When this test
    fails, the client has fixed it (update docs/airsim.md)."""
    if not np.__version__.startswith("2"):
        pytest.skip("numpy 1 still has np.sctypes")
    with pytest.raises(AttributeError, match="sctypes"):
        cosysairsim.Vector3r(1.0, 2.0, 3.0) * 2.0
    with pytest.raises(AttributeError, match="sctypes"):
        cosysairsim.Quaternionr(0.0, 0.0, 0.0, 2.0) / 2.0
    assert np.array_equal(frames.read_vector(cosysairsim.Vector3r(1.0, 2.0, 3.0)) * 2.0, [2.0, 4.0, 6.0])


# -- the LiDAR is cast from the vehicle's pose; argument checks (a newcomer's probe) ---------------------
def _sweep(client) -> np.ndarray:
    return np.asarray(client.getLidarData().point_cloud, dtype=np.float64).reshape(-1, 3)


@pytest.mark.parametrize("offset", [(0.3, 0.0, 0.0), (0.0, 0.0, -3.0)], ids=["off-grid", "3m-up"])
def test_lidar_is_cast_from_the_vehicle_pose(client, server, embedded, offset):
    """A vehicle set off the grid (0.3 m) or in the air (3 m up): the sweep starts at the vehicle's
    pose + the mount, where the reply's pose says the sensor is (it used to start at the snapped
    floor point, so these sweeps were those of the start pose)."""
    from types import SimpleNamespace

    start = client.simGetVehiclePose()
    level = _sweep(client)
    moved = cosysairsim.Pose(cosysairsim.Vector3r(*(frames.read_vector(start.position) + np.array(offset))), start.orientation)
    client.simSetVehiclePose(moved, True)
    cloud = _sweep(client)
    state = frames.state_from_vehicle_pose(frames.read_vector(moved.position), frames.read_quat(moved.orientation))
    settings = server.service.lidar_settings
    at_pose = SimpleNamespace(caster=embedded.caster, get_agent_state=lambda agent_id=0: state)  # the reference ring, from the pose
    local = lidar_points(at_pose, 0, channels=settings["channels"], points_per_channel=settings["points_per_channel"],
                         vertical_fov=settings["vertical_fov"], max_range=settings["max_range"], mount_height=settings["mount_height"])
    expected = np.stack([-local[:, 2], local[:, 0], -local[:, 1]], axis=1)
    assert cloud.shape == expected.shape and np.allclose(cloud, expected, atol=1e-4)
    assert not (cloud.shape == level.shape and np.allclose(cloud, level, atol=1e-3))


def test_lidar_turns_with_a_pitched_vehicle(client, server, embedded):
    """Pitched nose-up by 0.6 rad, each point (sensor frame) put into the world with the vehicle's
    rotation lies where that world ray meets the scene (the sweep used to stay level: only the
    yaw was used, so it equalled the level sweep)."""
    from navgym.core.geometry import matrix_from_quat_wxyz

    start = client.simGetVehiclePose()
    level = _sweep(client)
    quat = cosysairsim.euler_to_quaternion(0.0, 0.6, 0.0)  # (roll, pitch, yaw)
    client.simSetVehiclePose(cosysairsim.Pose(start.position, quat), True)
    cloud = _sweep(client)
    rotation = matrix_from_quat_wxyz(frames.read_quat(quat))
    origin = frames.read_vector(start.position) + rotation @ [0.0, 0.0, -server.service.lidar_settings["mount_height"]]
    ranges = np.linalg.norm(cloud, axis=1)
    directions = frames.ned_to_nav((cloud / ranges[:, None]) @ rotation.T)
    t, prim, _, _ = embedded.caster.cast(np.broadcast_to(frames.ned_to_nav(origin), directions.shape), directions, max_distance=100.0)
    assert len(cloud) > 1000 and np.all(prim >= 0) and np.allclose(t, ranges, atol=1e-3)
    assert not (cloud.shape == level.shape and np.allclose(cloud, level, atol=1e-3))


def test_float_images_are_single_channel_and_capped(client, server):
    for kind in (cosysairsim.ImageType.Scene, cosysairsim.ImageType.Segmentation):
        with pytest.raises(RPCError, match="pixels_as_float=True; float images are single channel"):
            client.simGetImages([cosysairsim.ImageRequest("0", kind, True, False)])
    client.client.call("navgymSetCameraResolution", "0", 4096, 1025, "")
    try:
        with pytest.raises(RPCError, match=r"4096x1025 = 4198400 pixels; float images \(DepthPlanar\) are at most 4194304"):
            client.simGetImages([cosysairsim.ImageRequest("0", cosysairsim.ImageType.DepthPlanar, True, False)])
    finally:
        client.client.call("navgymSetCameraResolution", "0", W, H, "")
    depth = client.simGetImages([cosysairsim.ImageRequest("0", cosysairsim.ImageType.DepthPlanar, True, False)])[0]
    assert cosysairsim.get_pfm_array(depth).shape == (H, W)


@pytest.mark.parametrize("image_type", [0.0, True, "0"])
def test_image_type_must_be_an_integer(client, image_type):
    request = {"camera_name": "0", "image_type": image_type, "pixels_as_float": False, "compress": True}
    with pytest.raises(RPCError, match=f"image_type={image_type!r};"):
        client.client.call("simGetImages", [request], "")


def test_added_vehicle_with_a_bad_pose_is_not_added(client):
    with pytest.raises(RPCError, match="simAddVehicle: 'v6' was not added"):
        client.simAddVehicle("v6", "ComputerVision", "garbage", "")
    assert "v6" not in client.listVehicles()
    assert client.simAddVehicle("v6", "ComputerVision", client.simGetVehiclePose(), "")  # a retry works
    assert "v6" in client.listVehicles()


@pytest.mark.parametrize("method, args, message", [
    ("simSetCameraFov", ("0", None, ""), "simSetCameraFov: fov_degrees=None must be a number"),
    ("moveByVelocity", ("a", 0.0, 0.0, 1.0, 0, {"is_rate": True, "yaw_or_rate": 0.0}, ""), "moveByVelocity: vx='a' must be a number"),
    ("moveByVelocity", (0.1, 0.0, 0.0, 1.0, 0, "fast", ""), "moveByVelocity: yaw_mode='fast' must be a YawMode"),
    ("moveByVelocity", (0.1, 0.0, 0.0, "1", 0, None, ""), "moveByVelocity: duration='1' must be a number"),
    ("rotateByYawRate", (None, 1.0, ""), "rotateByYawRate: yaw_rate=None must be a number"),
    ("navgymSetVehicleBody", ("x", 1.0, 0.1, ""), "navgymSetVehicleBody: radius='x' must be a number"),
    ("simLoadLevel", ("prochouse:-1",), "simLoadLevel: level_name 'prochouse:-1': a ProcHouse scene is prochouse:SEED"),
    ("simLoadLevel", (7,), "simLoadLevel: level_name=7 must be a string"),
    ("getLidarData", (None, ""), "getLidarData: lidar_name=None must be a string"),
])
def test_bad_argument_types_are_one_clean_error(client, caplog, method, args, message):
    """A user's bad argument is an error reply naming the argument and the value, never a server
    traceback (they used to be TypeErrors logged with their traceback, and simLoadLevel's text
    spoke of the CLI's --scene flag)."""
    with caplog.at_level("ERROR", logger="navgym.sims.airsim.server"):
        with pytest.raises(RPCError) as info:
            client.client.call(method, *args)
    assert message in str(info.value) and "--scene" not in str(info.value)
    assert not [r for r in caplog.records if r.name == "navgym.sims.airsim.server"]
