"""Gradient norms of a zoo model's hidden layers against its head's, on its first training batches.

python scripts/grad_norm_ratio.py mlp3x800-mnist-dfa [--batches 5] [--data-root D]

Prints, per weight matrix, the mean over batches of ||dL/dW|| and its ratio to the head's, once
with the model's own ``error_reduction`` and once with the other one: with ``"sum"`` the DFA
error of the hidden layers is summed over the batch while the head trains on the mean loss.
"""

from __future__ import annotations

import argparse

import torch

import dfazoo
from dfazoo.spec import get_recipe, make_task
from dfazoo.zoo.finetune import head_name


def grad_norms(model: dfazoo.DFAModel, task, batches: int) -> dict[str, float]:
    """Mean ||grad|| of every weight matrix over the first ``batches`` training batches."""
    totals: dict[str, float] = {}
    for i, batch in enumerate(task.train_batches(0, torch.Generator().manual_seed(0))):
        if i == batches:
            break
        model.zero_grad()
        task.loss(model, batch).backward()
        for name, p in model.named_parameters():
            if name.endswith("weight") and p.ndim > 1 and p.grad is not None:
                totals[name] = totals.get(name, 0.0) + p.grad.norm().item() / batches
    return totals


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model_id")
    parser.add_argument("--batches", type=int, default=5)
    parser.add_argument("--data-root")
    args = parser.parse_args()
    torch.set_num_threads(1)
    recipe = get_recipe(args.model_id)
    task = make_task(recipe, args.data_root)
    model = dfazoo.from_pretrained(args.model_id).train()
    head = f"{head_name(model)}.weight"
    own = model._engine.error_reduction
    for reduction in (own, "mean" if own == "sum" else "sum"):
        model._engine.error_reduction = reduction
        norms = grad_norms(model, task, args.batches)
        print(
            f"{args.model_id}, error_reduction={reduction!r}, batch size {task.batch_size}, {args.batches} batches:"
        )
        for name, norm in norms.items():
            print(f"  {name:<20} ||grad|| {norm:10.4g}   ratio to head {norm / norms[head]:8.3g}")


if __name__ == "__main__":
    main()
