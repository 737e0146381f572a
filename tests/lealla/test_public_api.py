import ast
import pathlib
import subprocess
import sys

import lealla


def test_every_export_resolves():
    for name in lealla.__all__:
        assert getattr(lealla, name).__name__ == name


def test_import_is_light():
    code = "import sys, lealla; print('tensorflow' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_lealla_imports_the_model_packages_only_inside_functions():
    """`lealla/` sits below teachers/, students/, export/ and distill/: a module-level import
    of one of them would load TensorFlow with `import lealla` and make a cycle."""
    upper = {"teachers", "students", "export", "distill"}
    root = pathlib.Path(lealla.__file__).parent
    found = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names = [node.module]
            found += [f"{path.relative_to(root)}: {n}" for n in names if n.split(".")[0] in upper]
    assert not found, found
