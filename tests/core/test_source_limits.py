"""The package's Python sources stay small: no file over 800 lines, no class over 400 lines, no
function over 120 lines of code (its docstring, blank and comment lines not counted).

``js/tests/size.test.js`` holds the front end's sources to the same limits.
"""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "python" / "neuron_groups"
SOURCES = sorted(PACKAGE.rglob("*.py"))
FILE_LINES, CLASS_LINES, FUNCTION_CODE = 800, 400, 120


def code_lines(lines: list[str], node: ast.AST) -> int:
    """Lines of code of a function: no docstring, no blank or comment-only line."""
    body = node.body
    first = body[0]
    has_doc = isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
    start = first.end_lineno + 1 if has_doc and isinstance(first.value.value, str) else node.lineno
    return sum(
        1
        for line in lines[start - 1 : node.end_lineno]
        if line.strip() and not line.strip().startswith("#")
    )


def too_big(path: Path) -> list[str]:
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines()
    found = [f"{len(lines)} lines"] if len(lines) > FILE_LINES else []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ClassDef) and node.end_lineno - node.lineno + 1 > CLASS_LINES:
            found.append(f"class {node.name}: {node.end_lineno - node.lineno + 1} lines")
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            count = code_lines(lines, node)
            if count > FUNCTION_CODE:
                found.append(f"function {node.name}: {count} lines of code")
    return found


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_each_source_is_within_the_limits(path):
    assert too_big(path) == []


def test_the_check_finds_a_long_function(tmp_path):
    body = "\n".join(f"    x{i} = {i}" for i in range(FUNCTION_CODE + 1))
    source = tmp_path / "long.py"
    source.write_text(f'def f():\n    """Doc."""\n    # a comment\n\n{body}\n')
    assert too_big(source) == [f"function f: {FUNCTION_CODE + 1} lines of code"]
    source.write_text(f'def f():\n    """Doc."""\n{chr(10).join(body.splitlines()[:-1])}\n')
    assert too_big(source) == []
