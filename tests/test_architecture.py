"""The package's import structure: no import cycle between files (except the documented
`Model`/`Functional` dispatch), no import from `layers/` into models, training or saving, and no
loop between packages through their `__init__` files."""

from __future__ import annotations

import ast
from pathlib import Path

import ember

SOURCE = Path(ember.__file__).parent
ALLOWED_CYCLES = [{"ember.models.model", "ember.models.functional"}]  # Model(inputs, outputs) -> Functional
FORBIDDEN_FROM_LAYERS = ("ember.models", "ember.training", "ember.saving")


def _modules() -> dict[str, Path]:
    modules = {}
    for path in SOURCE.rglob("*.py"):
        parts = path.relative_to(SOURCE.parent).with_suffix("").parts
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return modules


def _imports(path: Path, package: str, top_level_only: bool) -> set[str]:
    """Every `ember...` name the file imports (in functions too, unless `top_level_only`)."""
    tree = ast.parse(path.read_text())
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    names = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[:len(package.split(".")) - node.level + 1] + [base]).strip(".")
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return {name for name in names if name.split(".")[0] == "ember"}


def _graph(top_level_only: bool) -> dict[str, set[str]]:
    modules = _modules()

    def resolve(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph = {}
    for module, path in modules.items():
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        targets = {resolve(name) for name in _imports(path, package, top_level_only)}
        # a package's __init__ re-exporting its members is no dependency of the members on it
        graph[module] = {t for t in targets if t and t != module and not module.startswith(t + ".")}
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[set[str]]:
    """Strongly connected components of more than one node (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(component)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycle_between_files():
    cycles = [cycle for cycle in _cycles(_graph(top_level_only=False)) if cycle not in ALLOWED_CYCLES]
    assert not cycles, f"import cycles: {[sorted(c) for c in cycles]}"


def test_layers_import_nothing_from_models_training_or_saving():
    graph = _graph(top_level_only=False)
    edges = [(a, b) for a in graph if a.startswith("ember.layers") for b in graph[a]
             if b.startswith(FORBIDDEN_FROM_LAYERS)]
    assert not edges, f"forbidden imports: {edges}"


def test_no_loop_between_packages_at_import_time():
    """Packages as nodes, module-level imports as edges: importing any package never re-enters one
    whose __init__ is still running."""
    modules = _modules()
    packages = {m for m, path in modules.items() if path.name == "__init__.py" and m != "ember"}

    def package_of(module: str) -> str:
        owners = [p for p in packages if module == p or module.startswith(p + ".")]
        return max(owners, key=len) if owners else module

    graph: dict[str, set[str]] = {}
    for module, targets in _graph(top_level_only=True).items():
        source = package_of(module)
        graph.setdefault(source, set()).update(package_of(t) for t in targets if package_of(t) != source)
    graph = {k: {t for t in v if t in packages} for k, v in graph.items() if k in packages}
    cycles = _cycles(graph)
    assert not cycles, f"package loops: {[sorted(c) for c in cycles]}"


def test_the_walker_sees_a_forbidden_edge_and_a_cycle():
    """The checks above would fail on the shapes of problem they look for."""
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [{"a", "b", "c"}]
    imports = _imports(SOURCE / "layers" / "serialization.py", "ember.layers", top_level_only=True)
    assert "ember.layers.base" in imports and "ember.registry" in imports
