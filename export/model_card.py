"""The model card: ONE template, filled from `lealla_export.json`.

The export writes it as its README.md; `lealla publish` renders it again for a hub
(`Hub`: the load snippet downloads from that hub) into the staged folder. Every number
comes from the metadata the export recorded; what it did not record is said so.
"""

from __future__ import annotations

import dataclasses

from lealla.models.export.tflite_model import APP_REGISTRARS

# Where the toolkit measures what the card can only point to (in the LEALLA repository).
RESULTS = "benchmarks/RESULTS.md"
REGISTER_SECTION = "Ablations and decisions"  # its register rows
# A language pair is named a weak one when its dev accuracy is this far under the mean.
WEAK_MARGIN = 0.05


@dataclasses.dataclass(frozen=True)
class Hub:
    """Where the card is published.

    Attributes:
      kind: "kaggle" or "hf".
      handle: `OWNER/MODEL/tensorFlow2/VARIATION` (Kaggle) or `OWNER/NAME` (Hugging Face).
    """

    kind: str
    handle: str


def render(metadata: dict, hub: Hub | None = None, folder_bytes: int | None = None) -> str:
    """Markdown model card from the export metadata (see export_metadata.export_metadata).

    Args:
      metadata: the export's `lealla_export.json`.
      hub: where it is published (the load snippet downloads from there); None: the
        export folder itself (`PATH`).
      folder_bytes: the size of the model folder, when known.
    """
    student, tok = metadata["student"], metadata["tokenizer"]
    training, evaluation = metadata["training"], metadata["evaluation"]
    name = student.get("preset") or "custom"
    vocab = f"{tok['kind']}, {tok['vocab_size']:,} tokens"
    if tok.get("pruned_from"):
        vocab += f" (the teacher's {tok['pruned_from']:,} pruned to the training data)"
    languages = metadata.get("languages") or []
    lines = [
        f"# LEALLA student: {name}, {metadata['embedding_dim']} dims",
        "",
        "A language-agnostic sentence encoder: strings in, L2-normalized "
        f"{metadata['embedding_dim']}-d embeddings out; translations land close together. "
        f"Trained with the LEALLA toolkit (objective `{metadata['objective']}`)"
        + (f" from the teacher `{metadata['teacher']}`." if metadata.get("teacher") else "."),
        "",
        "Languages: "
        + (
            ", ".join(f"`{lang}`" for lang in languages)
            if languages
            else "not recorded by this export"
        )
        + ".",
        "",
        "## Usage",
        "",
        *_usage_lines(metadata["embedding_dim"], hub),
        "",
        "Also: `hub.load(PATH)(strings)`, `tf.saved_model.load(PATH)(strings)`, and in Keras 3 "
        '`keras.layers.TFSMLayer(PATH, call_endpoint="serving_default")(strings)["default"]`. '
        "`hub.KerasLayer(PATH, trainable=True)` fine-tunes it (the module has no dropout: add "
        "your own where your task needs it).",
        "",
        f"Inputs longer than {metadata['seq_length']} tokens (special tokens included) are "
        "truncated. Any batch size works.",
        "",
        "**Without `import tensorflow_text`** loading fails with `Op type not registered "
        "'TFText>...'`: the tokenizer runs inside the graph as tensorflow_text ops.",
    ]
    if metadata.get("labse_format"):
        pair = metadata["labse_format"]
        lines += [
            "",
            "### LaBSE-compatible pair",
            "",
            f"`{pair['preprocessor']}` (strings -> `input_word_ids`, `input_mask`, "
            "`input_type_ids`; with `tokenize` and `bert_pack_inputs(segments, seq_length)`) "
            f"and `{pair['encoder']}` (that dict in -> `default` = the sentence embedding, "
            "`pooled_output`, `sequence_output`), for pipelines written for LaBSE:",
            "",
            "```python",
            f'preprocessor = hub.KerasLayer("PATH/{pair["preprocessor"]}")',
            f'encoder = hub.KerasLayer("PATH/{pair["encoder"]}")',
            'embeddings = encoder(preprocessor(tf.constant(["Hello world"])))["default"]',
            "```",
        ]
    cache = ", ".join(training.get("teacher_cache") or ())
    lines += [
        "",
        "## Model",
        "",
        "| | |",
        "| --- | --- |",
        f"| shape | {student['num_layers']} layers, hidden {student['hidden_dim']}, "
        f"{student['num_heads']} heads, FFN {student['intermediate_dim']}, "
        f"{student['pooling']} pooling |",
        f"| embedding | {metadata['embedding_dim']} dims, L2-normalized |",
        f"| parameters | {metadata['parameters']:,} |",
        *([f"| size | {folder_bytes / 1e6:.1f} MB (this folder) |"] if folder_bytes else []),
        f"| vocabulary | {vocab} |",
        f"| max length | {metadata['seq_length']} tokens |",
        f"| teacher | {metadata.get('teacher') or 'none'} |",
        "",
        "## Training",
        "",
        f"- data: {', '.join(training.get('train_data') or []) or 'n/a'}"
        + (f" (teacher cache {cache})" if cache else ""),
        f"- {training.get('steps')} steps, batch {training.get('batch_size')}, "
        f"learning rate {training.get('learning_rate')}",
        f"- exported checkpoint: {metadata['checkpoint']['which']} "
        f"(step {metadata['checkpoint']['step']})",
        "",
        *_command_lines(training.get("command")),
    ]
    if metadata.get("truncation"):
        lines += _truncation_lines(metadata["truncation"], metadata["embedding_dim"])
    if metadata.get("tflite"):
        lines += _tflite_lines(metadata["tflite"])
    if metadata.get("sizes"):
        lines += size_lines(metadata["sizes"], metadata.get("weights"))
    lines += ["", "## Evaluation", "", *_evaluation_lines(evaluation, training)]
    lines += ["", *_frontier_lines(metadata)]
    lines += ["", "## Limits", "", *_limit_lines(evaluation)]
    checks = metadata["verification"]
    lines += [
        "",
        "## Export checks",
        "",
        f"Reloaded and compared with the trained student on {checks['sentences']} sentences "
        f"in 14 languages: max abs difference {checks['max_abs_diff']:.2g}"
        + (
            f"; LaBSE-format pair {checks['labse_format_max_abs_diff']:.2g}."
            if "labse_format_max_abs_diff" in checks
            else "."
        ),
        f"Exported {metadata['exported_at']} with TensorFlow {metadata['tensorflow']}.",
        "",
    ]
    return "\n".join(lines)


