"""In-graph tokenizers (tensorflow_text), vocabulary files, building and pruning."""
