"""Quality asserts for module 02's tokens notebook (04_tokens.ipynb), read back from the autograded solution
notebook. The generic grading invariants are tested for every assignment in test_assignments.py."""

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("02_language_models")]

ASSIGNMENT = "02_language_models"
KS = (0, 25, 50, 100, 200, 300, 400, 500)
LANGUAGES = ("en", "de", "fr", "es", "it", "pt", "nl", "sv", "pl", "tr")


@pytest.fixture(scope="module")
def metrics(graded):
    return graded(ASSIGNMENT).metrics("solution")


def test_more_merges_fewer_tokens_with_diminishing_returns(metrics):
    tpw = [metrics[f"bpe_tokens_per_word_k{k}"] for k in KS]
    assert tpw == sorted(tpw, reverse=True), tpw
    assert 5.5 <= tpw[0] <= 8.5                                    # characters only: the words are 3 to 12 letters
    assert tpw[-1] <= 0.65 * tpw[0]                               # "about half" after 500 merges
    first, last = tpw[0] - tpw[2], tpw[5] - tpw[7]                # 50 merges at the start against 200 at the end
    assert first > 2 * last                                       # "each merge saves fewer tokens than the one before"
    assert 40 <= metrics["bpe_alphabet_size"] <= 90


def test_mostly_english_merges_make_other_languages_pay(metrics):
    en = {lang: metrics[f"bpe_tpc_mostly_en_{lang}"] for lang in LANGUAGES}
    bal = {lang: metrics[f"bpe_tpc_balanced_{lang}"] for lang in LANGUAGES}
    assert all(0.3 < v < 1.0 for v in [*en.values(), *bal.values()])
    assert en["en"] == min(en.values())                           # English is cheapest with English merges
    assert all(en[lang] > en["en"] + 0.02 for lang in LANGUAGES if lang != "en")
    assert min(en["pl"], en["tr"]) > max(v for k, v in en.items() if k not in ("pl", "tr"))  # "Polish and Turkish most"
    assert en["pl"] > en["en"] + 0.1
    assert bal["en"] > en["en"]                                   # English loses its advantage with balanced merges
    spread = lambda d: max(d.values()) - min(d.values())          # noqa: E731
    assert spread(bal) < spread(en) - 0.03                        # "spreads the cost more evenly"


def test_balanced_merges_leave_polish_and_turkish_paying_more(metrics):
    """04_tokens: "even with balanced merges, Polish and Turkish words cost more tokens per character than English"."""
    bal = {lang: metrics[f"bpe_tpc_balanced_{lang}"] for lang in LANGUAGES}
    assert min(bal["pl"], bal["tr"]) > 1.05 * bal["en"], bal


def test_extra_params_key_counts_the_notebooks_own_vocabularies(metrics):
    """Question `extra_params_500`: the key is the 400 extra tokens times 64 + 64 + 1 parameters each, which holds
    only while the 500 merges make 500 different strings (two merges can make the same one, section 4)."""
    from courses import REPO
    from test_answer_keys import questions

    qs, _ = questions(REPO / "source/02_language_models/04_tokens.ipynb")
    [key] = [v for q in qs for item, v in q.key.items() if item.endswith(": extra_params_500")]
    new_tokens = metrics["bpe_new_tokens_k500"] - metrics["bpe_new_tokens_k100"]
    assert key == new_tokens * (64 + 64 + 1), (key, new_tokens)
