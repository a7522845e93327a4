"""The dependency rules of docs/design.md ("Layers"), checked on the source tree.

A module imports only from its own layer, the layers before it and the foundation;
``network`` may import the two engine structures it builds and holds. Imports under
``if TYPE_CHECKING:`` are annotations, not dependencies.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import transitmile

PACKAGE = Path(transitmile.__file__).parent

#: Rank of each top-level module or sub-package of transitmile (docs/design.md, "Layers").
LAYERS = {
    **dict.fromkeys(
        ["errors", "settings", "conventions", "sparse", "_progress", "provenance", "io", "cache"],
        0,
    ),
    "data": 1,
    "feeds": 2,
    **dict.fromkeys(["streets", "street_edits"], 3),
    "network": 4,
    # where the embedded engine's chunks run (here or on Dask) and where they are written
    **dict.fromkeys(["engines", "distributed", "partitioned"], 5),
    "routing": 6,
    **dict.fromkeys(["access", "interventions", "scenarios"], 7),
    **dict.fromkeys(["study", "plots", "cli"], 8),
}

#: The one exception by design: the network builds a Timetable and holds AccessServices.
ALLOWED = {("network", "engines.timetable"), ("network", "engines.access")}


class _Imports(ast.NodeVisitor):
    """Absolute transitmile module names imported by one module (annotations left out)."""

    def __init__(self, package: list[str]):
        self.package, self.found = package, []

    def visit_If(self, node: ast.If) -> None:  # noqa: N802 (ast's naming)
        if not (isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"):
            self.generic_visit(node)

    def visit_Import(self, node: ast.Import) -> None:  # noqa: N802
        self.found += [a.name for a in node.names if a.name.startswith("transitmile.")]

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:  # noqa: N802
        base = self.package[: len(self.package) - node.level + 1] if node.level else []
        module = ".".join(base + ([node.module] if node.module else []))
        if module == "transitmile":  # from . import settings
            self.found += [f"transitmile.{a.name}" for a in node.names]
        elif module.startswith("transitmile."):
            self.found.append(module)


def _imports(path: Path) -> tuple[str, list[str]]:
    parts = ["transitmile", *path.relative_to(PACKAGE).with_suffix("").parts]
    package = parts if parts[-1] == "__init__" else parts[:-1]
    visitor = _Imports(package[:-1] if parts[-1] == "__init__" else package)
    visitor.visit(ast.parse(path.read_text()))
    return ".".join(parts[1:]), [m.removeprefix("transitmile.") for m in visitor.found]


MODULES = sorted(p for p in PACKAGE.rglob("*.py") if p.name != "__init__.py" or p.parent != PACKAGE)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_imports_a_later_layer(path):
    name, imported = _imports(path)
    rank = LAYERS[name.split(".")[0]]
    later = [
        m
        for m in imported
        if LAYERS[m.split(".")[0]] > rank
        and not any(name == a and m.startswith(b) for a, b in ALLOWED)
    ]
    assert later == [], f"{name} (layer {rank}) imports {later}"


def test_every_module_has_a_layer():
    tops = {p.relative_to(PACKAGE).parts[0].removesuffix(".py") for p in MODULES}
    assert tops <= set(LAYERS)


def test_the_checker_sees_relative_and_guarded_imports():
    # engines/access.py imports the network for annotations only: not a dependency
    name, imported = _imports(PACKAGE / "engines" / "access.py")
    assert name == "engines.access"
    assert "network" not in imported and "sparse" in imported and "engines.request" in imported
    name, imported = _imports(PACKAGE / "streets" / "__init__.py")
    assert name == "streets.__init__" and "streets.graph" in imported and "sparse" in imported
