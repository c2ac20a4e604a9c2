"""PNG curves of a run (loss, selection metric, per-point alignment) from its metrics.jsonl."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402 (the backend must be chosen first)
from matplotlib.ticker import MaxNLocator  # noqa: E402


def read_metrics(run_dir: str | Path) -> list[dict[str, Any]]:
    path = Path(run_dir) / "metrics.jsonl"
    if not path.exists():
        raise FileNotFoundError(
            f"{path} does not exist: is {run_dir} a run directory written by the Trainer?"
        )
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _run_title(run_dir: Path) -> str:
    recipe = run_dir / "recipe.json"
    return json.loads(recipe.read_text())["model_id"] if recipe.exists() else run_dir.name


def _save(fig: plt.Figure, path: Path) -> Path:
    for ax in fig.axes:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def plot_run(run_dir: str | Path) -> list[Path]:
    """Write ``loss.png``, ``metrics.png`` and (if measured) ``alignment.png`` into ``run_dir/plots``.

    Returns the paths written.
    """
    run_dir = Path(run_dir)
    records = [r for r in read_metrics(run_dir) if "epoch" in r]
    if not records:
        raise ValueError(f"{run_dir / 'metrics.jsonl'} holds no epoch yet; train at least one epoch first")
    title = _run_title(run_dir)
    out = run_dir / "plots"
    out.mkdir(exist_ok=True)
    written = []

    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot([r["epoch"] for r in records], [r["loss"] for r in records], marker=".")
    ax.set(xlabel="epoch", ylabel="training loss", title=title)
    written.append(_save(fig, out / "loss.png"))

    evaluated = {split: [r for r in records if split in r] for split in ("val", "train")}
    split = "val" if evaluated["val"] else "train"
    if evaluated[split]:
        names = sorted({k for r in evaluated[split] for k in r[split]})
        fig, axes = plt.subplots(1, len(names), figsize=(4 * len(names), 3.5), squeeze=False)
        for ax, name in zip(axes[0], names):
            points = [(r["epoch"], r[split][name]) for r in evaluated[split] if name in r[split]]
            ax.plot(*zip(*points), marker=".")
            ax.set(xlabel="epoch", ylabel=f"{split} {name}")
        fig.suptitle(title)
        written.append(_save(fig, out / "metrics.png"))

    aligned = [r for r in records if r.get("alignment")]
    if aligned:
        fig, ax = plt.subplots(figsize=(6, 4))
        for point in sorted({p for r in aligned for p in r["alignment"]}):
            rows = [(r["epoch"], r["alignment"][point]) for r in aligned if point in r["alignment"]]
            epochs = [e for e, _ in rows]
            mean = [a["mean"] for _, a in rows]
            std = [a["std"] for _, a in rows]
            ax.plot(epochs, mean, marker=".", label=point)
            ax.fill_between(
                epochs, [m - s for m, s in zip(mean, std)], [m + s for m, s in zip(mean, std)], alpha=0.2
            )
        ax.axhline(0.0, color="grey", lw=0.5)
        ax.set(xlabel="epoch", ylabel="alignment cos(B_i e, c_i)", title=title, ylim=(-1, 1))
        ax.legend(fontsize="small")
        written.append(_save(fig, out / "alignment.png"))
    return written
