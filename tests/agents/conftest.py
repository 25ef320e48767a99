"""Fixtures shared by the agents' tests."""

from __future__ import annotations

import pytest


@pytest.fixture
def train_cli(tmp_path, monkeypatch):
    """``navgym train`` with the training run stubbed out: returns ``(invoke, seen)``, where
    ``invoke(args)`` runs the CLI with ``args`` and ``seen`` lists the ``TrainArgs`` that reached
    the stub (which raises ``TrainingInterrupted``, so a run that got there exits with 130)."""
    from typer.testing import CliRunner

    import navgym.training
    from navgym.cli import app
    from navgym.training import TrainingInterrupted

    seen = []

    def run(args):  # stands in for the training run: the options must reach TrainArgs
        seen.append(args)
        raise TrainingInterrupted(tmp_path / "checkpoint.zip", None)

    monkeypatch.setattr(navgym.training, "train", run)
    # A wide terminal: rich wraps typer's error box at 80 columns, which can split a long tmp path.
    return (lambda args: CliRunner(env={"COLUMNS": "1000"}).invoke(app, list(args))), seen
