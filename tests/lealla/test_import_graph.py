"""The import graph of the installed packages: no cycle, and arrows one way.

Read from the sources (every `import`, also inside functions, where cycles used to
hide), so nothing is imported. Modules are named as installed: `distill/trainer.py`
is `lealla.models.distill.trainer` (setup.py).
"""

from __future__ import annotations

import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
FOLDERS = ("distill", "export", "students", "teachers")  # installed under lealla.models
# The layer that may reach the model side: the public functions and the command line.
FRONT = ("lealla.api", "lealla.cli")
MODEL_SIDE = ("lealla.models",)


def _module_name(path: pathlib.Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    if parts[0] in FOLDERS:
        parts = ["lealla", "models", *parts]
    return ".".join(parts)


def _sources() -> dict[str, pathlib.Path]:
    found = {}
    for top in ("lealla", *FOLDERS):
        for path in (ROOT / top).rglob("*.py"):
            found[_module_name(path)] = path
    return found


SOURCES = _sources()


def _imports(path: pathlib.Path) -> list[tuple[str, int, bool]]:
    """(imported internal module, line, at module level) for every import in `path`."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top_level = {id(node) for node in tree.body}
    found = []
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                names.append(full if full in SOURCES else node.module)
        for name in names:
            if name.split(".")[0] in ("lealla", *FOLDERS):
                found.append((name, node.lineno, id(node) in top_level))
    return found


GRAPH = {
    module: sorted({name for name, _, _ in _imports(path) if name in SOURCES} - {module})
    for module, path in SOURCES.items()
}


def _under(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def test_the_sources_are_found():
    assert len(SOURCES) > 140
    assert "lealla.models.distill.trainer" in SOURCES and "lealla.cli.main" in SOURCES


def _cycles(graph: dict[str, list[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components of 2+ nodes: each holds a cycle."""
    index, low, on_stack, stack, cycles = {}, {}, set(), [], []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    return cycles


def _package(module: str) -> str:
    """The package a module belongs to: lealla.data, lealla.models.distill, ..."""
    parts = module.split(".")
    depth = 3 if parts[:2] == ["lealla", "models"] else 2
    package = ".".join(parts[:depth])
    return package if package in SOURCES else ".".join(parts[: depth - 1])


def test_no_import_cycle():
    assert not _cycles(GRAPH)


def test_no_cycle_between_packages():
    # Modules may be acyclic while their packages import each other (data -> shards ->
    # data): the packages would then not be layers a reader can take one at a time.
    packages: dict[str, set[str]] = {}
    for module, names in GRAPH.items():
        packages.setdefault(_package(module), set()).update(
            _package(n) for n in names if _package(n) != _package(module)
        )
    assert not _cycles({p: sorted(n) for p, n in packages.items()})


def test_the_core_reaches_neither_the_model_side_nor_the_front():
    wrong = [
        f"{SOURCES[module].relative_to(ROOT)}:{line} imports {name}"
        for module in SOURCES
        if module.startswith("lealla.") and not _under(module, FRONT + MODEL_SIDE)
        for name, line, _ in _imports(SOURCES[module])
        if _under(name, FRONT + MODEL_SIDE)
    ]
    assert not wrong, wrong


def test_the_model_side_does_not_reach_the_front():
    wrong = [
        f"{SOURCES[module].relative_to(ROOT)}:{line} imports {name}"
        for module in SOURCES
        if _under(module, MODEL_SIDE)
        for name, line, _ in _imports(SOURCES[module])
        if _under(name, FRONT)
    ]
    assert not wrong, wrong


@pytest.mark.parametrize("folder", ["lealla", *FOLDERS, "tests", "benchmarks"])
def test_nothing_imports_the_folders_by_their_top_level_names(folder):
    # `import distill` would load a second copy of the package beside lealla.models.distill
    # (two objective registries, two flag sets) wherever the source root is on sys.path.
    wrong = []
    for path in (ROOT / folder).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names = [node.module]
            else:
                continue
            wrong += [f"{path.relative_to(ROOT)}:{node.lineno}" for n in names
                      if n.split(".")[0] in FOLDERS]  # fmt: skip
    assert not wrong, wrong


def _says_why(lines: list[str], line: int) -> bool:
    """A comment on the import's line, or above the block of imports it belongs to."""
    i = line - 1
    if "#" in lines[i]:
        return True
    while i > 0:
        above = lines[i - 1].strip()
        if not above:  # the blank line between import groups
            i -= 1
            continue
        if above.startswith("#"):
            return True
        if not above.startswith(("from ", "import ")):
            return False
        if "#" in above:
            return True
        i -= 1
    return False


def test_function_level_imports_say_why():
    # Imports inside functions only keep TensorFlow, Beam or a command's work out of
    # start-up and flag parsing; each block of them says so.
    silent = []
    for path in SOURCES.values():
        lines = path.read_text(encoding="utf-8").splitlines()
        silent += [
            f"{path.relative_to(ROOT)}:{line} {name}"
            for name, line, top in _imports(path)
            if not top and name in SOURCES and not _says_why(lines, line)
        ]
    assert not silent, silent
