"""The `lealla` command, run as users run it (a subprocess of the installed script)."""

import json
import os
import subprocess
import sys

import pytest

from lealla.cli import main as cli

LEALLA = [sys.executable, "-m", "lealla.cli.main"]
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}


def run(*args, check=True):
    result = subprocess.run([*LEALLA, *args], capture_output=True, text=True, env=ENV, timeout=300)
    if check and result.returncode != 0:
        raise AssertionError(f"exit {result.returncode}\n{result.stdout}\n{result.stderr}")
    return result


def test_help_lists_every_command():
    out = run("--help").stdout
    for name in cli.COMMANDS:
        assert f"  {name} " in out


def test_distill_help_lists_the_settings_generated_from_its_config():
    out = run("distill", "--help").stdout
    # The flags of a fresh process (this one may have registered a test objective).
    script = ("from lealla.config import config_flags\n"
              "from lealla.models.distill.distill_config import DistillConfig\n"
              "print(' '.join(config_flags.flag_names(DistillConfig).values()))")  # fmt: skip
    names = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                           env=ENV, timeout=300, check=True).stdout  # fmt: skip
    settings = names.split()
    assert len(settings) > 40
    missing = [n for n in settings if f"  --{n}:" not in out and f"  --[no]{n}:" not in out]
    assert not missing, missing
    assert "(default: 'pieces')" in out  # --student.token_init
    # Grouped by section, after the everyday flags.
    assert out.index("  --train_data:") < out.index("data settings (--data.*):")
    assert out.index("data settings (--data.*):") < out.index("  --data.batch_size:")
    assert out.index("lealla settings (--lealla.*):") < out.index("  --lealla.bank_weight:")


def test_distill_helpfull_lists_its_own_flags_first_then_every_other():
    full = run("distill", "--helpfull").stdout
    short = run("distill", "--helpshort").stdout
    own = full.index("  --steps:")
    assert own < full.index("all other flags, by module:") < full.index("absl.logging:")
    assert own < full.index("  --flagfile:") and "  --flagfile:" not in short
    assert "  --steps:" in short and "all other flags" not in short
    # --helpshort is --help: the command's own flags
    assert run("corpus", "--helpshort").stdout == run("corpus", "--help").stdout


def test_flagfile_is_read_as_absl_reads_it(tmp_path, write):
    corpus = write("de.txt", "Hallo Welt.\nGuten Morgen.\n")
    flagfile = tmp_path / "corpus.flags"
    flagfile.write_text(f"# a comment\n--corpus={corpus}\n--json\n", encoding="utf-8")
    result = run("corpus", f"--flagfile={flagfile}")
    assert json.loads(result.stdout.strip().splitlines()[-1])["examples"] == 2
    flagfile.write_text("--help\n", encoding="utf-8")  # help in a flagfile, as in absl
    assert "--on_bad_line" in run("corpus", f"--flagfile={flagfile}").stdout
    missing = run("corpus", f"--flagfile={tmp_path / 'none.flags'}", check=False)
    assert missing.returncode == cli.USAGE_EXIT
    assert "none.flags" in missing.stderr and len(missing.stderr.strip().splitlines()) == 1


def test_unknown_command():
    result = run("distil", check=False)
    assert result.returncode == 2
    assert "unknown command 'distil'" in result.stderr


def test_corpus_check_json(write):
    path = write("de-en.tsv", "Hallo\tHello\n\nWelt\tWorld\n")
    bad = run("corpus", f"--corpus={path}", "--json", check=False)
    assert bad.returncode != 0 and "de-en.tsv:2: empty line" in bad.stderr
    ok = run("corpus", f"--corpus={path}", "--on_bad_line=skip", "--json")
    summary = json.loads(ok.stdout)  # the JSON object alone on stdout
    assert summary == {"examples": 2, "groups": {"de-en": 2}, "skipped": {"empty line": 1}}
    assert "total 2 examples" in ok.stderr  # the human lines go to stderr


@pytest.fixture
def small_corpus(write):
    from lealla.data import demo_corpus

    de = demo_corpus.read_split("dev", "de")
    en = demo_corpus.read_split("dev", "en")
    return write("de-en.tsv", "".join(f"{a}\t{b}\n" for a, b in zip(de, en, strict=True)))


def test_vocab_build_then_prune(small_corpus, tmp_path):
    vocab = str(tmp_path / "vocab.txt")
    out = run("vocab", "build", f"--corpus={small_corpus}", f"--out={vocab}", "--vocab_size=600")
    assert "wrote" in out.stdout and "unk_rate" in out.stdout
    again = run("vocab", "build", f"--corpus={small_corpus}", f"--out={vocab}", check=False)
    assert again.returncode != 0 and "exists; pass --overwrite" in again.stderr
    pruned = str(tmp_path / "pruned")
    out = run("vocab", "prune", f"--vocab={vocab}", f"--corpus={small_corpus}", f"--out={pruned}")
    assert "kept" in out.stdout
    assert sorted(os.listdir(pruned)) == [
        "old_ids.npy",
        "pruning.json",
        "tokenizer.json",
        "vocab.txt",
    ]


def test_vocab_usage_errors(small_corpus):
    result = run("vocab", "shrink", f"--corpus={small_corpus}", check=False)
    assert result.returncode != 0 and "usage: lealla vocab {build|prune|coverage}" in result.stderr
    result = run("vocab", "coverage", f"--corpus={small_corpus}", check=False)
    assert "give exactly one of vocab" in result.stderr


def test_third_party_info_through_absl_is_dropped_ours_and_warnings_kept():
    import logging

    from absl import logging as absl_logging

    records = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(record.getMessage())

    absl = logging.getLogger("absl")
    handler = Keep(logging.INFO)
    absl.addHandler(handler)
    absl.addFilter(cli._ours_or_warning)
    old_level = absl.level
    absl.setLevel(logging.INFO)
    try:
        for path, level in (("/env/site-packages/tensorflow/python/saver.py", "info"),
                            ("/env/site-packages/tensorflow/python/saver.py", "warning"),
                            ("/env/site-packages/lealla/mining/mine.py", "info")):  # fmt: skip
            code = compile(f"logging.{level}('{level} from {path}')", path, "exec")
            exec(code, {"logging": absl_logging})
    finally:
        absl.removeHandler(handler)
        absl.removeFilter(cli._ours_or_warning)
        absl.setLevel(old_level)
    assert records == ["warning from /env/site-packages/tensorflow/python/saver.py",
                       "info from /env/site-packages/lealla/mining/mine.py"]  # fmt: skip


def test_info_lines_only_with_verbose(small_corpus, tmp_path):
    import re

    args = ["vocab", "build", f"--corpus={small_corpus}", "--vocab_size=600"]
    quiet = run(*args, f"--out={tmp_path / 'a.txt'}")
    assert "wrote" in quiet.stdout  # the result
    assert not re.search(r"^I\d{4} ", quiet.stderr, re.M), quiet.stderr  # no INFO line
    verbose = run(*args, f"--out={tmp_path / 'b.txt'}", "--verbose")
    assert re.search(r"^I\d{4} .*vocab_main.py:\d+\] wrote \d+ tokens", verbose.stderr, re.M)
