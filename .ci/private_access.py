"""What ruff's banned-API and SLF001 rules cannot see, in the package: ``getattr``,
``setattr``, ``hasattr`` and ``delattr`` naming an underscore attribute with a string, and
imports of any private module (a path component starting with an underscore) of the
platform's dependencies, whatever it is called in the next release.

    python .ci/private_access.py f1_pipeline   # exit 1, one line per finding
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

DEPENDENCIES = {
    "dagster", "dagster_aws", "dagster_pyspark", "dagster_pipes", "dagster_postgres",
    "dagster_shared", "dagster_graphql", "dagster_webserver", "pyspark", "py4j",
}  # fmt: skip
_ATTRIBUTE_CALLS = {"getattr", "setattr", "hasattr", "delattr"}


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def findings(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        modules: list[str] = []
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        for module in modules:
            parts = module.split(".")
            if parts[0] in DEPENDENCIES and any(_private(p) for p in parts[1:]):
                found.append(f"{path}:{node.lineno}: private module {module}")
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in _ATTRIBUTE_CALLS
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant)
            and isinstance(node.args[1].value, str)
            and _private(node.args[1].value)
        ):
            found.append(
                f"{path}:{node.lineno}: {node.func.id}(..., {node.args[1].value!r}) reaches a "
                "private attribute"
            )
    return found


def main(roots: list[str]) -> int:
    problems = [
        line
        for root in roots
        for path in sorted(Path(root).rglob("*.py"))
        for line in findings(path)
    ]
    for line in problems:
        print(line)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or ["f1_pipeline"]))
