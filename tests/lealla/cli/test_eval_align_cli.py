"""`lealla eval`, `lealla align` and `lealla mine` end to end (subprocess), on local files in the real
formats built from the demo corpus, with the offline USE-m teacher."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from lealla.data import demo_corpus

LEALLA = [sys.executable, "-m", "lealla.cli.main"]


@pytest.fixture(scope="module")
def env(use_m_module):
    cache = os.path.dirname(os.path.dirname(use_m_module))
    return {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "LEALLA_CACHE_DIR": cache}


def run(env, *args, check=True):
    result = subprocess.run([*LEALLA, *args], capture_output=True, text=True, env=env, timeout=300)
    if check and result.returncode != 0:
        raise AssertionError(f"exit {result.returncode}\n{result.stdout}\n{result.stderr}")
    return result


def _table(stderr: str) -> str:
    """The result table of `lealla eval` in its stderr (from its header line on)."""
    lines = stderr.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("language "))
    return "\n".join(lines[start:])


@pytest.fixture
def tatoeba_dir(tmp_path):
    en = demo_corpus.read_split("test", "en")
    for lang, code in (("de", "deu"), ("fr", "fra"), ("ja", "jpn")):
        (tmp_path / f"tatoeba.{code}-eng.{code}").write_text(
            "\n".join(demo_corpus.read_split("test", lang)) + "\n", encoding="utf-8"
        )
        (tmp_path / f"tatoeba.{code}-eng.eng").write_text("\n".join(en) + "\n", encoding="utf-8")
    return tmp_path


def test_eval_tatoeba_json_and_chart(env, tatoeba_dir, tmp_path):
    chart = tmp_path / "out" / "tatoeba.png"
    done = run(env, "eval", "tatoeba", "--encoder=use-multilingual", f"--data={tatoeba_dir}",
               "--languages=deu,fr", "--json", f"--chart={chart}")  # fmt: skip
    result = json.loads(done.stdout)  # the JSON object alone on stdout
    out = _table(done.stderr)  # the human table goes to stderr
    assert set(result["per_language"]) == {"deu", "fra"}
    assert result["average"] >= 0.9
    assert result["average"] == pytest.approx(
        np.mean(list(result["per_language"].values())), abs=1e-5
    )
    assert "deu" in out.splitlines()[2] and chart.read_bytes()[:4] == b"\x89PNG"


def test_eval_tatoeba_by_embedding_width(env, tatoeba_dir):
    done = run(env, "eval", "tatoeba", "--encoder=use-multilingual", f"--data={tatoeba_dir}",
               "--languages=deu", "--dims=16,512", "--json")  # fmt: skip
    result = json.loads(done.stdout)
    out = done.stderr
    assert set(result["by_dims"]) == {"16", "512"}
    assert "use-multilingual (16 d)" in out and "use-multilingual (512 d)" in out
    narrow, full = (result["by_dims"][m]["average"] for m in ("16", "512"))
    assert full >= 0.9 and narrow < full  # 16 of USE-m's 512 dims lose accuracy
    bad = run(env, "eval", "tatoeba", "--encoder=use-multilingual", f"--data={tatoeba_dir}",
              "--languages=deu", "--dims=1024", check=False)  # fmt: skip
    assert bad.returncode == 2 and "--dims=1024 exceeds the 512 dimensions" in bad.stderr


def test_eval_tatoeba_errors(env, tatoeba_dir):
    (tatoeba_dir / "tatoeba.jpn-eng.jpn").write_text("たった一行\n", encoding="utf-8")
    bad = run(
        env, "eval", "tatoeba", "--encoder=use-multilingual", f"--data={tatoeba_dir}", check=False
    )
    assert bad.returncode != 0 and "tatoeba.jpn-eng.jpn: has 1 lines but" in bad.stderr
    bad = run(env, "eval", "tatoeba", "--encoder=use-multilingual", check=False)
    assert (
        bad.returncode != 0
        and "give --data=DIR with the tatoeba files, or --download" in bad.stderr
    )
    bad = run(env, "eval", "tatoba", "--encoder=use-multilingual", check=False)
    assert bad.returncode != 0 and "usage: lealla eval {tatoeba|bucc|un}" in bad.stderr


def test_eval_download_offline_message(env, tmp_path):
    # An unreachable proxy makes the download fail the same way with or without network.
    offline = {**env, "LEALLA_CACHE_DIR": str(tmp_path), "https_proxy": "http://127.0.0.1:9",
               "HTTPS_PROXY": "http://127.0.0.1:9"}  # fmt: skip
    bad = run(offline, "eval", "tatoeba", "--encoder=use-multilingual", "--download",
              "--languages=deu", check=False)  # fmt: skip
    assert bad.returncode == 1
    assert "lealla eval tatoeba: cannot download https://raw.githubusercontent.com/" in bad.stderr
    assert "Traceback" not in bad.stderr and "place it at" in bad.stderr


def test_eval_bucc_on_demo_split(env, tmp_path):
    de = demo_corpus.read_split("test", "de")
    # The English side: the 50 translations shuffled among 50 unrelated dev sentences.
    en = demo_corpus.read_split("test", "en") + demo_corpus.read_split("dev", "en")
    order = np.random.default_rng(0).permutation(len(en))
    (tmp_path / "de-en.sample.de").write_text(
        "".join(f"de-{i}\t{s}\n" for i, s in enumerate(de)), encoding="utf-8"
    )
    (tmp_path / "de-en.sample.en").write_text(
        "".join(f"en-{j}\t{en[j]}\n" for j in order), encoding="utf-8"
    )
    (tmp_path / "de-en.sample.gold").write_text(
        "".join(f"de-{i}\ten-{i}\n" for i in range(40)), encoding="utf-8"
    )
    out = run(
        env, "eval", "bucc", "--encoder=use-multilingual", f"--data={tmp_path}", "--json"
    ).stdout
    result = json.loads(out)
    # 40 of the 50 true pairs are gold here, so the F1-optimal cut has F1 >= 0.8.
    assert result["task"] == "bucc" and result["per_language"]["de"] >= 0.8


def test_align_demo_split(env, tmp_path):
    de = demo_corpus.read_split("test", "de")
    en = demo_corpus.read_split("test", "en")
    perm = np.random.default_rng(1).permutation(len(en))
    src, tgt = tmp_path / "news.de", tmp_path / "news.en"
    src.write_text("\n".join(de) + "\n", encoding="utf-8")
    tgt.write_text("\n".join(en[i] for i in perm) + "\n", encoding="utf-8")
    out_tsv = tmp_path / "pairs.tsv"
    out = run(env, "align", "--encoder=use-multilingual", f"--src={src}", f"--tgt={tgt}",
              f"--out={out_tsv}", "--json")  # fmt: skip
    assert json.loads(out.stdout)["pairs"] >= 48
    assert f"wrote {json.loads(out.stdout)['pairs']} pairs to {out_tsv}" in out.stderr
    rows = [line.split("\t") for line in out_tsv.read_text(encoding="utf-8").splitlines()]
    assert all(len(r) == 3 for r in rows)
    scores = [float(r[0]) for r in rows]
    assert scores == sorted(scores, reverse=True)
    gold = dict(zip(de, en, strict=True))
    assert sum(gold[s] == t for _, s, t in rows) >= 48


@pytest.mark.large  # two align runs (~40 s)
def test_align_with_int8_and_binary_embeddings(env, tmp_path):
    de, en = demo_corpus.read_split("test", "de"), demo_corpus.read_split("test", "en")
    src, tgt = tmp_path / "news.de", tmp_path / "news.en"
    src.write_text("\n".join(de) + "\n", encoding="utf-8")
    tgt.write_text("\n".join(en) + "\n", encoding="utf-8")
    gold = dict(zip(de, en, strict=True))
    for dtype, ratio in (("int8", 3.5), ("binary", 30)):  # + the int8 scales (512 dims)
        out_tsv = tmp_path / f"{dtype}.tsv"
        done = run(env, "align", "--encoder=use-multilingual", f"--src={src}", f"--tgt={tgt}",
                   f"--out={out_tsv}", f"--embedding_dtype={dtype}", "--rescore=10",
                   "--json")  # fmt: skip
        summary = json.loads(done.stdout)["quantized_search"]
        out = done.stderr
        assert summary["float32_bytes"] / summary["index_bytes"] >= ratio
        assert summary["recall_queries"] == 50 and summary["recall_against_float32"] >= 0.8
        assert f"{dtype} search:" in out and "against float32 on 50 queries" in out
        rows = [r.split("\t") for r in out_tsv.read_text(encoding="utf-8").splitlines()]
        assert sum(gold[s] == t for _, s, t in rows) >= 47, dtype


def test_align_input_errors_name_the_file(env, tmp_path):
    empty, good = tmp_path / "empty.de", tmp_path / "ok.en"
    empty.write_text("")
    good.write_bytes(b"fine\n\xff\xfe broken\n")
    args = ["align", "--encoder=use-multilingual", f"--out={tmp_path / 'p.tsv'}"]
    bad = run(env, *args, f"--src={empty}", f"--tgt={good}", check=False)
    assert bad.returncode != 0 and "empty.de: no sentences" in bad.stderr
    bad = run(env, *args, f"--src={good}", f"--tgt={good}", check=False)
    assert bad.returncode != 0 and "ok.en:2: invalid UTF-8" in bad.stderr
    assert not (tmp_path / "p.tsv").exists()


def _mining_inputs(tmp_path):
    """de + fr test sentences (two files) against their English shuffled among the dev
    split's English."""
    en = demo_corpus.read_split("test", "en") + demo_corpus.read_split("dev", "en")[:100]
    perm = np.random.default_rng(1).permutation(len(en))
    files = {}
    for name, lines in (("web.de", demo_corpus.read_split("test", "de")),
                        ("web.fr", demo_corpus.read_split("test", "fr")),
                        ("web.en", [en[i] for i in perm])):  # fmt: skip
        files[name] = tmp_path / name
        files[name].write_text("\n".join(lines) + "\n", encoding="utf-8")
    both = tmp_path / "web.defr"
    both.write_text(files["web.de"].read_text() + files["web.fr"].read_text(), encoding="utf-8")
    return files, both


