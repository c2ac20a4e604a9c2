"""Model cards and the zoo table, generated from recipes and measured results only.

Measured results live in ``eval/results/zoo/<id>.json`` (written by ``scripts/train_zoo.py``);
nothing here is typed by hand. The card's YAML front matter (``model-index``) is built with
``huggingface_hub.ModelCardData`` so the Hub parses it.
"""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path
from typing import Any

from huggingface_hub import EvalResult, ModelCard, ModelCardData

from dfazoo.core import METHODS
from dfazoo.project import project_url, results_dir, source_link
from dfazoo.spec.recipe import Recipe
from dfazoo.spec.registry import UnknownModelError, get_recipe, get_task
from dfazoo.stats import STD_NOTE, format_pair, mean_std
from dfazoo.zoo.hub import CARD_NAME, cards_dir

TABLE_START, TABLE_END = "<!-- zoo-table -->", "<!-- /zoo-table -->"
TASK_TYPES = {
    "vision": "image-classification",
    "graph": "graph-ml",
    "nlp": "text-generation",
    "nerf": "image-to-3d",
    "recsys": "tabular-classification",
}

CITATIONS = """\
```bibtex
@article{launay2019principled,
  title   = {Principled Training of Neural Networks with Direct Feedback Alignment},
  author  = {Launay, Julien and Poli, Iacopo and Krzakala, Florent},
  journal = {arXiv preprint arXiv:1906.04554},
  year    = {2019}
}

@inproceedings{launay2020dfa,
  title     = {Direct Feedback Alignment Scales to Modern Deep Learning Tasks and Architectures},
  author    = {Launay, Julien and Poli, Iacopo and Boniface, Fran{\\c{c}}ois and Krzakala, Florent},
  booktitle = {Advances in Neural Information Processing Systems (NeurIPS)},
  year      = {2020},
  note      = {arXiv:2006.12878}
}
```"""


def read_results(model_id: str, folder: Path | None = None) -> dict[str, Any] | None:
    """The measured results of ``model_id``, or None when it has not been trained yet."""
    path = (folder or results_dir()) / f"{model_id}.json"
    return json.loads(path.read_text()) if path.exists() else None


def counterpart_ids(recipe: Recipe, method: str) -> list[str]:
    """Candidate ids of the same model trained with ``method``: the method swapped in the id,
    with and without the placement suffix."""
    parts = recipe.model_id.split("-")
    if recipe.method not in parts:
        return []
    i = len(parts) - 1 - parts[::-1].index(recipe.method)
    swapped = [*parts[:i], method, *parts[i + 1 :]]
    candidates = ["-".join(swapped)]
    if recipe.placement and swapped[-1] == recipe.placement:
        candidates.append("-".join(swapped[:-1]))
    return candidates


def counterpart_results(recipe: Recipe, folder: Path | None = None) -> dict[str, dict[str, Any] | None]:
    """{method: results or None} of the same model trained with each other method."""
    found: dict[str, dict[str, Any] | None] = {}
    for method in METHODS:
        if method == recipe.method:
            continue
        found[method] = None
        for candidate in counterpart_ids(recipe, method):
            results = read_results(candidate, folder)
            if results is not None:
                found[method] = results
                break
    return found


# Metrics reported in percent, shown with 2 decimals; the others (AUC, AP, ...) with 4.
PERCENT_METRICS: frozenset[str] = frozenset({"accuracy"})
# A path of the repository in prose (``eval/results/vision_cnn.md``), without trailing punctuation.
REPO_PATH = re.compile(r"(?<![\w/.`])((?:eval|dfazoo|scripts|docs|tests|model_cards)/[\w.*/-]*[\w*])")


def metric_decimals(metric: str) -> int:
    """Display precision of ``metric``: 2 decimals for a percentage, else 4."""
    return 2 if metric in PERCENT_METRICS else 4


def round_metric(metric: str, value: float) -> float:
    """``value`` at the display precision of ``metric`` (62.84, not 62.839999999999996): what the
    card's model-index and ``dfazoo eval --json`` state."""
    return round(float(value), metric_decimals(metric))


def format_metric(metric: str, value: float | None) -> str:
    return "—" if value is None else f"{value:.{metric_decimals(metric)}f}"


