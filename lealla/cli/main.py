"""The `lealla` command: dispatches `lealla NAME ...` to that command's absl entry point."""

from __future__ import annotations

import importlib
import os
import re
import sys

from lealla.ui import console

# name -> (entry-point module with `main(argv)`, one-line description). Each module
# defines its own absl flags, so only the chosen one is imported.
COMMANDS: dict[str, tuple[str, str]] = {
    "corpus": (
        "lealla.cli.corpus_main",
        "validate corpus files and count examples per language (with --on_bad_line)",
    ),
    "vocab": (
        "lealla.cli.vocab_main",
        "vocab build|prune|coverage: learn, prune or measure a wordpiece/SentencePiece vocab",
    ),
    "cache": (
        "lealla.cli.cache_main",
        "run a teacher once over a corpus and store its embeddings (resumable, sharded)",
    ),
    "embed": (
        "lealla.cli.embed_main",
        "sentence embeddings of text files as sharded .npy (Beam pipeline, resumable)",
    ),
    "distill": (
        "lealla.cli.distill_main",
        "distil a teacher into a student (absl flags, --config=demo|lealla_small|...)",
    ),
    "export": (
        "lealla.cli.export_main",
        "export a trained student as a TF Hub SavedModel (+ LaBSE-format pair, model card)",
    ),
    "eval": (
        "lealla.cli.eval_main",
        "eval tatoeba|bucc|un: bitext retrieval accuracy / mining F1 / pool P@1 of an encoder",
    ),
    "align": (
        "lealla.cli.align_main",
        "mine translation pairs from two text files (ScaNN or exact, ratio margin) into a TSV",
    ),
    "mine": (
        "lealla.cli.mine_main",
        "bitext mining of corpora of any size as Beam pipelines (sharded kNN, margin, TSV)",
    ),
    "publish": (
        "lealla.cli.publish_main",
        "publish an export to Kaggle Models or the Hugging Face Hub (validated offline first)",
    ),
    "demo": (
        "lealla.cli.demo_main",
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


# Flags every command takes, read here before the command's own parsing.
VERBOSE_FLAGS = ("--verbose", "--debug")
PROGRESS_FLAG = "--progress"
SHORT_HELP_FLAGS = ("-h", "-?", "--help", "--helpshort")  # the command's own flags
FULL_HELP_FLAG = "--helpfull"  # ... then every other flag its modules define, as absl does
USAGE_EXIT, DATA_EXIT, INTERRUPT_EXIT = 2, 1, 130


def run(argv: list[str] | None = None) -> None:
    """Console-script entry point.

    Usage errors (a bad or missing flag) print one line and exit 2; data errors (a bad
    corpus line, a mismatched cache, an unreadable file, a teacher that cannot be
    loaded, ...) print one line naming the file/flag and exit 1; Ctrl-C exits 130.
    `--verbose` (or `--debug`) shows INFO lines, third-party logging and full
    tracebacks; `--progress` draws live progress bars even when stderr is not a
    terminal. Both are inherited by the processes a command starts (`lealla.ui.console`).
    """
    argv = list(sys.argv if argv is None else argv)
    if len(argv) < 2 or argv[1] in ("-h", "--help", "help", "--helpfull"):
        print(usage())
        sys.exit(0 if len(argv) >= 2 else USAGE_EXIT)
    name = argv[1]
    if name not in COMMANDS:
        message = f"lealla: unknown command {name!r} (lealla --help lists the commands)"
        print(message, file=sys.stderr)
        sys.exit(USAGE_EXIT)
    prog = f"lealla {name}"
    from absl import app, flags

    try:  # --flagfile=FILE, as absl reads it; the file may hold --verbose or --help too
        expanded = flags.FLAGS.read_flags_from_files(argv[2:], force_gnu=True)
    except flags.Error as e:
        _fail(prog, f"usage error: {e} ({prog} --help lists its flags)", USAGE_EXIT)
    args = [a for a in expanded if a not in (*VERBOSE_FLAGS, PROGRESS_FLAG)]
    # A parent `lealla` process (the demo's `lealla distill`) passes its modes down.
    verbose = any(a in VERBOSE_FLAGS for a in expanded) or console.verbose()
    console.set_modes(progress=PROGRESS_FLAG in expanded or console.progress_forced())
    set_verbosity(verbose)

    module = importlib.import_module(COMMANDS[name][0])
    if FULL_HELP_FLAG in args:
        print(command_help(name, module, full=True))
        sys.exit(0)
    if any(a in SHORT_HELP_FLAGS for a in args):
        print(command_help(name, module))
        sys.exit(0)
    # Commands running Beam pipelines leave the flags they do not know to the runner; a
    # command with presets parses its flags itself (`parse_flags`, absl's contract).
    known_only = getattr(module, "PASSES_UNKNOWN_FLAGS", False)
    parse = getattr(module, "parse_flags", None) or (
        lambda argv: flags.FLAGS(argv, known_only=known_only)
    )
    try:
        parse([prog, *args])
    except flags.Error as e:
        _fail(prog, f"usage error: {e} ({prog} --help lists its flags)", USAGE_EXIT)

    def main(command_argv: list[str]) -> None:
        console.show_our_info_lines(verbose)  # after absl's own set-up in app.run
        try:
            module.main(command_argv)
        except app.UsageError as e:
            _fail(prog, f"usage error: {e} ({prog} --help lists its flags)", USAGE_EXIT)
        except KeyboardInterrupt as e:
            _fail(prog, str(e) if str(e) else "interrupted", INTERRUPT_EXIT)
        except DATA_ERRORS as e:
            if verbose:
                raise
            _fail(prog, f"error: {_one_line(e)}", DATA_EXIT)

    app.run(main, argv=[prog, *args], flags_parser=parse)


# Errors that are about the user's data, files or environment, not bugs: one line.
DATA_ERRORS = (ValueError, OSError, RuntimeError, FloatingPointError, LookupError)


def _one_line(error: BaseException) -> str:
    lines = [line.strip() for line in str(error).strip().splitlines() if line.strip()]
    text = " ".join(lines[:2]) if lines else type(error).__name__
    return text if len(text) <= 600 else text[:600] + " ..."


def _fail(prog: str, message: str, code: int) -> None:
    print(f"{prog}: {message}", file=sys.stderr, flush=True)
    sys.exit(code)


def command_help(name: str, module, full: bool = False) -> str:
    """The command's docstring and its own flags (plus the shared ones it defines).

    With `full` (--helpfull), then every other flag defined in the process, by module,
    absl's own (--flagfile, --undefok, ...) included.
    """
    from absl import flags

    doc = (module.__doc__ or "").strip()
    owners = [module.__name__, "lealla.cli.flags"]
    parts = [f"lealla {name}: {COMMANDS[name][1]}", ""]
    if doc:
        parts += [doc, ""]
    parts.append("flags:")
    sections: list[str] = []
    for owner in owners:
        text = flags.FLAGS.module_help(owner)
        if text.strip():
            own, grouped = _by_section(text.split("\n", 1)[1] if text.startswith(owner) else text)
            parts.append(own)
            sections += grouped
    parts.append("  --verbose: show INFO lines, third-party logging and full tracebacks")
    parts.append("  --progress: live progress bars even when stderr is not a terminal")
    parts += sections
    if full:
        parts += ["", "all other flags, by module:"]
        others = sorted(set(flags.FLAGS.flags_by_module_dict()) - set(owners))
        parts += [flags.FLAGS.module_help(other) for other in others]
        every = flags.FLAGS.get_help(prefix="", include_special_flags=True)
        plain = flags.FLAGS.get_help(prefix="", include_special_flags=False)
        parts += ["", every[len(plain) :].strip("\n")]  # absl.flags: --flagfile, --undefok
    else:
        parts += ["", f"lealla {name} --helpfull also lists the flags of the libraries it "
                      "loads; --flagfile=FILE reads flags from a file, one a line."]  # fmt: skip
    return "\n".join(parts)


_FLAG_ENTRY = re.compile(r"^  --(?:\[no\])?([^:\s]+):")


def _by_section(text: str) -> tuple[str, list[str]]:
    """A module's flag help, less the flags of config sections (`--data.batch_size`), and
    those as lines grouped under a line per section."""
    entries: list[list[str]] = []
    for line in text.split("\n"):
        if _FLAG_ENTRY.match(line) or not entries:
            entries.append([line])
        else:
            entries[-1].append(line)
    own: list[str] = []
    groups: dict[str, list[str]] = {}
    for entry in entries:
        match = _FLAG_ENTRY.match(entry[0])
        name = match.group(1) if match else ""
        lines = "\n".join(entry).rstrip("\n")
        if "." in name:
            groups.setdefault(name.split(".", 1)[0], []).append(lines)
        else:
            own.append(lines)
    grouped = []
    for section, members in groups.items():
        grouped += ["", f"{section} settings (--{section}.*):", *members]
    return "\n".join(own), grouped


_THIRD_PARTY = ("tensorflow", "keras", "tf_keras", "tensorflow_hub", "tensorflow_text",
                "apache_beam")  # fmt: skip


def _ours_or_warning(record) -> bool:
    """Passes warnings and our INFO lines, not third-party INFO logged through absl.

    The record's pathname is not reliable here (absl's caller lookup stops inside absl),
    so the first frame outside the logging modules decides."""
    if record.levelno >= 30:
        return True
    frame = sys._getframe(1)
    while frame is not None:
        path = frame.f_code.co_filename
        if f"{os.sep}logging{os.sep}" not in path and "absl" not in path:
            return not any(f"{os.sep}{p}{os.sep}" in path for p in _THIRD_PARTY)
        frame = frame.f_back
    return True


def set_verbosity(verbose: bool) -> None:
    """Keeps third-party logs (--verbose) or silences them; call before TensorFlow loads."""
    if verbose:
        console.set_modes(verbose=True)  # read by lealla.ui.quiet, here and in child processes
    else:
        quiet_third_party_logging()


def quiet_third_party_logging() -> None:
    """Silences TensorFlow's C++ and Python chatter (CUDA probing, oneDNN notes, ...)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("GLOG_minloglevel", "2")
    import logging as std_logging

    for name in ("tensorflow", "h5py", "matplotlib", "absl.flags"):
        std_logging.getLogger(name).setLevel(std_logging.ERROR)
    # Beam relays its workers' tracebacks; a failed pipeline is reported in one line.
    std_logging.getLogger("apache_beam").setLevel(std_logging.CRITICAL)
    # Beam warns on the root logger, at import, that Google Cloud clients are absent.
    std_logging.getLogger().addFilter(
        lambda record: "apitools not found" not in record.getMessage()
    )
    # TensorFlow's SavedModel and checkpoint code log through absl, like our commands:
    # keep absl's INFO lines for our own code only.
    std_logging.getLogger("absl").addFilter(_ours_or_warning)


if __name__ == "__main__":
    run()
