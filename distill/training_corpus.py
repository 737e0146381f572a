"""The run's training data, read once per start.

Several start-up steps need the training corpus: the vocabulary (pruned to the tokens
it uses), a static student's init (SIF weights from token counts), the language table
and the input pipeline (both from the per-group example counts). `TrainingCorpus`
gives all of them from one streaming pass over the files: the first step that needs
the token counts drives the pass and the index comes out of it; a step that needs only
the index reads it without tokenizing; nothing reads the files a second time.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

from lealla.data import corpus, pipeline
from lealla.tokenization import tokenizer as tokenizer_lib
from lealla.tokenization import vocab_pruning


class TrainingCorpus:
    """The training sources of a run; `index()` and `count_tokens()` share one pass."""

    def __init__(self, specs, on_bad_line: str = "error"):
        self.sources = corpus.resolve_sources(specs)
        self.on_bad_line = on_bad_line
        self._index: pipeline.CorpusIndex | None = None
        self.passes = 0  # full reads of the files (1 at most, unless misused)

    def index(self) -> pipeline.CorpusIndex:
        """The validated corpus: examples per source and language group."""
        if self._index is None:
            self.passes += 1
            self._index = pipeline.scan_corpus(self.sources, on_bad_line=self.on_bad_line)
        return self._index

    def count_tokens(
        self, tokenizer: tokenizer_lib.Tokenizer, max_sentences: int | None = None
    ) -> vocab_pruning.CorpusTokens:
        """Token counts of the corpus's sentences (both sides), indexing it on the way.

        Args:
          tokenizer: whose ids are counted.
          max_sentences: count only the first ones (the pass still reads to the end,
            for the index).

        Raises:
          RuntimeError: the corpus was already read (the counts must come first).
        """
        if self._index is not None:
            raise RuntimeError(
                "the training corpus was already read: ask for token counts before the index"
            )
        self.passes += 1
        texts = self._sentences()
        head = itertools.islice(texts, max_sentences) if max_sentences else texts
        used = vocab_pruning.count_tokens(tokenizer, head)
        for _ in texts:  # the rest of the pass completes the index
            pass
        return used

    def _sentences(self) -> Iterator[str]:
        examples = pipeline.scan_corpus_examples(self.sources, on_bad_line=self.on_bad_line)
        while True:
            try:
                example = next(examples)
            except StopIteration as done:
                self._index = done.value
                return
            yield example.src
            if example.tgt_lang:
                yield example.tgt
