"""Supervised training of the grounding models under a CPU-time budget, resumable.

``python scripts/train_grounding.py --data DIR --model heatmap --minutes 30 --out FILE`` calls
:func:`train`. What it does:

* reads the ``train`` split (and ``val``, for a validation loss) of a ``navgym semnav-data``
  folder into memory (:mod:`navgym.agents.grounding.data`), all bodies in one model (the paper
  trains one model and reuses it on every body, Sec. 3.5);
* draws batches uniformly with replacement and, per sample, one of the prompt kinds it has;
  augments with a horizontal flip of the view and its targets (SemanticNav's prompts have no
  left / right words), an independent flip of the prompt photo, and a brightness jitter (x 0.8-1.2);
* **heatmap model**, the paper's losses (Sec. 3.4): ``L = nav_weight * BCE(nav logits, nav target)
  + lambda_face(t) * focal(facing logits, facing target)``, the BCE over the valid decoder cells
  (Eq. 6), the facing loss CenterNet's Gaussian-reweighted focal loss with alpha = 2, beta = 4,
  normalised by the number of peak cells (Eq. 7);
* **point model**: ``L = coord_weight * L1(points) on samples that have the point + BCE(presence)``
  for navigation, the same times lambda_face(t) for facing;
* ``lambda_face(t)``: the paper's "dynamic annealing ... gradually reducing lambda_face toward the
  end of training" without a schedule: constant ``facing_weight`` for the first half of the budget,
  then linearly down to a quarter of it (navgym's choice);
* AdamW, linear warm-up over 50 steps, cosine decay to 5 % of ``lr`` over the budget;
* the budget: ``minutes`` of **process CPU time** of the training loop by default (``clock="cpu"``:
  the issue's "30 CPU minutes", and fair on a shared machine) or of wall time (``clock="wall"``);
  reading the data is not counted (it is reported). ``max_steps`` stops earlier;
* one torch thread (measured 3-9x faster than two for models this small on our 2-core machines);
* saves ``out`` every ``save_every`` steps, at the end and on Ctrl-C (atomically: a temporary file,
  then a rename), with the optimiser, the step, the time spent and the RNG state, so rerunning the
  same command continues where it stopped (``fresh=True`` starts over); a finished run is left as
  it is;
* logs to TensorBoard (``torch.utils.tensorboard``, when the ``tensorboard`` package is installed:
  it is in ``navgym[rl]``) under ``<out stem>_tb/`` and always to ``<out stem>_train.csv``.
"""

from __future__ import annotations

import csv
import math
import platform
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from navgym.agents.grounding.data import GroundingTensors, load_split
from navgym.agents.grounding.models import (
    GroundingConfig,
    TextEmbedder,
    build_model,
    parameter_count,
    read_checkpoint,
    save_checkpoint,
)
from navgym.errors import InvalidArgumentError

WARMUP_STEPS = 50


@dataclass
class TrainOptions:
    """Settings of :func:`train` (see the module doc)."""

    data: str
    out: str
    model: str = "heatmap"
    minutes: float = 30.0
    bodies: Sequence[str] | None = None
    batch_size: int = 32
    lr: float = 2e-3
    weight_decay: float = 1e-4
    nav_weight: float = 10.0
    facing_weight: float = 1.0
    coord_weight: float = 5.0
    seed: int = 0
    save_every: int = 100
    eval_every: int = 250
    log_every: int = 10
    clock: str = "cpu"
    max_steps: int | None = None
    fresh: bool = False
    progress: bool = True
    tensorboard: bool = True
    threads: int = 1
    config: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self):
        if self.model not in ("heatmap", "point"):
            raise InvalidArgumentError(f"model={self.model!r} must be 'heatmap' or 'point'")
        if not self.minutes > 0:
            raise InvalidArgumentError(f"minutes={self.minutes} must be positive")
        if self.clock not in ("cpu", "wall"):
            raise InvalidArgumentError(f"clock={self.clock!r} must be 'cpu' or 'wall'")
        for name in ("batch_size", "save_every", "eval_every", "log_every", "threads"):
            if int(getattr(self, name)) < 1:
                raise InvalidArgumentError(f"{name}={getattr(self, name)} must be at least 1")
        if self.max_steps is not None and self.max_steps < 1:
            raise InvalidArgumentError(f"max_steps={self.max_steps} must be at least 1")


