"""Register variants for the teacher cache: sentences rewritten in the register people chat in.

Korean news and reference text ends its sentences in the plain (-다) or formal (-습니다)
style; everyday Korean (messages, questions, reviews) in the polite -요 style (해요체):
99% of the demo corpus's Korean, 1% of news-parallel's. A student distilled on the
first learns little of the second, while the teacher embeds both alike. So the cache
adds each Korean sentence rewritten in the -요 style, embedded once by the teacher like
any augmented variant; a pair keeps its translation, so the variant is a pair too.

Korean: every declarative or interrogative sentence-final ending (다, ㄴ다, 는다, 습니다,
ㅂ니다, 습니까, ㅂ니까) becomes 어요, and the word holding it is rebuilt by the morphological
analyser Kiwi (`kiwipiepy`, the optional extra `lealla[korean]`), which applies vowel
harmony, contraction and irregular stems (보았다 -> 봤어요, 차갑다 -> 차가워요,
사과입니까? -> 사과예요?). The rest of the sentence is left as it was written.

Deterministic: a sentence always gets the same variant.
"""

from __future__ import annotations

import functools

from lealla import corpus

LANGUAGES = ("ko",)
# Kiwi's tags: EF = sentence-final ending, VCP / VCN = the copulas 이다 / 아니다.
_PLAIN_OR_FORMAL = frozenset({"다", "ᆫ다", "는다", "습니다", "ᆸ니다", "습니까", "ᆸ니까"})
_COPULAS = frozenset({"VCP", "VCN"})
_POLITE, _POLITE_COPULA = "어요", "에요"
_HANGUL_FIRST, _HANGUL_LAST, _FINALS = 0xAC00, 0xD7A3, 28


class RegisterUnavailableError(RuntimeError):
    """The analyser a language's register variants need is not installed (the CLI prints
    it as one line, as every environment error)."""


def check_available(languages: tuple[str, ...] = LANGUAGES) -> None:
    """Raises RegisterUnavailableError, with the install command, if Kiwi is missing."""
    if "ko" in languages:
        try:
            import kiwipiepy  # noqa: F401
        except ImportError:
            raise RegisterUnavailableError(
                "--augment=register rewrites Korean with the Kiwi analyser, which is not "
                "installed: pip install 'lealla[korean]' (kiwipiepy)"
            ) from None


@functools.cache
def _kiwi():
    check_available(("ko",))
    from kiwipiepy import Kiwi

    return Kiwi()


def rewrite(text: str, lang: str) -> str | None:
    """`text` in the everyday polite register of `lang`, or None (no such rewrite)."""
    if lang != "ko":
        return None
    kiwi = _kiwi()
    tokens = kiwi.tokenize(text)
    out = text
    # From the last ending to the first, so earlier offsets stay valid.
    for i in reversed(range(len(tokens))):
        if tokens[i].tag != "EF" or tokens[i].form not in _PLAIN_OR_FORMAL:
            continue
        start = _word_start(text, tokens[i].start)
        end = tokens[i].start + tokens[i].len
        first = next(j for j in range(i + 1) if tokens[j].start + tokens[j].len > start)
        copula = i >= 1 and tokens[i - 1].tag in _COPULAS
        ending = _POLITE_COPULA if copula else _POLITE
        word = kiwi.join([(t.form, t.tag) for t in tokens[first:i]] + [(ending, "EF")])
        if copula and i >= 2:
            word = _copula_spelling(word, tokens[i - 2].form)
        prefix = text[start : tokens[first].start]  # what the analyser did not cover
        out = out[:start] + prefix + word + out[end:]
    return out if out != text else None


def variant(example: corpus.Example) -> corpus.Example | None:
    """The example with each side in its everyday register (a pair stays a pair), or None."""
    src = rewrite(example.src, example.src_lang)
    tgt = rewrite(example.tgt, example.tgt_lang) if example.tgt_lang else None
    if src is None and tgt is None:
        return None
    return example._replace(src=src or example.src, tgt=tgt or example.tgt)


def _word_start(text: str, position: int) -> int:
    while position > 0 and not text[position - 1].isspace():
        position -= 1
    return position


def _copula_spelling(word: str, noun: str) -> str:
    """예요 after a noun ending in a vowel (Kiwi writes 에요 there); 이에요 stays after a
    final consonant."""
    if not word.endswith("에요") or len(word) < 3 or word[-3] != noun[-1:]:
        return word
    syllable = ord(noun[-1])
    if _HANGUL_FIRST <= syllable <= _HANGUL_LAST and (syllable - _HANGUL_FIRST) % _FINALS == 0:
        return word[:-2] + "예요"
    return word
