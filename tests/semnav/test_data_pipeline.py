"""The SemanticNav data pipeline (navgym semnav-data): heatmaps checked against the simulator's
geometry, the facing heatmap on the target mask, the split by house, resume, the loader's errors
on corrupted folders and escaping paths, the CLI end to end. Tiny: 2 houses, the Jetbot, 3 views."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from typer.testing import CliRunner

from navgym.core.geometry import yaw_toward
from navgym.core.paths import data_root
from navgym.envs.factory import SimFactory
from navgym.errors import DataNotFoundError, DatasetFormatError, InvalidArgumentError
from navgym.scenes.prochouse import split_of
from navgym.semnav import SemNavDataset
from navgym.semnav import data as semdata
from navgym.semnav.data import DataOptions, body_embodiment, generate, plan_houses, split_counts
from navgym.semnav.heatmaps import facing_heatmap, ground_mask, pixel_points, region_distances
from navgym.tasks.semantic_nav import is_traversable

OPTIONS = DataOptions(views_per_house=3, negative_fraction=0.5)


@pytest.fixture(scope="module")
def dataset_dir(tmp_path_factory):
    """2 houses (one train, one test) x the Jetbot x 3 views, with negatives."""
    out = tmp_path_factory.mktemp("semnav") / "data"
    result = generate(out, 2, ["jetbot"], OPTIONS, progress=False)
    assert [seed for seed, _ in result.made] == [0, 2_000_000]
    return out


@pytest.fixture(scope="module")
def sims(dataset_dir):
    made = {}
    yield lambda scene_id: made.setdefault(scene_id, SimFactory("auto", body_embodiment("jetbot").body, data_root(None))(scene_id))
    for sim in made.values():
        sim.close()


def copy_of(dataset_dir, tmp_path):
    target = tmp_path / "copy"
    shutil.copytree(dataset_dir, target)
    return target


def first_record_file(root):
    manifest = json.loads((root / "manifest.json").read_text())
    house = next(iter(manifest["houses"].values()))
    return root / house["bodies"]["jetbot"]["records"]


# -- the heatmaps against the geometry -------------------------------------------------------------
def test_navigation_heatmap_marks_exactly_the_traversable_ground_within_the_success_distance(dataset_dir, sims):
    data = SemNavDataset(dataset_dir)
    rng = np.random.default_rng(0)
    embodiment = body_embodiment("jetbot")
    positives_seen = 0
    for index, record in enumerate(data.records):
        item, camera, state = data[index], data.camera("jetbot"), data.pose(index)
        sim = sims(record["scene_id"])
        target = record["target"]
        region = sim.navigable_points_near(target["bbox_min"], target["bbox_max"], 0.5)
        points = pixel_points(item["depth"], camera, state)
        ground = ground_mask(points, float(state.position[1]))
        heat = item["nav_heatmap"]
        assert heat.min() >= 0.0 and heat.max() <= 1.0
        assert not (heat > 0)[~item["traversable"]].any()  # support inside the traversable mask
        assert not item["traversable"][~ground].any()  # traversable pixels see the floor
        positives = np.argwhere(heat > 0)
        if record["negative"]:
            assert len(positives) == 0 and item["facing_heatmap"].max() == 0.0 and not item["target_mask"].any()
            continue
        positives_seen += len(positives)
        assert len(positives) == record["nav_pixels"]
        if len(positives) == 0:  # the target is in view but none of the ground near it is
            assert record["nav_point"] is None
            continue
        # Every marked pixel: its ground point is navigable, the footprint free facing the target,
        # the geodesic to the reachable region < 1 m (the interface's own answer), value 1 - d.
        chosen = positives[rng.choice(len(positives), min(25, len(positives)), replace=False)]
        for row, col in chosen:
            point = points[row, col]
            assert abs(point[1] - state.position[1]) <= 0.05
            assert sim.is_navigable(point)
            assert is_traversable(sim, point, yaw_toward(point, target["center"]), embodiment)
            distance = sim.geodesic_distance(point, region)
            assert distance < 1.0
            assert heat[row, col] == pytest.approx(1.0 - distance, abs=2e-3)
            assert item["region_distance"][row, col] == pytest.approx(distance, abs=5e-3)
        # And no pixel left out: unmarked ground is not traversable or 1 m or more away.
        unmarked = np.argwhere((heat == 0) & ground)
        for row, col in unmarked[rng.choice(len(unmarked), min(40, len(unmarked)), replace=False)]:
            point = points[row, col]
            if is_traversable(sim, point, yaw_toward(point, target["center"]), embodiment):
                assert sim.geodesic_distance(point, region) >= 1.0 - 1e-6
        # The recorded ground-truth point is a peak of the heatmap, and its ground point is stored.
        row, col = record["nav_point"]["pixel"]
        assert heat[row, col] == heat.max()
        np.testing.assert_allclose(record["nav_point"]["position"], points[row, col], atol=1e-3)
    assert positives_seen > 0


def test_region_distances_fast_path_equals_the_interface(dataset_dir, sims):
    record = SemNavDataset(dataset_dir).records[0]
    sim = sims(record["scene_id"])
    target = record["target"]
    region = sim.navigable_points_near(target["bbox_min"], target["bbox_max"], 0.5)
    points = sim.navigable_points_near(target["bbox_min"], target["bbox_max"], 3.0)[::7] + np.array([0.011, 0.0, -0.007])
    points = np.array([p for p in points if sim.is_navigable(p)])
    fast = region_distances(sim, points, region)
    slow = np.array([sim.geodesic_distance(p, region) for p in points])
    np.testing.assert_allclose(fast, slow, rtol=0, atol=1e-9)


def test_facing_heatmap_is_a_unit_gaussian_peaking_on_the_target_mask(dataset_dir):
    data = SemNavDataset(dataset_dir, negatives=False)
    assert len(data) > 0
    for index, record in enumerate(data.records):
        item = data[index]
        face, mask = item["facing_heatmap"], item["target_mask"]
        peak = np.unravel_index(int(np.argmax(face)), face.shape)
        assert mask[peak] and face[peak] == 1.0
        assert list(peak) == record["facing_point"]["pixel"]
        assert int(mask.sum()) == record["target"]["pixels"] > 0
    # A concave mask (an L): the centroid lies off it, the peak still on it.
    mask = np.zeros((20, 20), dtype=bool)
    mask[2:18, 2:5] = True
    mask[15:18, 2:18] = True
    heat, centre = facing_heatmap(mask)
    assert mask[centre] and heat[centre] == 1.0 and heat.max() == 1.0
    assert facing_heatmap(np.zeros((4, 4), dtype=bool))[1] is None


# -- split ----------------------------------------------------------------------------------------
def test_split_is_by_house_deterministic_and_recorded(dataset_dir):
    for houses in (1, 2, 3, 10, 57):
        counts = split_counts(houses)
        assert sum(counts.values()) == houses and counts["train"] >= 1
    assert split_counts(2) == {"train": 1, "val": 0, "test": 1}
    plan = plan_houses(20, split_seed=7)
    assert plan == plan_houses(20, split_seed=7)  # deterministic
    assert plan != plan_houses(20, split_seed=8)
    for split, seeds in plan.items():
        assert all(split_of(seed) == split for seed in seeds)  # ProcHouse's disjoint ranges
        assert seeds[: len(plan_houses(10, split_seed=7)[split])] == plan_houses(10, split_seed=7)[split]  # prefix-stable
    assert plan_houses(3) == {"train": [0], "val": [1_000_000], "test": [2_000_000]}
    manifest = json.loads((dataset_dir / "manifest.json").read_text())
    assert manifest["splits"]["planned"] == {"train": [0], "val": [], "test": [2_000_000]}
    assert {h["seed"]: h["split"] for h in manifest["houses"].values()} == {0: "train", 2_000_000: "test"}
    train, test = SemNavDataset(dataset_dir, split="train"), SemNavDataset(dataset_dir, split="test")
    assert {r["house"] for r in train.records} == {0} and {r["house"] for r in test.records} == {2_000_000}
    assert manifest["counts"]["samples"] == len(train) + len(test)
    assert manifest["bodies"]["jetbot"]["camera"]["width"] == 128 and manifest["format_version"] == 1


# -- resume ---------------------------------------------------------------------------------------
def test_resume_skips_finished_pairs_and_regenerates_identical_missing_ones(dataset_dir, tmp_path):
    root = copy_of(dataset_dir, tmp_path)
    stamp = {p: p.stat().st_mtime_ns for p in root.rglob("*") if p.is_file() and p.name != "manifest.json"}
    again = generate(root, 2, ["jetbot"], OPTIONS, progress=False)
    assert again.made == [] and len(again.skipped) == 2
    assert {p: p.stat().st_mtime_ns for p in stamp} == stamp
    # A pair whose sample list is gone is generated again, identically (seeded by house and body).
    records = first_record_file(root)
    before = records.read_text()
    arrays_before = dict(np.load(records.parent / "0000.npz"))
    shutil.rmtree(records.parent)
    again = generate(root, 2, ["jetbot"], OPTIONS, progress=False)
    assert again.made == [(0, "jetbot")]
    assert records.read_text() == before
    for name, array in np.load(records.parent / "0000.npz").items():
        np.testing.assert_array_equal(array, arrays_before[name])
    # Other generation options are refused, naming the difference.
    with pytest.raises(DatasetFormatError, match="views_per_house"):
        generate(root, 2, ["jetbot"], DataOptions(views_per_house=4, negative_fraction=0.5), progress=False)


def test_an_interrupted_run_keeps_finished_pairs(dataset_dir, tmp_path, monkeypatch):
    root = copy_of(dataset_dir, tmp_path)
    manifest = json.loads((root / "manifest.json").read_text())
    real = semdata.generate_pair
    calls = []

    def interrupted(seed, body, *args, **kwargs):
        calls.append(seed)
        if seed == 1_000_000:
            raise KeyboardInterrupt
        return real(seed, body, *args, **kwargs)

    monkeypatch.setattr(semdata, "generate_pair", interrupted)
    # 4 houses (train 0, 1; val 1_000_000; test 2_000_000): 0 and 2_000_000 are finished; house 1
    # is made, then the run is interrupted in the val house.
    with pytest.raises(KeyboardInterrupt):
        generate(root, 4, ["jetbot"], OPTIONS, progress=False)
    assert calls == [1, 1_000_000]
    kept = json.loads((root / "manifest.json").read_text())
    assert set(kept["houses"]) == set(manifest["houses"]) | {"h0000001"}
    assert SemNavDataset(root).verify() == manifest["counts"]["samples"] + kept["houses"]["h0000001"]["bodies"]["jetbot"]["samples"]
    monkeypatch.setattr(semdata, "generate_pair", lambda seed, body, *a, **k: calls.append(seed) or semdata.PairResult())
    calls.clear()
    result = generate(root, 4, ["jetbot"], OPTIONS, progress=False)
    assert calls == [1_000_000] and result.made == [(1_000_000, "jetbot")] and len(result.skipped) == 3


# -- the loader's errors ----------------------------------------------------------------------------
def test_loader_reads_items_as_numpy(dataset_dir):
    data = SemNavDataset(dataset_dir)
    item = data[0]
    assert item["rgb"].dtype == np.uint8 and item["rgb"].shape == (96, 128, 3)
    for name in ("depth", "nav_heatmap", "facing_heatmap", "region_distance"):
        assert item[name].dtype == np.float32 and item[name].shape == (96, 128)
    assert item["traversable"].dtype == bool and item["prompt_image"].shape == (96, 128, 3)
    assert len(list(iter(data))) == len(data) == data.verify()
    for kind in ("text", "image", "interleaved"):
        for item in SemNavDataset(dataset_dir, prompt_kind=kind):
            assert item["prompt_kind"] == kind
            assert (item["prompt_text"] != "") == (kind != "image")
            assert (item["prompt_image"].any()) == (kind != "text")
            if kind == "interleaved":
                assert "<image>" in item["prompt_text"]


@pytest.mark.parametrize(
    "bad, message",
    [("../outside.png", "escapes"), ("/etc/passwd", "absolute"), ("houses/../../x.npz", "escapes"), ("", "non-empty")],
)
def test_loader_refuses_paths_escaping_the_folder(dataset_dir, tmp_path, bad, message):
    root = copy_of(dataset_dir, tmp_path)
    records = first_record_file(root)
    lines = records.read_text().splitlines()
    record = json.loads(lines[0])
    record["files"]["rgb"] = bad
    records.write_text("\n".join([json.dumps(record), *lines[1:]]) + "\n")
    with pytest.raises(DatasetFormatError, match=message) as error:
        SemNavDataset(root)
    assert str(records) in str(error.value)


def test_loader_refuses_a_symlink_out_of_the_folder_and_a_manifest_path_outside(dataset_dir, tmp_path):
    root = copy_of(dataset_dir, tmp_path)
    records = first_record_file(root)
    png = records.parent / "0000_rgb.png"
    outside = tmp_path / "outside.png"
    shutil.move(png, outside)
    png.symlink_to(outside)
    with pytest.raises(DatasetFormatError, match="resolves outside"):
        SemNavDataset(root)
    manifest = json.loads((root / "manifest.json").read_text())
    house = next(iter(manifest["houses"].values()))
    house["bodies"]["jetbot"]["records"] = "../../elsewhere/samples.jsonl"
    (root / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(DatasetFormatError, match="escapes"):
        SemNavDataset(root)


def test_loader_names_the_corrupted_or_missing_file_and_the_fix(dataset_dir, tmp_path):
    root = copy_of(dataset_dir, tmp_path)
    records = first_record_file(root)
    npz = records.parent / "0000.npz"
    npz.write_bytes(npz.read_bytes()[:200])  # truncated
    data = SemNavDataset(root)
    with pytest.raises(DatasetFormatError, match="corrupted or truncated") as error:
        data[0]
    assert str(npz) in str(error.value) and "rerun" in str(error.value) and str(records.parent) in str(error.value)
    (records.parent / "0001_rgb.png").write_bytes(b"not a png")
    with pytest.raises(DatasetFormatError, match="0001_rgb.png"):
        data[1]
    (records.parent / "0002_rgb.png").unlink()
    with pytest.raises(DataNotFoundError, match="0002_rgb.png is missing"):
        SemNavDataset(root)
    records.write_text(records.read_text()[:-40])  # last line cut
    with pytest.raises(DatasetFormatError, match="samples.jsonl:.*not valid JSON"):
        SemNavDataset(root, check_files=False)
    (root / "manifest.json").write_text("{ truncated")
    with pytest.raises(DatasetFormatError, match="manifest.json is not valid JSON"):
        SemNavDataset(root)
    with pytest.raises(DataNotFoundError, match="not a semnav-data folder"):
        SemNavDataset(tmp_path / "copy" / "houses")
    with pytest.raises(InvalidArgumentError, match="bodies"):
        SemNavDataset(dataset_dir, bodies=["h1"])


def test_torch_dataloader_batches_items(dataset_dir):
    torch = pytest.importorskip("torch")
    from torch.utils.data import DataLoader

    batch = next(iter(DataLoader(SemNavDataset(dataset_dir), batch_size=2)))
    assert batch["rgb"].shape == (2, 96, 128, 3) and batch["nav_heatmap"].dtype == torch.float32
    assert len(batch["prompt_text"]) == 2


# -- the command ------------------------------------------------------------------------------------
def test_cli_writes_resumes_and_reports_errors(tmp_path, capsys):
    from navgym.cli import app, main

    runner = CliRunner(env={"COLUMNS": "1000"})  # wide: rich wraps error boxes at 80 columns
    out = tmp_path / "cli"
    args = ["semnav-data", "--houses", "1", "--out", str(out), "--bodies", "jetbot", "--views-per-house", "1", "--no-progress"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "samples (train" in result.output and (out / "manifest.json").is_file()
    assert len(SemNavDataset(out)) >= 1
    result = runner.invoke(app, args)
    assert result.exit_code == 0 and "already finished" in result.output
    result = runner.invoke(app, [*args[:5], "--bodies", "jetbt"])
    assert result.exit_code == 2 and "Did you mean 'jetbot'" in result.output
    (tmp_path / "file").write_text("x")
    result = runner.invoke(app, ["semnav-data", "--houses", "1", "--out", str(tmp_path / "file")])
    assert result.exit_code == 2 and "is not a folder" in result.output
    with pytest.raises(SystemExit) as exit_:  # the console entry point: one line, status 2
        main([*args[:-2], "3", "--no-progress"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error:") and "views_per_house" in err[0]
