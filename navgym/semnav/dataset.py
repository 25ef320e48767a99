"""Reading a ``navgym semnav-data`` folder: :class:`SemNavDataset`, numpy only.

The reader trusts nothing in the folder: every path in the manifest and the sample records must
be relative, without ``..``, and resolve (symlinks followed) inside the folder; files are read
with ``allow_pickle=False``; a missing, truncated or malformed file is a
:class:`~navgym.errors.DatasetFormatError` (or :class:`~navgym.errors.DataNotFoundError`) that
names the file and says how to repair it.

With PyTorch, it is a map-style dataset as it stands (``__len__`` and ``__getitem__``; items
hold numpy arrays, strings, bools and ints, which ``default_collate`` batches)::

    from torch.utils.data import DataLoader
    data = SemNavDataset("data/semnav", split="train", bodies=["jetbot"])  # one body: one image size
    loader = DataLoader(data, batch_size=32, shuffle=True, num_workers=2)
    for batch in loader:
        batch["rgb"]            # (B, H, W, 3) uint8 tensor
        batch["nav_heatmap"]    # (B, H, W) float32
        batch["prompt_text"]    # list of B strings
"""

from __future__ import annotations

import json
import os
import posixpath
import zipfile
from pathlib import Path, PureWindowsPath
from typing import Any, Iterator, Sequence

import numpy as np

from navgym.errors import DataNotFoundError, DatasetFormatError, InvalidArgumentError

FORMAT = "navgym-semnav-data"
#: Bumped when the folder layout, a file's content or a definition changes.
FORMAT_VERSION = 1
MANIFEST_NAME = "manifest.json"
PROMPT_KINDS = ("text", "image", "interleaved")
#: Arrays of each sample's ``.npz``: name -> (dtype kind, trailing shape after (H, W)).
ARRAYS = {
    "depth": np.float32,
    "nav_heatmap": np.float16,
    "facing_heatmap": np.float16,
    "traversable": np.bool_,
    "target_mask": np.bool_,
    "region_distance": np.float16,
}
_RECORD_KEYS = ("id", "house", "split", "body", "negative", "files", "pose", "target", "prompt_kind", "prompt_kinds", "prompts")


def _repair_hint(root: Path, pair: str | None) -> str:
    if pair is None:
        return f"regenerate the folder: navgym semnav-data --out {root} with the options in its {MANIFEST_NAME} (or a new --out)"
    return (
        f"delete {root / pair} and rerun the navgym semnav-data command that wrote {root} (its options are in {MANIFEST_NAME}): "
        "it regenerates the missing house-body pairs and keeps the others"
    )


def safe_path(root: Path, relative: Any, where: str) -> Path:
    """``root / relative`` when ``relative`` is a relative path inside ``root`` (after symlinks).

    Raises:
        DatasetFormatError: ``relative`` is not a string, is empty, absolute, has a ``..``
            part or a NUL byte, or resolves outside ``root``; the message says ``where`` it came from.
    """
    if not isinstance(relative, str) or not relative.strip():
        raise DatasetFormatError(f"{where}: path {relative!r} must be a non-empty relative path inside {root}")
    posix = relative.replace("\\", "/")
    if "\x00" in relative or posix.startswith("/") or os.path.isabs(relative) or PureWindowsPath(relative).drive or PureWindowsPath(relative).root:
        raise DatasetFormatError(f"{where}: path {relative!r} is absolute; data paths must be relative to {root} (refused)")
    if ".." in posix.split("/") or posixpath.normpath(posix).startswith(".."):
        raise DatasetFormatError(f"{where}: path {relative!r} escapes {root} with '..' (refused)")
    path = root.joinpath(*[part for part in posix.split("/") if part not in ("", ".")])
    try:
        inside = path.resolve().is_relative_to(root.resolve())
    except (OSError, RuntimeError):
        inside = False
    if not inside:
        raise DatasetFormatError(f"{where}: path {relative!r} resolves outside {root} (a symlink?); refused")
    return path


