"""docs/wrappers.md's examples print what the doc says they print.

The python blocks of the page are run in order in one namespace; every expression statement with a
trailing comment (``reward, info["reward_terms"]   # 0.0391..., {...}``) is evaluated and its value
compared with the comment: the same text around the numbers, and each number equal (or, written
``0.0391...``, the value's repr starting with those digits). A change of episodes, generation or
reward then fails here instead of leaving a stale number in the doc (issue 19: 0.2407 documented,
0.0391 printed).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "wrappers.md"
NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?(?:\.\.\.)?")


def _shown(value) -> str:
    """What a REPL shows for ``value``, without the parentheses of a tuple."""
    return ", ".join(repr(v) for v in value) if isinstance(value, tuple) else repr(value)


def mismatch(documented: str, value) -> str | None:
    """Why ``value`` is not what ``documented`` says (None when it is)."""
    shown = _shown(value)
    if NUMBER.sub("#", documented).strip() != NUMBER.sub("#", shown).strip():
        return f"prints {shown}"
    for doc_number, number in zip(NUMBER.findall(documented), NUMBER.findall(shown)):
        if doc_number.endswith("..."):
            if not number.startswith(doc_number[:-3]):
                return f"prints {number} where the doc says {doc_number} (full output: {shown})"
        elif float(doc_number) != float(number):
            return f"prints {number} where the doc says {doc_number} (full output: {shown})"
    return None


def documented_outputs(text: str) -> list[tuple[str, list[tuple[ast.stmt, str | None]]]]:
    """Each python block as (source, [(statement, documented output or None)])."""
    blocks = []
    for source in re.findall(r"```python\n(.*?)```", text, flags=re.DOTALL):
        lines = source.splitlines()
        statements = []
        for node in ast.parse(source).body:
            comment = None
            if isinstance(node, ast.Expr):
                last = lines[node.end_lineno - 1]
                match = re.search(r"#\s*(.+)$", last[node.end_col_offset :])
                comment = match.group(1).strip() if match else None
            statements.append((node, comment))
        blocks.append((source, statements))
    return blocks


def test_the_mismatch_check_catches_a_stale_number():
    assert mismatch("0.0391..., {'a': -0.01}", (0.03912563777162404, {"a": -0.01})) is None
    assert mismatch("0.2407..., {'a': -0.01}", (0.03912563777162404, {"a": -0.01})) is not None
    assert mismatch("{'hfov': 105.0}", {"hfov": 104.0}) is not None
    assert mismatch("{'hfov': 105.0}", {"fov": 105.0}) is not None


def test_every_documented_output_in_wrappers_md_is_what_the_code_prints():
    namespace: dict = {"__name__": "docs_example"}
    checked = []
    for source, statements in documented_outputs(DOC.read_text()):
        for node, documented in statements:
            code = ast.get_source_segment(source, node)
            if documented is None:
                exec(compile(ast.Module([node], []), "docs/wrappers.md", "exec"), namespace)
                continue
            value = eval(compile(ast.Expression(node.value), "docs/wrappers.md", "eval"), namespace)
            problem = mismatch(documented, value)
            assert problem is None, f"docs/wrappers.md: `{code}` {problem}"
            checked.append(code)
    assert 'reward, info["reward_terms"]' in checked and 'info["goal_camera"]' in checked, checked
