"""Scaling paper Figure 2 / A.2: t-SNE of a 2-layer GCN's hidden activations on Cora.

    python eval/graph_tsne.py --data-root ../shared/data

Shallow, BP and DFA side by side (the zoo recipes' seeds; runs are reused from ``runs/`` when
the table or the zoo already trained them). Same t-SNE settings for all three. Writes
``eval/results/graph_tsne.png``.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402
from graph_common import graph_parser
from sklearn.manifold import TSNE  # noqa: E402

from dfazoo.graph.recipes import node_recipe  # noqa: E402
from dfazoo.train import Trainer  # noqa: E402
from dfazoo.zoo.hub import zoo_root  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
METHODS = ("shallow", "bp", "dfa")


@torch.no_grad()
def hidden_embedding(method: str, data_root: str | None) -> tuple[torch.Tensor, torch.Tensor, float]:
    """(2-d t-SNE of the hidden activations, labels, test accuracy) of gcn-cora-<method>."""
    recipe = node_recipe("gcn", "cora", method)
    run_dir = zoo_root() / "runs" / recipe.model_id / f"seed{recipe.seed}"
    trainer = Trainer(recipe, run_dir, data_root=data_root, progress=True, resume=True)
    result = trainer.fit()
    model, data = trainer.model.eval(), trainer.task.data
    hidden = model.hidden(data.x, data.edge_index).numpy()
    points = TSNE(n_components=2, init="pca", perplexity=30.0, random_state=0).fit_transform(hidden)
    return torch.from_numpy(points), data.y, result.test_metrics["accuracy"]


def main(argv: list[str] | None = None) -> None:
    parser = graph_parser(__doc__)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    fig, axes = plt.subplots(1, len(METHODS), figsize=(15, 5))
    for ax, method in zip(axes, METHODS):
        points, labels, acc = hidden_embedding(method, args.data_root)
        ax.scatter(points[:, 0], points[:, 1], c=labels, cmap="tab10", s=3)
        ax.set_title(f"GCN on Cora, {method.upper()} (test acc {acc:.1f}%)")
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle("t-SNE of hidden-layer activations (python eval/graph_tsne.py --data-root ../shared/data)")
    fig.tight_layout()
    RESULTS.mkdir(parents=True, exist_ok=True)
    fig.savefig(RESULTS / "graph_tsne.png", dpi=110)
    print(f"wrote {RESULTS / 'graph_tsne.png'}")


if __name__ == "__main__":
    main()