def _numbers(value: Any, n: int) -> bool:
    """``value`` is a list of ``n`` finite numbers (not bools)."""
    return (
        isinstance(value, list) and len(value) == n
        and all(isinstance(v, (int, float)) and not isinstance(v, bool) and np.isfinite(v) for v in value)
    )


def _record_problem(record: dict[str, Any], ids: set[str]) -> str:
    """What is wrong with the types of a sample record's fields (``""``: nothing): a hand-written
    or edited ``samples.jsonl`` must fail here, naming its line, not later with a bare
    ``TypeError`` in ``__getitem__`` or :meth:`SemNavDataset.pose`, or by reading ``"negative":
    "no"`` as true."""
    if not isinstance(record["id"], str) or not record["id"]:
        return f"id={record['id']!r} must be a non-empty string"
    if record["id"] in ids:
        return f"id {record['id']!r} appears twice"
    if not isinstance(record["negative"], bool):
        return f"negative={record['negative']!r} must be true or false (JSON booleans)"
    prompts = record["prompts"]
    if not isinstance(prompts, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in prompts.items()):
        return f"prompts={prompts!r} must be an object of strings ({{\"text\": ..., \"interleaved\": ...}})"
    pose = record["pose"]
    if not isinstance(pose, dict) or not _numbers(pose.get("position"), 3) or not _numbers(pose.get("rotation"), 4):
        return f"pose={pose!r} must be {{\"position\": [x, y, z], \"rotation\": [x, y, z, w]}} of finite numbers"
    norm = float(np.linalg.norm(pose["rotation"]))
    if abs(norm - 1.0) > 1e-2:
        return f"pose.rotation={pose['rotation']!r} is not a unit quaternion [x, y, z, w] (norm {norm:.3g})"
    return ""


