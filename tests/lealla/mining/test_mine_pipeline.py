"""`lealla mine`'s block pipeline equals `mine_pairs` on the whole sets (Beam, in process).

A fake encoder gives sentences that share a meaning id nearby unit vectors, so the
sides have real neighbourhoods; blocks of 37 rows cut across embedding shards of 25.
"""

import hashlib
import json
import os

import numpy as np
import pytest

from lealla.embeddings import embedding_shards
from lealla.mining import block_math, mine, mine_corpus, mine_job
from lealla.mining.embedding_blocks import EmbeddingSet, EmbeddingsTextMismatchError
from lealla.shards import shard_runner

DIM = 24
RUNNER = shard_runner.RunnerConfig(shard_runner.INPROCESS)
CONFIG = embedding_shards.EmbedConfig(shard_size=25, batch_size=8, dtype="float32")


class FakeEncoder:
    """'m<id> words' -> the meaning's vector plus noise seeded by the whole text."""

    name, dim = "fake", DIM

    def encode(self, texts, batch_size=64, progress=False):
        out = []
        for text in texts:
            meaning = int(text.split()[0][1:])
            seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "little")
            base = np.random.default_rng(meaning).standard_normal(DIM)
            vec = base + 0.6 * np.random.default_rng(seed).standard_normal(DIM)
            out.append(vec / np.linalg.norm(vec))
        return np.asarray(out, np.float32)


def _write_side(path, meanings, tag):
    with open(path, "w", encoding="utf-8") as f:
        f.writelines(f"m{m} {tag} sentence {i} about thing {m}\n" for i, m in enumerate(meanings))
    return str(path)


@pytest.fixture(scope="module")
def sides(tmp_path_factory):
    root = tmp_path_factory.mktemp("mine")
    rng = np.random.default_rng(0)
    shared = rng.permutation(300)[:120]  # meanings present on both sides
    src_meanings = np.concatenate([shared, 1000 + np.arange(37)])
    tgt_meanings = np.concatenate([rng.permutation(shared), 2000 + np.arange(83)])
    src_files = [_write_side(root / "web.de.0", src_meanings[:90], "de"),
                 _write_side(root / "web.de.1", src_meanings[90:], "de")]  # fmt: skip
    tgt_files = [_write_side(root / "web.en", tgt_meanings, "en")]
    folders = {}
    for side, files in (("src", src_files), ("tgt", tgt_files)):
        folders[side] = str(root / f"{side}_emb")
        embedding_shards.embed_files("fake", DIM, FakeEncoder, files, folders[side], CONFIG)
    return root, folders


def _job(sides, work, **kwargs):
    root, folders = sides
    src = EmbeddingSet.open(folders["src"], 37)
    tgt = EmbeddingSet.open(folders["tgt"], 37)
    return mine_job.MineJob(src, tgt, str(root / work), method="exact", **kwargs)


def _all(folder):
    return np.concatenate([s.embeddings for s in embedding_shards.iter_shards(folder)])


def _read_pairs(out):
    rows = []
    for name in sorted(os.listdir(out)):
        if name.endswith(".tsv"):
            with open(os.path.join(out, name), encoding="utf-8") as f:
                rows += [line.rstrip("\n").split("\t") for line in f]
    return rows


def test_every_mode_equals_mine_pairs_on_the_whole_sets(sides):
    root, folders = sides
    src, tgt = _all(folders["src"]), _all(folders["tgt"])
    job = _job(sides, "work")
    assert (job.src.num_blocks, job.tgt.num_blocks) == (5, 6)
    for mode in mine.MINING_MODES:
        job = _job(sides, "work", mode=mode, threshold=1.0 if mode == "union" else None)
        summary = mine_corpus.mine_to_folder(job, str(root / f"out-{mode}"), RUNNER)
        want = mine.mine_pairs(src, tgt, k=4, mode=mode, threshold=job.threshold)
        rows = _read_pairs(root / f"out-{mode}")
        got = sorted((r[3], r[4], float(r[0])) for r in rows)
        files, lines, _ = job.src.locate(want.src)
        names = [os.path.basename(p) for p in job.src.inputs]
        expected = sorted(
            (f"{names[f]}:{n}", f"web.en:{t + 1}", float(s))
            for f, n, t, s in zip(files, lines, want.tgt, want.score, strict=True)
        )
        assert [g[:2] for g in got] == [e[:2] for e in expected], mode
        np.testing.assert_allclose([g[2] for g in got], [e[2] for e in expected], atol=1e-5)
        assert summary["pairs"] == len(want) > 100
        assert sum(summary["histogram"]["counts"]) == len(want)
    # Correct pairs: the shared meanings, found in mutual mode.
    mutual = _read_pairs(root / "out-mutual")
    assert sum(r[1].split()[0] == r[2].split()[0] for r in mutual) >= 110


