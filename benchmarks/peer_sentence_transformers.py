"""The peer recipe: sentence-transformers' multilingual distillation, at our data and budget.

Runs in its own environment (torch CPU + sentence-transformers; never a dependency of
the package): `python benchmarks/peer_sentence_transformers.py JOB.json`. It imports
nothing of ours; `benchmarks/quality_common.py` writes the job and computes metrics.

Recipe (Reimers & Gurevych 2020, sentence-transformers' make_multilingual example):
a BERT student of the given shape, random init, a WordPiece tokenizer trained on the
same training text, mean pooling and a Dense layer to the teacher's width;
losses.MSELoss onto the teacher's embedding of each sentence (both sides of every
pair) plus losses.MultipleNegativesRankingLoss on the pairs; AdamW, linear warmup and
decay on the fraction of the time budget spent.

Monolingual sentences (optional "mono" / "mono_emb"), like ours, take `mono_share` of
each batch's rows and feed the MSE term only (make_multilingual's MSELoss on single
sentences).

JOB.json: {"work": dir, "minutes": float, "layers", "hidden", "heads", "vocab_size",
"batch_size", "learning_rate", "seed", "mono_share",
"train": {"src": txt, "tgt": txt, "src_emb": npy, "tgt_emb": npy[, "mono": txt,
"mono_emb": npy]},
"encode": {name: txt}} -> writes work/NAME.npy per encode set and work/result.json.

`python benchmarks/peer_sentence_transformers.py --speed JOB.json TEXTS.txt OUT.json`
times the model's encode alone (the shape saved in work/bert; weights do not change
its speed): sentences/s, the best of 5 runs at batch 64, for the side-by-side speed
pass of benchmarks/quality.py.
"""

from __future__ import annotations

import json
import os
import sys
import time

import numpy as np


def _lines(path):
    with open(path, encoding="utf-8") as f:
        return f.read().splitlines()


def _student(bert_dir: str, hidden: int, width: int):
    """The recipe's model: the BERT in `bert_dir`, mean pooling, Dense to the teacher's width."""
    import torch
    from sentence_transformers import SentenceTransformer, models

    word = models.Transformer(bert_dir, max_seq_length=64)
    pooling = models.Pooling(word.get_word_embedding_dimension(), "mean")
    dense = models.Dense(hidden, width, activation_function=torch.nn.Identity())
    return SentenceTransformer(modules=[word, pooling, dense], device="cpu")


