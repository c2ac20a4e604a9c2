"""Generated model cards: front matter, sections, executable snippets, and the zoo table."""

import contextlib
import dataclasses
import io
import re

import pytest
import torch
from huggingface_hub import ModelCard

from dfazoo.spec import registry
from dfazoo.zoo.cards import (
    TABLE_END,
    TABLE_START,
    counterpart_ids,
    is_stale,
    render_card,
    update_readme_table,
    write_card,
    zoo_table,
)
from dfazoo.zoo.publish import train_and_release

FAKE_RESULTS = {
    "model_id": "mlp-digits-dfa",
    "value": 91.25,
    "std": None,
    "seed": 0,
    "seeds": [0],
    "split": "test",
    "best_epoch": 7,
    "alignment": {"body.3": {"mean": 0.42, "std": 0.1}},
    "wall_time": 12.0,
    "command": "python scripts/train_zoo.py mlp-digits-dfa",
    "config": {"feedback_init": "principled", "error_reduction": "mean"},
    "error_size": 10,
    "head_replaceable": True,
}


@pytest.fixture
def zoo(tmp_path, monkeypatch):
    monkeypatch.setenv("DFAZOO_ZOO_DIR", str(tmp_path))
    for method in ("dfa", "bp", "shallow"):
        recipe = registry.get_recipe(f"mlp-digits-{method}")
        monkeypatch.setitem(
            registry._RECIPES, recipe.model_id, dataclasses.replace(recipe, epochs=2, paper_value=88.0)
        )
    torch.set_num_threads(1)
    return tmp_path


def test_card_front_matter_and_sections(zoo):
    recipe = registry.get_recipe("mlp-digits-dfa")
    text = render_card(recipe, FAKE_RESULTS)
    card = ModelCard(text)
    assert card.data.library_name == "dfazoo"
    assert card.data.license == "mit"
    assert "direct-feedback-alignment" in card.data.tags
    assert card.data.datasets == ["digits"] and card.data.metrics == ["accuracy"]
    (result,) = card.data.eval_results
    assert (result.metric_type, result.metric_value, result.dataset_split) == ("accuracy", 91.25, "test")
    for section in ("Training method", "Data", "Results", "Alignment at release", "How to use"):
        assert f"## {section}" in text
    assert recipe.data_notes in text
    assert "| this model (dfa) | 91.25 | 1 seed |" in text
    assert "| bp counterpart | not trained yet |" in text
    assert f"| paper ({recipe.paper_ref}) | 88.00 |" in text
    assert "| `body.3` | 0.420 | 0.100 |" in text
    assert "python scripts/train_zoo.py mlp-digits-dfa" in text
    assert "arXiv:1906.04554" in text and "arXiv:2006.12878" in text
    assert "Boniface" in text


def test_card_states_the_threads_and_cores_its_runs_recorded(zoo):
    recipe = registry.get_recipe("mlp-digits-dfa")
    assert "- wall time: 12 s on CPU (all seeds)" in render_card(recipe, FAKE_RESULTS)
    one = {**FAKE_RESULTS, "per_seed": [{"threads": 1, "cpus": 2}]}
    assert "- wall time: 12 s on CPU, 1 torch thread of 2 cores (all seeds)" in render_card(recipe, one)
    mixed = {**FAKE_RESULTS, "per_seed": [{"threads": 1, "cpus": 2}, {"threads": 2, "cpus": 2}]}
    assert "- wall time: 12 s on CPU (all seeds)" in render_card(recipe, mixed)


def test_card_lists_points_in_module_order_whatever_the_stored_key_order(zoo):
    points = {name: {"mean": 0.5, "std": 0.1} for name in ("body.11", "body.3", "body.7")}
    text = render_card(registry.get_recipe("mlp-digits-dfa"), {**FAKE_RESULTS, "alignment": points})
    assert text.index("`body.3`") < text.index("`body.7`") < text.index("`body.11`")


def test_counterpart_ids_swap_the_method_and_drop_the_placement():
    recipe = registry.get_recipe("mlp-digits-dfa")
    assert counterpart_ids(recipe, "bp") == ["mlp-digits-bp"]
    micro = dataclasses.replace(recipe, model_id="tf-shakespeare-dfa-micro", placement="micro")
    assert counterpart_ids(micro, "bp") == ["tf-shakespeare-bp-micro", "tf-shakespeare-bp"]


def run_snippets(text: str) -> list[str]:
    """Execute every python block of a card, each in a fresh namespace; return their stdout."""
    outputs = []
    for code in re.findall(r"```python\n(.*?)```", text, flags=re.S):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile(code, "<card snippet>", "exec"), {})
        outputs.append(out.getvalue())
    return outputs


def test_card_snippets_execute_on_a_released_model(zoo):
    results = train_and_release("mlp-digits-dfa", progress=False)
    text = (zoo / "model_cards" / "mlp-digits-dfa" / "README.md").read_text()
    assert "replace_head(" in text
    outputs = run_snippets(text)
    assert len(outputs) == 3
    assert outputs[0].startswith("dfa ")
    value = ModelCard.load(zoo / "model_cards" / "mlp-digits-dfa" / "README.md").data.eval_results[0]
    assert f"'card_value': {value.metric_value}" in outputs[1]
    assert "body." in outputs[2] and "'mean'" in outputs[2]
    # an architecture whose head is not a plain Linear gets a fine-tune snippet without replace_head
    text = render_card(registry.get_recipe("mlp-digits-dfa"), {**results, "head_replaceable": False})
    assert "replace_head(" not in text
    assert "'mean'" in run_snippets(text)[2]


def test_zoo_table_and_readme_update(zoo):
    empty = zoo_table()
    assert "no trained model yet" in empty
    dfa = train_and_release("mlp-digits-dfa", progress=False)
    bp = train_and_release("mlp-digits-bp", progress=False)
    table = zoo_table()
    row = next(line for line in table.splitlines() if "`mlp-digits-dfa`" in line)
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells == [
        "`mlp-digits-dfa`",
        "vision",
        "accuracy",
        f"{dfa['value']:.2f}",
        f"{bp['value']:.2f}",
        "—",
        "88.00",
    ]
    readme = zoo / "README.md"
    readme.write_text(f"intro\n{TABLE_START}\nold\n{TABLE_END}\noutro\n")
    assert update_readme_table(readme)
    assert readme.read_text() == f"intro\n{TABLE_START}\n{table}\n{TABLE_END}\noutro\n"
    readme.write_text("no markers")
    assert not update_readme_table(readme)


def test_card_states_the_recipe_it_was_trained_with(zoo, monkeypatch):
    train_and_release("mlp-digits-dfa", progress=False)
    assert not is_stale("mlp-digits-dfa")
    recipe = registry.get_recipe("mlp-digits-dfa")
    reworded = dataclasses.replace(recipe, description="reworded", notes="reworded")
    monkeypatch.setitem(registry._RECIPES, recipe.model_id, reworded)
    assert not is_stale("mlp-digits-dfa")
    assert "reworded" in write_card("mlp-digits-dfa").read_text()  # prose follows the registry
    monkeypatch.setitem(registry._RECIPES, recipe.model_id, dataclasses.replace(recipe, epochs=7))
    assert is_stale("mlp-digits-dfa")
    text = write_card("mlp-digits-dfa").read_text()
    assert "2 epochs" in text and "7 epochs" not in text