class SemNavDataset:
    """The samples of a ``navgym semnav-data`` folder, as numpy arrays.

    Args:
        root: The folder (``--out`` of ``navgym semnav-data``).
        split: ``"train"``, ``"val"``, ``"test"`` or ``None`` (all).
        bodies: Body names to keep (``None``: all in the folder).
        prompt_kind: ``None``: each sample's recorded prompt kind (drawn like the env's); or
            ``"text"``, ``"image"``, ``"interleaved"``: that kind, keeping only samples that have it.
        negatives: Keep the negative samples (target not in view, all-zero heatmaps).
        check_files: Check at construction that every file of every sample exists.

    Attributes:
        manifest: The manifest (dict).
        records: The kept samples' JSON records, in item order (house, body, index).

    An item (``dataset[i]``) is a dict: ``rgb`` (H, W, 3) uint8, ``depth`` (H, W) float32 metres
    (z-depth), ``nav_heatmap`` and ``facing_heatmap`` (H, W) float32 in [0, 1], ``traversable``
    and ``target_mask`` (H, W) bool, ``region_distance`` (H, W) float32 metres (inf off traversable
    ground), ``prompt_kind`` (str), ``prompt_text`` (str, ``""`` for image prompts),
    ``prompt_image`` (H, W, 3) uint8 (zeros for text prompts), ``negative`` (bool), ``index``
    (int, into :attr:`records`). :meth:`camera` and :func:`navgym.semnav.heatmaps.pixel_points`
    turn a pixel into a ground point.

    Raises:
        DataNotFoundError: No folder or no ``manifest.json``; a listed file is missing.
        DatasetFormatError: A malformed manifest or record, a path escaping the folder, a
            corrupted file (when read); the message names the file and the fix.
    """

    def __init__(
        self,
        root: str | os.PathLike[str],
        split: str | None = None,
        bodies: Sequence[str] | None = None,
        prompt_kind: str | None = None,
        negatives: bool = True,
        check_files: bool = True,
    ):
        self.root = Path(root).expanduser()
        if split is not None and split not in ("train", "val", "test"):
            raise InvalidArgumentError(f"split={split!r} must be 'train', 'val', 'test' or None")
        if prompt_kind is not None and prompt_kind not in PROMPT_KINDS:
            raise InvalidArgumentError(f"prompt_kind={prompt_kind!r} must be one of {list(PROMPT_KINDS)} or None")
        self.split, self.prompt_kind = split, prompt_kind
        self.manifest = self._read_manifest()
        known = sorted(self.manifest["bodies"])
        if bodies is not None:
            bodies = [bodies] if isinstance(bodies, str) else list(bodies)
            unknown = [b for b in bodies if b not in known]
            if unknown:
                raise InvalidArgumentError(f"bodies {unknown} are not in {self.root} (it has {known})")
        self.records: list[dict[str, Any]] = []
        self._pairs: list[str] = []
        self._ids: set[str] = set()
        for key, house in self.manifest["houses"].items():
            where = f"{self.root / MANIFEST_NAME}: houses.{key}"
            if not isinstance(house, dict) or not isinstance(house.get("bodies"), dict) or house.get("split") not in ("train", "val", "test"):
                raise DatasetFormatError(f"{where} is malformed (needs 'split' and 'bodies'); {_repair_hint(self.root, None)}")
            if split is not None and house["split"] != split:
                continue
            for body, pair in house["bodies"].items():
                if bodies is not None and body not in bodies:
                    continue
                if not isinstance(pair, dict):
                    raise DatasetFormatError(f"{where}.bodies.{body} is malformed; {_repair_hint(self.root, None)}")
                path = safe_path(self.root, pair.get("records"), f"{where}.bodies.{body}.records")
                pair_dir = posixpath.dirname(pair["records"].replace("\\", "/"))
                self._read_records(path, pair_dir, body, house["split"], negatives, check_files)

    # -- reading the index ------------------------------------------------------------------------
    def _read_manifest(self) -> dict[str, Any]:
        path = self.root / MANIFEST_NAME
        if not self.root.is_dir():
            raise DataNotFoundError(f"{self.root} is not a folder; write one with: navgym semnav-data --houses N --out {self.root}")
        if not path.is_file():
            raise DataNotFoundError(
                f"{path} does not exist: {self.root} is not a semnav-data folder (or its first house is not finished); "
                f"write one with: navgym semnav-data --houses N --out {self.root}"
            )
        try:
            manifest = json.loads(path.read_text())
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise DatasetFormatError(f"{path} is not valid JSON ({exc}); {_repair_hint(self.root, None)}") from None
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
            raise DatasetFormatError(f"{path} is not a {FORMAT} manifest (format={manifest.get('format') if isinstance(manifest, dict) else None!r})")
        if manifest.get("format_version") != FORMAT_VERSION:
            raise DatasetFormatError(
                f"{path} has format_version {manifest.get('format_version')!r}; this navgym reads {FORMAT_VERSION}: "
                "regenerate it with this navgym's navgym semnav-data"
            )
        for key, kind in (("bodies", dict), ("houses", dict), ("options", dict)):
            if not isinstance(manifest.get(key), kind):
                raise DatasetFormatError(f"{path}: '{key}' is missing or not an object; {_repair_hint(self.root, None)}")
        for body, info in manifest["bodies"].items():
            try:
                self._camera_of(info)
            except (TypeError, ValueError, KeyError) as exc:
                raise DatasetFormatError(f"{path}: bodies.{body}.camera is malformed ({exc}); {_repair_hint(self.root, None)}") from None
        return manifest

    @staticmethod
    def _camera_of(info: dict[str, Any]):
        from navgym.core.specs import CameraSpec

        return CameraSpec(**{**info["camera"], "outputs": ("rgb", "depth")})

    def _read_records(self, path: Path, pair_dir: str, body: str, split: str, negatives: bool, check_files: bool) -> None:
        if not path.is_file():
            raise DataNotFoundError(f"{path} is missing (listed in {MANIFEST_NAME}); {_repair_hint(self.root, pair_dir)}")
        try:
            lines = path.read_text().splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise DatasetFormatError(f"{path} is unreadable ({exc}); {_repair_hint(self.root, pair_dir)}") from None
        if body not in self.manifest["bodies"]:
            raise DatasetFormatError(f"{self.root / MANIFEST_NAME}: body {body!r} has houses but no 'bodies' entry; {_repair_hint(self.root, None)}")
        for number, line in enumerate(lines, 1):
            where = f"{path}:{number}"
            try:
                record = json.loads(line)
            except ValueError as exc:
                raise DatasetFormatError(f"{where} is not valid JSON ({exc}); {_repair_hint(self.root, pair_dir)}") from None
            missing = [k for k in _RECORD_KEYS if not isinstance(record, dict) or k not in record]
            if missing or not isinstance(record.get("files"), dict):
                raise DatasetFormatError(f"{where}: record lacks {missing or ['files']}; {_repair_hint(self.root, pair_dir)}")
            if record["body"] != body or record["split"] != split:
                raise DatasetFormatError(f"{where}: record of body {record['body']!r} / split {record['split']!r} in the {body} / {split} list; {_repair_hint(self.root, pair_dir)}")
            for name in ("rgb", "arrays"):
                safe_path(self.root, record["files"].get(name), f"{where} files.{name}")
            if record["files"].get("prompt_image") is not None:
                safe_path(self.root, record["files"]["prompt_image"], f"{where} files.prompt_image")
            if (
                not isinstance(record["prompt_kind"], str) or record["prompt_kind"] not in PROMPT_KINDS
                or not isinstance(record["prompt_kinds"], list) or not all(isinstance(k, str) and k in PROMPT_KINDS for k in record["prompt_kinds"])
            ):
                raise DatasetFormatError(
                    f"{where}: unknown prompt kind (prompt_kind={record['prompt_kind']!r}, prompt_kinds={record['prompt_kinds']!r}; "
                    f"allowed {list(PROMPT_KINDS)}); {_repair_hint(self.root, pair_dir)}"
                )
            problem = _record_problem(record, self._ids)
            if problem:
                raise DatasetFormatError(f"{where}: {problem}; {_repair_hint(self.root, pair_dir)}")
            self._ids.add(record["id"])
            if not negatives and record["negative"]:
                continue
            if self.prompt_kind is not None and self.prompt_kind not in record["prompt_kinds"]:
                continue
            if check_files:
                for name in ("rgb", "arrays", "prompt_image"):
                    relative = record["files"].get(name)
                    if relative is not None and not (self.root / relative).is_file():
                        raise DataNotFoundError(f"{self.root / relative} is missing (listed in {where}); {_repair_hint(self.root, pair_dir)}")
            record["_pair"] = pair_dir
            self.records.append(record)

    # -- items ----------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.records)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for index in range(len(self)):
            yield self[index]

    def camera(self, body: str):
        """The :class:`~navgym.core.specs.CameraSpec` the body's images were taken with."""
        return self._camera_of(self.manifest["bodies"][body])

    def pose(self, index: int):
        """The :class:`~navgym.core.specs.AgentState` (body on its floor) of sample ``index``."""
        from navgym.core.specs import AgentState

        pose = self.records[index]["pose"]
        return AgentState(np.asarray(pose["position"], dtype=np.float64), np.asarray(pose["rotation"], dtype=np.float64))

    def __getitem__(self, index: int) -> dict[str, Any]:
        if isinstance(index, (bool, np.bool_)) or not isinstance(index, (int, np.integer)):
            raise TypeError(f"SemNavDataset indices are integers, not {type(index).__name__}")
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(f"index {index} out of range for {len(self)} samples")
        record = self.records[index]
        camera = self.camera(record["body"])
        shape = (camera.height, camera.width)
        pair = record["_pair"]
        rgb = self._image(record["files"]["rgb"], shape, pair)
        arrays = self._arrays(record["files"]["arrays"], shape, pair)
        kind = self.prompt_kind or record["prompt_kind"]
        text = "" if kind == "image" else record["prompts"].get(kind, "")
        if kind != "image" and not text:
            raise DatasetFormatError(f"{self.root / pair / 'samples.jsonl'}: sample {record['id']} has kind {kind!r} but no text; {_repair_hint(self.root, pair)}")
        if kind == "text":
            image = np.zeros((*shape, 3), dtype=np.uint8)
        else:
            if record["files"].get("prompt_image") is None:
                raise DatasetFormatError(f"{self.root / pair / 'samples.jsonl'}: sample {record['id']} has kind {kind!r} but no prompt image; {_repair_hint(self.root, pair)}")
            image = self._image(record["files"]["prompt_image"], shape, pair)
        return {
            "rgb": rgb,
            "depth": arrays["depth"],
            "nav_heatmap": arrays["nav_heatmap"].astype(np.float32),
            "facing_heatmap": arrays["facing_heatmap"].astype(np.float32),
            "traversable": arrays["traversable"],
            "target_mask": arrays["target_mask"],
            "region_distance": arrays["region_distance"].astype(np.float32),
            "prompt_kind": kind,
            "prompt_text": text,
            "prompt_image": image,
            "negative": bool(record["negative"]),
            "index": int(index),
        }

    def _image(self, relative: str, shape: tuple[int, int], pair: str) -> np.ndarray:
        from PIL import Image, UnidentifiedImageError

        path = safe_path(self.root, relative, f"{self.root / pair / 'samples.jsonl'}")
        try:
            with Image.open(path) as image:
                array = np.array(image.convert("RGB") if image.mode != "RGB" else image, dtype=np.uint8)  # a writable copy
        except FileNotFoundError:
            raise DataNotFoundError(f"{path} is missing; {_repair_hint(self.root, pair)}") from None
        except (OSError, UnidentifiedImageError, ValueError, SyntaxError) as exc:
            raise DatasetFormatError(f"{path} is corrupted or truncated ({exc}); {_repair_hint(self.root, pair)}") from None
        if array.shape != (*shape, 3):
            raise DatasetFormatError(f"{path} is {array.shape}, expected {(*shape, 3)} (the body's camera in {MANIFEST_NAME}); {_repair_hint(self.root, pair)}")
        return array

    def _arrays(self, relative: str, shape: tuple[int, int], pair: str) -> dict[str, np.ndarray]:
        path = safe_path(self.root, relative, f"{self.root / pair / 'samples.jsonl'}")
        try:
            with np.load(path, allow_pickle=False) as data:
                arrays = {name: data[name] for name in ARRAYS if name in data.files}
        except FileNotFoundError:
            raise DataNotFoundError(f"{path} is missing; {_repair_hint(self.root, pair)}") from None
        except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError) as exc:
            raise DatasetFormatError(f"{path} is corrupted or truncated ({type(exc).__name__}: {exc}); {_repair_hint(self.root, pair)}") from None
        missing = [name for name in ARRAYS if name not in arrays]
        if missing:
            raise DatasetFormatError(f"{path} lacks arrays {missing}; {_repair_hint(self.root, pair)}")
        for name, dtype in ARRAYS.items():
            if arrays[name].shape != shape or arrays[name].dtype != dtype:
                raise DatasetFormatError(
                    f"{path}: {name} is {arrays[name].dtype}{list(arrays[name].shape)}, expected {np.dtype(dtype)}{list(shape)}; "
                    f"{_repair_hint(self.root, pair)}"
                )
        return arrays

    def verify(self) -> int:
        """Read every sample once (raising on the first bad file); returns the number read."""
        for index in range(len(self)):
            self[index]
        return len(self)


__all__ = ["ARRAYS", "FORMAT", "FORMAT_VERSION", "SemNavDataset", "safe_path"]
