"""Recommender models: gradients by method, feedback placement, scoring raw records, round trip."""

from __future__ import annotations

import pytest
import torch

import dfazoo
from dfazoo.recsys import AFN, DCN, FM, DeepFM, FieldValueError
from dfazoo.recsys.recipes import MOVIELENS_FIELDS

SMALL = {"embed_dim": 4, "mlp_dims": [8, 6], "dropout": 0.0}
BUILDERS = {
    "fm": lambda **kw: FM(MOVIELENS_FIELDS, embed_dim=4, **kw),
    "deepfm": lambda **kw: DeepFM(MOVIELENS_FIELDS, **SMALL, **kw),
    "dcn": lambda **kw: DCN(MOVIELENS_FIELDS, num_cross_layers=2, **SMALL, **kw),
    "afn": lambda **kw: AFN(MOVIELENS_FIELDS, lnn_dim=3, **SMALL, **kw),
}
RECORD = {
    "user_id": 1, "item_id": 50, "age": 24, "gender": "M", "occupation": "technician",
    "zip": "85711", "genre": "Comedy", "year": 1995,
}  # fmt: skip


def batch(n: int = 32) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    dims = BUILDERS["fm"]().field_dims
    x = torch.stack([torch.randint(0, d, (n,), generator=g) for d in dims], 1)
    return x, torch.randint(0, 2, (n,), generator=g).float()


def grads(model: torch.nn.Module) -> dict[str, torch.Tensor | None]:
    model.train()
    model.zero_grad()
    x, y = batch()
    torch.nn.functional.binary_cross_entropy_with_logits(model(x).squeeze(-1), y).backward()
    return {n: p.grad for n, p in model.named_parameters()}


EMBEDDING_MODES = [("deepfm", "none"), ("deepfm", "point"), ("deepfm", "layer")] + [
    (arch, mode) for arch in ("dcn", "afn") for mode in ("point", "layer")
]


@pytest.mark.parametrize(("arch", "embedding_feedback"), EMBEDDING_MODES)
@pytest.mark.parametrize("placement", ["macro", "micro"])
def test_every_parameter_learns_in_dfa_mode(arch, placement, embedding_feedback):
    """The AFN bug of the public code (embeddings without feedback) would leave a zero gradient."""
    extra = {"embedding_feedback": embedding_feedback}
    model = BUILDERS[arch](method="dfa", placement=placement, **extra)
    dead = [n for n, g in grads(model).items() if g is None or not g.abs().sum() > 0]
    assert dead == []


def test_micro_adds_a_point_after_every_layer():
    model = BUILDERS["dcn"](placement="micro")
    assert set(model.feedback_points()) == {
        "embedding_point", "cross_points.0", "cross_points.1", "mlp.points.0", "mlp.points.1",
    }  # fmt: skip
    assert set(model.set_placement("macro").feedback_points()) == {
        "embedding_point",
        "cross_points.1",
        "mlp.points.1",
    }
    afn = BUILDERS["afn"](placement="macro")
    assert set(afn.feedback_points()) == {"lnn_point", "mlp.points.1"}
    assert "embedding_point" in BUILDERS["afn"](embedding_feedback="point").feedback_points()
    with pytest.raises(ValueError, match="embedding_feedback='none'"):
        BUILDERS["dcn"](embedding_feedback="none")


def _embedding_grad(model, scale: float) -> torch.Tensor:
    model.feedback.matrix.mul_(scale)
    return grads(model)["embedding.embedding.weight"].clone()


def test_linear_terms_start_at_zero():
    assert not BUILDERS["deepfm"]().linear.fc.weight.any()


def test_fm_learns_in_dfa_mode_like_bp():
    torch.manual_seed(0)
    dfa = grads(BUILDERS["fm"](method="dfa"))
    torch.manual_seed(0)
    bp = grads(BUILDERS["fm"](method="bp"))
    assert all(g is not None and g.abs().sum() > 0 and torch.equal(g, bp[n]) for n, g in dfa.items())


def test_deepfm_embeddings_learn_through_the_fm_only_dcn_embeddings_by_dfa():
    torch.manual_seed(0)
    deepfm = BUILDERS["deepfm"](method="dfa")
    assert torch.equal(_embedding_grad(deepfm, 1.0), _embedding_grad(deepfm, 3.0))
    torch.manual_seed(0)
    dcn = BUILDERS["dcn"](method="dfa")
    assert not torch.allclose(_embedding_grad(dcn, 1.0), _embedding_grad(dcn, 3.0))
    # BP reaches DeepFM's embeddings through the MLP as well.
    torch.manual_seed(0)
    bp, dfa = grads(BUILDERS["deepfm"](method="bp")), None
    torch.manual_seed(0)
    dfa = grads(BUILDERS["deepfm"](method="dfa"))
    assert not torch.allclose(bp["embedding.embedding.weight"], dfa["embedding.embedding.weight"])
    # With its own point, DeepFM's embeddings also learn by DFA.
    torch.manual_seed(0)
    pointed = BUILDERS["deepfm"](method="dfa", embedding_feedback="point")
    assert not torch.allclose(_embedding_grad(pointed, 1.0), _embedding_grad(pointed, 3.0))


@pytest.mark.parametrize(
    ("arch", "learners"),
    [
        (
            "deepfm",
            {"linear.fc.weight", "linear.bias", "embedding.embedding.weight", "head.weight", "head.bias"},
        ),
        ("dcn", {"head.weight", "head.bias"}),
        ("afn", {"linear.fc.weight", "linear.bias", "head.weight", "head.bias"}),
    ],
)
def test_shallow_trains_only_the_output_layer_and_the_fm_linear_parts(arch, learners):
    got = {
        n for n, g in grads(BUILDERS[arch](method="shallow")).items() if g is not None and g.abs().sum() > 0
    }
    assert got == learners


