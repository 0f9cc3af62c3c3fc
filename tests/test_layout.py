"""The layout shows the architecture: small files and functions, a UI that talks to the model
through ``Recommender`` alone, and no module reaching into another's private names."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
ENTRY_POINTS = [REPO / "main.py", REPO / "train_and_save_model.py"]
PRODUCT = sorted([*REPO.glob("recommender/**/*.py"), *REPO.glob("app/**/*.py"), *ENTRY_POINTS])
MAX_FILE_LINES, MAX_FUNCTION_LINES = 500, 60
# What the page may import from the model side: the public face of the package.
UI_MAY_IMPORT = {
    "recommender": {"BundleError", "Filters", "Recommender", "display_title", "title_years"},
    "recommender.evaluation.report": {"manifest_overview"},  # the About page's figures
}


def _name(path: Path) -> str:
    return str(path.relative_to(REPO))


@pytest.mark.parametrize("path", PRODUCT, ids=_name)
def test_files_and_functions_are_small(path: Path):
    source = path.read_text()
    assert len(source.splitlines()) <= MAX_FILE_LINES
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            length = node.end_lineno - node.lineno + 1
            assert length <= MAX_FUNCTION_LINES, f"{node.name} has {length} lines"


UI_FILES = [REPO / "main.py", *sorted(REPO.glob("app/*.py"))]


@pytest.mark.parametrize("path", UI_FILES, ids=_name)
def test_the_page_imports_only_the_recommender_from_the_model(path: Path):
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("recommender"):
            allowed = UI_MAY_IMPORT.get(node.module or "", set())
            names = {alias.name for alias in node.names}
            assert names <= allowed, f"{_name(path)} imports {names - allowed} from {node.module}"
        if isinstance(node, ast.Import):
            assert not any(a.name.startswith("recommender.") for a in node.names)


def _project_modules(tree: ast.Module) -> dict[str, str]:
    """Local names bound to the project's own modules by ``import`` / ``from x import module``."""
    bound = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in {"recommender", "app"}:
                    bound[alias.asname or alias.name] = alias.name
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in {
            "recommender",
            "app",
        }:
            for alias in node.names:
                if alias.name[:1].islower():  # a submodule (or function) imported by name
                    bound[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return bound


@pytest.mark.parametrize("path", PRODUCT, ids=_name)
def test_no_module_uses_another_modules_private_names(path: Path):
    tree = ast.parse(path.read_text())
    modules = _project_modules(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in {
            "recommender",
            "app",
        }:
            private = [a.name for a in node.names if a.name.startswith("_")]
            assert not private, f"{_name(path)} imports {private} from {node.module}"
        if (
            isinstance(node, ast.Attribute)
            and node.attr.startswith("_")
            and not node.attr.startswith("__")
            and isinstance(node.value, ast.Name)
            and node.value.id in modules
        ):
            raise AssertionError(f"{_name(path)} uses {node.value.id}.{node.attr}")


# The package's entry points that run the evaluation (``python -m recommender.evaluate``).
EVALUATION_ENTRY_POINTS = {"recommender.evaluate"}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(path): path for path in REPO.glob("recommender/**/*.py")}


def _imported(tree: ast.Module) -> set[str]:
    """The project modules a module imports anywhere (top level, in functions, under
    TYPE_CHECKING): ``from a import b`` is module ``a.b`` when that is a module, else ``a``."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                found.add(submodule if submodule in MODULES else node.module)
    return found & set(MODULES) | {name for name in found if name.split(".")[0] == "app"}


def _import_graph() -> dict[str, set[str]]:
    return {name: _imported(ast.parse(path.read_text())) for name, path in MODULES.items()}


def _a_circle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle of ``graph`` (the modules in order, the first repeated), or None."""
    done: set[str] = set()

    def visit(module: str, path: list[str]) -> list[str] | None:
        if module in path:
            return [*path[path.index(module) :], module]
        if module in done:
            return None
        for imported in sorted(graph.get(module, ())):
            circle = visit(imported, [*path, module])
            if circle:
                return circle
        done.add(module)
        return None

    for module in sorted(graph):
        circle = visit(module, [])
        if circle:
            return circle
    return None


def test_the_circle_finder_finds_a_circle():
    assert _a_circle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _a_circle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


def test_no_import_circle_in_the_recommender_package():
    graph = {module: imported & set(MODULES) for module, imported in _import_graph().items()}
    circle = _a_circle(graph)
    assert circle is None, "import circle: " + " -> ".join(circle or [])


def test_no_model_module_imports_the_app_or_the_evaluation():
    for module, imported in _import_graph().items():
        if module.startswith("recommender.evaluation") or module in EVALUATION_ENTRY_POINTS:
            continue
        upward = {name for name in imported if name.split(".")[:2] == ["recommender", "evaluation"]}
        upward |= {name for name in imported if name.split(".")[0] == "app"}
        assert not upward, f"{module} imports {sorted(upward)}"