def link_paths(text: str) -> str:
    """``text`` with each repository path made a link into the source repository (a glob such as
    ``eval/results/vision_practices*/runs`` links its folder)."""

    def link(match: re.Match[str]) -> str:
        path = match[1]
        parts = path.split("/")
        target = "/".join(parts[: next((i for i, p in enumerate(parts) if "*" in p), len(parts))])
        return f"[{path}]({source_link(target)})"

    return REPO_PATH.sub(link, text)


# What a task's evaluation reports that is not a score of the model: the loss (the metric restated)
# and counts (a language model's number of test tokens).
NOT_SCORES: tuple[str, ...] = ("loss", "tokens")


def extra_metrics(recipe: Recipe, results: dict[str, Any]) -> list[str]:
    """The other test metrics the task reports besides ``recipe.metric`` (GAE: ``ap``; LM: ``nats_per_char``)."""
    return sorted(k for k in results.get("test_metrics") or {} if k != recipe.metric and k not in NOT_SCORES)


def seed_values(results: dict[str, Any], metric: str) -> list[float]:
    """``metric`` of each seed the released run was chosen among (``table_seeds``, else the
    release's own seeds, else the released value alone)."""
    seeds = (results.get("table_seeds") or {}).get("seeds") or results.get("per_seed") or []
    values = [s["metrics"][metric] for s in seeds if metric in s.get("metrics", {})]
    if values:
        return values
    value = results["value"] if metric == results.get("metric", metric) else None
    return [value] if value is not None else []


def over_seeds(results: dict[str, Any], metric: str) -> str:
    """``mean ± sample std (n seeds)`` over :func:`seed_values`, or ``1 seed``."""
    values = seed_values(results, metric)
    if len(values) < 2:
        return "1 seed"
    return f"{format_pair(*mean_std(values), digits=metric_decimals(metric))} ({len(values)} seeds)"


def released_value(results: dict[str, Any], metric: str) -> float | None:
    """The released run's ``metric`` (the recipe's metric is ``value``)."""
    if metric == results.get("metric", metric):
        return results["value"]
    return (results.get("test_metrics") or {}).get(metric)


def chosen_by(results: dict[str, Any]) -> str:
    """How the released run was chosen, with its table linked (``—`` when not recorded)."""
    seeds = results.get("table_seeds") or {}
    if "rule" not in seeds:
        return "—"
    table = f", from {seeds['table']}" if "table" in seeds else ""
    return link_paths(f"{seeds['rule']}{table}")


def _card_data(recipe: Recipe, results: dict[str, Any]) -> ModelCardData:
    metrics = [recipe.metric, *extra_metrics(recipe, results)]
    eval_results = [
        EvalResult(
            task_type=TASK_TYPES.get(recipe.domain, recipe.domain),
            dataset_type=recipe.dataset,
            dataset_name=recipe.dataset,
            dataset_split=results.get("split", "test"),
            metric_type=metric,
            metric_value=round_metric(metric, released_value(results, metric)),
        )
        for metric in metrics
    ]
    return ModelCardData(
        library_name="dfazoo",
        license="mit",
        tags=["dfazoo", "direct-feedback-alignment", recipe.domain, recipe.method, recipe.arch],
        datasets=[recipe.dataset],
        metrics=metrics,
        model_name=recipe.model_id,
        eval_results=eval_results,
    )


def _result_cells(results: dict[str, Any], metrics: list[str]) -> str:
    cells = [f"{format_metric(m, released_value(results, m))} | {over_seeds(results, m)}" for m in metrics]
    return " | ".join([*cells, chosen_by(results)])


def _registered(model_ids: list[str]) -> bool:
    """Whether any of ``model_ids`` is a zoo recipe."""
    for model_id in model_ids:
        try:
            get_recipe(model_id)
        except UnknownModelError:
            continue
        return True
    return False