# -- losses ----------------------------------------------------------------------------------------
def nav_bce(logits: torch.Tensor, target: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """The paper's Eq. 6: binary cross-entropy on the navigation logits, mean over valid cells."""
    loss = F.binary_cross_entropy_with_logits(logits, target, reduction="none")
    weights = valid.float()
    return (loss * weights).sum() / weights.sum().clamp(min=1.0)


def facing_focal(logits: torch.Tensor, target: torch.Tensor, valid: torch.Tensor, alpha: float = 2.0, beta: float = 4.0) -> torch.Tensor:
    """The paper's Eq. 7 (CenterNet): ``-(1/N) sum [y=1] (1-p)^a log p + [y<1] (1-y)^b p^a
    log(1-p)``, ``N`` the number of peak cells (at least 1)."""
    log_p = F.logsigmoid(logits)
    log_not_p = F.logsigmoid(-logits)
    p = torch.sigmoid(logits)
    peak = (target >= 1.0 - 1e-3) & valid
    rest = (~peak) & valid
    positive = ((1 - p) ** alpha) * log_p * peak
    negative = ((1 - target) ** beta) * (p**alpha) * log_not_p * rest
    return -(positive.sum() + negative.sum()) / peak.sum().clamp(min=1).float()


def facing_weight_at(progress: float, weight: float) -> float:
    """lambda_face: ``weight`` for the first half of training, then linearly down to ``weight / 4``."""
    if progress <= 0.5:
        return weight
    return weight * (1.0 - 0.75 * min(1.0, (progress - 0.5) / 0.5))


def learning_rate_at(step: int, progress: float, lr: float) -> float:
    warm = min(1.0, (step + 1) / WARMUP_STEPS)
    return lr * warm * (0.05 + 0.95 * 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress))))


def compute_loss(model, batch: dict[str, torch.Tensor], options: TrainOptions, face_weight: float) -> tuple[torch.Tensor, dict[str, float]]:
    out = model(batch["rgb"], batch["prompt_image"], batch["text_emb"], batch["has_text"], batch["has_image"])
    if "nav_logits" in out:
        nav = nav_bce(out["nav_logits"], batch["nav_target"], batch["valid"])
        facing = facing_focal(out["facing_logits"], batch["facing_target"], batch["valid"])
        loss = options.nav_weight * nav + face_weight * facing
        return loss, {"loss": loss.item(), "nav": nav.item(), "facing": facing.item()}
    parts = {}
    total = 0.0
    for name, weight in (("nav", 1.0), ("facing", face_weight)):
        present = batch[f"{name}_present"]
        presence = F.binary_cross_entropy_with_logits(out[f"{name}_logit"], present.float())
        if bool(present.any()):
            coords = (out[f"{name}_point"][present] - batch[f"{name}_uv"][present]).abs().sum(1).mean()
        else:
            coords = out[f"{name}_point"].sum() * 0.0
        part = options.coord_weight * coords + presence
        parts[name], parts[f"{name}_coords"] = part.item(), coords.item()
        total = total + weight * part
    parts["loss"] = total.item()
    return total, parts


# -- batches ---------------------------------------------------------------------------------------
def draw_batch(data: GroundingTensors, size: int, generator: torch.Generator, augment: bool = True) -> dict[str, torch.Tensor]:
    """``size`` samples drawn uniformly with replacement, each with a random kind it has."""
    index = torch.randint(len(data), (size,), generator=generator)
    kind = torch.multinomial(data.kinds[index].float(), 1, generator=generator).squeeze(1)
    batch = data.batch(index, kind)
    if not augment:
        return batch
    flip = torch.rand(size, generator=generator) < 0.5
    flip_photo = torch.rand(size, generator=generator) < 0.5
    scale = 0.8 + 0.4 * torch.rand(size, 1, 1, 1, generator=generator)
    for key in ("rgb", "nav_target", "facing_target", "valid"):
        batch[key] = torch.where(flip[:, None, None, None], batch[key].flip(-1), batch[key])
    for key in ("nav_uv", "facing_uv"):
        flipped = batch[key].clone()
        flipped[:, 0] = 1.0 - flipped[:, 0]
        batch[key] = torch.where(flip[:, None], flipped, batch[key])
    batch["prompt_image"] = torch.where(flip_photo[:, None, None, None], batch["prompt_image"].flip(-1), batch["prompt_image"])
    batch["rgb"] = (batch["rgb"].float() * (scale / 255.0)).clamp(0.0, 1.0)
    return batch


def validation_loss(model, data: GroundingTensors, options: TrainOptions, face_weight: float, limit: int = 256) -> dict[str, float]:
    """Mean losses over (up to ``limit``) val samples with their recorded prompt kinds, no augmentation."""
    model.eval()
    totals: dict[str, float] = {}
    count = min(limit, len(data))
    with torch.no_grad():
        for start in range(0, count, options.batch_size):
            index = torch.arange(start, min(count, start + options.batch_size))
            _, parts = compute_loss(model, data.batch(index, data.recorded_kind[index]), options, face_weight)
            for key, value in parts.items():
                totals[key] = totals.get(key, 0.0) + value * len(index)
    model.train()
    return {key: value / count for key, value in totals.items()}


