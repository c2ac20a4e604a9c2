"""Scaling paper Table 5 at CPU scale: Transformer LM on Tiny Shakespeare, BP / DFA macro / DFA micro / shallow.

    python eval/nlp_table5.py                 # every row of dfazoo.nlp.recipes.ROWS (resumes)
    python eval/nlp_table5.py --quick         # 3 epochs x 30 steps per row: the probe
    python eval/nlp_table5.py --rows bp/base dfa-macro/plateau   # some rows only
    python eval/nlp_table5.py --layout pre_ln # the same rows on pre-LN (GPT-2) blocks

Each row is one run of the runner (``dfazoo.train.runner.run``, keyed by ``Recipe.run_key()``),
its record kept in ``eval/results/<table>/runs/`` so an interrupted table resumes and rows can run in
parallel invocations. Learning curves (validation after every epoch, alignment every 5 epochs) come
from the runs' ``metrics.jsonl`` and are kept in the JSON and plotted. Writes
``eval/results/<table>.{md,json,png}``, ``<table>`` = ``nlp_table5`` (post-LN blocks, the default) or
``nlp_table5_pre_ln``, with ``_quick`` for the probe.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import time
from pathlib import Path
from typing import Any

from dfazoo.nlp.recipes import ARCH, LAYOUT, LAYOUTS, PAPER_PPL, ROW_OPTIONS, ROWS, lm_recipe, size_text
from dfazoo.train.runner import RunRecord, default_root, run

RESULTS = Path(__file__).resolve().parent / "results"
QUICK = {"epochs": 3, "steps_per_epoch": 30, "warmup": 10}
ALL_ROWS = [f"{v}/{r}" for v, rows in ROWS.items() for r in rows]


def recipe_for(row: str, quick: bool, seed: int = 0, layout: str = LAYOUT):  # -> Recipe
    variant, name = row.split("/")
    if quick:
        return lm_recipe(variant, name, seed=seed, layout=layout, **QUICK)
    return lm_recipe(variant, name, seed=seed, layout=layout)


def table_name(layout: str, quick: bool) -> str:
    """``nlp_table5`` (post-LN), ``nlp_table5_pre_ln``, each with ``_quick`` for the probe."""
    return "nlp_table5" + ("_pre_ln" if layout == "pre_ln" else "") + ("_quick" if quick else "")


def curve(record: RunRecord) -> list[dict[str, float]]:
    """(epoch, step, val perplexity, val nats/char) after every epoch, from the run's metrics.jsonl."""
    path = record.folder / "metrics.jsonl" if record.folder else None
    if path is None or not path.exists():
        return []
    points = []
    for line in path.read_text().splitlines():
        entry = json.loads(line)
        if "val" in entry:
            val = entry["val"]
            points.append(
                {
                    "epoch": entry["epoch"],
                    "step": entry["step"],
                    "loss": entry["loss"],
                    "perplexity": val["perplexity"],
                    "nats_per_char": val["nats_per_char"],
                    **({"alignment": align_means(entry["alignment"])} if entry.get("alignment") else {}),
                }
            )
    return points


def align_means(alignment: dict[str, dict[str, float]]) -> dict[str, float]:
    """{feedback point: mean alignment} of one measurement."""
    return {name: a["mean"] for name, a in alignment.items()}


def row_result(row: str, record: RunRecord, old: dict[str, Any] | None) -> dict[str, Any]:
    variant, name = row.split("/")
    points = curve(record) or (old or {}).get("curve", [])
    return {
        "row": row,
        "label": ROW_OPTIONS[name].label,
        "run_key": record.key,
        "diverged": record.diverged,
        "best_epoch": record.best_epoch,
        "val": record.val_metrics,
        "test": record.test_metrics,
        "alignment": align_means(record.alignment) if variant.startswith("dfa") else {},
        "paper_ppl": PAPER_PPL.get((variant, name)),
        "wall_time": record.wall_time,
        "curve": points,
    }


