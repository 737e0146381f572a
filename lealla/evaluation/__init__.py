"""Evaluation of sentence encoders: retrieval accuracy, Tatoeba, BUCC, UN."""