# -- the loop --------------------------------------------------------------------------------------
class _Clock:
    def __init__(self, kind: str, spent: float):
        self.kind, self.spent = kind, spent
        self._start = self._now()

    def _now(self) -> float:
        return time.process_time() if self.kind == "cpu" else time.perf_counter()

    def elapsed(self) -> float:
        return self.spent + (self._now() - self._start)


class _Logger:
    def __init__(self, out: Path, tensorboard: bool, resume: bool):
        self.csv_path = out.with_name(out.stem + "_train.csv")
        self.fields = ["step", "samples", "elapsed_s", "wall_s", "lr", "facing_weight", "loss", "nav", "facing", "val_loss", "val_nav", "val_facing", "samples_per_s"]
        new = not (resume and self.csv_path.exists())
        self._file = open(self.csv_path, "w" if new else "a", newline="")
        self._csv = csv.DictWriter(self._file, fieldnames=self.fields, extrasaction="ignore")
        if new:
            self._csv.writeheader()
        self.writer = None
        self.tensorboard_note = "off"
        if tensorboard:
            try:
                from torch.utils.tensorboard import SummaryWriter

                self.logdir = out.with_name(out.stem + "_tb")
                self.writer = SummaryWriter(str(self.logdir))
                self.tensorboard_note = str(self.logdir)
            except ImportError:
                self.tensorboard_note = "tensorboard is not installed (pip install tensorboard, or navgym[rl]); logging to the CSV only"

    def log(self, step: int, row: dict[str, float]) -> None:
        self._csv.writerow({"step": step, **row})
        self._file.flush()
        if self.writer is not None:
            for key, value in row.items():
                if key not in ("step",) and value is not None:
                    self.writer.add_scalar(f"train/{key}" if not key.startswith("val_") else f"val/{key[4:]}", value, step)

    def close(self) -> None:
        self._file.close()
        if self.writer is not None:
            self.writer.close()


def _config_for(options: TrainOptions) -> GroundingConfig:
    return GroundingConfig(**{**options.config, "model": options.model})


