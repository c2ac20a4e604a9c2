"""Training rays per second of DFA against BP on the same NeRF MLP, in one run.

One training step = render a batch of random rays through the coarse and fine 8 x 256 networks
(32 stratified + 64 hierarchical samples, as the nerf-lego recipes), the MSE of both passes, the
backward pass and an Adam step. BP and DFA steps alternate on two copies of one initial model, so
the shared machine's drift hits both alike; the median step time of each gives rays/s and the
DFA/BP ratio (the issue's goal: at most 0.85), once per thread count. Writes
eval/results/bench_nerf.{json,md}.

    python eval/bench_nerf.py [--steps 10] [--rays 512] [--threads 1 2]
    python eval/bench_nerf.py --quick    # 2 steps of 64 rays, a smoke run
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import platform
import statistics
import time
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from dfazoo.nerf import NeRF
from dfazoo.nerf.recipes import FULL
from dfazoo.nerf.render import orbit_pose, render_rays

RESULTS = Path(__file__).resolve().parent / "results"


def _rays(n: int, gen: torch.Generator) -> tuple[torch.Tensor, ...]:
    pose = orbit_pose(30.0)
    dirs = torch.randn(n, 3, generator=gen) * 0.15 + pose[:3, 2] * -1.0
    return pose[:3, 3].expand(n, 3), dirs, torch.rand(n, 3, generator=gen)


def _step(
    model: NeRF, opt: torch.optim.Optimizer, batch: tuple[torch.Tensor, ...], gen: torch.Generator
) -> float:
    rays_o, rays_d, target = batch
    cfg = model.render_config
    jitter = torch.rand(len(rays_o), cfg.coarse, generator=gen)
    u_fine = torch.rand(len(rays_o), cfg.fine, generator=gen).sort(-1).values
    start = time.perf_counter()
    opt.zero_grad(set_to_none=True)
    colors = render_rays(model, rays_o, rays_d, cfg, jitter, u_fine)
    sum(F.mse_loss(c, target) for c in colors).backward()
    opt.step()
    return time.perf_counter() - start


def bench(steps: int, rays: int, arch_config: dict[str, Any]) -> dict[str, Any]:
    """Median step seconds and rays/s of BP and DFA (one warm-up step each, not timed)."""
    torch.manual_seed(0)
    base = NeRF(**arch_config, method="bp")
    models = {"bp": base, "dfa": copy.deepcopy(base).set_method("dfa")}
    opts = {m: torch.optim.Adam(model.parameters(), lr=5e-4) for m, model in models.items()}
    gen = torch.Generator().manual_seed(0)
    times: dict[str, list[float]] = {"bp": [], "dfa": []}
    for i in range(steps + 1):
        batch = _rays(rays, gen)
        for method in ("bp", "dfa") if i % 2 == 0 else ("dfa", "bp"):
            seconds = _step(models[method], opts[method], batch, gen)
            if i:
                times[method].append(seconds)
    result: dict[str, Any] = {}
    for method, values in times.items():
        median = statistics.median(values)
        result[method] = {"step_s": median, "rays_per_s": rays / median, "steps": values}
    result["dfa_over_bp"] = result["dfa"]["step_s"] / result["bp"]["step_s"]
    return result


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--rays", type=int, default=FULL["rays"])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--quick", action="store_true", help="2 steps of 64 rays (smoke run)")
    parser.add_argument("--results", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    steps, rays = (2, 64) if args.quick else (args.steps, args.rays)
    arch = dict(FULL["arch_config"])
    runs = {}
    load_before = os.getloadavg()[0]
    for threads in args.threads:
        torch.set_num_threads(threads)
        runs[str(threads)] = bench(steps, rays, arch)
    result = {
        "threads": runs,
        "rays": rays,
        "timed_steps": steps,
        "arch_config": arch,
        "platform": platform.platform(),
        "load_average_1min_before": load_before,
        "command": "python eval/bench_nerf.py"
        + (" --quick" if args.quick else f" --steps {steps} --rays {rays}")
        + f" --threads {' '.join(map(str, args.threads))}",
    }
    name = "bench_nerf_quick" if args.quick else "bench_nerf"
    (args.results / f"{name}.json").write_text(json.dumps(result, indent=2) + "\n")
    points = rays * (arch["samples"] * 2 + arch["fine_samples"])
    md = [
        "# NeRF training speed: DFA against BP on the same model",
        "",
        f"Written by `{result['command']}` ({platform.platform()}; 2 cores, 1-minute load average "
        f"{load_before:.2f} before the run). "
        f"NeRF coarse + fine 8 x 256, {rays} rays per step ({points} sampled-point evaluations), "
        "BP and DFA steps interleaved; median over the timed steps. Goal: DFA / BP at most 0.85.",
        "",
        "| threads | BP s / step | DFA s / step | BP rays / s | DFA rays / s | DFA / BP |",
        "|---|---|---|---|---|---|",
        *(
            f"| {t} | {r['bp']['step_s']:.3f} | {r['dfa']['step_s']:.3f} | {r['bp']['rays_per_s']:.0f} | "
            f"{r['dfa']['rays_per_s']:.0f} | **{r['dfa_over_bp']:.2f}** |"
            for t, r in runs.items()
        ),
        "",
    ]
    (args.results / f"{name}.md").write_text("\n".join(md))
    print("\n".join(md))
    return result


if __name__ == "__main__":
    main()
