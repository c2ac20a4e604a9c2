"""Helpers of the graph result scripts: runs through the runner, committed records, median seed."""

import json
from dataclasses import replace

from eval_scripts import load_eval_script

from dfazoo.graph.recipes import node_recipe
from dfazoo.train.runner import RunRecord

graph_common = load_eval_script("graph_common")


def test_median_seed_is_the_lower_middle_by_test_metric():
    runs = [{"seed": s, "test": {"accuracy": a}} for s, a in [(0, 80.0), (1, 70.0), (2, 90.0), (3, 75.0)]]
    assert graph_common.median_seed(runs, "accuracy") == 3
    assert graph_common.median_seed(runs[:3], "accuracy") == 0


def test_graph_run_goes_through_the_runner_and_reads_committed_records(tmp_path, monkeypatch):
    calls = []

    def fake_run(recipe, *, records, data_root, threads):
        calls.append((recipe.seed, recipe.epochs))
        record = RunRecord(
            recipe.run_key(), recipe, True, recipe.epochs, 3, {"accuracy": 60.0}, {"accuracy": 50.0}
        )
        (records / f"{record.key}.json").parent.mkdir(parents=True, exist_ok=True)
        (records / f"{record.key}.json").write_text(json.dumps(record.to_dict()))
        return record

    monkeypatch.setattr(graph_common, "run", fake_run)
    recipe = node_recipe("gcn", "cora", "bp", seed=4)
    run = graph_common.graph_run(recipe, tmp_path, None, epochs=5)
    assert calls == [(4, 5)] and run == {
        "seed": 4,
        "best_val": 60.0,
        "best_epoch": 3,
        "test": {"accuracy": 50.0},
        "alignment": {},
        "wall_time": 0.0,
    }
    assert graph_common.graph_run(recipe, tmp_path, None, epochs=5, cached_only=True) == run
    # Another budget or hyperparameter is another run, never the cached one.
    assert graph_common.graph_run(recipe, tmp_path, None, cached_only=True) is None
    changed = replace(recipe, optimizer={**recipe.optimizer, "lr": 0.123})
    assert graph_common.graph_run(changed, tmp_path, None, epochs=5, cached_only=True) is None


def test_committed_table3_records_are_the_current_recipes():
    records = graph_common.RESULTS / "graph_table3_runs"
    for arch, dataset in (("gcn", "cora"), ("gat", "citeseer")):
        recipe = node_recipe(arch, dataset, "dfa", seed=0)
        record = json.loads((records / f"{recipe.run_key()}.json").read_text())
        assert record["recipe"]["optimizer"] == recipe.optimizer and record["test_metrics"]["accuracy"] > 50


def test_search_config_maps_onto_the_recipe():
    graph_search = load_eval_script("graph_search")
    config = {**graph_search.START["cheb"], "lr": 0.02, "error_reduction": "sum", "dropout": 0.8}
    recipe = graph_search.config_recipe("cheb", config, seed=3)
    assert recipe.seed == 3 and recipe.dataset == "cora" and recipe.method == "dfa"
    assert recipe.optimizer["lr"] == 0.02 and recipe.optimizer["name"] == "adam"
    assert recipe.arch_config["error_reduction"] == "sum" and recipe.arch_config["dropout"] == 0.8
    assert set(graph_search.GRID) == set(config)
