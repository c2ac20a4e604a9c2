"""Training throughput (samples/s) of DeepFM with DFA against BP, side by side in one run.

Full Adam steps (forward, BCE loss, backward, step) on random rows of the ML-100K field encoding,
batch 2048, one torch thread. BP and DFA steps are interleaved so machine noise hits both alike;
the median step time of each gives samples/s. Two sizes: the zoo's DeepFM (MLP 64-32) and
torchfm's Criteo example MLP (400-400-400), where the skipped backward matmuls weigh more. Writes
``eval/results/bench_recsys.{json,md}``.

    python eval/bench_recsys.py [--steps 30] [--quick]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from dfazoo.recsys import DeepFM
from dfazoo.recsys.recipes import MOVIELENS_FIELDS

RESULTS = Path(__file__).resolve().parent / "results"
CASES: dict[str, list[int]] = {"deepfm-64-32": [64, 32], "deepfm-400x3": [400, 400, 400]}


def build(mlp_dims: list[int], method: str) -> DeepFM:
    torch.manual_seed(0)
    return DeepFM(MOVIELENS_FIELDS, embed_dim=16, mlp_dims=mlp_dims, dropout=0.2, method=method)


def random_batch(model: DeepFM, batch: int, g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    x = torch.stack([torch.randint(0, d, (batch,), generator=g) for d in model.field_dims], 1)
    return x, torch.randint(0, 2, (batch,), generator=g).float()


def step(model: DeepFM, opt: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor) -> float:
    start = time.perf_counter()
    opt.zero_grad(set_to_none=True)
    F.binary_cross_entropy_with_logits(model(x).squeeze(-1), y).backward()
    opt.step()
    return time.perf_counter() - start


def time_case(mlp_dims: list[int], steps: int, batch: int) -> dict[str, Any]:
    """Median step time and samples/s of BP and DFA, steps interleaved (2 warm-up steps each)."""
    models = {m: build(mlp_dims, m).train() for m in ("bp", "dfa")}
    opts = {m: torch.optim.Adam(model.parameters(), lr=1e-3) for m, model in models.items()}
    g = torch.Generator().manual_seed(0)
    times: dict[str, list[float]] = {"bp": [], "dfa": []}
    for i in range(steps + 2):
        x, y = random_batch(models["bp"], batch, g)
        for method in ("bp", "dfa") if i % 2 else ("dfa", "bp"):
            elapsed = step(models[method], opts[method], x, y)
            if i >= 2:
                times[method].append(elapsed)
    out: dict[str, Any] = {"mlp_dims": mlp_dims, "batch": batch, "steps": steps}
    for method, values in times.items():
        median = statistics.median(values)
        out[method] = {"median_step_s": median, "samples_per_s": batch / median}
    out["dfa_over_bp_throughput"] = out["dfa"]["samples_per_s"] / out["bp"]["samples_per_s"]
    return out


def render(result: dict[str, Any]) -> str:
    lines = [
        "# DeepFM training throughput: DFA vs BP",
        "",
        f"Produced by `{result['command']}`: Adam steps on random ML-100K-encoded rows, batch "
        f"{result['batch']}, 1 torch thread, BP and DFA steps interleaved, median of {result['steps']} "
        f"steps; {result['machine']}, a machine shared with other jobs.",
        "",
        "| model | BP samples/s | DFA samples/s | DFA / BP |",
        "|---|---|---|---|",
    ]
    for name, case in result["cases"].items():
        lines.append(
            f"| {name} | {case['bp']['samples_per_s']:,.0f} | {case['dfa']['samples_per_s']:,.0f} | "
            f"{case['dfa_over_bp_throughput']:.2f} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--batch", type=int, default=2048)
    parser.add_argument("--quick", action="store_true", help="4 steps of batch 256 (a smoke test)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    if args.quick:
        args.steps, args.batch = 4, 256
    torch.set_num_threads(1)
    result = {
        "command": "python eval/bench_recsys.py" + (" --quick" if args.quick else f" --steps {args.steps}"),
        "batch": args.batch,
        "steps": args.steps,
        "machine": platform.machine(),
        "cases": {name: time_case(dims, args.steps, args.batch) for name, dims in CASES.items()},
    }
    args.out.mkdir(parents=True, exist_ok=True)
    stem = "bench_recsys_quick" if args.quick else "bench_recsys"
    (args.out / f"{stem}.json").write_text(json.dumps(result, indent=1) + "\n")
    (args.out / f"{stem}.md").write_text(render(result))
    print(render(result))
    return result


if __name__ == "__main__":
    main()
