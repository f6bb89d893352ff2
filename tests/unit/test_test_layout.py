"""The test suite's own rules: shared helpers in one place, slow tests marked and still run."""

import ast
import re
import tomllib
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
ROOT = TESTS.parent
TEST_MODULE = re.compile(r"(^|\.)test_\w+$")


def python_files():
    """Every Python file of the test suite (vendored files aside)."""
    return sorted(p for p in TESTS.rglob("*.py") if "vendor" not in p.parts)


def imported_modules(path):
    """The modules ``path`` imports from (absolute names; relative ones resolved)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = ".".join(path.relative_to(ROOT).parent.parts)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level else ""
            module = ".".join(part for part in (base, node.module or "") if part)
            yield node.lineno, module
            # ``from tests.functional import test_apply`` imports a test module too.
            for alias in node.names:
                yield node.lineno, f"{module}.{alias.name}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name


def top_level_functions(path):
    """Names of the functions and classes ``path`` defines at module level."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {n.name for n in tree.body if isinstance(n, ast.FunctionDef | ast.ClassDef)}


def test_no_module_imports_from_a_test_module():
    offenders = [
        f"{path.relative_to(ROOT)}:{line} imports {module}"
        for path in python_files()
        for line, module in imported_modules(path)
        if module.startswith("tests.") and TEST_MODULE.search(module)
    ]
    assert not offenders, "shared helpers belong in tests/helpers.py or a conftest:\n" + "\n".join(offenders)


def test_no_test_module_redefines_a_shared_helper():
    shared = {}
    for module in ("helpers.py", "factories.py", "browser/helpers.py"):
        for name in top_level_functions(TESTS / module):
            shared.setdefault(name, module)
    redefined = [
        f"{path.relative_to(ROOT)} defines {name} (already in tests/{shared[name]})"
        for path in python_files()
        if path.name.startswith("test_")
        for name in sorted(top_level_functions(path) & shared.keys())
    ]
    assert not redefined, "\n".join(redefined)


def test_export_memory_tests_are_marked_slow():
    marked = {}
    for path in python_files():
        source = path.read_text(encoding="utf-8")
        if "[export memory]" not in source or path == Path(__file__).resolve():
            continue
        for node in ast.parse(source).body:
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_") and "memory" in node.name:
                marked[node.name] = any(ast.unparse(d) == "pytest.mark.slow" for d in node.decorator_list)
    assert marked, "no export memory test found"
    assert all(marked.values()), marked


def test_the_slow_marker_is_registered_and_slow_tests_still_run_by_default():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["pytest"][
        "ini_options"
    ]
    assert any(m.startswith("slow:") for m in config["markers"])
    # Neither the default options nor make test deselect them: CI runs every test.
    assert "-m" not in config.get("addopts", "").split()
    test_target = (ROOT / "Makefile").read_text(encoding="utf-8").split("\ntest:")[1].split("\n\n")[0]
    assert "not slow" not in test_target
