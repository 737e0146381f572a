"""Student shapes as data: name -> constructor kwargs, description, expected sizes.

The LEALLA sizes match the published models (Mao & Nakagawa 2023, Table 1 and the
released configs): 24 layers, FFN 4 x hidden, LaBSE's 501,153-token vocabulary.
LEALLA-large has 8 heads (as its released config records, not the paper's 16).
`non_embedding_params` counts everything but the token embedding table, so it does
not depend on the vocabulary; `params` is the total at the preset's vocabulary.

The `ems_*` presets are the encoders of the EMS objective (Mao, Chu & Kurohashi,
arXiv 2205.15744): mean pooling, trained from scratch. The paper's exact encoder
shape was not at hand, so `ems_small` takes LEALLA-small's thin-deep shape (the
product's target size; EMS and LEALLA then compare at equal cost) with EMS's
pooling; the language embedding of XTR lives in the training head, not here.
"""

from __future__ import annotations

LABSE_VOCAB_SIZE = 501_153

PRESETS: dict[str, dict] = {
    "lealla_small": {
        "description": "LEALLA-small: 24 layers, 128 dims, 8 heads, multilingual (109 languages)",
        "kwargs": {"vocabulary_size": LABSE_VOCAB_SIZE, "num_layers": 24, "num_heads": 8,
                   "hidden_dim": 128, "intermediate_dim": 512, "pooling": "cls"},
        "params": 68_988_416,
        "non_embedding_params": 4_840_832,
    },
    "lealla_base": {
        "description": "LEALLA-base: 24 layers, 192 dims, 12 heads, multilingual (109 languages)",
        "kwargs": {"vocabulary_size": LABSE_VOCAB_SIZE, "num_layers": 24, "num_heads": 12,
                   "hidden_dim": 192, "intermediate_dim": 768, "pooling": "cls"},
        "params": 107_033_856,
        "non_embedding_params": 10_812_480,
    },
    "lealla_large": {
        "description": "LEALLA-large: 24 layers, 256 dims, 8 heads, multilingual (109 languages)",
        "kwargs": {"vocabulary_size": LABSE_VOCAB_SIZE, "num_layers": 24, "num_heads": 8,
                   "hidden_dim": 256, "intermediate_dim": 1024, "pooling": "cls"},
        "params": 147_446_784,
        "non_embedding_params": 19_151_616,
    },
    "demo_small": {
        "description": "Demo student: 4 layers, 128 dims, 8 heads; meant for a pruned vocabulary",
        "kwargs": {"vocabulary_size": LABSE_VOCAB_SIZE, "num_layers": 4, "num_heads": 8,
                   "hidden_dim": 128, "intermediate_dim": 512, "pooling": "cls"},
        "params": 65_022_976,
        "non_embedding_params": 875_392,
    },
    "tiny_test": {
        "description": "Test student: 2 layers, 32 dims, 4 heads, 100-token vocabulary",
        "kwargs": {"vocabulary_size": 100, "num_layers": 2, "num_heads": 4, "hidden_dim": 32,
                   "intermediate_dim": 64, "max_sequence_length": 64, "pooling": "cls"},
        "params": 23_456,
        "non_embedding_params": 20_256,
    },
    "ems_small": {
        "description": "EMS-small: 24 layers, 128 dims, 8 heads, mean pooling, multilingual "
                       "(LEALLA-small's shape for the EMS objective)",
        "kwargs": {"vocabulary_size": LABSE_VOCAB_SIZE, "num_layers": 24, "num_heads": 8,
                   "hidden_dim": 128, "intermediate_dim": 512, "pooling": "mean",
                   "dropout": 0.1},
        "params": 68_971_904,
        "non_embedding_params": 4_824_320,
    },
    "ems_demo": {
        "description": "EMS demo encoder: 4 layers, 128 dims, 8 heads, mean pooling; meant for "
                       "a small vocabulary",
        "kwargs": {"vocabulary_size": LABSE_VOCAB_SIZE, "num_layers": 4, "num_heads": 8,
                   "hidden_dim": 128, "intermediate_dim": 512, "pooling": "mean",
                   "dropout": 0.1},
        "params": 65_006_464,
        "non_embedding_params": 858_880,
    },
    "ems_test": {
        "description": "EMS test encoder: 2 layers, 32 dims, 4 heads, mean pooling, "
                       "100-token vocabulary",
        "kwargs": {"vocabulary_size": 100, "num_layers": 2, "num_heads": 4, "hidden_dim": 32,
                   "intermediate_dim": 64, "max_sequence_length": 64, "pooling": "mean",
                   "dropout": 0.1},
        "params": 22_400,
        "non_embedding_params": 19_200,
    },
    "static_128": {
        "description": "Static student: SIF-weighted mean of 128-d token vectors, no "
                       "attention (the fastest tier; tokens start from the teacher)",
        "kwargs": {"vocabulary_size": LABSE_VOCAB_SIZE, "num_layers": 0, "num_heads": 1,
                   "hidden_dim": 128, "intermediate_dim": 0, "pooling": "mean",
                   "kind": "static"},
        "params": 64_648_737,
        "non_embedding_params": 0,
    },
    "labse_shaped": {
        "description": "A LaBSE-shaped encoder (12 layers, 768 dims, 12 heads, 3072 FFN), for "
                       "speed comparisons with random weights",
        "kwargs": {"vocabulary_size": LABSE_VOCAB_SIZE, "num_layers": 12, "num_heads": 12,
                   "hidden_dim": 768, "intermediate_dim": 3072, "pooling": "cls"},
        "params": 470_925_312,
        "non_embedding_params": 86_039_808,
    },
}  # fmt: skip


def preset_names() -> list[str]:
    return sorted(PRESETS)


def canonical_preset_name(name: str) -> str:
    """Accepts CLI spellings ("lealla-small") for preset names ("lealla_small")."""
    key = name.strip().lower().replace("-", "_")
    if key not in PRESETS:
        raise ValueError(f"unknown student preset {name!r}; expected one of {preset_names()}")
    return key
