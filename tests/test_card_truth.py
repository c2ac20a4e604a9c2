"""Cards state the released value, the table row's mean ± sample std beside it, and how the run was chosen."""

import json
import re

import pytest
from huggingface_hub import ModelCard

from dfazoo.project import repository_url, source_link
from dfazoo.zoo.cards import link_paths, read_results, released_recipe, render_card, round_metric
from dfazoo.zoo.hub import repo_root
from dfazoo.zoo.seeds import table_seeds

RESULTS = repo_root() / "eval" / "results" / "zoo"


def _card(model_id: str) -> str:
    results = read_results(model_id, RESULTS)
    return render_card(released_recipe(model_id, results), results, RESULTS)


def _row(card: str, first_cell: str) -> list[str]:
    """The cells of the markdown table row of ``card`` whose first cell starts with ``first_cell``."""
    (line,) = [ln for ln in card.splitlines() if ln.startswith(f"| {first_cell}")]
    return [c.strip() for c in line.strip("|").split("|")]


def _model_index(card: str) -> dict[str, float]:
    return {r.metric_type: r.metric_value for r in ModelCard(card).data.eval_results}


def test_round_metric_uses_the_display_precision():
    assert round_metric("accuracy", 62.839999999999996) == 62.84
    assert round_metric("auc", 0.9003849075897726) == 0.9004


def test_model_index_states_the_released_value_not_the_seed_mean():
    card = _card("cnn-cifar10-dfa")
    assert _model_index(card) == {"accuracy": 62.84}
    cells = _row(card, "this model")
    assert cells[1:3] == ["62.84", "62.04 ± 0.70 (3 seeds)"]
    assert "best validation accuracy" in cells[3]


def test_counterpart_rows_state_their_released_value_then_their_row_mean():
    card = _card("mlp3x800-cifar10-dfa")
    assert _row(card, "this model")[1:3] == ["50.83", "50.98 ± 0.34 (3 seeds)"]
    bp = _row(card, "bp counterpart")
    assert bp[1:3] == ["48.77", "48.46 ± 0.32 (3 seeds)"]
    assert bp[3].startswith("seed 0 of this row")
    assert _row(card, "shallow counterpart")[1:3] == ["33.63", "33.86 ± 0.37 (3 seeds)"]
    assert "compare methods by their means" in card


def test_gae_cards_state_ap_beside_auc():
    results = read_results("gae-cora-dfa", RESULTS)
    card = _card("gae-cora-dfa")
    assert _model_index(card) == {"auc": 0.9004, "ap": round(results["test_metrics"]["ap"], 4)}
    header = _row(card, "model")
    assert header[3].startswith("ap (released weights)")
    assert _row(card, "this model")[3] == f"{results['test_metrics']['ap']:.4f}"


@pytest.mark.parametrize("table", ["graph_table3", "graph_table4"])
def test_table_seeds_give_the_graph_tables_own_mean_and_std(table):
    cells = json.loads((repo_root() / "eval" / "results" / f"{table}.json").read_text())
    cells = cells.get("cells", cells)
    assert len(cells) >= 4
    for model_id, cell in cells.items():
        results = read_results(model_id, RESULTS)
        metric = results["metric"]
        values = [s["metrics"][metric] for s in results["table_seeds"]["seeds"]]
        assert len(values) == cell[metric]["n"] == 10
        assert sum(values) / len(values) == pytest.approx(cell[metric]["mean"])
        assert results["seed"] == cell["median_seed"]


def test_table_seeds_of_a_model_without_release_record_are_its_own_seeds():
    results = read_results("mlp3x800-mnist-dfa", RESULTS)
    seeds = table_seeds(released_recipe("mlp3x800-mnist-dfa", results), results["per_seed"])
    assert [s["seed"] for s in seeds["seeds"]] == [0, 1, 2]
    assert seeds["rule"] == "seed 0 of its recipe, the first of the 3 seeds trained"


def test_repository_paths_become_links(monkeypatch):
    monkeypatch.setenv("DFAZOO_REPOSITORY_URL", "https://example.org/repo")
    assert repository_url() == "https://example.org/repo"
    assert source_link("eval/results/x.md") == "https://example.org/repo/blob/main/eval/results/x.md"
    text = link_paths("see eval/results/x.md. And (eval/results/p*/runs), not `eval/results/y.md`")
    assert text == (
        "see [eval/results/x.md](https://example.org/repo/blob/main/eval/results/x.md). "
        "And ([eval/results/p*/runs](https://example.org/repo/tree/main/eval/results)), "
        "not `eval/results/y.md`"
    )


def _prose(card: str) -> str:
    """``card`` without its front matter, code blocks, code spans and link targets."""
    body = card.split("\n---\n", 1)[1]
    body = re.sub(r"```.*?```", "", body, flags=re.S)
    body = re.sub(r"`[^`]*`", "", body)
    return re.sub(r"\]\([^)]*\)", "]", body)


@pytest.mark.parametrize(
    "model_id", ["cnn-cifar10-dfa", "gae-cora-dfa", "mlp3x800-cifar10-dfa", "gcn-cora-dfa"]
)
def test_cards_show_no_none_and_no_bare_repository_path(model_id):
    prose = _prose(_card(model_id))
    assert "None" not in prose and "null" not in prose
    bare = re.findall(r"(?<!\[)\beval/results/\S*", prose)
    assert bare == []