def main(job_path: str) -> None:
    import torch
    from sentence_transformers import losses
    from tokenizers import BertWordPieceTokenizer
    from transformers import BertConfig, BertModel, BertTokenizerFast

    with open(job_path, encoding="utf-8") as f:
        job = json.load(f)
    work = job["work"]
    os.makedirs(work, exist_ok=True)
    torch.manual_seed(job.get("seed", 0))
    torch.set_num_threads(os.cpu_count() or 2)
    train = job["train"]
    src, tgt = _lines(train["src"]), _lines(train["tgt"])
    src_emb, tgt_emb = np.load(train["src_emb"]), np.load(train["tgt_emb"])
    mono = _lines(train["mono"]) if "mono" in train else []
    mono_emb = np.load(train["mono_emb"]) if mono else None
    batch_mono = round(job.get("mono_share", 0.0) * job["batch_size"]) if mono else 0
    batch_pairs = job["batch_size"] - batch_mono

    # A WordPiece vocabulary learned on the same training text.
    tok_dir = os.path.join(work, "tokenizer")
    os.makedirs(tok_dir, exist_ok=True)
    wordpiece = BertWordPieceTokenizer(lowercase=False, strip_accents=False)
    texts = [train["src"], train["tgt"]] + ([train["mono"]] if mono else [])
    wordpiece.train(files=texts, vocab_size=job["vocab_size"],
                    show_progress=False)  # fmt: skip
    wordpiece.save_model(tok_dir)
    tokenizer = BertTokenizerFast(os.path.join(tok_dir, "vocab.txt"), do_lower_case=False)
    tokenizer.save_pretrained(tok_dir)
    config = BertConfig(
        vocab_size=tokenizer.vocab_size, hidden_size=job["hidden"],
        num_hidden_layers=job["layers"], num_attention_heads=job["heads"],
        intermediate_size=4 * job["hidden"], max_position_embeddings=128,
    )  # fmt: skip
    bert_dir = os.path.join(work, "bert")
    BertModel(config).save_pretrained(bert_dir)
    tokenizer.save_pretrained(bert_dir)
    model = _student(bert_dir, job["hidden"], src_emb.shape[1])
    mse, mnrl = losses.MSELoss(model), losses.MultipleNegativesRankingLoss(model)
    optimizer = torch.optim.AdamW(model.parameters(), lr=job["learning_rate"], weight_decay=0.01)
    budget, warmup = job["minutes"] * 60.0, 100
    rng = np.random.default_rng(job.get("seed", 0))
    order = rng.permutation(len(src))
    start, step, position = time.perf_counter(), 0, 0
    model.train()
    while time.perf_counter() - start < budget:
        if position + batch_pairs > len(order):
            order, position = rng.permutation(len(src)), 0
        rows = order[position : position + batch_pairs]
        position += batch_pairs
        fraction = (time.perf_counter() - start) / budget
        for group in optimizer.param_groups:
            group["lr"] = job["learning_rate"] * max(0.0, min((step + 1) / warmup, 1 - fraction))
        features = [model.tokenize([texts[i] for i in rows]) for texts in (src, tgt)]
        loss = (
            mse([features[0]], torch.tensor(src_emb[rows], dtype=torch.float32))
            + mse([features[1]], torch.tensor(tgt_emb[rows], dtype=torch.float32))
            + mnrl(features, None)
        )
        if batch_mono:
            picked = rng.integers(0, len(mono), batch_mono)
            loss = loss + mse([model.tokenize([mono[i] for i in picked])],
                              torch.tensor(mono_emb[picked], dtype=torch.float32))  # fmt: skip
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        step += 1
        if step % 200 == 0:
            print(f"peer step {step}: loss {loss.item():.4f}, "
                  f"{time.perf_counter() - start:.0f}s of {budget:.0f}s", flush=True)  # fmt: skip
    train_seconds = time.perf_counter() - start
    model.eval()
    speed_texts = _lines(next(iter(job["encode"].values())))[:512]
    model.encode(speed_texts[:64], batch_size=64)
    tick = time.perf_counter()
    model.encode(speed_texts, batch_size=64)
    speed = len(speed_texts) / (time.perf_counter() - tick)
    for name, path in job["encode"].items():
        emb = model.encode(_lines(path), batch_size=64, convert_to_numpy=True)
        np.save(os.path.join(work, f"{name}.npy"), emb.astype(np.float32))
    result = {
        "steps": step, "train_seconds": train_seconds, "sentences_per_second": speed,
        "vocab_size": tokenizer.vocab_size,
        "parameters": sum(p.numel() for p in model.parameters()),
    }  # fmt: skip
    with open(os.path.join(work, "result.json"), "w", encoding="utf-8") as f:
        json.dump(result, f, indent=1)


def speed(job_path: str, texts_path: str, out_path: str) -> None:
    import torch

    with open(job_path, encoding="utf-8") as f:
        job = json.load(f)
    torch.set_num_threads(os.cpu_count() or 2)
    width = np.load(job["train"]["src_emb"], mmap_mode="r").shape[1]  # the teacher's
    model = _student(os.path.join(job["work"], "bert"), job["hidden"], width).eval()
    texts = _lines(texts_path)
    model.encode(texts[:64], batch_size=64)
    times = []
    for _ in range(5):
        tick = time.perf_counter()
        model.encode(texts, batch_size=64)
        times.append(time.perf_counter() - tick)
    with open(out_path, "w", encoding="utf-8") as f:
        json.dump({"sentences_per_second": len(texts) / min(times)}, f)


if __name__ == "__main__":
    if sys.argv[1] == "--speed":
        speed(*sys.argv[2:5])
    else:
        main(sys.argv[1])
