"""Which run each zoo model is released from is data (``<domain>/releases.json``), and the zoo
recipes train exactly that run."""

import json

import pytest
from eval_scripts import EVAL

from dfazoo.spec import get_recipe, list_models
from dfazoo.spec.releases import all_releases

RESULTS = EVAL / "results"


def test_every_release_record_is_the_run_its_zoo_recipe_trains():
    list_models()  # loads the domains, which load their release records
    releases = all_releases()
    # 34 graph (median seeds) + 5 CIFAR-10 vision + 5 NeRF + 4 NLP + 10 recsys
    assert len(releases) == 58
    for model_id, release in releases.items():
        recipe = get_recipe(model_id)
        assert (recipe.seed, recipe.run_key()) == (release.seed, release.run_key), model_id
        assert (EVAL.parent / release.table).exists(), model_id
        # A run chosen among seeds says so on its card (through the recipe's notes).
        assert release.rule.startswith("seed 0") or release.table in recipe.notes, model_id
        assert release.row.get("epochs", recipe.epochs) == recipe.epochs


@pytest.mark.parametrize("table, prefix", [("graph_table3.json", ""), ("graph_table4.json", "gae-")])
def test_graph_releases_are_the_median_seeds_of_their_tables(table, prefix):
    list_models()
    data = json.loads((RESULTS / table).read_text())
    cells = data.get("cells", data)
    graph = {m: r for m, r in all_releases().items() if get_recipe(m).domain == "graph"}
    chosen = {m: r.seed for m, r in graph.items() if m.startswith(prefix) and m in cells}
    assert chosen and chosen == {m: cells[m]["median_seed"] for m in chosen}
    assert all(f"eval/results/{table}" in graph[m].rule for m in chosen)


def test_recsys_releases_are_seed_0_of_the_settings_their_table_chose():
    list_models()
    cells = json.loads((RESULTS / "recsys_table2.json").read_text())["cells"]
    recsys = {m: r for m, r in all_releases().items() if get_recipe(m).domain == "recsys"}
    assert recsys
    for model_id, release in recsys.items():
        cell = cells[model_id]
        assert cell["grid_size"] == cell["grid_total"] and release.seed == 0
        assert release.run_key == cell["run_keys"][0]
        chosen = {k: v for k, v in cell["setting"].items() if k != "name" and v is not None}
        assert release.row == chosen
