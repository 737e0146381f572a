"""Every shell and Python block of README.md and docs/*.md runs as written.

The blocks of each Markdown file run in order, in a temporary folder of their own, against
the shipped demo corpus laid out where the docs expect a user's files (`data/train/*`,
`web/de.txt`, ...). A block that needs the network, a GPU/TPU or a hub account says so in
the Markdown itself, on the line above its fence:

    <!-- docs-test: skip network: downloads LaBSE from TF Hub -->

and is skipped with that reason and counted. A few substitutions (`SUBSTITUTIONS`) turn
what needs an accelerator or a download into its offline equivalent and shorten training
budgets, so the whole test runs in minutes on 2 cores; the docs themselves stay as a user
types them. The README runs first: the docs pages continue from the run, cache and export
its four commands made, as a reader who followed it would.
"""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHELL_LANGS = ("bash", "sh", "shell", "console")
RUN_LANGS = (*SHELL_LANGS, "python")
SKIP_RE = re.compile(r"^<!--\s*docs-test:\s*skip\s+(?P<reason>.+?)\s*-->$")
FENCE_RE = re.compile(r"^(?P<indent>\s*)```(?P<lang>[\w+-]*)\s*$")
LINK_RE = re.compile(r"\]\((?P<target>[^)\s]+)\)")
BLOCK_TIMEOUT_S = 900

# (pattern, replacement, why): applied to shell blocks before they run.
SUBSTITUTIONS: tuple[tuple[str, str, str], ...] = (
    (r"--(teacher|reference_encoder)=labse\b", r"--\1=use-multilingual",
     "LaBSE is a TF Hub download: the offline USE-m teacher stands in"),
    (r"--config=lealla_(small|base|large)\b", "--config=demo",
     "the LEALLA presets are accelerator jobs (LaBSE's vocabulary, batch 2048)"),
    (r"--train_minutes=\d+", "--steps=20", "a training budget shortened to 20 steps"),
    (r"--steps=\d+", "--steps=20", "a training budget shortened to 20 steps"),
    (r"(lealla eval (tatoeba|bucc)\b[^\n]*?)--download\b", r"\1--data=\2",
     "the public sets are downloads: the demo test split in their format stands in"),
    (r"\blealla export ", "lealla export --nocheck_loaders ",
     "the fresh-process loader check runs in tests/export; the README's Python loads it"),
)  # fmt: skip

# Artifacts of the README's commands that the docs pages start from.
CARRIED = ("cache", "runs", "exports", "demo_out")
DEMO_LANGS = ("ar", "de", "es", "fr", "it", "ja", "ko", "nl", "pl", "pt", "ru", "tr", "zh")
TATOEBA_CODES = {
    "ar": "ara", "de": "deu", "es": "spa", "fr": "fra", "it": "ita", "ja": "jpn", "ko": "kor",
    "nl": "nld", "pl": "pol", "pt": "por", "ru": "rus", "tr": "tur", "zh": "cmn",
}  # fmt: skip


@dataclasses.dataclass(frozen=True)
class Block:
    """One fenced code block: where it is, its language, its text, and a skip reason."""

    file: str
    line: int
    lang: str
    text: str
    skip: str | None

    @property
    def where(self) -> str:
        return f"{os.path.relpath(self.file, ROOT)}:{self.line}"


def doc_files() -> list[str]:
    """README.md, then docs/*.md in name order."""
    docs = os.path.join(ROOT, "docs")
    pages = sorted(f for f in os.listdir(docs) if f.endswith(".md")) if os.path.isdir(docs) else []
    return [os.path.join(ROOT, "README.md"), *(os.path.join(docs, f) for f in pages)]


