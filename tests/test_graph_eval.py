"""Helpers of the graph result scripts: run cache keys, resume, median seed."""

from dataclasses import replace

from eval_scripts import load_eval_script

from dfazoo.graph.recipes import node_recipe

graph_common = load_eval_script("graph_common")


def test_median_seed_is_the_lower_middle_by_test_metric():
    runs = [{"seed": s, "test": {"accuracy": a}} for s, a in [(0, 80.0), (1, 70.0), (2, 90.0), (3, 75.0)]]
    assert graph_common.median_seed(runs, "accuracy") == 3
    assert graph_common.median_seed(runs[:3], "accuracy") == 0


def test_cache_key_follows_hyperparameters_and_epochs():
    recipe = node_recipe("gcn", "cora", "dfa", seed=0)
    changed = replace(recipe, optimizer={**recipe.optimizer, "lr": 0.123})
    assert graph_common.recipe_hash(recipe) != graph_common.recipe_hash(changed)
    assert graph_common.recipe_hash(recipe) != graph_common.recipe_hash(recipe, epochs=5)
    assert graph_common.recipe_hash(recipe) == graph_common.recipe_hash(replace(recipe, notes="x"))


def test_run_cache_trains_once_and_persists(tmp_path, monkeypatch):
    calls = []

    def fake_train(recipe, data_root, epochs=None):
        calls.append(recipe.seed)
        return {"seed": recipe.seed, "test": {"accuracy": 50.0}}

    monkeypatch.setattr(graph_common, "train_once", fake_train)
    path = tmp_path / "runs.json"
    recipe = node_recipe("gcn", "cora", "bp", seed=4)
    graph_common.RunCache(path).get_or_run(recipe, None)
    again = graph_common.RunCache(path).get_or_run(recipe, None)
    assert calls == [4] and again["test"]["accuracy"] == 50.0


def test_search_config_maps_onto_the_recipe():
    graph_search = load_eval_script("graph_search")
    config = {**graph_search.START["cheb"], "lr": 0.02, "error_reduction": "sum", "dropout": 0.8}
    recipe = graph_search.config_recipe("cheb", config, seed=3)
    assert recipe.seed == 3 and recipe.dataset == "cora" and recipe.method == "dfa"
    assert recipe.optimizer["lr"] == 0.02 and recipe.optimizer["name"] == "adam"
    assert recipe.arch_config["error_reduction"] == "sum" and recipe.arch_config["dropout"] == 0.8
    assert set(graph_search.GRID) == set(config)
