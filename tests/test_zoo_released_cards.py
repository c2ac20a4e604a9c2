"""Every released model folder under model_cards/ loads, with the feedback its config.json says."""

import json
from pathlib import Path

import pytest

import dfazoo
from dfazoo.core.serialization import METADATA_KEYS

CARDS = Path(__file__).resolve().parents[1] / "model_cards"
FOLDERS = sorted(p for p in CARDS.glob("*") if (p / "config.json").is_file()) if CARDS.is_dir() else []


@pytest.mark.skipif(not FOLDERS, reason="no released model folders under model_cards/")
@pytest.mark.parametrize("folder", FOLDERS, ids=lambda p: p.name)
def test_released_card_loads_with_its_feedback(folder):
    config = json.loads((folder / "config.json").read_text())
    model = dfazoo.from_pretrained(str(folder))
    assert model.arch_name == config["architecture"]
    assert model.method == config["method"]
    assert model.placement == config.get("placement", "macro")
    assert model.feedback.seed == config["seed"] and model.feedback.init == config["feedback_init"]
    saved = {k: v for k, v in config.items() if k not in METADATA_KEYS}
    assert {k: model.get_config()[k] for k in saved} == saved
