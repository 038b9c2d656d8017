"""Quality asserts for module 02 (language models), read back from the autograded solution notebooks.

The generic grading invariants (full marks, blank scores zero, release equality, no leaks, time) are
tested for every assignment elsewhere; these check that the models in the notebooks learn what the text
says they learn.
"""

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("02_language_models")]

ASSIGNMENT = "02_language_models"


@pytest.fixture(scope="module")
def metrics(graded):
    return graded(ASSIGNMENT).metrics("solution")


def test_bigram_baseline(metrics):
    assert 2.2 <= metrics["bigram_test_nll"] <= 2.5
    assert metrics["bigram_train_nll"] < metrics["bigram_test_nll"]


def test_rnn_quality(metrics):
    assert metrics["rnn_test_nll"] <= 2.05
    assert metrics["rnn_test_nll"] < metrics["bigram_test_nll"] - 0.2


def test_temperature_trades_novelty_for_plausibility(metrics):
    assert metrics["sample_variety_t005"] <= 0.1          # near T = 0 the samples repeat
    assert metrics["sample_novelty_t1"] >= 0.5            # at T = 1 most samples are new names
    assert metrics["sample_plausibility_t1"] >= 0.6       # ... and most still look like names
    assert metrics["sample_plausibility_t3"] < metrics["sample_plausibility_t1"] - 0.3
    # the trade-off section 7 reads off the plot (T = 0.5 against T = 2)
    assert metrics["sample_novelty_t2"] > metrics["sample_novelty_t05"] + 0.2
    assert metrics["sample_plausibility_t2"] < metrics["sample_plausibility_t05"] - 0.3
    # Question 1's sharper_lower_nll is False: the logits divided by 0.5 predict the test names worse, worse even
    # than the bigram model; flattening by the same factor (T = 2) costs much less (section 7)
    assert abs(metrics["rnn_test_nll_t1"] - metrics["rnn_test_nll"]) < 1e-6
    assert metrics["rnn_test_nll_t05"] > metrics["rnn_test_nll"] + 0.3
    assert metrics["rnn_test_nll_t05"] > metrics["bigram_test_nll"]
    assert metrics["rnn_test_nll_t2"] - metrics["rnn_test_nll"] < (metrics["rnn_test_nll_t05"] - metrics["rnn_test_nll"]) / 2



def test_top_k_and_top_p_cut_the_tail(metrics):
    """The measured claims of 01_char_models, section 8 (300 samples per setting at T = 1)."""
    assert metrics["filtered_novelty_all"] == metrics["sample_novelty_t1"]        # the same draws as T = 1
    # the two predictions of Question 1: top_k = 3 more plausible, top_p = 0.5 less novel than no filter
    assert metrics["filtered_plausibility_k3"] > metrics["filtered_plausibility_all"] + 0.15
    assert metrics["filtered_novelty_p05"] < metrics["filtered_novelty_all"] - 0.3
    assert metrics["filtered_variety_p05"] < 0.6                                  # many samples repeat
    # the tighter the filter, the fewer new names and the more plausible ones
    for chain in (("all", "k10", "k5", "k3"), ("all", "p095", "p09", "p075", "p05")):
        novelty = [metrics[f"filtered_novelty_{s}"] for s in chain]
        plausibility = [metrics[f"filtered_plausibility_{s}"] for s in chain]
        assert novelty == sorted(novelty, reverse=True), (chain, novelty)
        assert all(b >= a - 0.01 for a, b in zip(plausibility, plausibility[1:])), (chain, plausibility)
    # top_p = 0.9 pays less novelty than T = 0.75 for about the same plausibility
    assert metrics["filtered_novelty_p09"] > metrics["sample_novelty_t075"] + 0.04
    assert metrics["filtered_plausibility_p09"] >= metrics["sample_plausibility_t075"] - 0.02

def test_gpt_generates_and_masked_model_fills_in(metrics):
    assert metrics["gpt_test_nll"] <= 2.2
    assert metrics["fill_acc_masked"] > metrics["fill_acc_gpt_left_only"]
    assert metrics["fill_nll_masked"] < metrics["fill_nll_gpt_left_only"]
    assert metrics["gen_plausible_gpt"] >= 0.5
    assert metrics["gen_plausible_masked"] < metrics["gen_plausible_gpt"] - 0.3
    assert metrics["fill_nll_gpt_score_26"] < metrics["fill_nll_masked"]    # "did better still in this run"


def test_gru_and_transformer_compared_fairly(metrics):
    for size in ("small", "large"):
        gru, transformer = metrics[f"cmp_params_gru_{size}"], metrics[f"cmp_params_transformer_{size}"]
        assert abs(gru - transformer) <= 0.1 * transformer, (size, gru, transformer)   # matched parameter counts
        # what the notebook reports: at this scale the GRU is ahead at both sizes
        assert metrics[f"cmp_test_nll_gru_{size}"] < metrics[f"cmp_test_nll_transformer_{size}"] - 0.02
    assert metrics["cmp_params_transformer_large"] > 4 * metrics["cmp_params_transformer_small"]
    assert metrics["cmp_test_nll_transformer_small"] == metrics["gpt_test_nll"]       # the tiny GPT itself


def test_scaling_curve_falls(metrics):
    losses = [metrics[f"scale_test_nll_w{w}"] for w in (4, 12, 36, 108)]
    params = [metrics[f"scale_params_w{w}"] for w in (4, 12, 36, 108)]
    assert params == sorted(params) and params[-1] / params[0] > 100
    assert losses == sorted(losses, reverse=True), losses
    assert metrics["scale_alpha"] > 0
    assert metrics["scale_gpt3_param_ratio"] > 1e5


def test_points_per_notebook(graded):
    run = graded(ASSIGNMENT)
    per_nb: dict[str, float] = {}
    for c in run.results["solution"].cells:
        per_nb[c.notebook] = per_nb.get(c.notebook, 0) + c.max_score
    expected = {"01_char_models": 16, "02_gpt_vs_bert": 17, "03_scale": 5, "04_tokens": 12}
    assert {name: per_nb.get(name) for name in expected} == expected