def test_neighbourhood_means_equal_a_numpy_reference(sides):
    root, folders = sides
    job = _job(sides, "work")
    if job.knn_todo():
        mine_corpus.mine_to_folder(job, str(root / "out-means"), RUNNER)
    src, tgt = _all(folders["src"]), _all(folders["tgt"])
    sim = src @ tgt.T
    want = {
        "fwd": np.sort(sim, axis=1)[:, -4:].mean(1),
        "bwd": np.sort(sim.T, axis=1)[:, -4:].mean(1),
    }
    for direction in mine_job.DIRECTIONS:
        got = np.concatenate([job.load_knn(direction, b)[0].mean(1)
                              for b in range(job.queries(direction).num_blocks)])  # fmt: skip
        np.testing.assert_allclose(got, want[direction], atol=1e-6)


def test_merge_top_k_is_order_free():
    rng = np.random.default_rng(3)
    parts = []
    for block in range(4):
        scores = np.round(rng.random((5, 3)), 1).astype(np.float32)  # ties on purpose
        parts.append(
            (-np.sort(-scores, 1), rng.permutation(10)[:3][None].repeat(5, 0) + 10 * block)
        )
    merged = [parts[0]]
    for part in parts[1:]:
        merged = [block_math.merge_top_k(merged[0], part, 4)]
    reverse = parts[3]
    for part in reversed(parts[:3]):
        reverse = block_math.merge_top_k(part, reverse, 4)
    np.testing.assert_array_equal(merged[0][1], reverse[1])
    allscores = np.concatenate([p[0] for p in parts], 1)
    allids = np.concatenate([p[1] for p in parts], 1)
    order = np.lexsort((allids, -allscores), axis=1)[:, :4]
    np.testing.assert_array_equal(merged[0][1], np.take_along_axis(allids, order, 1))


def test_a_killed_run_resumes_from_its_parts_with_identical_output(sides, monkeypatch):
    root, _ = sides
    reference = _job(sides, "work-ref")
    mine_corpus.mine_to_folder(reference, str(root / "out-ref"), RUNNER)
    job = _job(sides, "work-killed")
    calls = []
    real = block_math.search_block

    def dying(*args, **kwargs):
        if len(calls) == 7:
            raise OSError("worker lost")
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(block_math, "search_block", dying)
    with pytest.raises(OSError, match="worker lost"):
        mine_corpus.mine_to_folder(job, str(root / "out-killed"), RUNNER)
    assert not (root / "out-killed").exists()
    parts = os.listdir(root / "work-killed" / "knn" / "part")
    assert len([p for p in parts if p.endswith(".json")]) == 7
    calls.clear()
    monkeypatch.setattr(
        block_math, "search_block", lambda *a, **k: (calls.append(1), real(*a, **k))[1]
    )
    mine_corpus.mine_to_folder(job, str(root / "out-killed"), RUNNER)
    assert len(calls) == 2 * 5 * 6 - 7  # every block pair once over both runs
    assert not (root / "work-killed" / "knn" / "part").exists()
    for name in sorted(os.listdir(root / "out-ref")):
        if name.endswith(".tsv"):
            assert (root / "out-ref" / name).read_bytes() == (
                root / "out-killed" / name
            ).read_bytes()
    # A rerun is refused unless --overwrite; with it, the same bytes again.
    with pytest.raises(mine_corpus.MinedOutputExistsError, match="out-killed exists"):
        mine_corpus.mine_to_folder(job, str(root / "out-killed"), RUNNER)
    mine_corpus.mine_to_folder(job, str(root / "out-killed"), RUNNER, overwrite=True)
    summary = json.loads((root / "out-killed" / "summary.json").read_text())
    reference = json.loads((root / "out-ref" / "summary.json").read_text())
    assert summary.pop("seconds").keys() == reference.pop("seconds").keys()
    assert summary == reference


