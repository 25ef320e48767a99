"""Perception and the scene graph never reach the ProcHouse generator (its room-object priors
would leak the benchmark's answer into a zero-shot agent), and OpenCV is imported only on use."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
PACKAGES = ("navgym.agents.perception", "navgym.agents.scene_graph")


def test_importing_them_loads_no_prochouse_generator_and_no_opencv():
    code = (
        "import sys\n"
        + "".join(f"import {name}\n" for name in PACKAGES)
        + "import navgym.agents.scene_graph.render\n"
        + "bad = sorted(m for m in sys.modules if m.startswith('navgym.scenes.prochouse'))\n"
        + "print('BAD', bad)\nprint('CV2', 'cv2' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "BAD []" in result.stdout, result.stdout
    assert "CV2 False" in result.stdout, result.stdout


def test_no_module_of_theirs_names_prochouse_in_an_import():
    for name in PACKAGES:
        folder = ROOT.joinpath(*name.split("."))
        files = sorted(folder.glob("*.py"))
        assert files
        for path in files:
            for node in ast.walk(ast.parse(path.read_text())):
                modules = []
                if isinstance(node, ast.ImportFrom) and node.module:
                    modules = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
                elif isinstance(node, ast.Import):
                    modules = [a.name for a in node.names]
                assert not any("prochouse" in m for m in modules), f"{path.name} imports {modules}"
                if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) in ("import_module", "__import__"):
                    assert "prochouse" not in ast.unparse(node), f"{path.name}: {ast.unparse(node)}"
