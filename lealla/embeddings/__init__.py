"""Embeddings: the text-encoder protocol, length-ordered batches, int8/binary codecs,
Matryoshka prefixes, `lealla embed`'s sharded output.
"""
