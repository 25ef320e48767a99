"""The import contract of docs/architecture.md (pyproject.toml's [tool.importlinter]) holds."""

from __future__ import annotations

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
    assert "1 kept, 0 broken" in result.stdout


def test_the_bottom_layer_imports_no_other_navgym_module():
    # Beyond the layers: core/ and errors.py stand alone (errors.py imports nothing of navgym).
    for path in (ROOT / "navgym" / "core").glob("*.py"):
        for line in path.read_text().splitlines():
            if line.startswith(("from navgym", "import navgym")):
                assert line.startswith(("from navgym.core", "from navgym.errors")), f"{path.name}: {line}"
    assert "from navgym" not in (ROOT / "navgym" / "errors.py").read_text() and "import navgym" not in (ROOT / "navgym" / "errors.py").read_text()
