"""Code shown in the docs runs."""

from __future__ import annotations

import re
from pathlib import Path

DOCS = Path(__file__).resolve().parent.parent / "docs"


def python_blocks(path: Path) -> list[str]:
    return re.findall(r"```python\n(.*?)```", path.read_text(), flags=re.S)


def test_agents_doc_plug_in_example_runs(capsys):
    example = next(block for block in python_blocks(DOCS / "agents.md") if "register_agent" in block)
    exec(compile(example, "docs/agents.md", "exec"), {"__name__": "docs_example"})
    assert "SR" in capsys.readouterr().out