def extract_blocks(path: str) -> list[Block]:
    """Every fenced block of a Markdown file, with the skip marker above it if any."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    blocks, i, previous = [], 0, ""
    while i < len(lines):
        fence = FENCE_RE.match(lines[i])
        if fence is None:
            if lines[i].strip():
                previous = lines[i].strip()
            i += 1
            continue
        start, indent = i, fence["indent"]
        i += 1
        body = []
        while i < len(lines) and lines[i].strip() != "```":
            body.append(lines[i][len(indent) :] if lines[i].startswith(indent) else lines[i])
            i += 1
        if i == len(lines):
            raise ValueError(f"{path}:{start + 1}: code fence never closed")
        marker = SKIP_RE.match(previous)
        blocks.append(Block(path, start + 1, fence["lang"], "\n".join(body) + "\n",
                            marker["reason"] if marker else None))  # fmt: skip
        previous, i = "", i + 1
    return blocks


def substitute(text: str) -> str:
    for pattern, replacement, _ in SUBSTITUTIONS:
        text = re.sub(pattern, replacement, text)
    return text


def console_commands(text: str) -> str:
    """The commands of a console block (lines after `$ `, with their continuations)."""
    commands, continuing = [], False
    for line in text.splitlines():
        if line.startswith("$ ") or continuing:
            command = line[2:] if line.startswith("$ ") and not continuing else line
            commands.append(command)
            continuing = command.rstrip().endswith("\\")
    return "\n".join(commands) + "\n"


def github_anchor(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to dashes."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(path: str) -> set[str]:
    with open(path, encoding="utf-8") as f:
        text = f.read()
    text = re.sub(r"```.*?```", "", text, flags=re.S)
    return {github_anchor(m) for m in re.findall(r"^#{1,6}\s+(.+)$", text, flags=re.M)}


def broken_links(path: str) -> list[str]:
    """Relative links of a Markdown file whose file or #anchor does not exist."""
    with open(path, encoding="utf-8") as f:
        text = re.sub(r"```.*?```", "", f.read(), flags=re.S)
    broken = []
    for target in LINK_RE.findall(text):
        if re.match(r"^[a-z]+:", target):
            continue  # http(s), mailto: checked by no offline test
        file, _, anchor = target.partition("#")
        resolved = os.path.normpath(os.path.join(os.path.dirname(path), file)) if file else path
        if not os.path.exists(resolved):
            broken.append(f"{os.path.relpath(path, ROOT)}: {target} (no such file)")
        elif anchor and resolved.endswith(".md") and anchor not in anchors(resolved):
            broken.append(f"{os.path.relpath(path, ROOT)}: {target} (no such section)")
    return broken


def seed_demo_data(root: str) -> None:
    """The demo corpus where the docs expect a user's files."""
    from lealla.data import demo_corpus

    def write(name: str, lines) -> None:
        path = os.path.join(root, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.writelines(f"{line}\n" for line in lines)

    for split in ("train", "dev"):
        english = demo_corpus.read_split(split, "en")
        for lang in DEMO_LANGS:
            pairs = zip(demo_corpus.read_split(split, lang), english, strict=True)
            write(f"data/{split}/{lang}-en.tsv", (f"{a}\t{b}" for a, b in pairs))
    for lang in (*DEMO_LANGS, "en"):  # text of a domain to add: the dev split, a file each
        write(f"data/chat/{lang}.txt", demo_corpus.read_split("dev", lang))
    test_en = demo_corpus.read_split("test", "en")
    for lang in ("de", "en"):  # two sides to mine, the English reversed
        sentences = demo_corpus.read_split("test", lang)
        write(f"web/{lang}.txt", sentences[::-1] if lang == "en" else sentences)
    de = demo_corpus.read_split("test", "de")
    write("checked-pairs.tsv", (f"{a}\t{b}" for a, b in zip(de[:20], test_en[:20], strict=True)))
    for lang in DEMO_LANGS:  # the evaluation sets' formats, from the test split
        code = TATOEBA_CODES[lang]
        sentences = demo_corpus.read_split("test", lang)
        write(f"tatoeba/tatoeba.{code}-eng.{code}", sentences)
        write(f"tatoeba/tatoeba.{code}-eng.eng", test_en)
        write(
            f"bucc/{lang}-en.sample.{lang}", (f"{lang}-{i}\t{s}" for i, s in enumerate(sentences))
        )
        write(f"bucc/{lang}-en.sample.en", (f"en-{i}\t{s}" for i, s in enumerate(test_en)))
        write(f"bucc/{lang}-en.sample.gold", (f"{lang}-{i}\ten-{i}" for i in range(len(test_en))))
    for lang in ("ar", "en", "es", "fr", "ru", "zh"):  # the UN test sets' six languages
        write(f"un/UNv1.0.testset.{lang}", demo_corpus.read_split("test", lang))


def run_block(block: Block, cwd: str, env: dict) -> subprocess.CompletedProcess:
    if block.lang == "python":
        script = os.path.join(cwd, f".block_{block.line}.py")
        with open(script, "w", encoding="utf-8") as f:
            f.write(block.text)
        argv = [sys.executable, script]
    else:
        text = console_commands(block.text) if block.lang == "console" else block.text
        argv = ["bash", "-euo", "pipefail", "-c", substitute(text)]
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=BLOCK_TIMEOUT_S)  # fmt: skip


def test_blocks_are_well_formed():
    """Skip markers sit on blocks that run; the README is short and links every page (fast)."""
    problems = []
    for path in doc_files():
        for block in extract_blocks(path):  # unlabelled fences are output: never run
            if block.skip is not None and block.lang not in RUN_LANGS:
                problems.append(f"{block.where}: skip marker on a block that never runs")
    assert not problems, "\n".join(problems)
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        readme = f.read()
    assert len(readme.splitlines()) <= 200
    docs = os.path.join(ROOT, "docs")
    unlinked = [p for p in sorted(os.listdir(docs)) if f"(docs/{p})" not in readme]
    assert not unlinked, f"docs pages the README does not link: {unlinked}"