def _truncation_lines(truncation: dict, dims: int) -> list[str]:
    trained = [m for m in truncation["trained_dims"] if m != truncation["full_width"]]
    how = []
    if truncation.get("rotation"):
        how.append(
            f"the pooled output is first rotated by the PCA of the model's embeddings "
            f"({truncation['rotation']}): cosines are unchanged and the leading dimensions "
            f"carry the most"
        )
    if trained:
        how.append(f"the model was trained with Matryoshka prefixes {', '.join(map(str, trained))}")
    lines = [
        "", "## Embedding width", "",
        f"This export outputs the first {dims} of the model's {truncation['full_width']} "
        f"dimensions, renormalized" + (f"; {'; '.join(how)}." if how else "."),
        "`lealla export --dims=M` writes another width.",
    ]  # fmt: skip
    accuracy = truncation.get("dev_accuracy") or {}
    if accuracy:
        dev = ", ".join(truncation.get("dev_data") or []) or "the dev set"
        lines += ["", f"Bidirectional retrieval accuracy on {dev} by width (as exported):", "",
                  "| dimensions | dev accuracy |", "| ---: | ---: |"]  # fmt: skip
        lines += [f"| {m} | {value:.3f} |" for m, value in accuracy.items()]
        lines += ["", "![accuracy by width](dims.png)"]
    return lines


def _usage_lines(dim: int, hub: Hub | None) -> list[str]:
    download = []
    if hub and hub.kind == "kaggle":
        download = ["import kagglehub", "",
                    f'path = kagglehub.model_download("{hub.handle}")  # PATH below']  # fmt: skip
    elif hub:
        download = ["from huggingface_hub import snapshot_download", "",
                    f'path = snapshot_download("{hub.handle}")  # PATH below']  # fmt: skip
    return [
        "```python",
        "import tensorflow as tf",
        "import tensorflow_hub as hub",
        "import tensorflow_text  # registers the tokenizer ops; import it before loading",
        *(download[:1] if download else []),
        *download[1:],
        "",
        "encoder = hub.KerasLayer(path)" if download else 'encoder = hub.KerasLayer("PATH")',
        'embeddings = encoder(tf.constant(["Hello world", "Hallo Welt"]))  # [2, '
        f"{dim}], unit length",
        "similarity = tf.matmul(embeddings, embeddings, transpose_b=True)",
        "```",
    ]


def _command_lines(command: str | None) -> list[str]:
    if not command:
        return ["The training command was not recorded (the run predates the run record's "
                "`distill_command.txt`)."]  # fmt: skip
    return ["Trained with (the run record's command; `demo:` names the toolkit's shipped "
            "corpus):", "", "```bash", command, "```"]  # fmt: skip


