"""Training batches: from the corpus (teacher in the loop, or no teacher) or from a cache."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import tensorflow as tf

from lealla.data import corpus, pipeline
from lealla.models.distill.distill_config import DistillConfig
from lealla.models.teachers import embedding_cache
from lealla.tokenization import packing

# Features the training step reads; string features stay on the host in cache mode.
ID_FEATURES = ("src_ids", "tgt_ids", "src_length", "tgt_length", "is_parallel", "has_target")
EMBEDDING_FEATURES = ("src_emb", "tgt_emb")
TEXT_FEATURES = ("src", "tgt")
# Ids into the run's language table (EMS objectives); 0 = unknown or none.
LANGUAGE_FEATURES = ("src_lang_id", "tgt_lang_id")


def train_dataset_fn(
    config: DistillConfig,
    packer: packing.Packer,
    seed_offset: int = 0,
    languages: tuple[str, ...] | None = None,
    index: pipeline.CorpusIndex | None = None,
) -> Callable[[tf.distribute.InputContext], tf.data.Dataset]:
    """A dataset function for `strategy.distribute_datasets_from_function`.

    Each input pipeline reads its own shard and batches `per-replica batch size`
    examples of similar length, padded to one of `config.data.bucket_lengths`.

    Batches hold "src_ids"/"tgt_ids" (int32 [b, L]), their lengths, "is_parallel"
    (bool [b]), "has_target" (bool [b]: the target side holds a sentence, a
    translation or, with `config.data.mono_pairs`, a second monolingual one) and either
    the cached "src_emb"/"tgt_emb" (float32 [b, d]) or, with the teacher in the loop, the texts
    "src"/"tgt" (neither for objective "ems").
    Given `languages` (the run's language table), batches also hold
    "src_lang_id"/"tgt_lang_id" (int32 [b]): 1 + the index in `languages`, 0 for
    an unknown or empty language. `seed_offset` reseeds the data order (used when a
    strategy's iterator cannot be checkpointed and a run resumes). `index` is the
    training corpus already scanned (`TrainingCorpus.index`); scanned here if None.
    """
    extra = LANGUAGE_FEATURES if languages is not None else ()
    if config.teacher.cache:
        from lealla.models.teachers import embedding_cache  # distill may use teachers

        keep = ID_FEATURES + EMBEDDING_FEATURES + extra

        sources = corpus.resolve_sources(config.data.train_data)  # their shares, if any

        def examples(input_config):
            return embedding_cache.cached_dataset(
                config.teacher.cache, input_config, expected_teacher=config.teacher.name,
                sources=sources,
            )  # fmt: skip

    else:
        texts = TEXT_FEATURES if config.uses_teacher_embeddings else ()
        keep = ID_FEATURES + texts + extra
        if index is None:
            index = pipeline.scan_corpus(
                corpus.resolve_sources(config.data.train_data),
                on_bad_line=config.data.on_bad_line,
            )

        def examples(input_config):
            return pipeline.make_example_dataset(index, input_config)

    def dataset_fn(context: tf.distribute.InputContext) -> tf.data.Dataset:
        input_config = pipeline.InputConfig(
            temperature=config.data.temperature,
            shuffle_buffer=config.data.shuffle_buffer,
            seed=config.trainer.seed + seed_offset,
            on_bad_line=config.data.on_bad_line,
            mono_share=config.data.mono_share,
            min_share=config.data.min_share,
            pair_monolingual=config.data.mono_pairs,
            num_shards=context.num_input_pipelines,
            shard_index=context.input_pipeline_id,
        )
        ds = pipeline.tokenize_examples(examples(input_config), packer)
        ds = ds.map(_add_row_kinds)
        if languages is not None:
            ds = ds.map(_language_ids_fn(languages))
        ds = pipeline.bucket_by_length(
            ds,
            lengths=config.data.bucket_lengths,
            batch_size=context.get_per_replica_batch_size(config.data.batch_size),
        )
        return ds.map(lambda batch: {k: batch[k] for k in keep}).prefetch(tf.data.AUTOTUNE)

    return dataset_fn


def teacher_bank(config: DistillConfig, size: int) -> np.ndarray:
    """`size` cached teacher embeddings drawn from the cache with the run's seed: [size, d].

    The negatives of the contrastive distillation term. Drawn the same way on every
    start, so a resumed run uses the same bank.
    """
    if not config.teacher.cache:
        raise ValueError("the bank of teacher embeddings is read from --teacher_cache")
    input_config = pipeline.InputConfig(
        temperature=config.data.temperature, shuffle_buffer=max(4 * size, 1000),
        seed=config.trainer.seed + 7919, mono_share=config.data.mono_share,
    )  # fmt: skip
    dataset = embedding_cache.cached_dataset(
        config.teacher.cache, input_config,
        sources=corpus.resolve_sources(config.data.train_data),
    )  # fmt: skip
    rows: list[np.ndarray] = []
    for example in dataset.take(size).as_numpy_iterator():
        rows.append(example["src_emb"])
    bank = np.stack(rows).astype(np.float32)
    return bank / np.maximum(np.linalg.norm(bank, axis=1, keepdims=True), 1e-12)


@tf.autograph.experimental.do_not_convert
def _add_row_kinds(example: dict) -> dict:
    return {
        **example,
        "is_parallel": tf.not_equal(example["tgt_lang"], ""),
        "has_target": tf.not_equal(example["tgt"], ""),
    }


def _language_ids_fn(languages: tuple[str, ...]) -> Callable[[dict], dict]:
    table = tf.lookup.StaticHashTable(
        tf.lookup.KeyValueTensorInitializer(
            tf.constant(list(languages), tf.string),
            tf.range(1, len(languages) + 1, dtype=tf.int32),
        ),
        default_value=0,
    )

    @tf.autograph.experimental.do_not_convert
    def add_ids(example: dict) -> dict:
        return {
            **example,
            "src_lang_id": table.lookup(example["src_lang"]),
            "tgt_lang_id": table.lookup(example["tgt_lang"]),
        }

    return add_ids
