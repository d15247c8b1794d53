"""Imports flow one way (docs/architecture.md): a module imports only from layers below its own."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "decompose"

LAYERS: dict[str, int] = {
    "records": 0,
    "errors": 0,
    "schema_verdict": 0,
    "schema": 1,
    "files": 1,
    "sources": 2,
    "prompts": 2,
    "grounding": 2,
    "llm": 2,
    "store": 2,
    "pricing": 2,
    "cleaning": 2,
    "extract": 3,
    "checker": 3,
    "api": 4,
    "render": 4,
    "compare": 5,
    "batch": 5,
    "cli": 6,
}


def top_unit(module: str) -> str:
    """`decompose.llm.client` → `llm`: the unit a layer is assigned to."""
    return module.split(".")[1]


def decompose_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("decompose."):
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("decompose."))
    return found


def own_unit(path: Path) -> str:
    relative = path.relative_to(PACKAGE)
    return relative.parts[0].removesuffix(".py")


def test_every_module_has_a_layer() -> None:
    units = {own_unit(path) for path in PACKAGE.rglob("*.py") if path.name != "__init__.py" or path.parent != PACKAGE}
    assert units <= set(LAYERS), f"assign a layer to: {sorted(units - set(LAYERS))}"


def test_imports_only_flow_downwards() -> None:
    violations = []
    for path in PACKAGE.rglob("*.py"):
        if path.parent == PACKAGE and path.name == "__init__.py":
            continue
        unit = own_unit(path)
        for imported in decompose_imports(path):
            target = top_unit(imported)
            if target != unit and LAYERS[target] >= LAYERS[unit]:
                violations.append(f"{path.relative_to(PACKAGE)} imports {imported}")
    assert violations == []