def test_embeddings_that_do_not_match_their_text_are_refused(sides, tmp_path):
    _, folders = sides
    side = EmbeddingSet.open(folders["tgt"], 37)
    side.check_text()
    text = side.inputs[0]
    with open(text, "rb") as f:
        original = f.read()
    try:
        with open(text, "ab") as f:
            f.write(b"m5 one more line\n")
        with pytest.raises(EmbeddingsTextMismatchError, match="web.en changed since it was"):
            side.check_text()
    finally:
        with open(text, "wb") as f:
            f.write(original)
    with pytest.raises(EmbeddingsTextMismatchError, match="not of"):
        side.check_text([str(tmp_path / "other.en")])


def test_a_shard_with_fewer_embeddings_than_lines_is_named(sides, tmp_path):
    import shutil

    _, folders = sides
    copy = tmp_path / "tgt_emb"
    shutil.copytree(folders["tgt"], copy)
    manifest = json.loads((copy / "manifest.json").read_text())
    record = manifest["shards"][2]
    np.save(copy / record["file"], np.zeros((record["count"] - 1, DIM), np.float32))
    record["bytes"] = os.path.getsize(copy / record["file"])
    (copy / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(EmbeddingsTextMismatchError, match=r"000-00002.npy: 24 embeddings for 25"):
        EmbeddingSet.open(str(copy), 37).check_text()


def test_threshold_auto_is_the_f1_optimal_cut_on_the_calibration_pairs(sides):
    root, _ = sides
    src_lines = [(root / "web.de.0").read_text().splitlines()]
    src_lines = src_lines[0] + (root / "web.de.1").read_text().splitlines()
    tgt_lines = (root / "web.en").read_text().splitlines()
    by_meaning = {line.split()[0]: line for line in tgt_lines}
    gold = tuple(
        (s, by_meaning[s.split()[0]]) for s in src_lines[:40] if s.split()[0] in by_meaning
    )
    # Wrong "known" pairs too, so the cut must trade precision against recall.
    gold += tuple((s, tgt_lines[i]) for i, s in enumerate(src_lines[120:126]))
    job = _job(sides, "work", mode="union", calibration=gold)
    summary = mine_corpus.mine_to_folder(job, str(root / "out-auto"), RUNNER)
    threshold = summary["threshold"]
    assert threshold is not None and summary["calibration"]["pairs"] == len(gold)
    rows = _read_pairs(root / "out-auto")
    assert rows and min(float(r[0]) for r in rows) >= threshold
    fixed = _job(sides, "work", mode="union", threshold=threshold)
    mine_corpus.mine_to_folder(fixed, str(root / "out-fixed"), RUNNER)
    assert sorted(rows) == sorted(_read_pairs(root / "out-fixed"))
    assert summary["pairs"] == len(rows) and sum(summary["histogram"]["counts"]) == len(rows)
    nowhere = _job(sides, "work", calibration=(("no such", "sentence"),))
    with pytest.raises(ValueError, match="none of the 1 calibration pairs was mined"):
        mine_corpus.mine_to_folder(nowhere, str(root / "out-nowhere"), RUNNER)
    assert not (root / "out-nowhere").exists()


def test_empty_shards_are_skipped_and_an_empty_side_is_refused(tmp_path):
    rng = np.random.default_rng(5)
    meanings = rng.permutation(80)[:40]
    src = [_write_side(tmp_path / "a.de", meanings, "de")]
    tgt = [_write_side(tmp_path / "a.en", rng.permutation(meanings)[:20], "en"),
           str(tmp_path / "b.en"),
           _write_side(tmp_path / "c.en", rng.permutation(meanings)[:25], "en")]  # fmt: skip
    (tmp_path / "b.en").write_text("\n" * 30)  # 30 empty lines: two empty shards when skipped
    skip = embedding_shards.EmbedConfig(shard_size=25, batch_size=8, dtype="float32",
                                        on_bad_line="skip")  # fmt: skip
    folders = {}
    for side, files in (("src", src), ("tgt", tgt)):
        folders[side] = str(tmp_path / f"{side}_emb")
        embedding_shards.embed_files("fake", DIM, FakeEncoder, files, folders[side], skip)
    counts = [r["count"] for r in EmbeddingSet.open(folders["tgt"], 10).records]
    assert counts == [20, 0, 0, 25]
    job = mine_job.MineJob(EmbeddingSet.open(folders["src"], 10),
                           EmbeddingSet.open(folders["tgt"], 10), str(tmp_path / "w"),
                           method="exact")  # fmt: skip
    summary = mine_corpus.mine_to_folder(job, str(tmp_path / "out"), RUNNER)
    want = mine.mine_pairs(_all(folders["src"]), _all(folders["tgt"]), k=4)
    assert summary["pairs"] == len(want) > 20
    got = sorted((r[3], r[4]) for r in _read_pairs(tmp_path / "out"))
    files, lines, _ = job.tgt.locate(want.tgt)
    names = ["a.en", "b.en", "c.en"]
    assert got == sorted((f"a.de:{s + 1}", f"{names[f]}:{n}")
                         for s, f, n in zip(want.src, files, lines, strict=True))  # fmt: skip
    (tmp_path / "d.en").write_text("\n")
    embedding_shards.embed_files("fake", DIM, FakeEncoder, [str(tmp_path / "d.en")],
                                 str(tmp_path / "empty_emb"), skip)  # fmt: skip
    empty = mine_job.MineJob(job.src, EmbeddingSet.open(str(tmp_path / "empty_emb"), 10),
                             str(tmp_path / "w2"))  # fmt: skip
    with pytest.raises(ValueError, match="empty_emb hold no sentences"):
        mine_corpus.mine_to_folder(empty, str(tmp_path / "out2"), RUNNER)


def test_repeated_sentences_are_left_out_before_the_search(tmp_path):
    from lealla.mining import dedupe
    from lealla.mining.line_file import LineFile

    rng = np.random.default_rng(7)
    meanings = rng.permutation(200)[:60]
    src_lines = [f"m{m} de sentence about thing {m}" for m in meanings]
    tgt_lines = [f"m{m} en sentence about thing {m}" for m in rng.permutation(meanings)]
    # Boilerplate: one line repeated 12 times on the target side, 5 on the source side,
    # and copies of real sentences (across files on the source side).
    tgt_lines += ["m999 en cookie notice"] * 12 + tgt_lines[:7]
    src_lines += ["m999 de cookie notice"] * 5
    (tmp_path / "a.de").write_text("\n".join(src_lines[:40]) + "\n")
    (tmp_path / "b.de").write_text("\n".join(src_lines[40:] + src_lines[:3]) + "\n")
    (tmp_path / "a.en").write_text("\n".join(rng.permutation(tgt_lines)) + "\n")
    folders = {}
    for side, files in (("src", ["a.de", "b.de"]), ("tgt", ["a.en"])):
        folders[side] = str(tmp_path / f"{side}_emb")
        embedding_shards.embed_files("fake", DIM, FakeEncoder, [str(tmp_path / f) for f in files],
                                     folders[side], CONFIG)  # fmt: skip
    job = mine_job.MineJob(EmbeddingSet.open(folders["src"], 13),
                           EmbeddingSet.open(folders["tgt"], 13), str(tmp_path / "w"),
                           method="exact", mode="union")  # fmt: skip
    summary = mine_corpus.mine_to_folder(job, str(tmp_path / "out"), RUNNER)
    assert summary["duplicates_left_out"] == {"src": 4 + 3, "tgt": 11 + 7}
    assert (summary["src_sentences"], summary["tgt_sentences"]) == (61, 61)

    def first_only(folder):
        texts = [t for s in range(len(EmbeddingSet.open(folder, 13).records))
                 for t in EmbeddingSet.open(folder, 13).shard_texts(s)]  # fmt: skip
        keep = dedupe.first_occurrences(dedupe.hashes(texts))
        return _all(folder)[keep], [t for t, k in zip(texts, keep, strict=True) if k]

    (src, src_texts), (tgt, tgt_texts) = first_only(folders["src"]), first_only(folders["tgt"])
    want = mine.mine_pairs(src, tgt, k=4, mode="union")
    got = sorted((r[1], r[2], round(float(r[0]), 4)) for r in _read_pairs(tmp_path / "out"))
    expected = sorted((src_texts[s], tgt_texts[t], round(float(c), 4))
                      for s, t, c in zip(want.src, want.tgt, want.score, strict=True))  # fmt: skip
    assert got == expected and len(got) >= 55
    # `lealla align`'s reader leaves out the same lines.
    (tmp_path / "ab.de").write_text(
        (tmp_path / "a.de").read_text() + (tmp_path / "b.de").read_text()
    )
    lines = LineFile(str(tmp_path / "ab.de"), dedupe=True)
    assert lines.duplicates == 7 and lines.read(range(len(lines))) == src_texts
