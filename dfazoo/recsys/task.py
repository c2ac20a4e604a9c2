"""Click-through-rate prediction: binary cross-entropy on the click logit, AUC and log loss.

``task_config``:
- ``dataset``: ``"movielens-100k"`` (default for ``recipe.dataset == "ml100k"``) or
  ``"synthetic"``;
- ``split_seed`` (0): the seeded 80 / 10 / 10 split of either dataset;
- ``synthetic``: :class:`~dfazoo.data.synthetic_ctr.SyntheticCTRConfig` fields (e.g.
  ``num_samples``), over its defaults; its ``seed`` stays 0 unless given, so every run of a
  table sees the same benchmark; ``generator_version`` must equal the generator's;
- ``alignment_samples`` (512, as the paper's appendix A): validation rows the alignment is
  measured on.

The rows are encoded with the recipe's own ``arch_config["fields"]``, the encoding the model
saves in ``config.json``. Metrics: ``auc`` and ``logloss`` (scikit-learn), ``loss`` (= logloss
in nats, from torch).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable
from typing import Any

import torch
import torch.nn.functional as F
from sklearn.metrics import log_loss, roc_auc_score

from dfazoo.data.movielens_ctr import load_movielens_ctr
from dfazoo.data.synthetic_ctr import GENERATOR_VERSION, SyntheticCTRConfig, make_synthetic_ctr
from dfazoo.recsys.fields import FieldEncoder, example_value
from dfazoo.spec.recipe import Recipe
from dfazoo.spec.task import Task

DATASETS: dict[str, str] = {"ml100k": "movielens-100k", "synthetic": "synthetic"}
EVAL_CHUNK = 65536


def synthetic_config(options: dict[str, Any]) -> SyntheticCTRConfig:
    """The generator config of a ``task_config["synthetic"]`` dict (lists become tuples)."""
    return SyntheticCTRConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in options.items()})


# A table trains hundreds of runs on one dataset in one process: encode / generate it once.
@functools.lru_cache(maxsize=2)
def _movielens(data_root: str | None, split_seed: int, fields: str) -> tuple[torch.Tensor, torch.Tensor, Any]:
    """ML-100K rows encoded with ``fields`` (JSON), labels and splits."""
    table = load_movielens_ctr(data_root, seed=split_seed)
    return FieldEncoder(json.loads(fields)).encode_columns(table.columns), table.labels, table.splits


_synthetic = functools.lru_cache(maxsize=2)(make_synthetic_ctr)


class CTRTask(Task):
    """CTR on ML-100K (label: rating >= 4) or on the synthetic benchmark (see module docstring)."""

    name = "ctr"

    @classmethod
    def card_inputs(cls, recipe: Recipe, results: dict[str, Any]) -> str:
        """A CTR model's inputs: raw field values, scored with the field encoding it ships."""
        fields = recipe.arch_config.get("fields", [])
        example = {f["name"]: example_value(f) for f in fields}
        return f"""
Inputs: one record per user-item pair with the raw values of its {len(fields)} fields
({", ".join(f"`{f['name']}`" for f in fields)}). The field encoding ships in `config.json`, so
`model.score(records)` takes raw values and returns click probabilities; an id never seen in
training (or `None`) maps to the out-of-vocabulary index, and a missing or unknown field, or a value
of the wrong type, raises `dfazoo.recsys.FieldValueError` naming the field.

```python
import dfazoo

model = dfazoo.from_pretrained("{recipe.model_id}")
print(model.score([{json.dumps(example)}]))
```
"""

    def __init__(self, recipe: Recipe, data_root: str | None = None) -> None:
        super().__init__(recipe, data_root)
        cfg = recipe.task_config
        dataset = cfg.get("dataset", DATASETS.get(recipe.dataset, recipe.dataset))
        split_seed = int(cfg.get("split_seed", 0))
        if dataset == "movielens-100k":
            fields = json.dumps(recipe.arch_config["fields"], sort_keys=True)
            self.x, self.y, self.splits_index = _movielens(data_root, split_seed, fields)
            self.data_notes = (
                f"MovieLens-100K, label rating >= 4, seeded 80/10/10 random split (seed {split_seed}); "
                "genre = first listed genre. Criteo, Avazu and MovieLens-1M are not available offline here."
            )
        elif dataset == "synthetic":
            version = cfg.get("generator_version", GENERATOR_VERSION)
            if version != GENERATOR_VERSION:
                raise ValueError(
                    f"the recipe was made for synthetic generator v{version}; this is v{GENERATOR_VERSION}"
                )
            data = _synthetic(synthetic_config({"seed": 0, **cfg.get("synthetic", {})}))
            sizes = [f.get("size") for f in recipe.arch_config["fields"]]
            if sizes != list(data.config.vocab_sizes):
                raise ValueError(
                    f"the recipe's id fields have sizes {sizes}, the benchmark {data.config.vocab_sizes}"
                )
            self.x, self.y, self.splits_index = data.x, data.labels, data.splits
            self.oracle_logits = data.oracle_logits
            self.data_notes = f"Synthetic CTR benchmark (dfazoo.data.synthetic_ctr), {data.config}."
        else:
            raise ValueError(f"ctr dataset {dataset!r} is unknown; choose one of {sorted(DATASETS.values())}")
        self.batch_size = int(recipe.batch_size or 2048)
        self.alignment_samples = int(cfg.get("alignment_samples", 512))

    def train_batches(
        self, epoch: int, generator: torch.Generator
    ) -> Iterable[tuple[torch.Tensor, torch.Tensor]]:
        index = self.splits_index["train"]
        index = index[torch.randperm(len(index), generator=generator)]
        return [(self.x[i], self.y[i]) for i in index.split(self.batch_size)]

    def loss(self, model: torch.nn.Module, batch: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        x, y = batch
        return F.binary_cross_entropy_with_logits(model(x).squeeze(-1), y)

    @torch.no_grad()
    def logits(self, model: torch.nn.Module, split: str) -> torch.Tensor:
        """Click logits of every row of ``split`` (the caller sets eval mode)."""
        index = self.splits_index[split]
        return torch.cat([model(self.x[i]).squeeze(-1) for i in index.split(EVAL_CHUNK)])

    def evaluate(self, model: torch.nn.Module, split: str) -> dict[str, float]:
        logits = self.logits(model, split).double()
        y = self.y[self.splits_index[split]].double()
        probs = torch.sigmoid(logits).numpy()
        return {
            "auc": float(roc_auc_score(y.numpy(), probs)),
            "logloss": float(log_loss(y.numpy(), probs, labels=[0, 1])),
            "loss": F.binary_cross_entropy_with_logits(logits, y).item(),
        }

    def alignment_batch(self) -> tuple[Any, Any, Callable[[torch.Tensor, Any], torch.Tensor]]:
        index = self.splits_index["val"][: self.alignment_samples]

        def loss_fn(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
            return F.binary_cross_entropy_with_logits(out.squeeze(-1), y)

        return (self.x[index],), self.y[index], loss_fn
