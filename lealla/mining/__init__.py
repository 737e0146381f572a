"""Bitext mining: streamed embedding, ScaNN or exact kNN, ratio-margin scoring, pair filters,
the margin threshold, TSV output; `lealla align` and `lealla mine` at any scale."""
