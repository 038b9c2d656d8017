"""Word corpora for module 03: words by language (wordfreq) and surnames by locale (Faker).

Both come from data that ships inside pip packages, so nothing is downloaded:

- ``wordfreq`` (data: CC BY-SA 4.0, by Robyn Speer and contributors) has frequency-ranked
  word lists for many languages. The course uses the most frequent words of ten
  Latin-script languages: unlabelled as the pretraining corpus of its small foundation
  model, and labelled (by language) for a downstream task with few labels.
- ``Faker`` (MIT) has per-locale surname lists: a second downstream task.

Splits are seeded and fixed: the test words of the language task are never in the
pretraining corpus, so the pretrained model cannot have seen them.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

#: The ten languages of the pretraining corpus (ISO 639-1 codes).
LANGUAGES: tuple[str, ...] = ("en", "de", "fr", "es", "it", "pt", "nl", "sv", "pl", "tr")

LANGUAGE_NAMES: dict[str, str] = {
    "en": "English", "de": "German", "fr": "French", "es": "Spanish", "it": "Italian",
    "pt": "Portuguese", "nl": "Dutch", "sv": "Swedish", "pl": "Polish", "tr": "Turkish",
    "fi": "Finnish", "hu": "Hungarian", "cs": "Czech", "id": "Indonesian", "vi": "Vietnamese",
    "da": "Danish", "ro": "Romanian", "ca": "Catalan", "nb": "Norwegian",
}

#: Faker locales for the surname task and the language each stands for.
SURNAME_LOCALES: dict[str, str] = {
    "en_US": "en", "de_DE": "de", "fr_FR": "fr", "es_ES": "es", "it_IT": "it", "nl_NL": "nl", "sv_SE": "sv",
}

WORDS_PER_LANGUAGE = 5000  # most frequent words read per language, before filtering
PRETRAINING_WORDS_PER_LANGUAGE = 20000  # the unlabelled corpus reads further down each list
MIN_LEN, MAX_LEN = 3, 12


@dataclass(frozen=True)
class WordTask:
    """A labelled word task: ``pool`` to draw a few labelled examples from, ``test`` to measure on.

    ``labels`` are indices into ``classes``; no word is in both ``pool`` and ``test``.
    """

    pool_words: list[str]
    pool_labels: list[int]
    test_words: list[str]
    test_labels: list[int]
    classes: tuple[str, ...]

    def few_shot(self, k: int, seed: int = 0) -> tuple[list[str], list[int]]:
        """``k`` labelled examples per class from the pool, drawn with ``seed`` (in a shuffled order)."""
        if k < 1:
            raise ValueError(f"k must be a positive number of examples per class, got {k!r}")
        rng = np.random.default_rng(seed)
        labels = np.asarray(self.pool_labels)
        chosen: list[int] = []
        for c in range(len(self.classes)):
            idx = np.flatnonzero(labels == c)
            if len(idx) < k:
                raise ValueError(f"class {self.classes[c]!r} has only {len(idx)} pool examples, fewer than k={k}")
            chosen.extend(rng.choice(idx, size=k, replace=False).tolist())
        chosen = [chosen[i] for i in rng.permutation(len(chosen))]
        return [self.pool_words[i] for i in chosen], [self.pool_labels[i] for i in chosen]


def _clean(word: str) -> str | None:
    w = word.strip().lower()
    if MIN_LEN <= len(w) <= MAX_LEN and w.isalpha():
        return w
    return None


@lru_cache(maxsize=32)
def _words_cached(lang: str, n: int) -> tuple[str, ...]:
    try:
        import wordfreq
    except ModuleNotFoundError as err:
        raise RuntimeError("The word lists come from the pip package `wordfreq` (pinned in pyproject.toml). "
                           "Run `make lab` or `pip install -e .` in the course folder to install it.") from err
    if lang not in wordfreq.available_languages(wordlist="best"):
        raise ValueError(f"wordfreq has no word list for {lang!r}; try one of {sorted(LANGUAGE_NAMES)}")
    seen: dict[str, None] = {}
    for word in wordfreq.top_n_list(lang, n):
        w = _clean(word)
        if w is not None:
            seen.setdefault(w, None)
    return tuple(seen)


def words(lang: str, n: int = WORDS_PER_LANGUAGE) -> list[str]:
    """The most frequent of wordfreq's ``n`` top words of ``lang``: lower-case, letters only, 3 to 12 long.

    Ordered by frequency, most frequent first.
    """
    return list(_words_cached(lang, n))


def _split(items_by_class: list[list[str]], classes: tuple[str, ...], test_per_class: int,
           seed: int) -> WordTask:
    rng = np.random.default_rng(seed)
    pool_w, pool_l, test_w, test_l = [], [], [], []
    for c, items in enumerate(items_by_class):
        if len(items) <= test_per_class:
            raise ValueError(f"class {classes[c]!r} has {len(items)} items, not more than test_per_class")
        order = rng.permutation(len(items))
        test_w += [items[i] for i in order[:test_per_class]]
        test_l += [c] * test_per_class
        pool_w += [items[i] for i in order[test_per_class:]]
        pool_l += [c] * (len(items) - test_per_class)
    return WordTask(pool_w, pool_l, test_w, test_l, classes)


@lru_cache(maxsize=4)
def language_id(test_per_class: int = 300, seed: int = 0) -> WordTask:
    """Which of :data:`LANGUAGES` a word comes from.

    Words that are frequent in two or more of the languages (``"con"``, ``"with"``) are
    left out, so every word has one right answer. About 4,000 words per language.
    """
    per_lang = {lang: words(lang) for lang in LANGUAGES}
    counts: dict[str, int] = {}
    for ws in per_lang.values():
        for w in ws:
            counts[w] = counts.get(w, 0) + 1
    unique = [[w for w in per_lang[lang] if counts[w] == 1] for lang in LANGUAGES]
    return _split(unique, LANGUAGES, test_per_class, seed)


def pretraining_words() -> list[str]:
    """The unlabelled pretraining corpus: about 147,000 words, in a fixed (alphabetical) order.

    The :data:`PRETRAINING_WORDS_PER_LANGUAGE` most frequent words of each of :data:`LANGUAGES`
    (as :func:`words` reads them), mixed together, without the language task's test words. Labels are not
    given: the pretrained model never learns which language a word is from.
    """
    test = set(language_id().test_words)
    mixed: set[str] = set()
    for lang in LANGUAGES:
        mixed.update(words(lang, PRETRAINING_WORDS_PER_LANGUAGE))
    return sorted(mixed - test)


def _faker_surnames(locale: str) -> list[str]:
    try:
        provider = importlib.import_module(f"faker.providers.person.{locale}").Provider
    except ModuleNotFoundError as err:
        raise RuntimeError(f"Faker has no person provider for locale {locale!r} (or Faker is not installed: "
                           "run `make lab` or `pip install -e .`).") from err
    names = provider.last_names
    return list(names.keys()) if isinstance(names, dict) else list(names)


@lru_cache(maxsize=4)
def surnames(per_class: int = 300, test_per_class: int = 150, seed: int = 0) -> WordTask:
    """The country a surname comes from, from Faker's per-locale surname lists (classes: language codes).

    Surnames that appear in two locales' lists, or that are not a single word of letters,
    are left out; each class keeps ``per_class`` names, ``test_per_class`` of them for testing.
    """
    lists = {loc: {w for w in (_clean(s) for s in _faker_surnames(loc)) if w} for loc in SURNAME_LOCALES}
    counts: dict[str, int] = {}
    for names in lists.values():
        for n in names:
            counts[n] = counts.get(n, 0) + 1
    rng = np.random.default_rng(seed)
    by_class = []
    for loc in SURNAME_LOCALES:
        unique = sorted(n for n in lists[loc] if counts[n] == 1)
        if len(unique) < per_class:
            raise ValueError(f"locale {loc} has only {len(unique)} usable surnames, fewer than per_class={per_class}")
        by_class.append([unique[i] for i in sorted(rng.choice(len(unique), per_class, replace=False))])
    return _split(by_class, tuple(SURNAME_LOCALES.values()), test_per_class, seed)
