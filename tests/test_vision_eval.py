"""Helpers of the vision result scripts (per-row budgets, the Figure 4 summary over seeds) and the
choice of the released CIFAR-10 DFA models from their committed tables."""

from __future__ import annotations

import json

import pytest
from eval_scripts import EVAL, load_eval_script

from dfazoo.spec.registry import get_recipe
from dfazoo.spec.releases import release_of

RESULTS = EVAL / "results"

row_values = load_eval_script("vision_common").row_values
practices = load_eval_script("vision_practices")
bottleneck = load_eval_script("vision_bottleneck")


def test_row_epochs_give_rows_their_own_budget():
    budgets = row_values(["lrelu_neg/dfa=100", "abs/dfa=80"], practices.row_keys(), 40, "--row-epochs")
    assert budgets["lrelu_neg/dfa"] == 100 and budgets["abs/dfa"] == 80 and budgets["norm/bp"] == 40
    with pytest.raises(SystemExit, match="lrelu_neg/bp.*ROW one of"):
        row_values(["lrelu_neg/bp=100"], practices.row_keys(), 40, "--row-epochs")
    with pytest.raises(SystemExit, match="expected ROW=N"):
        row_values(["norm/dfa=ten"], practices.row_keys(), 40, "--row-epochs")


def _cell(test: float, layer2: float, kept: float) -> dict:
    align = {f"body.{i}": {"mean": m, "std": 0.1} for i, m in enumerate((0.5, layer2, 0.3))}
    return {
        "test_accuracy": test,
        "train_accuracy": test + 10,
        "val_accuracy": test,
        "alignment": align,
        "align_layer2_kept": {"mean": kept, "std": 0.2},
    }


def test_bottleneck_summary_is_mean_and_sample_std_over_seeds():
    point = bottleneck.summarise_keep(25, [_cell(46.0, 0.1, 0.8), _cell(48.0, 0.3, 0.9), {"diverged": True}])
    assert point["keep"] == 25 and point["runs"] == 3 and point["diverged"] == 1
    root2 = 2**0.5  # the sample std of two values d apart is d / sqrt(2) (the population std: d / 2)
    assert point["test_accuracy"] == pytest.approx((47.0, root2))
    assert point["align_layer2"] == pytest.approx((0.2, 0.1 * root2))
    assert point["align_layer2_kept"] == pytest.approx((0.85, 0.05 * root2))


def test_lr_search_picks_the_rate_with_the_best_validation_accuracy(tmp_path, monkeypatch):
    search = load_eval_script("vision_lr_search")
    monkeypatch.setattr(search, "RESULTS", tmp_path / "results")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    result = search.main(["mlp-digits-dfa", "--lrs", "1e-9", "0.003", "--quick"])
    assert result["best_lr"] == 0.003
    assert result["cells"]["1e-09"]["val_accuracy"] < result["cells"]["0.003"]["val_accuracy"]
    table = (tmp_path / "results" / "vision_lr_search_quick" / "mlp-digits-dfa.md").read_text()
    assert "| lr | val acc | best epoch | wall time (s) |" in table  # selection never shows test accuracy
    assert "| 0.003 **(best)** |" in table
    assert "`python eval/vision_lr_search.py mlp-digits-dfa --lrs 1e-9 0.003 --quick`" in table
    again = search.main(["mlp-digits-dfa", "--lrs", "1e-9", "0.003", "--quick", "--report-only"])
    assert again["cells"] == result["cells"]
    with pytest.raises(SystemExit, match="graph recipe"):
        search.main(["gcn-cora-dfa", "--lrs", "0.01", "--quick"])


@pytest.mark.parametrize(
    "model_id, records",
    [("mlp3x800-cifar10-dfa", "vision_practices*/runs"), ("cnn-cifar10-dfa", "vision_cnn/runs")],
)
def test_released_cifar_dfa_model_is_the_best_validation_run_of_its_tables(model_id, records):
    runs = {path: json.loads(path.read_text()) for path in RESULTS.glob(f"{records}/*.json")}
    runs = {path: r for path, r in runs.items() if r["recipe"]["method"] == "dfa" and not r["diverged"]}
    assert len(runs) >= 9  # every practice row of the committed tables, not just the released one
    best_path = max(runs, key=lambda path: runs[path]["val_metrics"]["accuracy"])
    release = release_of(model_id)
    assert best_path.stem == release.run_key == get_recipe(model_id).run_key()
    assert release.table == f"eval/results/{best_path.parent.parent.name}.md"
    assert release.table in get_recipe(model_id).notes  # the card cites its table