def _evaluation_lines(evaluation: dict, training: dict) -> list[str]:
    final, best = evaluation.get("final") or {}, evaluation.get("best") or {}
    dev_scores, test_scores = evaluation.get("dev"), evaluation.get("test")
    per_group = final.get("dev_per_group") or {}
    if not per_group and not best and not dev_scores:
        return ["No evaluation was recorded for this run."]
    dev = ", ".join(training.get("dev_data") or []) or "the dev set"
    lines = [f"Bidirectional retrieval accuracy on {dev}:", ""]
    if best:
        lines.append(f"- best checkpoint: {best['dev_accuracy']:.3f} (step {best['step']})")
    if "dev_accuracy" in final:
        lines.append(f"- final step: {final['dev_accuracy']:.3f}")
    if dev_scores:
        lines.append(f"- this model: {dev_scores['accuracy']:.3f}")
        test = test_scores or {}
        lines += [
            "",
            "Per language pair, this model (test: "
            + (", ".join(test["data"]) if test else "not recorded by this export; "
               "`lealla export --test_data=FILES` measures it") + "):",
            "",
            "| pair | dev | test |",
            "| --- | ---: | ---: |",
        ]  # fmt: skip
        pairs = [*dev_scores["per_pair"], *(p for p in test.get("per_pair", {})
                                             if p not in dev_scores["per_pair"])]  # fmt: skip
        lines += [
            f"| {pair} | {_score(dev_scores['per_pair'].get(pair))} | "
            f"{_score(test.get('per_pair', {}).get(pair))} |"
            for pair in pairs
        ]
        if test:
            lines.append(f"| mean | {dev_scores['accuracy']:.3f} | {test['accuracy']:.3f} |")
    elif per_group:
        lines += ["", "| pair | accuracy (final step) |", "| --- | ---: |"]
        lines += [f"| {group} | {acc:.3f} |" for group, acc in per_group.items()]
    return lines


