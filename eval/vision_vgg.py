"""Principled paper, Tables 1 and 3 (spirit): VGG-16 with BP and DFA, alignment and filters.

Trains VGG-16 at 32 x 32 on CIFAR-10 with BP and with DFA under the same CPU budget, reports
per-layer alignment (conv layers and the two hidden FC layers), how far each conv layer moved
from its initialisation, and renders second-conv-layer filters (activation maximisation, as the
paper's Figure 3) for BP, DFA and the untrained init. Also reports the feedback-matrix memory of
VGG-16 for ImageNet (Table 1): one shared matrix against one matrix per layer.
Writes ``eval/results/vision_vgg.{md,json}`` and ``vision_vgg_filters.png``.

    python eval/vision_vgg.py [--epochs 3] [--width-mult 0.25] [--quick]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import shlex
import sys
from pathlib import Path

import matplotlib.pyplot as plt
import torch
from torch import nn
from vision_common import RESULTS, cell_model, run_cell

from dfazoo.core import feedback_memory_bytes
from dfazoo.spec import Recipe, build_model
from dfazoo.stats import format_pair as fmt
from dfazoo.vision import VGG16, vgg16_point_sizes
from dfazoo.vision.recipes import vgg_cifar_recipe

# (method, SGD lr): the paper's rate for both, then lower rates for DFA until it does not diverge.
RUNS = (("bp", 1e-2), ("dfa", 1e-2), ("dfa", 1e-3), ("dfa", 1e-4))


def memory_rows() -> list[dict]:
    """Feedback memory (float32) of VGG-16: ImageNet 224 x 224 / 1000 classes, and this CIFAR-10 setting."""
    settings = [
        ("VGG-16, ImageNet (224x224, FC 4096, e = 1000)", vgg16_point_sizes(224, 1.0, 4096), 1000),
        ("VGG-16, CIFAR-10 (32x32, FC 512, e = 10)", vgg16_point_sizes(32, 1.0, 512), 10),
    ]
    rows = []
    for label, sizes, error in settings:
        mem = feedback_memory_bytes(sizes, error)
        rows.append(
            {"setting": label, "l_max": max(sizes), "sum_l_i": sum(sizes), "error_size": error, **mem}
        )
    return rows


def initial_model(recipe: Recipe) -> VGG16:
    """The untrained model exactly as the Trainer drew it (seeded with ``recipe.seed``)."""
    torch.manual_seed(recipe.seed)
    return build_model(recipe).eval()


def weight_drift(model: VGG16, init: VGG16) -> list[float]:
    """Per conv layer: ||W - W_init|| / ||W_init||."""
    return [
        ((m.weight - m0.weight).norm() / m0.weight.norm()).item()
        for m, m0 in zip(model.conv_layers(), init.conv_layers())
    ]


def maximise_filters(model: VGG16, layer: int = 1, count: int = 16, steps: int = 100) -> torch.Tensor:
    """Inputs (count, 3, 32, 32) that maximise the mean response of filters of conv ``layer``."""
    model.set_method("bp")
    conv = model.conv_layers()[layer]
    count = min(count, conv.out_channels)
    prefix = nn.Sequential(*list(model.features)[: list(model.features).index(conv) + 1])
    gen = torch.Generator().manual_seed(0)
    images = (0.1 * torch.randn(count, 3, 32, 32, generator=gen)).requires_grad_(True)
    optimizer = torch.optim.Adam([images], lr=0.05)
    for _ in range(steps):
        optimizer.zero_grad()
        response = prefix(images)[torch.arange(count), torch.arange(count)].mean(dim=(1, 2))
        (-response.sum()).backward()
        optimizer.step()
    return images.detach()


def plot_filters(panels: dict[str, torch.Tensor], path: Path) -> None:
    plt.switch_backend("Agg")
    count = next(iter(panels.values())).shape[0]
    fig, axes = plt.subplots(len(panels), count, figsize=(count * 0.8, len(panels) * 0.95))
    for row, (label, images) in enumerate(panels.items()):
        for col in range(count):
            img = images[col].permute(1, 2, 0)
            img = (img - img.min()) / (img.max() - img.min() + 1e-8)
            ax = axes[row, col]
            ax.imshow(img.numpy())
            ax.set_xticks([])
            ax.set_yticks([])
            if col == 0:
                ax.set_ylabel(label, fontsize=7, rotation=0, ha="right", va="center")
    fig.suptitle("VGG-16, 2nd conv layer: inputs maximising 16 filters (activation maximisation)", fontsize=8)
    fig.subplots_adjust(left=0.1, right=0.99, wspace=0.1, hspace=0.1)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--width-mult", type=float, default=0.25)
    parser.add_argument("--data-root", default=None)
    parser.add_argument("--quick", action="store_true", help="width 1/8, 1 epoch on 1,000 images")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    name = "vision_vgg_quick" if args.quick else "vision_vgg"
    epochs = 1 if args.quick else args.epochs
    width = 0.125 if args.quick else args.width_mult
    cells, models = {}, {}
    for method, lr in RUNS:
        recipe = vgg_cifar_recipe(method, epochs=epochs, width_mult=width, lr=lr)
        if args.quick:
            recipe = dataclasses.replace(recipe, task_config={**recipe.task_config, "train_subset": 1000})
        key = f"{method}-lr{lr:g}"
        cells[key] = run_cell(recipe, RESULTS / name / "runs", args.data_root)
        if not cells[key].get("diverged"):
            models[key] = (cell_model(recipe), initial_model(recipe))
    drift = {m: weight_drift(model, init) for m, (model, init) in models.items()}
    panels = {f"{key} trained": maximise_filters(model) for key, (model, _) in models.items()}
    if models:
        panels["random init"] = maximise_filters(next(iter(models.values()))[1])
        plot_filters(panels, RESULTS / f"{name}_filters.png")
    memory = memory_rows()
    command = "python eval/vision_vgg.py " + shlex.join(sys.argv[1:])
    write_report(name, command.strip(), epochs, width, cells, drift, memory)


def write_report(name, command, epochs, width, cells, drift, memory) -> None:  # noqa: ANN001
    data_notes = next(iter(cells.values()))["data_notes"]
    trained = [k for k, c in cells.items() if not c.get("diverged")]
    lines = [
        "# Principled DFA, Tables 1 and 3 (spirit): VGG-16, BP against DFA",
        "",
        f"Produced by `{command}`.",
        "",
        "## Table 1: feedback-matrix memory (float32)",
        "",
        "| setting | l_max | sum of l_i | e | one shared matrix | one matrix per layer |",
        "|---|---|---|---|---|---|",
    ]
    for r in memory:
        lines.append(
            f"| {r['setting']} | {r['l_max']:,} | {r['sum_l_i']:,} | {r['error_size']} | "
            f"{r['unique'] / 2**30:.2f} GiB | {r['per_layer'] / 2**30:.2f} GiB |"
        )
    lines += [
        "",
        "Point sizes: the 13 conv outputs (C x H x W after ReLU) and the 2 hidden FC layers.",
        "",
        "## Table 3 spirit: VGG-16 on 32x32 CIFAR-10",
        "",
        f"Budget: {epochs} epoch(s), 1 seed, conv widths x{width} of VGG-16's (64...512), FC 512, "
        "ReLU, no BN, He init; SGD momentum 0.9 (lr in the run name: the paper's 1e-2 for both, then "
        "lower rates for DFA, which diverges at 1e-2 and 1e-3), batch 128, error_reduction 'mean' for DFA. "
        "The paper trains full-width VGG-16 on ImageNet and 256x256 CIFAR-100 for many epochs; "
        "this is a CPU-sized version of the same comparison. Accuracy in % at the best-validation "
        f"epoch (5,000 held-out train images). Data: {data_notes}.",
        "",
        "| run | test acc | train acc | best epoch |",
        "|---|---|---|---|",
    ]
    for method, cell in cells.items():
        if cell.get("diverged"):
            lines.append(f"| {method} | diverged: {cell['error'].split(': ', 1)[1].split(' (')[0]} | | |")
            continue
        lines.append(
            f"| {method} | {fmt(cell['test_accuracy'])} | {fmt(cell['train_accuracy'])} | {cell['best_epoch']} |"
        )
    lines += [
        "",
        "Per-layer alignment, mean (std over 128 training images), and each conv layer's relative "
        "weight change from init ||W - W0|| / ||W0||:",
        "",
        "| layer | "
        + " | ".join(f"alignment {k}" for k in trained)
        + " | "
        + " | ".join(f"drift {k}" for k in trained)
        + " |",
        "|---" * (1 + 2 * len(trained)) + "|",
    ]
    labels = [f"conv{i}" for i in range(1, 14)] + ["fc1", "fc2"]
    for i, label in enumerate(labels):
        cols = []
        for key in trained:
            a = list(cells[key]["alignment"].values())
            cols.append(f"{a[i]['mean']:.3f} ({a[i]['std']:.3f})")
        cols += [f"{drift[key][i]:.3f}" if i < len(drift[key]) else "" for key in trained]
        lines.append(f"| {label} | {' | '.join(cols)} |")
    lines += [
        "",
        "Alignment for the BP model is measured with the same feedback matrix (how well DFA's signal "
        "would match BP's gradient at BP's weights): it is the chance level to compare against.",
        "",
        f"Filters: `{name}_filters.png` (rows: {', '.join(trained)}, random init).",
        "",
    ]
    (RESULTS / f"{name}.md").write_text("\n".join(lines))
    payload = {"command": command, "epochs": epochs, "width_mult": width, "memory": memory, "cells": cells}
    payload["weight_drift"] = drift
    (RESULTS / f"{name}.json").write_text(json.dumps(payload, indent=2) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