def test_extract_and_substitute(tmp_path):
    page = tmp_path / "page.md"
    page.write_text(
        "Text.\n\n<!-- docs-test: skip network: a download -->\n\n```bash\nlealla cache "
        "--teacher=labse --out=c\n```\n\n```python\nprint(1)\n```\n\n```console\n$ lealla "
        "distill --train_minutes=30 \\\n    --model_dir=r\nstep 20: loss 1.0\n```\n",
        encoding="utf-8",
    )
    first, second, third = extract_blocks(str(page))
    assert (first.lang, first.skip, first.line) == ("bash", "network: a download", 5)
    assert (second.lang, second.skip, second.text) == ("python", None, "print(1)\n")
    assert substitute(first.text) == "lealla cache --teacher=use-multilingual --out=c\n"
    assert substitute(console_commands(third.text)) == (
        "lealla distill --steps=20 \\\n    --model_dir=r\n"
    )
    heading = "Mining at scale: `lealla align` vs `lealla mine` (Beam)"
    assert github_anchor(heading) == "mining-at-scale-lealla-align-vs-lealla-mine-beam"


@pytest.fixture(scope="session")
def demo_export(trained_run, tmp_path_factory):
    """What `make demo` leaves in demo_out/export: an export of a small demo-corpus student."""
    from lealla.models.export import exporter

    model_dir, _ = trained_run
    out = str(tmp_path_factory.mktemp("demo_out") / "export")
    exporter.export_model(model_dir, out)
    return out


@dataclasses.dataclass
class FileRun:
    """What running one Markdown file's blocks gave."""

    ran: int = 0
    skipped: list[str] = dataclasses.field(default_factory=list)
    failures: list[str] = dataclasses.field(default_factory=list)
    timings: list[tuple[float, str]] = dataclasses.field(default_factory=list)


def run_file(path: str, cwd: str, env: dict) -> FileRun:
    """Runs a file's blocks in order in `cwd`; a failed block does not stop the next."""
    outcome = FileRun()
    for block in extract_blocks(path):
        if block.lang not in RUN_LANGS:
            continue
        if block.skip is not None:
            outcome.skipped.append(block.skip)
            continue
        start = time.perf_counter()
        result = run_block(block, cwd, env)
        outcome.timings.append((time.perf_counter() - start, block.where))
        outcome.ran += 1
        if result.returncode != 0:
            outcome.failures.append(
                f"{block.where} ({block.lang}) exited {result.returncode}:\n"
                f"{block.text}\n--- stderr (end) ---\n{result.stderr[-2000:]}"
            )
    return outcome


@pytest.mark.large  # trains, exports, evaluates and mines through the CLI: several minutes
def test_every_block_runs(tmp_path, use_m_module, demo_export, capsys):
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(p for p in (ROOT, os.environ.get("PYTHONPATH")) if p),
        "PATH": os.pathsep.join((os.path.dirname(sys.executable), os.environ.get("PATH", ""))),
        "LEALLA_CACHE_DIR": os.path.dirname(os.path.dirname(use_m_module)),
        "MPLBACKEND": "Agg",
    }
    broken = [link for path in doc_files() for link in broken_links(path)]
    readme, *pages = doc_files()
    folders = {path: str(tmp_path / os.path.splitext(os.path.basename(path))[0]) for path in
               doc_files()}  # fmt: skip
    for folder in folders.values():
        seed_demo_data(folder)
    shutil.copytree(demo_export, os.path.join(folders[readme], "demo_out", "export"))
    outcomes = [run_file(readme, folders[readme], env)]
    for path in pages:  # each page continues from what the README's commands made
        for name in CARRIED:
            made = os.path.join(folders[readme], name)
            if os.path.isdir(made):
                shutil.copytree(made, os.path.join(folders[path], name), symlinks=True)
    # Two pages at a time: much of a command's time is single-threaded (imports, tracing).
    with ThreadPoolExecutor(2) as pool:
        outcomes += pool.map(lambda path: run_file(path, folders[path], env), pages)

    ran = sum(o.ran for o in outcomes)
    skipped = Counter(reason for o in outcomes for reason in o.skipped)
    reasons = ", ".join(f"{n} x {reason}" for reason, n in sorted(skipped.items()))
    summary = f"{ran} blocks run, {sum(skipped.values())} skipped ({reasons or 'none'})"
    timings = sorted((t for o in outcomes for t in o.timings), reverse=True)
    slowest = ", ".join(f"{where} {s:.0f} s" for s, where in timings[:5])
    with capsys.disabled():
        print(f"\ndocs test: {summary}; slowest: {slowest}")
    failures = [failure for o in outcomes for failure in o.failures]
    if broken:
        failures.append("broken links:\n" + "\n".join(broken))
    assert not failures, f"{summary}\n\n" + "\n\n".join(failures)
