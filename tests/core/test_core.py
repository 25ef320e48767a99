"""The bottom layer: errors that are also built-ins, the range checker, geometry, paths, and
registries with lazy imports, "did you mean" and real entry points."""

from __future__ import annotations

import math
import sys

import numpy as np
import pytest

from navgym.core import check_range, heading_vector, quaternion_to_yaw, resolve_scene_path, wrap_angle, yaw_to_quaternion
from navgym.core.registry import Registry, import_object
from navgym.errors import DataNotFoundError, DatasetFormatError, InvalidArgumentError, NavgymError, UnknownNameError


def test_errors_are_also_the_builtins_older_code_catches():
    assert issubclass(InvalidArgumentError, ValueError) and issubclass(InvalidArgumentError, NavgymError)
    assert issubclass(UnknownNameError, ValueError) and issubclass(UnknownNameError, KeyError)
    assert issubclass(DataNotFoundError, FileNotFoundError)
    assert issubclass(DatasetFormatError, ValueError)
    assert str(UnknownNameError("agent='x' is not registered")) == "agent='x' is not registered"  # no KeyError quotes


@pytest.mark.parametrize(
    ("value", "message"),
    [(-1.0, "out of range"), (float("nan"), "out of range"), (float("inf"), "out of range"), ("wide", "not a number"), (True, "not a number"), (None, "not a number"),
     (np.bool_(True), "not a number"), (10**400, "out of range")],
)
def test_check_range_names_the_parameter_and_the_range(value, message):
    with pytest.raises(InvalidArgumentError, match=rf"hfov=.* {message}; allowed \(0.0, 179.0\]"):
        check_range("hfov", value, 0.0, 179.0, low_open=True)


@pytest.mark.parametrize("value", [0, -2.5, float("nan"), float("inf"), True, "15", [15]])
def test_check_minutes_rejects_what_is_not_a_positive_number_of_minutes(value):
    from navgym.core.checks import check_minutes

    with pytest.raises(InvalidArgumentError, match=r"pose_max_cpu_minutes=.* must be a positive number of minutes, or None"):
        check_minutes("pose_max_cpu_minutes", value)


def test_check_minutes_accepts_minutes_and_none():
    from navgym.core.checks import check_minutes

    assert check_minutes("m", None) is None
    assert check_minutes("m", 30) == 30.0 and check_minutes("m", np.float32(0.5)) == 0.5


def test_check_range_accepts_numbers_at_closed_ends():
    assert check_range("x", 1, 1, 2) == 1.0
    assert check_range("x", np.float32(2.0), 1, 2) == 2.0
    with pytest.raises(InvalidArgumentError):
        check_range("x", 2.0, 1, 2, high_open=True)


def test_geometry_conventions():
    assert quaternion_to_yaw(yaw_to_quaternion(0.7)) == pytest.approx(0.7)
    np.testing.assert_allclose(heading_vector(0.0), [0.0, 0.0, -1.0], atol=1e-12)  # yaw 0 faces -z
    np.testing.assert_allclose(heading_vector(math.pi / 2), [-1.0, 0.0, 0.0], atol=1e-12)  # left turn faces -x
    assert wrap_angle(3 * math.pi) == pytest.approx(-math.pi)
    np.testing.assert_allclose(wrap_angle(np.array([0.0, 2 * math.pi + 0.1])), [0.0, 0.1], atol=1e-12)


def test_scene_paths_stay_inside_the_data_root(tmp_path):
    assert resolve_scene_path("data/scene_datasets/gibson/A.glb", tmp_path) == tmp_path / "scene_datasets/gibson/A.glb"
    with pytest.raises(InvalidArgumentError, match="escapes the data root"):
        resolve_scene_path("../../etc/passwd", tmp_path)


def test_registry_imports_lazily_and_suggests_close_names():
    registry = Registry("widget", "navgym.test_widgets", "widget")
    registry.register("wrap", "navgym.core.geometry:wrap_angle", "wraps angles")
    assert registry.get("wrap") is wrap_angle
    assert registry.describe("wrap") == "wraps angles"
    with pytest.raises(UnknownNameError, match=r"widget='wrapp' is not a registered widget\. Did you mean 'wrap'\?"):
        registry.get("wrapp")
    with pytest.raises(InvalidArgumentError, match="registered already"):
        registry.register("wrap", "navgym.core.geometry:heading_vector")
    with pytest.raises(InvalidArgumentError, match="package.module:attribute"):
        import_object("no_colon_here")


def test_registry_finds_third_party_entry_points(tmp_path, monkeypatch):
    # A real installed-distribution layout: importlib.metadata reads its entry_points.txt.
    package = tmp_path / "thirdparty_widgets"
    package.mkdir()
    (package / "__init__.py").write_text("def make(**kwargs):\n    '''A third-party widget.'''\n    return 'made'\n")
    dist = tmp_path / "thirdparty_widgets-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: thirdparty-widgets\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[navgym.test_widgets]\nplugged = thirdparty_widgets:make\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    registry = Registry("widget", "navgym.test_widgets", "widget")
    assert "plugged" in registry.names()
    assert registry.get("plugged")() == "made"
    sys.modules.pop("thirdparty_widgets", None)


def test_replace_atomically_flushes_the_file_before_the_rename_and_the_folder_after(tmp_path, monkeypatch):
    """A power cut after the rename must not leave an empty checkpoint: the temporary file's bytes
    are fsynced before os.replace points the name at them, and the folder's entry after."""
    import os

    from navgym.core.paths import replace_atomically

    events = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd):
        events.append(("fsync", os.path.basename(os.readlink(f"/proc/self/fd/{fd}"))))
        real_fsync(fd)

    def replace(src, dst):
        events.append(("replace", os.path.basename(dst)))
        real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    target = tmp_path / "checkpoint.zip"
    replace_atomically(target, lambda tmp: tmp.write_bytes(b"weights"))
    assert target.read_bytes() == b"weights" and [p.name for p in tmp_path.iterdir()] == ["checkpoint.zip"]
    kinds = [kind for kind, _ in events]
    assert kinds == ["fsync", "replace", "fsync"], events
    assert events[0][1].startswith(".checkpoint.zip.") and events[2][1] == tmp_path.name


def test_flag_reads_the_same_words_everywhere():
    """One boolean reader for agent, reasoner and CLI options: on/off too (the openai reasoner
    accepted strict=on while frontier refused initial_spin=on), 0/1 integers, surrounding spaces."""
    from navgym.core.options import flag
    from navgym.errors import InvalidArgumentError

    for value, expected in ((True, True), ("On", True), (" yes ", True), (1, True), ("off", False), (0, False), ("FALSE", False)):
        assert flag("x", value) is expected, value
    for bad in ("ture", 2, 0.5, None, "maybe"):
        with pytest.raises(InvalidArgumentError, match=rf"x={bad!r} must be true or false"):
            flag("x", bad)
