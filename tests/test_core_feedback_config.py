"""FeedbackConfig: the feedback arguments declared once, validated, with per-architecture defaults."""

import dataclasses

import pytest

from dfazoo.core import FeedbackConfig
from dfazoo.graph import DNA, GAE, GAT, GCN, ChebNet, SplineNet
from dfazoo.nlp import TransformerLM
from dfazoo.vision import CNN, MLP

FIELDS = {f.name for f in dataclasses.fields(FeedbackConfig)}


def test_unknown_feedback_key_is_named_with_the_allowed_ones():
    with pytest.raises(TypeError, match=r"feedback_seed.*allowed: method, placement, seed"):
        MLP(4, [8], 2, feedback_seed=3)
    with pytest.raises(TypeError, match="colour"):
        FeedbackConfig.from_kwargs(colour="red")


@pytest.mark.parametrize(
    ("key", "value", "choice"),
    [
        ("method", "sgd", "shallow"),
        ("placement", "everywhere", "micro"),
        ("feedback_init", "gaussian", "uniform2020"),
        ("error_reduction", "max", "sum"),
    ],
)
def test_bad_value_names_it_and_the_choices(key, value, choice):
    with pytest.raises(ValueError, match=rf"{key}='{value}' is unknown; choose one of .*{choice}"):
        GCN(6, 3, **{key: value})


def test_set_method_and_placement_keep_the_config_current():
    model = TransformerLM(11, d_model=8, n_layers=1, n_heads=2, d_ff=16, max_len=4, seed=4)
    model.set_method("bp").set_placement("micro")
    assert model.feedback_config == FeedbackConfig(method="bp", placement="micro", seed=4)
    assert model.get_config()["method"] == "bp" and model.get_config()["placement"] == "micro"
    with pytest.raises(ValueError, match="method='sgd'"):
        model.set_method("sgd")
    assert model.method == model.feedback_config.method == "bp"
    with pytest.raises(dataclasses.FrozenInstanceError):
        model.feedback_config.seed = 1


def small_models():
    return {
        "mlp": MLP(4, [8], 2),
        "cnn": CNN(channels=(2, 2, 2), image_size=8),
        "transformer": TransformerLM(11, d_model=8, n_layers=1, n_heads=2, d_ff=16, max_len=4),
        "cheb": ChebNet(6, 3),
        "gcn": GCN(6, 3),
        "spline": SplineNet(6, 3),
        "gat": GAT(6, 3, hidden=2, heads=2),
        "dna": DNA(6, 3, hidden=8, num_layers=1, heads=2, groups=2),
        "gae": GAE(6, latent=2),
    }


def test_architecture_defaults_are_kept_and_every_config_names_all_fields():
    for name, model in small_models().items():
        config = model.get_config()
        assert FIELDS <= set(config), name
        graph = name in {"cheb", "gcn", "spline", "gat", "dna", "gae"}
        assert config["feedback_init"] == model.feedback.init == ("uniform2020" if graph else "principled")
        assert (config["method"], config["placement"], config["seed"]) == ("dfa", "macro", 0)
        assert (config["feedback_norm"], config["error_reduction"]) == (True, "mean")
    assert GCN(6, 3, feedback_init="principled").feedback.init == "principled"


def test_mlp_seed_draws_both_the_feedback_and_the_bottleneck_mask():
    model = MLP(4, [8, 8], 2, seed=5, bottleneck_layer=1, bottleneck_keep=3)
    assert model.feedback_config.seed == model.feedback.seed == 5
    assert model.get_config()["seed"] == 5