def train(options: TrainOptions, embedder: TextEmbedder | None = None, print_fn=print) -> dict[str, Any]:
    """Train (or resume) and return the checkpoint's metadata (see the module doc)."""
    torch.set_num_threads(options.threads)
    out = Path(options.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    budget = 60.0 * options.minutes
    config = _config_for(options)
    resume = out.exists() and not options.fresh
    try:
        payload = read_checkpoint(out) if resume else None
    except InvalidArgumentError as exc:
        raise InvalidArgumentError(f"{exc}. To overwrite {out} and train from scratch, pass --fresh (fresh=True)") from None
    if payload is not None:
        previous = payload["meta"].get("training", {})
        if payload["config"] != config:
            raise InvalidArgumentError(
                f"{out} holds a {payload['config'].model} model with another config ({payload['config'].to_dict()}); "
                "give another --out, or --fresh to overwrite it"
            )
        if previous.get("elapsed_s", 0.0) >= budget or (options.max_steps is not None and previous.get("step", 0) >= options.max_steps):
            print_fn(f"{out} is already trained ({previous.get('step')} steps, {previous.get('elapsed_s', 0.0) / 60:.1f} of {options.minutes:g} minutes); nothing to do")
            return payload["meta"]

    embedder = embedder or TextEmbedder()
    started = time.perf_counter()
    train_data = load_split(options.data, "train", config, options.bodies, embedder, progress=options.progress)
    if len(train_data) == 0:
        raise InvalidArgumentError(f"{options.data} has no train samples{' for bodies ' + str(list(options.bodies)) if options.bodies else ''}")
    try:
        val_data = load_split(options.data, "val", config, options.bodies, embedder, progress=options.progress)
    except InvalidArgumentError:
        val_data = None
    if val_data is not None and len(val_data) == 0:
        val_data = None
    load_seconds = time.perf_counter() - started

    torch.manual_seed(options.seed)
    model = build_model(config)
    optimizer = torch.optim.AdamW(model.parameters(), lr=options.lr, weight_decay=options.weight_decay)
    generator = torch.Generator().manual_seed(options.seed)
    step, samples, spent, wall_spent = 0, 0, 0.0, 0.0
    if payload is not None:
        model.load_state_dict(payload["model"])
        if payload["optimizer"]:
            optimizer.load_state_dict(payload["optimizer"])
        if "generator" in payload["tensors"]:
            generator.set_state(payload["tensors"]["generator"])
        previous = payload["meta"]["training"]
        step, samples = int(previous["step"]), int(previous["samples"])
        spent, wall_spent = float(previous["elapsed_s"]), float(previous.get("wall_s", 0.0))
        print_fn(f"resuming {out} at step {step} ({spent / 60:.1f} of {options.minutes:g} minutes spent)")
    model.train()

    logger = _Logger(out, options.tensorboard, resume)
    print_fn(
        f"{config.model} model, {parameter_count(model):,} parameters; {len(train_data)} train / {len(val_data) if val_data else 0} val samples "
        f"(read in {load_seconds:.1f} s); budget {options.minutes:g} min ({options.clock} clock); TensorBoard: {logger.tensorboard_note}; CSV: {logger.csv_path}"
    )
    meta_base = {
        "model": config.model,
        "data": str(options.data),
        "bodies": sorted(set(train_data.bodies)),
        "train_samples": len(train_data),
        "val_samples": len(val_data) if val_data else 0,
        "options": {k: v for k, v in asdict(options).items() if k not in ("data", "out", "progress")},
        "parameters": parameter_count(model),
        "torch": torch.__version__,
        "machine": platform.machine(),
        "load_seconds": round(load_seconds, 2),
    }
    meta_base["options"]["bodies"] = list(options.bodies) if options.bodies else None

    clock = _Clock(options.clock, spent)
    wall_start = time.perf_counter()
    last_val: dict[str, float] = {}
    bar = None
    if options.progress:
        from tqdm import tqdm

        bar = tqdm(total=round(budget), initial=min(round(budget), round(spent)), unit="s", desc=f"training {config.model} ({options.clock} s)")

    def progress_now() -> float:
        done = clock.elapsed() / budget
        if options.max_steps is not None:
            done = max(done, step / options.max_steps)
        return done

    def save(finished: bool) -> dict[str, Any]:
        elapsed = clock.elapsed()
        wall = wall_spent + (time.perf_counter() - wall_start)
        meta = {
            "training": {
                **meta_base,
                "step": step,
                "samples": samples,
                "elapsed_s": round(elapsed, 3),
                "wall_s": round(wall, 3),
                "budget_s": budget,
                "clock": options.clock,
                "finished": finished,
                "samples_per_s": round(samples / elapsed, 2) if elapsed > 0 else None,
                "val": last_val,
            }
        }
        save_checkpoint(out, model, config, meta, optimizer.state_dict(), {"generator": generator.get_state()})
        return meta

    meta: dict[str, Any] = {}
    window_start, window_samples = clock.elapsed(), 0
    try:
        while progress_now() < 1.0:
            progress = progress_now()
            lr = learning_rate_at(step, progress, options.lr)
            for group in optimizer.param_groups:
                group["lr"] = lr
            face_weight = facing_weight_at(progress, options.facing_weight)
            batch = draw_batch(train_data, options.batch_size, generator)
            loss, parts = compute_loss(model, batch, options, face_weight)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            optimizer.step()
            step += 1
            samples += options.batch_size
            window_samples += options.batch_size
            if not math.isfinite(parts["loss"]):
                raise FloatingPointError(f"the loss became {parts['loss']} at step {step}; lower --lr")
            row: dict[str, Any] | None = None
            if step % options.log_every == 0:
                now = clock.elapsed()
                rate = window_samples / max(1e-9, now - window_start)
                window_start, window_samples = now, 0
                row = {"samples": samples, "elapsed_s": round(now, 2), "wall_s": round(wall_spent + time.perf_counter() - wall_start, 2), "lr": lr, "facing_weight": face_weight, "samples_per_s": round(rate, 2), **parts}
            if val_data is not None and step % options.eval_every == 0:
                last_val = validation_loss(model, val_data, options, face_weight)
                row = (row or {"samples": samples, "elapsed_s": round(clock.elapsed(), 2)}) | {f"val_{k}": v for k, v in last_val.items()}
            if row is not None:
                logger.log(step, row)
            if step % options.save_every == 0:
                meta = save(False)
            if bar is not None:
                bar.n = min(round(budget), round(clock.elapsed()))
                bar.set_postfix(step=step, loss=f"{parts['loss']:.4f}", refresh=False)
                bar.refresh()
        if val_data is not None:
            last_val = validation_loss(model, val_data, options, facing_weight_at(1.0, options.facing_weight))
            logger.log(step, {"samples": samples, "elapsed_s": round(clock.elapsed(), 2)} | {f"val_{k}": v for k, v in last_val.items()})
        meta = save(True)
    except KeyboardInterrupt:
        meta = save(False)
        print_fn(f"\ninterrupted: saved {out} at step {step}; rerun the same command to continue")
        raise
    finally:
        if bar is not None:
            bar.close()
        logger.close()
    t = meta["training"]
    print_fn(f"saved {out}: {t['step']} steps, {t['samples']} samples in {t['elapsed_s'] / 60:.1f} {options.clock} minutes ({t['samples_per_s']} samples/s)")
    return meta


__all__ = ["TrainOptions", "compute_loss", "draw_batch", "facing_focal", "facing_weight_at", "nav_bce", "train", "validation_loss"]
