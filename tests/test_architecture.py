"""The layout is the architecture: surfaces sit on top, domains never reach up, no file cycles.

Imports are read with ``ast`` from every file under ``src/tenure`` — including imports inside
functions, which hide cycles from a plain ``import`` at start-up but still tie the two files
together. ``from tenure.pkg import name`` counts as an import of ``tenure.pkg.name`` when that is
a module, otherwise of ``tenure.pkg``; relative imports are resolved against the file's package.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping, Set
from pathlib import Path

import tenure

PACKAGE_ROOT = Path(tenure.__file__).parent
SURFACES = ("api", "web", "cli")
COMPOSITION_ROOT = "server"  # tenure/server.py builds the app from the surfaces

Graph = dict[str, set[str]]


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(tree: ast.AST, module: str, is_package: bool, known: Set[str]) -> set[str]:
    """The modules of `known` that any ``import`` anywhere in the file brings in."""
    package = module if is_package else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
            # `from pkg import name` imports the module pkg.name when there is one, else pkg
            found.update(
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base
                for alias in node.names
            )
    return (found & known) - {module}


def import_graph(root: Path) -> Graph:
    """Module → the modules of the same tree it imports (module level or inside functions)."""
    files = {module_name(path, root): path for path in sorted(root.rglob("*.py"))}
    return {
        module: imported_modules(
            ast.parse(path.read_text(encoding="utf-8"), filename=str(path)),
            module,
            path.name == "__init__.py",
            files.keys(),
        )
        for module, path in files.items()
    }


def cycles(graph: Mapping[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def layer(module: str) -> str:
    """The top-level folder of a module under tenure (``tenure.api.v1.common`` → ``api``)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def reaching_up(graph: Mapping[str, set[str]]) -> list[str]:
    """Imports that break the layering: a domain into a surface, or a surface into another."""
    wrong = []
    for source, targets in sorted(graph.items()):
        for target in sorted(targets):
            into = layer(target)
            if into in SURFACES and layer(source) not in (into, COMPOSITION_ROOT):
                wrong.append(f"{source} → {target}")
    return wrong


def test_no_import_cycles_between_files() -> None:
    assert cycles(import_graph(PACKAGE_ROOT)) == []


def test_domains_never_import_a_surface_and_surfaces_never_import_each_other() -> None:
    assert reaching_up(import_graph(PACKAGE_ROOT)) == []


def test_the_composition_root_is_the_only_place_that_joins_the_surfaces() -> None:
    graph = import_graph(PACKAGE_ROOT)
    assert {layer(t) for t in graph["tenure.server"]} >= {"api", "web"}


def _write(root: Path, files: Mapping[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root / "tenure"


def test_the_finder_sees_a_cycle_hidden_inside_a_function_and_behind_relative_imports(
    tmp_path: Path,
) -> None:
    root = _write(
        tmp_path,
        {
            "tenure/__init__.py": "",
            "tenure/sim/__init__.py": "",
            # engine imports snapshot only inside a function, snapshot imports engine relatively
            "tenure/sim/engine.py": "def run():\n    from tenure.sim import snapshot\n",
            "tenure/sim/snapshot.py": "from .engine import run\n",
            "tenure/sim/clean.py": "from . import engine\nimport os\n",
            "tenure/web/__init__.py": "",
            "tenure/web/page.py": "from ..sim import clean\n",
            "tenure/cli/__init__.py": "",
            "tenure/cli/demo.py": "def go():\n    import tenure.web.page\n",
            "tenure/health/__init__.py": "",
            "tenure/health/view.py": "from tenure.cli.demo import go\n",
            "tenure/server.py": "from tenure.web import page\nfrom tenure.cli import demo\n",
        },
    )
    graph = import_graph(root)
    assert graph["tenure.sim.engine"] == {"tenure.sim.snapshot"}
    assert graph["tenure.sim.clean"] == {"tenure.sim.engine"}
    assert graph["tenure.web.page"] == {"tenure.sim.clean"}
    assert cycles(graph) == [["tenure.sim.engine", "tenure.sim.snapshot"]]
    assert reaching_up(graph) == [
        "tenure.cli.demo → tenure.web.page",
        "tenure.health.view → tenure.cli.demo",
    ]