def merge(old: dict[str, dict[str, Any]], new: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """``new`` rows over the file's ``old`` ones, in protocol order; rows this code does not know
    are kept after them (an invocation started from newer code may have written them)."""
    both = {**old, **new}
    return {r: both[r] for r in [*ALL_ROWS, *(r for r in both if r not in ALL_ROWS)] if r in both}


def chosen_tests(rows: dict[str, dict[str, Any]]) -> dict[str, float]:
    """Test perplexity of each variant's row of best validation perplexity."""
    chosen: dict[str, tuple[float, float]] = {}  # variant: (val ppl, test ppl)
    for row, r in rows.items():
        val, test = r["val"].get("perplexity"), r["test"].get("perplexity")
        variant = row.split("/")[0]
        if (
            val is not None
            and test is not None
            and math.isfinite(val)
            and val < chosen.get(variant, (math.inf,))[0]
        ):
            chosen[variant] = (val, test)
    return {variant: test for variant, (_, test) in chosen.items()}


def ratios(rows: dict[str, dict[str, Any]]) -> dict[str, float]:
    """Test perplexity of each variant's row of best validation perplexity over BP's (ours), and
    the paper's best over its best."""
    best = chosen_tests(rows)
    paper = {v: min(p for (vv, _), p in PAPER_PPL.items() if vv == v) for v in ROWS}
    out = {}
    for v in best:
        if "bp" in best and v != "bp":
            out[v] = best[v] / best["bp"]
            out[f"{v}_paper"] = paper[v] / paper["bp"]
    return out


def ratios_to_best_bp_test(rows: dict[str, dict[str, Any]]) -> dict[str, float]:
    """The same ratios against BP's best test perplexity over all its rows: the stricter comparison
    when BP's row of best validation perplexity is not its best on test."""
    bp = [
        r["test"]["perplexity"]
        for row, r in rows.items()
        if row.startswith("bp/") and r["test"].get("perplexity")
    ]
    if not bp:
        return {}
    return {v: test / min(bp) for v, test in chosen_tests(rows).items() if v != "bp"}


def render(rows: dict[str, dict[str, Any]], quick: bool, elapsed: float, layout: str = LAYOUT) -> str:
    cmd = (
        "python eval/nlp_table5.py"
        + (" --layout pre_ln" if layout == "pre_ln" else "")
        + (" --quick" if quick else "")
    )
    budget = (
        f"{QUICK['epochs']} x {QUICK['steps_per_epoch']} steps (quick probe)"
        if quick
        else size_text(format(ARCH["dropout"], "g") + " (0 in the no-dropout rows)")
    )
    budget += ", post-LN blocks (GPT-1 layout)" if layout == "post_ln" else ", pre-LN blocks (GPT-2 layout)"
    md = [
        "# Transformer LM trained with DFA: scaling paper Table 5 at CPU scale",
        "",
        f"Produced by `{cmd}`. Tiny Shakespeare, contiguous 90/5/5 split, {budget}. Best validation "
        "perplexity (per BPE token) and the test perplexity and nats per character of that checkpoint. "
        "Paper: WikiText-103, 6 x d512, BPE 32k (its scale, not ours: compare ratios).",
        "",
        "| row | variant | val ppl | test ppl | test nats/char | mean alignment | paper val ppl |",
        "|---|---|---|---|---|---|---|",
    ]
    for row, r in rows.items():
        val, test = r["val"].get("perplexity"), r["test"].get("perplexity")
        align = r["alignment"]
        mean_align = f"{sum(align.values()) / len(align):.3f}" if align else "—"
        md.append(
            f"| {row} | {r['label']} | {val:.1f} | {test:.1f} | {r['test'].get('nats_per_char', math.nan):.3f} "
            f"| {mean_align} | {r['paper_ppl'] if r['paper_ppl'] is not None else '—'} |"
            if val is not None and test is not None
            else f"| {row} | {r['label']} | diverged | — | — | — | {r['paper_ppl']} |"
        )
    missing = [r for r in ALL_ROWS if r not in rows]
    if missing:
        md += ["", f"Rows not run yet ({len(missing)} of {len(ALL_ROWS)}): {', '.join(missing)}."]
    md += ["", "## Ratios of test perplexity to BP's (each variant's row of best validation perplexity)", ""]
    md += [f"- {k}: {v:.2f}" for k, v in ratios(rows).items()]
    strict = ratios_to_best_bp_test(rows)
    if strict:
        md += [
            "",
            "Against BP's best test perplexity over its rows (stricter when BP's best-validation row is not its best on test):",
            "",
        ]
        md += [f"- {k}: {v:.2f}" for k, v in strict.items()]
    md += [
        "",
        "## Alignment per feedback point (cosine of B e with the BP signal, first 16 train windows)",
        "",
    ]
    for row, r in rows.items():
        if r["alignment"]:
            md.append(f"- {row}: " + ", ".join(f"{k} {v:.3f}" for k, v in r["alignment"].items()))
    over_training = {
        row: [p for p in r["curve"] if p.get("alignment")] for row, r in rows.items() if row.startswith("dfa")
    }  # alignment compares a DFA signal with the BP gradient: DFA rows only
    if any(over_training.values()):
        md += ["", "Over training (step: mean over points, every 5 epochs):", ""]
        md += [
            f"- {row}: "
            + ", ".join(
                f"{p['step']}: {sum(p['alignment'].values()) / len(p['alignment']):.3f}" for p in points
            )
            for row, points in over_training.items()
            if points
        ]
    md += [
        "",
        "## Learning curves",
        "",
        "Validation nats per character after each epoch (the JSON holds perplexity and training loss too); "
        "plot in the PNG beside this file.",
        "",
    ]
    for row, r in rows.items():
        curve_text = " ".join(f"{p['nats_per_char']:.3f}" for p in r["curve"])
        md.append(
            f"- {row}: {curve_text or 'not kept (its run folder is gone; rerunning the row restores it)'}"
        )
    total = sum(r["wall_time"] for r in rows.values())
    md += [
        "",
        f"Sum of the rows' training wall times: {total / 60:.1f} min (1 torch thread each, on a 2-core machine "
        f"shared with other jobs). This invocation: {elapsed / 60:.1f} min (cached rows are not retrained).",
        "",
    ]
    return "\n".join(md)


def plot(rows: dict[str, dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for row, r in rows.items():
        if r["curve"]:
            ax.plot([p["step"] for p in r["curve"]], [p["nats_per_char"] for p in r["curve"]], label=row)
    ax.set_xlabel("training step")
    ax.set_ylabel("validation nats / char")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"{QUICK['epochs']} epochs x {QUICK['steps_per_epoch']} steps per row",
    )
    parser.add_argument("--rows", nargs="+", default=ALL_ROWS, choices=ALL_ROWS)
    parser.add_argument("--data-root", help="folder holding shakespeare/input.txt (default: $DFAZOO_DATA)")
    parser.add_argument("--runs-root", type=Path, help="run folders (default: the runner's)")
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument(
        "--layout", default=LAYOUT, choices=sorted(LAYOUTS), help="block layout (default: %(default)s)"
    )
    args = parser.parse_args(argv)
    name = table_name(args.layout, args.quick)
    records = args.results / name / "runs"
    records.mkdir(parents=True, exist_ok=True)
    out_json = args.results / f"{name}.json"
    started = time.perf_counter()
    rows: dict[str, dict[str, Any]] = {}
    result: dict[str, Any] = {}
    for row in args.rows:
        recipe = recipe_for(row, args.quick, layout=args.layout)
        record = run(
            recipe,
            root=args.runs_root or default_root(),
            records=records,
            data_root=args.data_root,
            threads=args.threads,
            progress=True,
            align_every=5,
        )
        kept = records / f"{record.key}.json"
        if record.finished and not kept.exists():  # a run finished under another results folder
            kept.write_text(json.dumps(record.to_dict(), indent=2) + "\n")
        if record.folder is None or not (record.folder / "metrics.jsonl").exists():
            record = dataclasses.replace(record, folder=(args.runs_root or default_root()) / record.key)
        # Written after every row, over what the file holds now (another invocation may have added rows).
        old = json.loads(out_json.read_text())["rows"] if out_json.exists() else {}
        rows[row] = row_result(row, record, old.get(row))
        merged = merge(old, rows)
        result = {"rows": merged, "ratios": ratios(merged)}
        out_json.write_text(json.dumps(result, indent=1) + "\n")
        elapsed = time.perf_counter() - started
        (args.results / f"{name}.md").write_text(render(merged, args.quick, elapsed, args.layout))
        plot(merged, args.results / f"{name}.png")
    print((args.results / f"{name}.md").read_text())
    return result


if __name__ == "__main__":
    main()
