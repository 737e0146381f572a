"""The export's README.md: what the model is, how to load it, how it was made and scored."""

from __future__ import annotations


def render(metadata: dict) -> str:
    """Markdown model card from the export metadata (see exporter._metadata)."""
    student, tok = metadata["student"], metadata["tokenizer"]
    training, evaluation = metadata["training"], metadata["evaluation"]
    name = student.get("preset") or "custom"
    vocab = f"{tok['kind']}, {tok['vocab_size']:,} tokens"
    if tok.get("pruned_from"):
        vocab += f" (the teacher's {tok['pruned_from']:,} pruned to the training data)"
    lines = [
        f"# LEALLA student: {name}, {metadata['embedding_dim']} dims",
        "",
        "A language-agnostic sentence encoder: strings in, L2-normalized "
        f"{metadata['embedding_dim']}-d embeddings out; translations land close together. "
        f"Objective `{metadata['objective']}`"
        + (f", teacher `{metadata['teacher']}`." if metadata.get("teacher") else "."),
        "",
        "## Usage",
        "",
        "```python",
        "import tensorflow as tf",
        "import tensorflow_hub as hub",
        "import tensorflow_text  # registers the tokenizer ops; import it before loading",
        "",
        'encoder = hub.KerasLayer("PATH_OR_HANDLE")',
        'embeddings = encoder(tf.constant(["Hello world", "Hallo Welt"]))  # [2, '
        f"{metadata['embedding_dim']}], unit length",
        "similarity = tf.matmul(embeddings, embeddings, transpose_b=True)",
        "```",
        "",
        "Also: `hub.load(PATH)(strings)`, `tf.saved_model.load(PATH)(strings)`, and in Keras 3 "
        '`keras.layers.TFSMLayer(PATH, call_endpoint="serving_default")(strings)["default"]`. '
        "`hub.KerasLayer(PATH, trainable=True)` fine-tunes it (dropout on in training).",
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
    cache = training.get("teacher_cache")
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
    ]
    lines += ["", "## Evaluation", "", *_evaluation_lines(evaluation, training)]
    checks = metadata["verification"]
    lines += [
        "",
        "## Export checks",
        "",
        f"Reloaded and compared with the trained student on {checks['sentences']} sentences "
        f"in 7 scripts: max abs difference {checks['max_abs_diff']:.2g}"
        + (
            f"; LaBSE-format pair {checks['labse_format_max_abs_diff']:.2g}."
            if "labse_format_max_abs_diff" in checks
            else "."
        ),
        f"Exported {metadata['exported_at']} with TensorFlow {metadata['tensorflow']}.",
        "",
    ]
    return "\n".join(lines)


def _evaluation_lines(evaluation: dict, training: dict) -> list[str]:
    final, best = evaluation.get("final") or {}, evaluation.get("best") or {}
    per_group = final.get("dev_per_group") or {}
    if not per_group and not best:
        return ["No evaluation was recorded for this run."]
    dev = ", ".join(training.get("dev_data") or []) or "the dev set"
    lines = [f"Bidirectional retrieval accuracy on {dev}:", ""]
    if best:
        lines.append(f"- best checkpoint: {best['dev_accuracy']:.3f} (step {best['step']})")
    if "dev_accuracy" in final:
        lines.append(f"- final step: {final['dev_accuracy']:.3f}")
    if per_group:
        lines += ["", "| pair | accuracy (final step) |", "| --- | ---: |"]
        lines += [f"| {group} | {acc:.3f} |" for group, acc in per_group.items()]
    return lines
