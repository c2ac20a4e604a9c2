"""The committed cards and README zoo table are exactly what the generator makes of the stored results."""

import pytest

from dfazoo.zoo.cards import TABLE_END, TABLE_START, read_results, released_recipe, render_card, zoo_table
from dfazoo.zoo.hub import CARD_NAME, repo_root

CARDS = repo_root() / "model_cards"
RESULTS = repo_root() / "eval" / "results" / "zoo"
CARD_IDS = sorted(p.name for p in CARDS.iterdir() if (p / CARD_NAME).exists())
FIX = "regenerate them with `python scripts/train_zoo.py --readme-only`"


@pytest.fixture(autouse=True)
def _default_project_url(monkeypatch):
    monkeypatch.delenv("DFAZOO_PROJECT_URL", raising=False)


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