def _tsv_rows(paths):
    rows = []
    for path in paths:
        rows += [line.split("\t") for line in path.read_text(encoding="utf-8").splitlines()]
    return rows


@pytest.mark.large
def test_mine_on_the_local_runner_equals_align(env, tmp_path):
    files, both = _mining_inputs(tmp_path)
    out, work = tmp_path / "mined", tmp_path / "mined.work"
    mine_args = ["mine", "--encoder=use-multilingual", f"--src={files['web.de']},{files['web.fr']}",
                 f"--tgt={files['web.en']}", "--shard_size=7", "--index_shard_size=12",
                 "--dtype=float32", "--num_workers=2", "--runner=local"]  # fmt: skip
    done = run(env, *mine_args, f"--out={out}", "--exact", "--json")
    summary = json.loads(done.stdout)  # the JSON object alone on stdout
    assert f"wrote {summary['pairs']} pairs to {out}" in done.stderr
    assert (summary["src_sentences"], summary["tgt_sentences"]) == (100, 100)
    assert len(summary["files"]) == 9  # 100 targets in blocks of 12
    run(env, "align", "--encoder=use-multilingual", f"--src={both}", f"--tgt={files['web.en']}",
        f"--out={tmp_path / 'align.tsv'}", "--exact")  # fmt: skip
    mined = sorted(_tsv_rows(sorted(out.glob("pairs-*.tsv"))), key=lambda r: (r[1], r[2]))
    aligned = sorted(_tsv_rows([tmp_path / "align.tsv"]), key=lambda r: (r[1], r[2]))
    assert [r[1:3] for r in mined] == [r[1:3] for r in aligned] and len(mined) == 50
    np.testing.assert_allclose([float(r[0]) for r in mined], [float(r[0]) for r in aligned],
                               atol=1e-5)  # fmt: skip
    assert (out / "scores.png").stat().st_size > 5000
    lines = {"web.de": both.read_text().splitlines()[:50], "web.fr": both.read_text().splitlines()[50:],
             "web.en": files["web.en"].read_text().splitlines()}  # fmt: skip
    for row in mined:  # the location columns point at the sentences
        for text, loc in ((row[1], row[3]), (row[2], row[4])):
            name, line = loc.rsplit(":", 1)
            assert lines[name][int(line) - 1] == text

    # Rerun: refused without --overwrite; with it (and ScaNN, from the kept embeddings),
    # the same gold recovery as `lealla align` with ScaNN.
    again = run(env, *mine_args, f"--out={out}", check=False)
    assert again.returncode == 1 and "exists; pass --overwrite" in again.stderr
    scann_args = ["mine", f"--src_embeddings={work / 'src_embeddings'}",
                  f"--tgt_embeddings={work / 'tgt_embeddings'}", "--index_shard_size=12",
                  "--num_workers=2", f"--work_dir={tmp_path / 'scann.work'}"]  # fmt: skip
    run(env, *scann_args, f"--out={tmp_path / 'scann'}")
    run(env, "align", "--encoder=use-multilingual", f"--src={both}", f"--tgt={files['web.en']}",
        f"--out={tmp_path / 'align_scann.tsv'}")  # fmt: skip
    gold = dict(zip(demo_corpus.read_split("test", "de") + demo_corpus.read_split("test", "fr"),
                    demo_corpus.read_split("test", "en") * 2, strict=True))  # fmt: skip

    def correct(rows):
        return sum(gold.get(r[1]) == r[2] for r in rows)

    mined_scann = _tsv_rows(sorted((tmp_path / "scann").glob("pairs-*.tsv")))
    assert correct(mined_scann) == correct(_tsv_rows([tmp_path / "align_scann.tsv"])) >= 48
    before = {p.name: p.read_bytes() for p in (tmp_path / "scann").glob("pairs-*.tsv")}
    run(env, *scann_args, f"--out={tmp_path / 'scann'}", "--overwrite")
    assert {p.name: p.read_bytes() for p in (tmp_path / "scann").glob("pairs-*.tsv")} == before


@pytest.mark.large
def test_mine_refuses_sides_of_two_encoders(env, hub_modules, tmp_path):
    files, _ = _mining_inputs(tmp_path)
    for name, spec in (("src", "use-multilingual"), ("tgt", hub_modules["string"])):
        run(env, "embed", f"--encoder={spec}", f"--input={files['web.de' if name == 'src' else 'web.en']}",
            f"--out={tmp_path / name}", "--runner=inprocess")  # fmt: skip
    bad = run(env, "mine", f"--src_embeddings={tmp_path / 'src'}",
              f"--tgt_embeddings={tmp_path / 'tgt'}", f"--out={tmp_path / 'm'}", check=False)  # fmt: skip
    assert bad.returncode == 1, bad.stderr
    assert "embedded differently" in bad.stderr and "use-multilingual" in bad.stderr
    assert "Traceback" not in bad.stderr and not (tmp_path / "m").exists()
