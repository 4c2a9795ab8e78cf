"""Normalizing text and finding phrases in it, typos and all."""

import re
import unicodedata
from functools import lru_cache

_UNIFY = str.maketrans({
    **dict.fromkeys("’‘‛`´′", "'"),
    **dict.fromkeys("“”„″«»", '"'),
    **dict.fromkeys("‐‑‒–—―−", "-"),
})
_NOISE = re.compile(r"[^\w\s$£€.,:/+%'-]|_")
_STRAY_APOSTROPHE = re.compile(r"(?<![a-z0-9])'|'(?![a-z])")
_SPACES = re.compile(r"\s+")
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


def normalize(text: str) -> str:
    """Lowercase ``text``, unify apostrophes, quotes and dashes, and collapse whitespace.

    Letters, digits, in-word apostrophes ("it's") and the characters that carry meaning
    for amounts, dates and phone numbers (``$ £ € . , : / - + %``) are kept; any other
    punctuation becomes a space.
    """
    text = unicodedata.normalize("NFKC", text).translate(_UNIFY).lower()
    text = _STRAY_APOSTROPHE.sub(" ", _NOISE.sub(" ", text))
    return _SPACES.sub(" ", text).strip()


@lru_cache(maxsize=8192)
def is_typo_of(word: str, target: str) -> bool:
    """True when ``word`` is ``target`` mistyped: within one edit of a word of 5+ letters,
    two edits of one of 8+ (swapping adjacent letters is one edit)."""
    budget = 2 if len(target) >= 8 else 1 if len(target) >= 5 else 0
    if not budget or abs(len(word) - len(target)) > budget:
        return False
    if not (word.isalpha() and target.isalpha()):
        return False
    before, previous = None, list(range(len(target) + 1))
    for i, a in enumerate(word, 1):
        current = [i] + [0] * len(target)
        for j, b in enumerate(target, 1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a != b))
            if before is not None and j > 1 and a == target[j - 2] and word[i - 2] == b:
                current[j] = min(current[j], before[j - 2] + 1)
        if min(current) > budget:
            return False
        before, previous = previous, current
    return previous[-1] <= budget


@lru_cache(maxsize=1024)
def _words(text: str) -> tuple[tuple[str, ...], frozenset[str]]:
    words = tuple(_WORD.findall(normalize(text)))
    return words, frozenset(words)


def phrases(text: str) -> tuple[str, ...]:
    """Comma-separated phrases written as one string: "yes, go ahead, do it"."""
    return tuple(" ".join(phrase.split()) for phrase in text.split(",") if phrase.strip())


def words(text: str) -> tuple[str, ...]:
    """The words of ``text`` as ``mentions`` reads them: normalized, in-word apostrophes kept."""
    return _words(text)[0]


def _same_word(word: str, target: str, typo_tolerance: bool) -> bool:
    if word == target or word in (target + "s", target + "es"):
        return True
    return typo_tolerance and is_typo_of(word, target)


def mentions(text: str, *phrases: str, typo_tolerance: bool = True) -> bool:
    """True when ``text`` contains any of ``phrases`` as whole words (plurals included).

    With ``typo_tolerance``, a word of 5+ letters also matches at one edit ("balnace" ~
    "balance"), and one of 8+ letters at two ("tranfer" ~ "transfer"); a phrase of several
    words matches when each of its words matches, in order, on adjacent words of the text.
    """
    words, vocabulary = _words(text)
    for phrase in phrases:
        targets = _words(phrase)[0]
        if len(targets) == 1 and targets[0] in vocabulary:
            return True
        for start in range(len(words) - len(targets) + 1 if targets else 0):
            window = words[start:start + len(targets)]
            if all(_same_word(w, target, typo_tolerance) for w, target in zip(window, targets)):
                return True
    return False
