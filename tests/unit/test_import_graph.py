"""No import circle among the portal's modules, function-level imports included.

The graph is read from the source with ``ast`` (nothing is imported), so an import made
inside a function to dodge a circle at load time still counts as an edge.
"""

import ast
from pathlib import Path

PORTAL = Path(__file__).resolve().parents[2] / "portal"


def _module_names():
    """Every module of the portal package: dotted name → path."""
    modules = {}
    for path in PORTAL.rglob("*.py"):
        parts = list(path.relative_to(PORTAL.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def _imported(module, path, modules):
    """The portal modules that ``module`` imports, anywhere in its source."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name in modules)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            for alias in node.names:
                # ``from portal.admin import cities`` names a module; ``import bp``, a name in one.
                target = f"{base}.{alias.name}"
                if target in modules:
                    found.add(target)
                elif base in modules:
                    found.add(base)
    found.discard(module)
    return found


def import_graph():
    """The portal's import graph: module → the portal modules it imports."""
    modules = _module_names()
    return {name: _imported(name, path, modules) for name, path in modules.items()}


def cycles(graph):
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
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
    return found


def test_the_graph_sees_function_level_imports():
    """The workflow imports the models inside its functions: those edges are in the graph."""
    graph = import_graph()
    assert "portal.applications.models" in graph["portal.applications.workflow"]
    assert "portal.admin" in graph["portal.admin.cities"]


def test_a_circle_is_found():
    """The detector itself finds a circle of three modules and ignores a chain."""
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": {"c"}, "c": set()}) == []


def test_no_import_circle_among_portal_modules():
    """No module of portal/ reaches itself through imports, at load time or in a function."""
    assert cycles(import_graph()) == []


def test_features_write_the_audit_trail_without_admin():
    """The audit trail is below the features: they import it, it imports none of them."""
    graph = import_graph()
    assert graph["portal.audit"] <= {"portal.database", "portal.extensions", "portal.timeutil"}
    for feature in (
        "portal.review",
        "portal.privacy",
        "portal.applications",
        "portal.catalog",
        "portal.auth",
    ):
        for module, imported in graph.items():
            if module == feature or module.startswith(feature + "."):
                assert not {m for m in imported if m == "portal.admin" or m.startswith("portal.admin.")}, (
                    module
                )