def _score(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _dev_accuracy(evaluation: dict) -> float | None:
    """This model's dev accuracy: measured at export, else the run's record of it."""
    if evaluation.get("dev"):
        return evaluation["dev"]["accuracy"]
    return (evaluation.get("best") or evaluation.get("final") or {}).get("dev_accuracy")


def _frontier_lines(metadata: dict) -> list[str]:
    accuracy = _dev_accuracy(metadata["evaluation"])
    saved = (metadata.get("tflite") or {}).get("saved_model")
    head = "Frontier point (accuracy against speed and size, the toolkit's frontier chart): "
    if accuracy is None:
        return [head + "not recorded (no dev data)."]
    if saved:
        speed = saved["sentences_per_second"]
        return [head + f"dev accuracy {accuracy:.3f} at {speed['batch_64']:,.0f} sentences/s "
                f"(batch 64; {speed['batch_1']:,.0f} at batch 1) on the exporting machine, "
                f"SavedModel {saved['bytes'] / 1e6:.1f} MB."]  # fmt: skip
    return [head + f"dev accuracy {accuracy:.3f} with {metadata['parameters']:,} parameters; "
            "this export recorded no speed (`lealla export --tflite` measures it)."]  # fmt: skip


def _limit_lines(evaluation: dict) -> list[str]:
    dev = evaluation.get("dev")
    if dev:
        weak = {p: a for p, a in dev["per_pair"].items() if a < dev["accuracy"] - WEAK_MARGIN}
        weak_line = (
            "Weakest language pairs (dev accuracy more than "
            f"{WEAK_MARGIN:.2f} under the mean {dev['accuracy']:.3f}): "
            + ", ".join(f"{p} {a:.3f}" for p, a in sorted(weak.items(), key=lambda kv: kv[1]))
            + "."
            if weak
            else f"No language pair is more than {WEAK_MARGIN:.2f} under the mean dev accuracy "
            f"({dev['accuracy']:.3f})."
        )
    else:
        weak_line = "Per-language accuracy was not recorded by this export."
    return [
        f"- {weak_line}",
        "- The scores above are on the dev/test sentences named there. Text in the register "
        "people actually type (chat, the everyday polite register of Korean) can score "
        "lower; the toolkit measures that gap, see "
        f'{RESULTS}, "{REGISTER_SECTION}", in the LEALLA repository.',
        "- Languages the training data did not hold are not supported.",
    ]


def _tflite_lines(tflite: dict) -> list[str]:
    variants = tflite["variants"]
    refused = [f"- {variant}: {reason}" for variant, reason in tflite.get("refused", {}).items()]
    if not variants:
        return ["", "## TFLite (LiteRT)", "", "Every TFLite variant missed its bar:", *refused]
    custom = sorted({op for report in variants.values() for op in report["custom_ops"]})
    registrars = sorted({APP_REGISTRARS[op] for op in custom})
    first = next(iter(variants.values()))["file"]
    lines = [
        "",
        "## TFLite (LiteRT)",
        "",
        "Strings in, unit-length embeddings out: the tokenizer runs inside the model as "
        "tensorflow_text TFLite custom ops (" + ", ".join(f"`{op}`" for op in custom) + "); "
        "everything else is a TFLite builtin (no Flex/select-TF ops).",
        "",
        "```python",
        "import numpy as np",
        "from tensorflow.lite.python.interpreter import InterpreterWithCustomOps",
        "from tensorflow_text.core.pybinds import tflite_registrar",
        "",
        f'interpreter = InterpreterWithCustomOps(model_path="PATH/{first}",',
        "    custom_op_registerers=tflite_registrar.SELECT_TFTEXT_OPS)",
        'encode = interpreter.get_signature_runner("serving_default")',
        'embeddings = encode(texts=np.array(["Hello world", "Hallo Welt"], dtype=object))'
        '["default"]',
        "```",
        "",
        "An app links the TFLite runtime and tensorflow_text's TFLite kernels (the "
        "`tensorflow_text/core/kernels` `*_tflite` targets) and registers them on its op "
        "resolver before building the interpreter: "
        + ", ".join(f"`tflite::ops::custom::text::{r}(&resolver)`" for r in registrars)
        + ".",
        "",
        "| file | variant | size | mean cosine to the SavedModel | dev retrieval | "
        "sentences/s, batch 1 | batch 64 | token table |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    saved = tflite["saved_model"]
    lines.append(_size_speed_row(
        "SavedModel (this folder)", "float32", saved["bytes"], "1", saved["dev_accuracy"],
        saved["sentences_per_second"], "float32",
    ))  # fmt: skip
    for variant, r in variants.items():
        lines.append(_size_speed_row(
            f"`{r['file']}`", variant, r["bytes"], f"{r['cosine_mean']:.4f}", r["dev_accuracy"],
            r["sentences_per_second"], r["token_table"],
        ))  # fmt: skip
    if "int8" in variants and variants["int8"]["float_ops"]:
        lines += [
            "",
            "int8: weights and activations are int8 with ranges calibrated on "
            f"{', '.join(tflite.get('representative_data') or [])}; the converter kept these "
            "ops in float32: " + ", ".join(f"`{op}`" for op in variants["int8"]["float_ops"]) + ".",
        ]
    if refused:
        lines += ["", "Refused (not in this folder):", *refused]
    return lines


def _size_speed_row(name, variant, size, cosine, dev, speed, table) -> str:
    dev = "n/a" if dev is None else f"{dev:.3f}"
    return (f"| {name} | {variant} | {size / 1e6:.1f} MB | {cosine} | {dev} | "
            f"{speed['batch_1']:,.0f} | {speed['batch_64']:,.0f} | {table} |")  # fmt: skip


def _mb(size: int) -> str:
    return f"{size / 1e6:.1f} MB"


def size_lines(sizes: dict, weights: dict | None = None) -> list[str]:
    """The card's "Size on disk" section: each part of the export beside the float32
    bytes of its parameters (exporter.export_sizes), and how the weights are stored."""
    params = sizes["parameter_bytes_float32"]
    rows = [("SavedModel (`saved_model.pb`, `variables/`, `assets/`)", sizes["saved_model"])]
    if sizes.get("labse_format"):
        rows.append(("LaBSE-format pair (`labse_format/`)", sizes["labse_format"]))
    rows += [(f"TFLite {variant}", size) for variant, size in sizes.get("tflite", {}).items()]
    lines = [
        "", "## Size on disk", "",
        f"The parameters take {_mb(params)} in float32.", "",
        "| part | size | vs float32 parameters |", "| --- | ---: | ---: |",
    ]  # fmt: skip
    lines += [f"| {name} | {_mb(size)} | {size / params:.2f}x |" for name, size in rows]
    if weights:
        dev = weights.get("dev_accuracy")
        lines += [
            "",
            f"The SavedModel stores its weights in {weights['dtype']} and computes in "
            f"{weights['compute_dtype']}: mean cosine to the float32 model "
            f"{weights['cosine_to_float32_mean']:.5f} on {weights['sentences']} sentences"
            + ("." if dev is None else f", dev retrieval accuracy {dev:.3f} (float32 "
               f"{weights['float32_dev_accuracy']:.3f}).")
        ]  # fmt: skip
    return lines


def size_summary(sizes: dict) -> str:
    """One line: the size of each part of the export and the float32 parameter bytes."""
    parts = [f"SavedModel {_mb(sizes['saved_model'])}"]
    if sizes.get("labse_format"):
        parts.append(f"LaBSE-format pair {_mb(sizes['labse_format'])}")
    parts += [f"TFLite {variant} {_mb(size)}" for variant, size in sizes.get("tflite", {}).items()]
    return (f"size: {', '.join(parts)} (parameters {_mb(sizes['parameter_bytes_float32'])} "
            "in float32)")  # fmt: skip
