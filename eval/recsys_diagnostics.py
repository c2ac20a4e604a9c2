"""Why DFA trains AFN's deep part no better than shallow on the synthetic CTR benchmark: variants of
the AFN DFA row on the ``--quick`` synthetic set (200k rows, the Table 2 quick settings), one seed.

Variants (AFN, synthetic, lr 3e-3, no dropout, no weight decay):

- ``bp`` / ``shallow`` / ``dfa``: the Table 2 rows (DFA: the paper's points, after the logarithmic
  layer and the MLP; the embeddings learn through the logarithmic layer's point);
- ``dfa_no_lnn_point``: no point on the logarithmic layer, which with the embeddings learns by
  backpropagating the MLP's DFA signal (a diagnostic: not the paper's placement);
- ``dfa_frozen_lnn``: the paper's points, but the logarithmic layer and the embeddings frozen at their
  random start, so only the MLP (by DFA), the head and the linear terms learn.

    python eval/recsys_diagnostics.py --epochs 5

``--full`` runs the DFA variants on the full benchmark (1M rows) instead, with the setting Table 2
chose for AFN DFA (``eval/results/recsys_table2.json``: lr, dropout, how the embeddings learn), for
``--epochs`` epochs (Table 2 trains 10; its DFA runs still improve at the last one):

    python eval/recsys_diagnostics.py --full --variants dfa dfa_no_lnn_point --epochs 20

Writes ``eval/results/recsys_diagnostics{,_full}.{md,json}``; run records in
``eval/results/recsys_diagnostics/runs/`` (resumable).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path
from typing import Any

from dfazoo.recsys.recipes import ctr_recipe
from dfazoo.spec.recipe import Recipe
from dfazoo.train.runner import run

RESULTS = Path(__file__).resolve().parent / "results"
SYNTHETIC = {"num_samples": 200_000}
VARIANTS: tuple[str, ...] = ("bp", "shallow", "dfa", "dfa_no_lnn_point", "dfa_frozen_lnn")
FROZEN = [{"match": "lnn.*", "lr": 0.0}, {"match": "embedding.*", "lr": 0.0}]


def table2_setting() -> dict[str, Any]:
    """The setting Table 2 chose for AFN DFA on the full synthetic benchmark."""
    cells = json.loads((RESULTS / "recsys_table2.json").read_text())["cells"]
    setting = cells["afn-synthetic-dfa"]["setting"]
    return {k: setting[k] for k in ("lr", "weight_decay", "dropout", "embedding_feedback")}


def variant_recipe(name: str, epochs: int, full: bool = False) -> Recipe:
    """The AFN recipe of one variant on the quick synthetic set (``full``: the 1M-row set, with
    Table 2's AFN DFA setting)."""
    method = name.partition("_")[0]
    if full:
        recipe = ctr_recipe("afn", "synthetic", method, epochs=epochs, **table2_setting())
    else:
        recipe = ctr_recipe("afn", "synthetic", method, epochs=epochs, synthetic=SYNTHETIC)
    if name == "dfa_no_lnn_point":
        return dataclasses.replace(recipe, arch_config={**recipe.arch_config, "lnn_feedback": False})
    if name == "dfa_frozen_lnn":
        return dataclasses.replace(recipe, optimizer={**recipe.optimizer, "param_groups": FROZEN})
    return recipe


def markdown(rows: dict[str, dict[str, Any]], epochs: int, full: bool) -> str:
    if full:
        setting = ", ".join(f"{k} {v}" for k, v in table2_setting().items())
        where = (
            f"Produced by `python eval/recsys_diagnostics.py --full --variants {' '.join(rows)} --epochs "
            f"{epochs}`: AFN on the full synthetic benchmark (1M rows, fixed 80/10/10 split) with "
            f"Table 2's AFN DFA setting ({setting}), batch 2048, one seed (0)"
        )
    else:
        where = (
            f"Produced by `python eval/recsys_diagnostics.py --epochs {epochs}`: AFN on the quick "
            "synthetic set (200k rows, fixed 80/10/10 split), Adam lr 3e-3, batch 2048, one seed"
        )
    lines = [
        "# AFN under DFA on the synthetic CTR benchmark (diagnostics)",
        "",
        where + "; test AUC at the best-validation epoch; alignment at the end (cosine of B e with "
        "the BP gradient, 512 rows).",
        "",
        "| variant | val AUC | test AUC | alignment per point |",
        "|---|---|---|---|",
    ]
    for name, r in rows.items():
        dfa = name.startswith("dfa")  # alignment compares a DFA signal with the BP gradient
        align = ", ".join(f"{p} {a:.2f}" for p, a in r["alignment"].items()) if dfa else "—"
        lines.append(f"| {name} | {r['val_auc']:.4f} | {r['test_auc']:.4f} | {align} |")
    if full:
        return "\n".join(lines) + "\n"
    lines += [
        "",
        "With the paper's points the logarithmic layer aligns (its point) but the model stays at the "
        "shallow baseline. Our reading (not measured directly): with one output, every point's DFA signal is the same scalar error along a "
        "fixed direction, so the logarithmic layer learns one feature (its own score) and the MLP reads "
        "little more than that; with random, frozen LNN features the MLP learns nothing either. Without "
        "the logarithmic layer's point, the layer and the embeddings learn from the MLP's signal "
        "backpropagated through it, and the deep part does learn, still below BP.",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> dict[str, dict[str, Any]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=VARIANTS)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--full", action="store_true", help="the 1M-row set with Table 2's AFN DFA setting")
    parser.add_argument("--results", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    if args.full and (other := [v for v in args.variants if not v.startswith("dfa")]):
        parser.error(f"--full runs the DFA variants only (Table 2 holds the others): drop {' '.join(other)}")
    records = args.results / "recsys_diagnostics" / "runs"
    rows = {}
    for name in args.variants:
        record = run(variant_recipe(name, args.epochs, args.full), records=records, threads=1)
        rows[name] = {
            "run_key": record.key,
            "val_auc": record.val_metrics["auc"],
            "test_auc": record.test_metrics["auc"],
            "best_epoch": record.best_epoch,
            "alignment": {p: a["mean"] for p, a in record.alignment.items()},
        }
    stem = "recsys_diagnostics_full" if args.full else "recsys_diagnostics"
    (args.results / f"{stem}.json").write_text(json.dumps(rows, indent=1) + "\n")
    (args.results / f"{stem}.md").write_text(markdown(rows, args.epochs, args.full))
    print((args.results / f"{stem}.md").read_text())
    return rows


if __name__ == "__main__":
    main()
