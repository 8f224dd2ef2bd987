"""Code lines per file: no blank, comment or docstring lines (raw lines beside).

    python .ci/loc.py [PACKAGE_DIR] [--top N] [--max LINES]

A line counts when a token other than a comment, a newline or an indent is on it and that
token is not part of a docstring (a string expression that is a module's, class's or
function's first statement). Exit 1 with ``--max`` when a file has more code lines.
"""

from __future__ import annotations

import argparse
import ast
import io
import sys
import tokenize
from pathlib import Path

_SKIP = {
    tokenize.COMMENT,
    tokenize.NL,
    tokenize.NEWLINE,
    tokenize.INDENT,
    tokenize.DEDENT,
    tokenize.ENCODING,
    tokenize.ENDMARKER,
}


def docstring_lines(tree: ast.AST) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            first = node.body[0] if node.body else None
            value = first.value if isinstance(first, ast.Expr) else None
            if (
                first is not None
                and isinstance(value, ast.Constant)
                and isinstance(value.value, str)
            ):
                lines.update(range(first.lineno, (first.end_lineno or first.lineno) + 1))
    return lines


def code_lines(text: str) -> int:
    docs = docstring_lines(ast.parse(text))
    lines: set[int] = set()
    for token in tokenize.generate_tokens(io.StringIO(text).readline):
        if token.type in _SKIP:
            continue
        for line in range(token.start[0], token.end[0] + 1):
            if line not in docs:
                lines.add(line)
    return len(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("package", nargs="?", default="f1_pipeline")
    parser.add_argument("--top", type=int, default=10, help="largest files to list")
    parser.add_argument("--max", type=int, help="fail when a file has more code lines")
    args = parser.parse_args(argv)
    counts = []
    for path in sorted(Path(args.package).rglob("*.py")):
        text = path.read_text()
        counts.append((code_lines(text), len(text.splitlines()), str(path)))
    code = sum(c for c, _, _ in counts)
    raw = sum(r for _, r, _ in counts)
    print(f"{args.package}: {code} code lines ({raw} raw) in {len(counts)} files")
    for c, r, name in sorted(counts, reverse=True)[: args.top]:
        print(f"  {c:5d} {r:5d}  {name}")
    over = [name for c, _, name in counts if args.max is not None and c > args.max]
    for name in over:
        print(f"{name}: more than {args.max} code lines", file=sys.stderr)
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
