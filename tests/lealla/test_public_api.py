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
