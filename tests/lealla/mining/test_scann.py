def test_scann_build_logs_nothing_unless_verbose(tmp_path):
    import os
    import subprocess
    import sys

    script = (
        "import numpy as np\n"
        "from lealla.mining.scann_search import ScannConfig, ScannIndex\n"
        "x = np.random.default_rng(0).normal(size=(25000, 16)).astype(np.float32)\n"
        "ScannIndex(x / np.linalg.norm(x, axis=1, keepdims=True), ScannConfig())\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "LEALLA_VERBOSE"}
    quiet = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env)
    assert quiet.returncode == 0 and "partition" not in quiet.stderr.lower(), quiet.stderr[-500:]
    loud = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env={**env, "LEALLA_VERBOSE": "1"})  # fmt: skip
    assert "partition" in loud.stderr.lower()
