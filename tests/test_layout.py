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
    "recommender": {"BundleError", "Filters", "Recommender", "display_title", "title_years"}
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