@pytest.mark.parametrize("arch", list(BUILDERS))
def test_save_and_load_round_trip_exactly(tmp_path, arch):
    model = BUILDERS[arch](method="dfa", placement="micro")
    grads(model)
    model.save_pretrained(tmp_path / arch)
    for loaded in (type(model).from_pretrained(tmp_path / arch), dfazoo.from_pretrained(tmp_path / arch)):
        assert type(loaded) is type(model) and loaded.get_config() == model.get_config()
        assert loaded.method == "dfa" and loaded.placement == "micro"
        state = loaded.state_dict()
        assert all(torch.equal(v, state[k]) for k, v in model.state_dict().items())
        assert torch.equal(loaded.score([RECORD]), model.score([RECORD]))


def test_score_maps_unseen_ids_to_the_out_of_vocabulary_index():
    model = BUILDERS["deepfm"]()
    unseen = {**RECORD, "user_id": 10_000, "item_id": 99_999, "occupation": "astronaut", "year": None}
    assert model.encoder.encode([unseen])[0, :2].tolist() == [0, 0]
    assert (
        model.encoder.encode([unseen])[0, 4].item() == 0 and model.encoder.encode([unseen])[0, 7].item() == 0
    )
    p = model.score([RECORD, unseen])
    assert p.shape == (2,) and bool(((p > 0) & (p < 1)).all())
    known = model.encoder.encode([RECORD])[0].tolist()
    assert known[:2] == [1, 50] and known[3] == 2  # "M" is the second gender value


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ({k: v for k, v in RECORD.items() if k != "age"}, "missing field 'age'"),
        ({**RECORD, "agee": 3}, "unknown field 'agee'"),
        ({**RECORD, "age": "24"}, "field 'age': expected a number, got str '24'"),
        ({**RECORD, "user_id": 1.5}, "field 'user_id': expected an integer id"),
        ({**RECORD, "gender": 1}, "field 'gender': expected a string"),
    ],
)
def test_score_rejects_bad_records_with_one_line_naming_the_field(record, message):
    with pytest.raises(FieldValueError) as err:
        BUILDERS["fm"]().score([record])
    assert message in str(err.value) and "\n" not in str(err.value)


def test_score_of_an_empty_batch_is_empty():
    out = BUILDERS["afn"]().score([])
    assert out.shape == (0,)


def test_card_shows_a_score_example_that_runs_on_the_zoo_model():
    import json
    import re

    from dfazoo.spec import build_model, get_recipe
    from dfazoo.zoo.cards import render_card

    recipe = get_recipe("dcn-ml100k-dfa")
    card = render_card(recipe, {"metric": "auc", "value": 0.79, "test_metrics": {"auc": 0.79}})
    example = re.search(r"model\.score\(\[(\{.*\})\]\)", card)
    assert example and "out-of-vocabulary" in card
    record = json.loads(example.group(1))
    assert set(record) == {f["name"] for f in MOVIELENS_FIELDS}
    model = build_model(recipe)
    assert (model.encoder.encode([record]) > 0).all()  # every example value is in the vocabulary
    assert model.score([record]).shape == (1,)


def test_afn_without_the_lnn_point_backpropagates_the_mlp_signal_into_the_lnn():
    torch.manual_seed(0)
    off = BUILDERS["afn"](method="dfa", lnn_feedback=False)
    torch.manual_seed(0)
    on = BUILDERS["afn"](method="dfa")
    assert "lnn_point" not in off.feedback_points() and "lnn_point" in on.feedback_points()
    g_off, g_on = grads(off), grads(on)
    assert g_off["lnn.weight"].abs().sum() > 0 and g_off["embedding.embedding.weight"].abs().sum() > 0
    # Only what sits under the removed point learns differently; the MLP keeps the direction of its
    # DFA signal (its scale follows the number of points).
    cos = torch.nn.functional.cosine_similarity
    assert cos(g_off["lnn.weight"].flatten(), g_on["lnn.weight"].flatten(), dim=0) < 0.99
    mlp = "mlp.layers.1.mlp.0.weight"
    assert cos(g_off[mlp].flatten(), g_on[mlp].flatten(), dim=0) > 0.9999
    assert torch.equal(g_off["head.weight"], g_on["head.weight"])


@pytest.mark.parametrize(
    ("mode", "text"), [("none", "FM only"), ("point", "own feedback point"), ("layer", "backpropagated")]
)
def test_a_dfa_recipe_states_how_its_embeddings_learn(mode, text):
    from dfazoo.recsys.recipes import ctr_recipe

    assert text in ctr_recipe("deepfm", "ml100k", "dfa", embedding_feedback=mode).notes
    assert "FM / linear parts" in ctr_recipe("deepfm", "ml100k", "shallow").notes
    assert "own feedback point" in ctr_recipe("dcn", "ml100k", "dfa").notes  # DCN's default


def test_the_readme_recsys_snippet_scores_with_the_released_model():
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    section = readme[readme.index("## Recommender systems (recsys)") :]
    code = re.search(r"```python\n(.*?)```", section, flags=re.S).group(1)
    namespace: dict = {}
    exec(
        compile(code + "\nresult = " + code.strip().splitlines()[-1].split("#")[0], "README", "exec"),
        namespace,
    )  # noqa: S102
    assert namespace["result"].shape == (1,) and 0 < float(namespace["result"][0]) < 1
    assert namespace["model"].field_names == [f["name"] for f in MOVIELENS_FIELDS]