def _results_section(recipe: Recipe, results: dict[str, Any], folder: Path | None) -> str:
    metrics = [recipe.metric, *extra_metrics(recipe, results)]
    direction = "higher" if recipe.higher_is_better else "lower"
    blank = " | ".join(["—"] * 2 * len(metrics))
    rows = [f"| this model ({recipe.method}) | {_result_cells(results, metrics)} |"]
    for method, other in counterpart_results(recipe, folder).items():
        if other is None:
            state = "not trained yet" if _registered(counterpart_ids(recipe, method)) else "not in the zoo"
            rows.append(f"| {method} counterpart | {state} | {blank} |")
        else:
            name = f"{method} counterpart (`{other['model_id']}`)"
            rows.append(f"| {name} | {_result_cells(other, metrics)} |")
    paper = (
        format_metric(recipe.metric, recipe.paper_value) if recipe.paper_value is not None else "not reported"
    )
    rows.append(f"| paper ({recipe.paper_ref or 'no reference'}) | {paper} | {blank} |")
    header = " | ".join(f"{m} (released weights) | {m} over seeds ({STD_NOTE})" for m in metrics)
    epoch = f" (epoch {results['best_epoch']})" if results.get("best_epoch") is not None else ""
    return "\n".join(
        [
            f"{results.get('split', 'test').capitalize()}-split **{recipe.metric}** ({direction} is better) "
            f"of the released weights, the checkpoint with the best validation {recipe.metric}{epoch}. "
            "Next to each released value: the mean over its table row's seeds (the released recipe at "
            "every seed the table ran), and the rule that chose the released run. Released runs are "
            "chosen by different rules, so compare methods by their means. "
            "Paper numbers come from full-scale GPU runs; ours from a CPU-sized budget.",
            "",
            f"| model | {header} | released run |",
            "|---|" + "---|" * (2 * len(metrics) + 1),
            *rows,
        ]
    )


def _module_order(name: str) -> list[tuple[int, int | str]]:
    """Sort key putting ``features.3`` before ``features.11`` (results JSON stores keys sorted as text)."""
    return [(0, int(part)) if part.isdigit() else (1, part) for part in name.split(".")]


def _alignment_section(results: dict[str, Any]) -> str:
    alignment = results.get("alignment") or {}
    if not alignment:
        return "No alignment was measured for this model (no active feedback point)."
    rows = [
        f"| `{name}` | {a['mean']:.3f} | {a['std']:.3f} |"
        for name, a in sorted(alignment.items(), key=lambda item: _module_order(item[0]))
    ]
    return "\n".join(
        [
            "Cosine between the DFA signal B_i e and the backpropagated gradient at each feedback "
            "point (principled paper, eq. 6), on one batch, with the released weights.",
            "",
            "| point | mean | std |",
            "|---|---|---|",
            *rows,
        ]
    )


def _usage_section(recipe: Recipe, results: dict[str, Any]) -> str:
    mid = recipe.model_id
    if results.get("head_replaceable"):
        finetune_intro = (
            "Fine-tune: put a new head on it (its feedback matrix is redrawn from the same seed for "
            "the new output size) and keep training with DFA or BP:"
        )
        load = (
            f'model = replace_head(dfazoo.from_pretrained("{mid}"), '
            f"num_outputs={results.get('error_size', 1)}).train()  # your number of outputs"
        )
        imports = "from dfazoo.zoo.finetune import replace_head\n"
    else:
        finetune_intro = "Fine-tune: keep training it with DFA or BP:"
        load = f'model = dfazoo.from_pretrained("{mid}").train()'
        imports = ""
    return f"""```python
import dfazoo

model = dfazoo.from_pretrained("{mid}")  # or a local folder, or a Hub repo "owner/name"
print(model.method, list(model.feedback_points()))
```

Re-measure the test {recipe.metric} (needs the dataset under `--data-root` / `$DFAZOO_DATA`):

```python
from dfazoo.zoo.evaluate import evaluate_model

print(evaluate_model("{mid}"))
```

{finetune_intro}

```python
import torch

import dfazoo
from dfazoo.spec import get_recipe, make_task
{imports}
recipe = get_recipe("{mid}")
task = make_task(recipe, data_root=None)  # the recipe's data; use your own batches and loss here
{load}
model.set_method("{recipe.method}")  # "bp", "dfa" or "shallow"
optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
for step, batch in enumerate(task.train_batches(0, torch.Generator().manual_seed(0))):
    optimizer.zero_grad()
    task.loss(model, batch).backward()
    optimizer.step()
    if step == 2:
        break
print(dfazoo.measure_alignment(model, *task.alignment_batch()))
```"""


def _inputs_section(recipe: Recipe, results: dict[str, Any] | None = None) -> str:
    """How to prepare inputs: the text the recipe's task gives (:meth:`Task.card_inputs`)."""
    return get_task(recipe.task).card_inputs(recipe, results or {})


