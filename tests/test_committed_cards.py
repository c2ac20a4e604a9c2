"""The committed cards and README zoo table are exactly what the generator makes of the stored results."""

import pytest
from huggingface_hub import ModelCard

from dfazoo.zoo.cards import (
    TABLE_END,
    TABLE_START,
    format_metric,
    read_results,
    released_recipe,
    render_card,
    round_metric,
    zoo_table,
)
from dfazoo.zoo.hub import CARD_NAME, repo_root
from dfazoo.zoo.seeds import table_seeds

CARDS = repo_root() / "model_cards"
RESULTS = repo_root() / "eval" / "results" / "zoo"
CARD_IDS = sorted(p.name for p in CARDS.iterdir() if (p / CARD_NAME).exists())
FIX = "regenerate them with `python scripts/train_zoo.py --readme-only`"


@pytest.fixture(autouse=True)
def _default_project_url(monkeypatch):
    monkeypatch.delenv("DFAZOO_PROJECT_URL", raising=False)
    monkeypatch.delenv("DFAZOO_REPOSITORY_URL", raising=False)


def test_every_card_folder_has_stored_results():
    assert len(CARD_IDS) >= 45
    assert [i for i in CARD_IDS if read_results(i, RESULTS) is None] == []


@pytest.mark.parametrize("model_id", CARD_IDS)
def test_committed_card_is_the_generated_one(model_id):
    results = read_results(model_id, RESULTS)
    generated = render_card(released_recipe(model_id, results), results, RESULTS)
    committed = (CARDS / model_id / CARD_NAME).read_text()
    assert committed == generated, f"model_cards/{model_id}/{CARD_NAME} is stale: {FIX}"


def test_readme_zoo_table_is_the_generated_one():
    readme = (repo_root() / "README.md").read_text()
    committed = readme.split(TABLE_START, 1)[1].split(TABLE_END, 1)[0].strip()
    assert committed == zoo_table(CARDS, RESULTS), f"the README zoo table is stale: {FIX}"


@pytest.mark.parametrize("model_id", CARD_IDS)
def test_committed_card_readme_row_and_results_state_one_released_value(model_id):
    results = read_results(model_id, RESULTS)
    metric = results["metric"]
    card = ModelCard.load(CARDS / model_id / CARD_NAME)
    assert card.data.eval_results[0].metric_value == round_metric(metric, results["value"])
    readme = (repo_root() / "README.md").read_text()
    (row,) = [line for line in readme.splitlines() if line.startswith(f"| `{model_id}` |")]
    assert row.split("|")[4].split()[0] == format_metric(metric, results["value"])


@pytest.mark.parametrize("model_id", CARD_IDS)
def test_stored_table_seeds_match_the_committed_run_records(model_id):
    results = read_results(model_id, RESULTS)
    recipe = released_recipe(model_id, results)
    assert results["table_seeds"] == table_seeds(recipe, results["per_seed"]), f"{model_id}: {FIX}"
    released = [s for s in results["table_seeds"]["seeds"] if s["seed"] == results["seed"]]
    assert [s["metrics"][results["metric"]] for s in released] == [results["value"]]
