"""Zoo recipes of the recommender domain (scaling paper §3.1.2: Tables 2, A.1, A.3).

ML-100K CTR (rating >= 4 is a click; 8 fields, see :data:`MOVIELENS_FIELDS`; seeded 80/10/10
split). Architecture sizes follow the issue's probe (embedding 16, MLP (64, 32)); DCN has 3 cross
layers, AFN 16 logarithmic neurons. Adam, batch 2048; the best validation-AUC epoch is kept
(early stopping). :data:`HPARAMS` are the starting hyperparameters; a released model trains the
setting that the grid of ``eval/recsys_table2.py`` (learning rate x dropout x weight decay, and
for DFA how the embeddings learn, chosen on validation AUC per architecture and method, as the
paper's appendix C) chose: its ``row`` in ``releases.json``. FM has no hidden layer, so it has
only a ``bp`` model.
"""

from __future__ import annotations

import dataclasses
import inspect
from pathlib import Path
from typing import Any

from dfazoo.data.movielens_ctr import GENRES
from dfazoo.data.synthetic_ctr import GENERATOR_VERSION, SyntheticCTRConfig
from dfazoo.recsys.fields import id_fields
from dfazoo.recsys.models import AFN, DCN, DeepFM
from dfazoo.spec.recipe import Recipe
from dfazoo.spec.releases import load_releases

# Which run each zoo model is released from (seed 0 of its Table 2 cell's chosen setting): data.
RELEASES = load_releases(Path(__file__).with_name("releases.json"))

OCCUPATIONS: tuple[str, ...] = (
    "administrator", "artist", "doctor", "educator", "engineer", "entertainment", "executive",
    "healthcare", "homemaker", "lawyer", "librarian", "marketing", "none", "other", "programmer",
    "retired", "salesman", "scientist", "student", "technician", "writer",
)  # fmt: skip
# The ML-100K field encoding: shipped in every model's config.json (``fields``). Ids beyond the
# ML-100K ranges, unknown categories and None map to index 0 (out of vocabulary).
MOVIELENS_FIELDS: list[dict[str, Any]] = [
    {"name": "user_id", "kind": "id", "size": 943},
    {"name": "item_id", "kind": "id", "size": 1682},
    {"name": "age", "kind": "bucket", "boundaries": [18, 25, 35, 45, 50, 56]},
    {"name": "gender", "kind": "category", "values": ["F", "M"]},
    {"name": "occupation", "kind": "category", "values": list(OCCUPATIONS)},
    {"name": "zip", "kind": "category", "values": [f"{i:02d}" for i in range(100)], "prefix": 2},
    {"name": "genre", "kind": "category", "values": list(GENRES)},
    {"name": "year", "kind": "bucket", "boundaries": [1960, 1970, 1980, 1990, 1993, 1994, 1995, 1996, 1997]},
]
ARCHS: tuple[str, ...] = ("fm", "deepfm", "dcn", "afn")
DEEP_ARCHS: tuple[str, ...] = ("deepfm", "dcn", "afn")
ARCH_TITLES: dict[str, str] = {"fm": "FM", "deepfm": "DeepFM", "dcn": "Deep & Cross", "afn": "AFN"}
ARCH_CONFIG: dict[str, dict[str, Any]] = {
    "fm": {"embed_dim": 16},
    "deepfm": {"embed_dim": 16, "mlp_dims": [64, 32], "dropout": 0.2},
    "dcn": {"embed_dim": 16, "num_cross_layers": 3, "mlp_dims": [64, 32], "dropout": 0.2},
    "afn": {"embed_dim": 16, "lnn_dim": 16, "mlp_dims": [64, 32], "dropout": 0.2},
}
# Per method: Adam learning rate and weight decay (dropout is in ARCH_CONFIG).
HPARAMS: dict[str, dict[str, float]] = {
    "bp": {"lr": 1e-3, "weight_decay": 1e-6},
    "dfa": {"lr": 1e-3, "weight_decay": 1e-6},
    "shallow": {"lr": 1e-3, "weight_decay": 1e-6},
}
# The synthetic benchmark's starting point (its tuning probe: dfazoo.data.synthetic_ctr).
SYNTHETIC_HPARAMS: dict[str, float] = {"lr": 3e-3, "weight_decay": 0.0, "dropout": 0.0}
EPOCHS: dict[str, int] = {"ml100k": 30, "synthetic": 10}
BATCH_SIZE = 2048
# Scaling paper, Criteo: Table 2 (AUC, log loss) and Table A.3 (shallow); Table A.1 alignment.
PAPER_CRITEO: dict[tuple[str, str], tuple[float, float]] = {
    ("fm", "bp"): (0.7915, 0.4687),
    ("deepfm", "bp"): (0.7954, 0.4610),
    ("deepfm", "dfa"): (0.7956, 0.4624),
    ("deepfm", "shallow"): (0.7920, 0.4682),
    ("dcn", "bp"): (0.8104, 0.4414),
    ("dcn", "dfa"): (0.8009, 0.4502),
    ("dcn", "shallow"): (0.7324, 0.5010),
    ("afn", "bp"): (0.7933, 0.4630),
    ("afn", "dfa"): (0.7924, 0.4621),
    ("afn", "shallow"): (0.7859, 0.4685),
}
PAPER_ALIGNMENT: dict[str, tuple[float, float]] = {"dcn": (0.40, 0.91), "afn": (0.49, 0.08)}
PLACEMENT_NOTE = (
    "One feedback matrix shared by every point; the error is that of the single click logit. "
    "Macro placement: a point after each sub-network (MLP, cross network, logarithmic layer)."
)
# How the embeddings learn in dfa / shallow mode (``embedding_feedback``), by default per architecture.
EMBEDDING_DEFAULTS: dict[str, str] = {
    cls.arch_name: inspect.signature(cls).parameters["embedding_feedback"].default
    for cls in (DeepFM, DCN, AFN)
}
EMBEDDING_NOTES: dict[str, str] = {
    "none": "the embeddings learn through the FM only (the MLP reads them detached)",
    "point": "the embeddings have their own feedback point and learn by DFA directly",
    "layer": "the embeddings learn from the DFA signals of the layers reading them, backpropagated through those layers only",
}