def render_card(recipe: Recipe, results: dict[str, Any], results_folder: Path | None = None) -> str:
    """The README.md of one zoo model, from its recipe and measured results."""
    config = results.get("config", {})
    feedback_init = config.get("feedback_init", recipe.arch_config.get("feedback_init", "principled"))
    command = results.get("command", f"python scripts/train_zoo.py {recipe.model_id}")
    placement = recipe.placement or "all hidden layers (macro)"
    batches = "full batch" if recipe.batch_size is None else f"batch size {recipe.batch_size}"
    clip = "no gradient clipping" if recipe.grad_clip is None else f"gradient clip {recipe.grad_clip}"
    scheduler = f"`{json.dumps(recipe.scheduler, sort_keys=True)}`" if recipe.scheduler else "none"
    body = f"""
# {recipe.model_id}

{link_paths(recipe.description or f"A {recipe.arch} trained on {recipe.dataset}.")}
Part of [dfazoo]({project_url()}), the model zoo for networks trained with
Direct Feedback Alignment (DFA).

## Training method

- method: **{recipe.method}** ({_method_text(recipe.method)})
- feedback placement: {placement}
- feedback matrix: one shared matrix, init `{feedback_init}`, seed {recipe.seed}, error reduction
  `{config.get("error_reduction", recipe.arch_config.get("error_reduction", "mean"))}`
- optimizer: `{json.dumps(recipe.optimizer, sort_keys=True)}`, scheduler: {scheduler},
  {recipe.epochs} epochs, {batches}, {clip}
- architecture: `{recipe.arch}` with `{json.dumps(recipe.arch_config, sort_keys=True)}`
- wall time: {results.get("wall_time", 0):.0f} s on CPU{_hardware(results)} (all seeds)

## Data

Dataset **{recipe.dataset}**, task `{recipe.task}` with `{json.dumps(recipe.task_config)}`.
{link_paths(recipe.data_notes or "No provenance caveats recorded.")}

## Results

{_results_section(recipe, results, results_folder)}

## Alignment at release

{_alignment_section(results)}

## How to use
{_inputs_section(recipe, results)}
{_usage_section(recipe, results)}

## How to reproduce

Train the released seed into a run folder of your own, then compare it with this card; nothing
released is overwritten. Datasets that are not bundled are read from `--data-root D` (or
`$DFAZOO_DATA`).

```bash
dfazoo train {recipe.model_id} --run-dir runs/{recipe.model_id}
dfazoo eval runs/{recipe.model_id}
```

From a source checkout, the script below trains the release's seeds through the runner and
prints the measured values beside the released ones, without writing `model_cards/` (releasing is
the explicit `--release` step):

```bash
{command}
```

## Limitations

Trained at CPU scale, with a budget far smaller than the papers'; numbers are not directly
comparable to the paper's. {LIMITATIONS.get(recipe.method, "")}
{link_paths(recipe.notes or "")}

## Citation

{CITATIONS}
"""
    card = ModelCard(f"---\n{_card_data(recipe, results).to_yaml()}\n---\n{body}")
    return str(card)


LIMITATIONS = {
    "dfa": (
        "DFA gives each hidden layer a fixed random projection of the output error instead of its "
        "true gradient: it usually trains below backpropagation, and layers that do not align "
        "(e.g. convolutions, principled paper Tables 3-4) learn little."
    ),
    "bp": "This is the backpropagation baseline of the DFA model, released for comparison.",
    "shallow": (
        "Only the top layer was trained: the lower bound that DFA must beat to show that its "
        "hidden layers learn."
    ),
}


def _hardware(results: dict[str, Any]) -> str:
    """E.g. ``, 1 torch thread of 2 cores`` when every seed recorded the same threads and cores, else ``""``."""
    runs = {(s.get("threads", 0), s.get("cpus", 0)) for s in results.get("per_seed", [])}
    if len(runs) != 1 or 0 in next(iter(runs)):
        return ""
    threads, cpus = next(iter(runs))
    return f", {threads} torch thread{'s' if threads > 1 else ''} of {cpus} cores"


def _method_text(method: str) -> str:
    return {
        "dfa": "every hidden layer learns from a fixed random projection of the output error",
        "bp": "backpropagation baseline, same architecture and budget",
        "shallow": "only the top layer is trained, the hidden layers stay at their random init",
    }.get(method, method)


# Recipe fields that describe a model without changing how it trains.
PROSE_FIELDS: frozenset[str] = frozenset({"description", "notes", "data_notes"})


