"""Why DFA trains the pre-LN Transformer LM no better than shallow at CPU scale: variants of the
pre-LN Table 5 DFA macro row (``nlp_table5_pre_ln``), each trained for the first ``--epochs`` of that row's 30-epoch schedule, against the
committed Table 5 curves (BP, DFA macro and micro, shallow) at the same step.

Variants of ``dfa-macro/base`` (Adam lr 1e-3, beta2 0.98, warm-up + cosine over 30 epochs):

- ``post_ln``: post-LN blocks (the scaling paper's layout) instead of pre-LN;
- ``shallow_post_ln`` / ``bp_post_ln``: the shallow and BP rows on those post-LN blocks (its references);
- ``uniform``: the 2020 paper's U(-1, 1) feedback matrix instead of N(0, 1);
- ``block_lr``: the blocks and embeddings at lr 1e-4 (ten times lower), decoder at 1e-3, beta2 0.999;
- ``slow_decoder``: the opposite, the decoder (final norm, head) at lr 1e-4 and the rest at 1e-3, so
  the BP-trained head cannot settle on the random features before the blocks align.

Variants of the post-LN ``dfa-micro/base`` row (the zoo layout, ``nlp_table5``), where micro ends no
better than shallow and its points align at ~0.06 against macro's ~0.42:

- ``micro``: the row itself (its reference for the first epochs);
- ``micro_block_lr``: blocks and embeddings at lr 1e-4, decoder at 1e-3, beta2 0.999 (the paper needed a
  lower learning rate for DFA than for BP);
- ``micro_uniform``: the 2020 paper's U(-1, 1) feedback matrix;
- ``micro_slow_decoder``: the decoder at lr 1e-4, the rest at 1e-3;
- ``micro_block_lr5`` / ``micro_block_lr20``: ``micro_block_lr`` with the blocks and embeddings at lr
  2e-4 / 5e-5 (a fifth / a twentieth of the decoder's): is a tenth the best ratio?
- ``micro_block_lr_nodrop``: ``micro_block_lr`` without dropout (its Table 5 run underfits: training
  loss, with dropout, stays above the validation loss for all 30 epochs).

    python eval/nlp_diagnostics.py --data-root ../shared/data --variants post_ln uniform --epochs 10
    python eval/nlp_diagnostics.py --data-root ../shared/data --variants micro micro_block_lr --epochs 5

Run folders are the runner's (resumable); writes ``eval/results/nlp_diagnostics.{md,json}`` with every
variant trained so far.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch

from dfazoo.nlp.recipes import DECODER, lm_recipe
from dfazoo.spec.recipe import Recipe
from dfazoo.train.runner import default_root, run, run_folder

RESULTS = Path(__file__).parent / "results"
# Per group of variants: the Table 5 results its references come from, and their rows.
REFERENCES: dict[str, tuple[str, tuple[str, ...]]] = {
    "pre_ln": ("nlp_table5_pre_ln", ("bp/base", "dfa-macro/base", "dfa-micro/base", "shallow/base")),
    "post_ln_micro": ("nlp_table5", ("bp/beta2", "dfa-macro/base", "dfa-micro/plateau", "shallow/base")),
}


def group(name: str) -> str:
    """Which Table 5 a variant changes: the pre-LN one, or the post-LN micro row."""
    return "post_ln_micro" if name.startswith("micro") else "pre_ln"


def variant_recipe(name: str) -> Recipe:
    """The recipe of one diagnostic variant (a changed ``dfa-macro/base`` or ``shallow/base`` on
    pre-LN blocks, or a changed post-LN ``dfa-micro/base``)."""
    if group(name) == "post_ln_micro":
        return _micro_variant(name)
    variant = name.partition("_")[0] if name.startswith(("shallow_", "bp_")) else "dfa-macro"
    base = lm_recipe(variant, "base", layout="pre_ln")
    if name in ("post_ln", "shallow_post_ln", "bp_post_ln"):
        return replace(base, arch_config={**base.arch_config, "post_ln": True})
    if name == "uniform":
        return replace(base, arch_config={**base.arch_config, "feedback_init": "uniform2020"})
    if name == "block_lr":
        return lm_recipe("dfa-macro", "block_lr", layout="pre_ln")
    if name == "slow_decoder":
        groups = [{"match": m, "lr": base.optimizer["lr"] / 10} for m in DECODER]
        return replace(base, optimizer={**base.optimizer, "param_groups": groups})
    raise ValueError(f"unknown variant {name!r}; choose one of {VARIANTS}")


# micro_block_lr's variants: the blocks' lr scaled against its 1e-4 (the decoder's stays 1e-3).
BLOCK_LR_SCALES = {"micro_block_lr5": 2.0, "micro_block_lr20": 0.5}


def _micro_variant(name: str) -> Recipe:
    base = lm_recipe("dfa-micro", "base")
    if name == "micro":
        return base
    if name == "micro_uniform":
        return replace(base, arch_config={**base.arch_config, "feedback_init": "uniform2020"})
    if name == "micro_block_lr":
        return lm_recipe("dfa-micro", "block_lr")  # the Table 5 row: its first epochs
    if name in BLOCK_LR_SCALES:
        block_lr = lm_recipe("dfa-micro", "block_lr")
        lr = BLOCK_LR_SCALES[name] * block_lr.optimizer["lr"]
        return replace(block_lr, optimizer={**block_lr.optimizer, "lr": lr})
    if name == "micro_block_lr_nodrop":
        block_lr = lm_recipe("dfa-micro", "block_lr")
        return replace(block_lr, arch_config={**block_lr.arch_config, "dropout": 0.0})
    if name == "micro_slow_decoder":
        groups = [{"match": m, "lr": base.optimizer["lr"] / 10} for m in DECODER]
        return replace(base, optimizer={**base.optimizer, "param_groups": groups})
    raise ValueError(f"unknown variant {name!r}; choose one of {VARIANTS}")


VARIANTS = (
    "post_ln",
    "shallow_post_ln",
    "bp_post_ln",
    "uniform",
    "block_lr",
    "slow_decoder",
    "micro",
    "micro_block_lr",
    "micro_uniform",
    "micro_slow_decoder",
    "micro_block_lr5",
    "micro_block_lr20",
    "micro_block_lr_nodrop",
)


def curve(folder: Path) -> list[dict[str, float]]:
    rows = [json.loads(line) for line in (folder / "metrics.jsonl").read_text().splitlines() if line.strip()]
    return [
        {
            "epoch": r["epoch"],
            "step": r["step"],
            "perplexity": r["val"]["perplexity"],
            "nats_per_char": r["val"]["nats_per_char"],
        }
        for r in rows
        if "val" in r
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root")
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=VARIANTS)
    parser.add_argument("--epochs", type=int, default=10, help="epochs of the 30-epoch schedule to train")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--runs-root", type=Path)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    root = args.runs_root or default_root()
    out = RESULTS / "nlp_diagnostics.json"
    payload: dict[str, Any] = json.loads(out.read_text()) if out.exists() else {"variants": {}}
    for name in args.variants:
        recipe = variant_recipe(name)
        run(
            recipe,
            root=root,
            data_root=args.data_root,
            max_epochs=args.epochs,
            threads=args.threads,
            align_every=2,
        )
        payload["variants"][name] = {
            "run_key": recipe.run_key(),
            "epochs": args.epochs,
            "command": f"python eval/nlp_diagnostics.py --data-root ../shared/data --variants {name} --epochs {args.epochs}",
            "curve": [p for p in curve(run_folder(recipe, root)) if p["epoch"] <= args.epochs],
        }
        out.write_text(json.dumps(payload, indent=2) + "\n")
    (RESULTS / "nlp_diagnostics.md").write_text(markdown(payload))
    print((RESULTS / "nlp_diagnostics.md").read_text())


def _at(points: list[dict[str, float]], step: int) -> dict[str, float] | None:
    return next((p for p in points if p["step"] == step), None)


def markdown(payload: dict[str, Any]) -> str:
    lines = [
        "# Transformer LM: why DFA is no better than shallow at CPU scale (diagnostics)",
        "",
        "Variants trained for the first epochs of their row's 30-epoch schedule (100 steps of 32 x 128 "
        "tokens per epoch, Tiny Shakespeare), beside the committed Table 5 curves at the same step. "
        "Validation perplexity per BPE token and nats per character; one seed.",
    ]
    titles = {
        "pre_ln": "Pre-LN blocks: variants of `dfa-macro/base` (references: `eval/results/nlp_table5_pre_ln.json`)",
        "post_ln_micro": "Post-LN blocks: variants of `dfa-micro/base` (references: `eval/results/nlp_table5.json`)",
    }
    for key, (results, rows) in REFERENCES.items():
        variants = {n: i for n, i in payload["variants"].items() if group(n) == key and i["curve"]}
        if not variants:
            continue
        table5 = json.loads((RESULTS / f"{results}.json").read_text())["rows"]
        command = "python eval/nlp_table5.py" + (" --layout pre_ln" if key == "pre_ln" else "")
        lines += [
            "",
            f"## {titles[key]}",
            "",
            "| run | step | val ppl | val nats/char | command |",
            "|---|---|---|---|---|",
        ]
        last = {name: info["curve"][-1] for name, info in variants.items()}
        for step in sorted({point["step"] for point in last.values()}):
            for row in rows:
                ref = _at(table5[row]["curve"], step) if row in table5 else None
                if ref is not None:
                    lines.append(
                        f"| Table 5 {row} | {step} | {ref['perplexity']:.1f} | {ref['nats_per_char']:.3f} | `{command}` |"
                    )
            for name, point in last.items():
                if point["step"] == step:
                    lines.append(
                        f"| {name} | {step} | {point['perplexity']:.1f} | {point['nats_per_char']:.3f} | "
                        f"`{variants[name]['command']}` |"
                    )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
