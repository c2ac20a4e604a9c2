"""Scaling paper Table 4: GCN graph autoencoder, link prediction AUC / AP, BP vs DFA.

    python eval/graph_gae.py --data-root ../shared/data [--seeds 10]

Each (dataset, method) trains ``seeds`` times with the project's Trainer (Adam, 400 epochs,
model selected on validation AUC); test AUC/AP at that epoch. Runs are recorded in
``eval/results/graph_table4_runs/``; writes ``eval/results/graph_table4.{md,json}``.
"""

from __future__ import annotations

import json

from graph_common import RESULTS, graph_parser, graph_run, median_seed, summarize
from tqdm import tqdm

from dfazoo.graph.recipes import AVAILABLE_DATASETS, PAPER_GAE, gae_recipe
from dfazoo.stats import format_pair


def fmt3(stats: dict[str, float]) -> str:
    return format_pair(stats["mean"], stats["std"], 3)


def main(argv: list[str] | None = None) -> None:
    parser = graph_parser(__doc__)
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--epochs", type=int, help="override the recipes' 400 epochs")
    parser.add_argument(
        "--report-only", action="store_true", help="tabulate the recorded runs, train nothing"
    )
    args = parser.parse_args(argv)
    cells = {}
    jobs = [(ds, m, s) for ds in AVAILABLE_DATASETS for m in ("bp", "dfa") for s in range(args.seeds)]
    for ds, method, seed in tqdm(jobs, desc="graph table 4", unit="run"):
        recipe = gae_recipe(ds, method, seed=seed)
        run = graph_run(recipe, RESULTS / "graph_table4_runs", args.data_root, args.epochs, args.report_only)
        if run is not None:
            cells.setdefault(recipe.model_id, []).append(run)
    summary = {
        model_id: {
            "auc": summarize([r["test"]["auc"] for r in runs]),
            "ap": summarize([r["test"]["ap"] for r in runs]),
            "median_seed": median_seed(runs, "auc"),
            "alignment": summarize([r["alignment"]["point"]["mean"] for r in runs if r["alignment"]]),
            "wall_time": sum(r["wall_time"] for r in runs),
        }
        for model_id, runs in cells.items()
    }
    cmd = (
        "python eval/graph_gae.py --data-root ../shared/data"
        + (f" --seeds {args.seeds}" if args.seeds != 10 else "")
        + (" --report-only" if args.report_only else "")
    )
    md = [
        "# Table 4: GCN graph autoencoder (link prediction)",
        "",
        f"Produced by `{cmd}`. Test AUC / AP (mean ± sample std over {args.seeds} seeds) at the "
        f"best-validation-AUC epoch of {args.epochs or 400}; edges split by RandomLinkSplit (5% val, "
        "10% test, split seed 0). PubMed: not available offline here (paper values only).",
        "",
        "| dataset | metric | ours BP | ours DFA | paper BP | paper DFA |",
        "|---|---|---|---|---|---|",
    ]
    for ds in (*AVAILABLE_DATASETS, "pubmed"):
        for i, metric in enumerate(("auc", "ap")):
            paper = f"{PAPER_GAE[(ds, 'bp')][i]:.3f} | {PAPER_GAE[(ds, 'dfa')][i]:.3f}"
            if ds in AVAILABLE_DATASETS:
                ours = " | ".join(fmt3(summary[f"gae-{ds}-{m}"][metric]) for m in ("bp", "dfa"))
            else:
                ours = "n/a | n/a"
            md.append(f"| {ds} | {metric.upper()} | {ours} | {paper} |")
    md += ["", "DFA alignment of the hidden layer (mean over seeds):"]
    md += [f"- {ds}: {summary[f'gae-{ds}-dfa']['alignment']['mean']:.2f}" for ds in AVAILABLE_DATASETS]
    total = sum(c["wall_time"] for c in summary.values())
    md += [
        "",
        f"Sum of per-run training wall times: {total / 60:.1f} min ({sum(len(r) for r in cells.values())} runs).",
        "",
    ]
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "graph_table4.json").write_text(json.dumps(summary, indent=1) + "\n")
    (RESULTS / "graph_table4.md").write_text("\n".join(md))
    print("\n".join(md))


if __name__ == "__main__":
    main()
