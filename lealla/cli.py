"""The `lealla` command: dispatches `lealla NAME ...` to that command's absl entry point."""

from __future__ import annotations

import importlib
import sys

# name -> (entry-point module with `main(argv)`, one-line description). Each module
# defines its own absl flags, so only the chosen one is imported.
COMMANDS: dict[str, tuple[str, str]] = {
    "corpus": (
        "lealla.commands.corpus_main",
        "validate corpus files and count examples per language (with --on_bad_line)",
    ),
    "vocab": (
        "lealla.commands.vocab_main",
        "vocab build|prune|coverage: learn, prune or measure a wordpiece/SentencePiece vocab",
    ),
    "cache": (
        "lealla.commands.cache_main",
        "run a teacher once over a corpus and store its embeddings (resumable, sharded)",
    ),
    "distill": (
        "distill.train",
        "distil a teacher into a student (absl flags, --config=demo|lealla_small|...)",
    ),
    "export": (
        "export.export_hub",
        "export a trained student as a TF Hub SavedModel (+ LaBSE-format pair, model card)",
    ),
    "eval": (
        "lealla.commands.eval_main",
        "eval tatoeba|bucc|un: bitext retrieval accuracy / mining F1 / pool P@1 of an encoder",
    ),
    "align": (
        "lealla.commands.align_main",
        "mine translation pairs from two text files (ScaNN or exact, ratio margin) into a TSV",
    ),
    "demo": (
        "lealla.commands.demo_main",
        "the offline demo on the shipped 14-language corpus (what `make demo` runs)",
    ),
}


def usage() -> str:
    width = max(len(name) for name in COMMANDS)
    lines = [
        "usage: lealla COMMAND [--flags] (lealla COMMAND --help for its flags)",
        "",
        "commands:",
    ]
    lines += [f"  {name.ljust(width)}  {desc}" for name, (_, desc) in COMMANDS.items()]
    return "\n".join(lines)


def run(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    from absl import app

    argv = list(sys.argv if argv is None else argv)
    if len(argv) < 2 or argv[1] in ("-h", "--help", "help", "--helpfull"):
        print(usage())
        sys.exit(0 if len(argv) >= 2 else 2)
    name = argv[1]
    if name not in COMMANDS:
        print(f"lealla: unknown command {name!r}\n\n{usage()}", file=sys.stderr)
        sys.exit(2)
    module = importlib.import_module(COMMANDS[name][0])
    app.run(module.main, argv=[f"lealla {name}", *argv[2:]])


if __name__ == "__main__":
    run()
