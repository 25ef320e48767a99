"""The import contract of docs/architecture.md (pyproject.toml's [tool.importlinter]) holds."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_the_layers_import_only_downwards():
    exe = shutil.which("lint-imports") or str(Path(sys.executable).with_name("lint-imports"))
    if not Path(exe).exists():
        pytest.fail("lint-imports is missing: install the test extra (pip install -e '.[test]')")
    result = subprocess.run([exe], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "2 kept, 0 broken" in result.stdout  # the layers and the multiagent env's forbidden imports


def _navgym_imports(path: Path) -> list[str]:
    """Modules of navgym imported anywhere in a file (function-level imports included)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append(node.module)
        elif isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
    return [name for name in found if name == "navgym" or name.startswith("navgym.")]


def test_the_bottom_layer_imports_no_other_navgym_module():
    # Beyond the layers: core/ imports only core and errors; errors.py imports nothing of navgym.
    for path in (ROOT / "navgym" / "core").glob("*.py"):
        for name in _navgym_imports(path):
            assert name.startswith(("navgym.core", "navgym.errors")), f"{path.name} imports {name}"
    assert _navgym_imports(ROOT / "navgym" / "errors.py") == []
