"""A small generated citation graph written in the Planetoid raw format (ind.<name>.*)."""

from __future__ import annotations

import pickle
from collections import defaultdict
from pathlib import Path

import numpy as np
import scipy.sparse as sp

NUM_CLASSES, NUM_TRAIN, NUM_VAL, NUM_EXTRA, NUM_TEST, NUM_FEATURES = 3, 30, 500, 150, 100, 24


def write_planetoid(root: Path, name: str = "Cora", seed: int = 0) -> Path:
    """Write ``root/planetoid/<name>/raw``: homophilous edges, class-dependent sparse words.

    Planetoid's reader fixes 500 validation nodes after the train nodes, hence the size.
    """
    rng = np.random.default_rng(seed)
    n_known = NUM_TRAIN + NUM_VAL + NUM_EXTRA  # extra: unlabelled nodes outside every split
    n = n_known + NUM_TEST
    labels = np.concatenate([np.arange(NUM_TRAIN) % NUM_CLASSES, rng.integers(0, NUM_CLASSES, n - NUM_TRAIN)])
    words = rng.random((n, NUM_FEATURES)) < 0.05
    for c in range(NUM_CLASSES):
        block = slice(c * NUM_FEATURES // NUM_CLASSES, (c + 1) * NUM_FEATURES // NUM_CLASSES)
        words[labels == c, block] |= rng.random(((labels == c).sum(), NUM_FEATURES // NUM_CLASSES)) < 0.4
    feats = sp.csr_matrix(words.astype(np.float32))
    onehot = np.eye(NUM_CLASSES, dtype=np.int64)[labels]
    graph: dict[int, list[int]] = defaultdict(list)
    for i in range(n):
        same = np.flatnonzero(labels == labels[i])
        for j in [*rng.choice(same, 3), rng.integers(0, n)]:
            if j != i:
                graph[i].append(int(j))
                graph[int(j)].append(i)
    folder = root / "planetoid" / name / "raw"
    folder.mkdir(parents=True, exist_ok=True)
    prefix = f"ind.{name.lower()}."
    items = {
        "x": feats[:NUM_TRAIN],
        "y": onehot[:NUM_TRAIN],
        "allx": feats[:n_known],
        "ally": onehot[:n_known],
        "tx": feats[n_known:],
        "ty": onehot[n_known:],
        "graph": dict(graph),
    }
    for key, value in items.items():
        with open(folder / (prefix + key), "wb") as f:
            pickle.dump(value, f)
    (folder / (prefix + "test.index")).write_text("\n".join(str(i) for i in range(n_known, n)) + "\n")
    return root