def fields_of(dataset: str, synthetic: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """The field encoding of ``dataset`` ("ml100k", or "synthetic" with its generator options)."""
    if dataset == "ml100k":
        return [dict(f) for f in MOVIELENS_FIELDS]
    sizes = (synthetic or {}).get("vocab_sizes", SyntheticCTRConfig.vocab_sizes)
    return id_fields(sizes)


def ctr_recipe(
    arch: str,
    dataset: str,
    method: str,
    *,
    seed: int = 0,
    lr: float | None = None,
    weight_decay: float | None = None,
    dropout: float | None = None,
    epochs: int | None = None,
    placement: str = "macro",
    synthetic: dict[str, Any] | None = None,
    embedding_feedback: str | None = None,
    lnn_feedback: bool | None = None,
) -> Recipe:
    """One Table 2 / A.3 cell; ``None`` hyperparameters take :data:`HPARAMS` / :data:`ARCH_CONFIG`
    (``embedding_feedback``: the architecture's default, see :mod:`dfazoo.recsys.models`;
    ``lnn_feedback``: AFN only, False drops the logarithmic layer's point)."""
    if lnn_feedback is not None and arch != "afn":
        raise ValueError(f"lnn_feedback is AFN's option (the logarithmic layer's point); {arch} has none")
    hp = SYNTHETIC_HPARAMS if dataset == "synthetic" else HPARAMS[method]
    arch_config: dict[str, Any] = {"fields": fields_of(dataset, synthetic), **ARCH_CONFIG[arch]}
    if "dropout" in arch_config:
        arch_config["dropout"] = hp.get("dropout", arch_config["dropout"]) if dropout is None else dropout
    if embedding_feedback is not None:
        arch_config["embedding_feedback"] = embedding_feedback
    if lnn_feedback is not None:
        arch_config["lnn_feedback"] = lnn_feedback
    task_config: dict[str, Any] = {"split_seed": 0}
    if dataset == "synthetic":
        task_config["synthetic"] = dict(synthetic or {})
        task_config["generator_version"] = GENERATOR_VERSION
    paper = PAPER_CRITEO.get((arch, method))
    table = "A.3 (shallow)" if method == "shallow" else "2"
    return Recipe(
        model_id=f"{arch}-{dataset}-{method}",
        domain="recsys",
        arch=arch,
        dataset=dataset,
        method=method,
        task="ctr",
        metric="auc",
        arch_config=arch_config,
        task_config=task_config,
        placement=placement,
        optimizer={
            "name": "adam",
            "lr": hp["lr"] if lr is None else lr,
            "weight_decay": hp["weight_decay"] if weight_decay is None else weight_decay,
        },
        epochs=EPOCHS[dataset] if epochs is None else epochs,
        batch_size=BATCH_SIZE,
        seed=seed,
        tolerance=1e-4,
        higher_is_better=True,
        description=(
            f"{ARCH_TITLES[arch]} for click-through-rate prediction on {dataset}, trained with "
            f"{method.upper()}; Adam, batch {BATCH_SIZE}, test AUC at the best-validation-AUC epoch."
        ),
        data_notes=(
            "MovieLens-100K as CTR: click = rating >= 4; fields user id, item id, age bucket, gender, "
            "occupation, zip prefix (2 digits), first genre, release-year bucket; seeded 80/10/10 "
            "random split (seed 0). The paper used Criteo, not available offline here."
            if dataset == "ml100k"
            else "Synthetic CTR benchmark (dfazoo.data.synthetic_ctr), fixed seeded 80/10/10 split."
        ),
        paper_value=paper[0] if paper else None,
        paper_ref=f"Launay et al. 2020, Table {table} (Criteo)" if paper else "",
        notes=_notes(arch, method, arch_config),
    )


def _notes(arch: str, method: str, arch_config: dict[str, Any]) -> str:
    """The placement note, with what learns how under DFA or shallow training."""
    if arch == "fm" or method == "bp":
        return PLACEMENT_NOTE
    if method == "shallow":
        return f"{PLACEMENT_NOTE} Shallow: only the output layer and the FM / linear parts learn."
    mode = arch_config.get("embedding_feedback", EMBEDDING_DEFAULTS[arch])
    note = f"{PLACEMENT_NOTE} In DFA, {EMBEDDING_NOTES[mode]}."
    if arch_config.get("lnn_feedback") is False:
        note += (
            " The logarithmic layer has no point of its own (not the paper's placement): it learns "
            "from the MLP's first DFA signal, backpropagated through it."
        )
    return note


def zoo_recipe(arch: str, method: str) -> Recipe:
    """The ML-100K zoo recipe of ``arch`` and ``method``: its released run's setting (``row``) and
    seed when it has a release record, else the defaults."""
    release = RELEASES.get(f"{arch}-ml100k-{method}")
    if release is None:
        return ctr_recipe(arch, "ml100k", method)
    recipe = ctr_recipe(arch, "ml100k", method, seed=release.seed, **release.row)
    return dataclasses.replace(recipe, notes=f"{recipe.notes} {release.note()}")


RECIPES: tuple[Recipe, ...] = (
    zoo_recipe("fm", "bp"),
    *(zoo_recipe(arch, method) for arch in DEEP_ARCHS for method in ("bp", "dfa", "shallow")),
)