def released_recipe(model_id: str, results: dict[str, Any]) -> Recipe:
    """The recipe the results were measured with (stored in them), with the registered recipe's
    prose (:data:`PROSE_FIELDS`), so a card's wording can be corrected without a re-release."""
    if "recipe" not in results:
        return get_recipe(model_id)
    stored = Recipe(**results["recipe"])
    try:
        current = get_recipe(model_id)
    except UnknownModelError:
        return stored
    return dataclasses.replace(stored, **{f: getattr(current, f) for f in PROSE_FIELDS})


def is_stale(model_id: str, results_folder: Path | None = None) -> bool:
    """True when the registered recipe's training fields changed since ``model_id`` was released."""
    results = read_results(model_id, results_folder)
    if results is None or "recipe" not in results:
        return False
    current = json.loads(json.dumps(get_recipe(model_id).to_dict()))
    released = results["recipe"]
    return {k: v for k, v in released.items() if k not in PROSE_FIELDS} != {
        k: v for k, v in current.items() if k not in PROSE_FIELDS
    }


def write_card(model_id: str, folder: Path | None = None, results_folder: Path | None = None) -> Path:
    """(Re)generate ``<folder or model_cards/<id>>/README.md`` from the results and the recipe
    they were measured with."""
    results = read_results(model_id, results_folder)
    if results is None:
        where = (results_folder or results_dir()) / f"{model_id}.json"
        raise FileNotFoundError(
            f"no measured results at {where}; release it with `python scripts/train_zoo.py {model_id} --release`"
        )
    target = (folder or cards_dir() / model_id) / CARD_NAME
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(render_card(released_recipe(model_id, results), results, results_folder))
    return target


def card_value(folder: Path) -> float | None:
    """The metric value stated in a card's ``model-index`` (None when there is no card)."""
    path = Path(folder) / CARD_NAME
    if not path.exists():
        return None
    results = ModelCard.load(path).data.eval_results or []
    return float(results[0].metric_value) if results else None


def zoo_table(folder: Path | None = None, results_folder: Path | None = None) -> str:
    """A markdown table of every card folder present, from the measured results."""
    folder = folder or cards_dir()
    rows = []
    for card in sorted(p for p in folder.glob("*") if (p / CARD_NAME).exists()):
        results = read_results(card.name, results_folder)
        if results is None:
            continue
        try:
            recipe = get_recipe(card.name)
        except UnknownModelError:
            continue
        others = {**counterpart_results(recipe, results_folder), recipe.method: results}
        cells = [_table_cell(others[m], recipe.metric) for m in (recipe.method, "bp", "shallow")]
        rows.append(
            f"| `{card.name}` | {recipe.domain} | {recipe.metric} | {' | '.join(cells)} "
            f"| {format_metric(recipe.metric, recipe.paper_value)} |"
        )
    header = "| model | domain | metric | value | BP | shallow | paper |\n|---|---|---|---|---|---|---|"
    return "\n".join([ZOO_TABLE_LEGEND, "", header, *(rows or ["| (no trained model yet) | | | | | | |"])])


ZOO_TABLE_LEGEND = (
    f"Each cell: the released run's value, then ({STD_NOTE}) over the seeds of its table "
    "row (the released recipe at every seed the table ran). Released runs are chosen by different rules (each card states its rule): compare "
    "methods by the means."
)


def _table_cell(results: dict[str, Any] | None, metric: str) -> str:
    """``released (mean ± std)`` for the zoo table; the released value alone for one seed."""
    if results is None:
        return "—"
    released = format_metric(metric, results["value"])
    values = seed_values(results, metric)
    if len(values) < 2:
        return released
    return f"{released} ({format_pair(*mean_std(values), digits=metric_decimals(metric))})"


def update_readme_table(readme: Path, folder: Path | None = None, results_folder: Path | None = None) -> bool:
    """Replace the text between the zoo-table markers of ``readme``; False when it has none."""
    text = readme.read_text()
    pattern = re.compile(re.escape(TABLE_START) + r".*?" + re.escape(TABLE_END), re.S)
    if not pattern.search(text):
        return False
    table = zoo_table(folder, results_folder)
    readme.write_text(pattern.sub(lambda _: f"{TABLE_START}\n{table}\n{TABLE_END}", text))
    return True
