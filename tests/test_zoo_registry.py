"""The one registry: ids, filters, suggestions, fresh models."""

import pytest

import dfazoo.zoo as zoo


def test_list_models_filters_by_pattern_domain_and_method():
    all_ids = zoo.list_models()
    assert "mlp-digits-dfa" in all_ids and all_ids == sorted(all_ids)
    assert zoo.list_models("mlp-digits-*") == ["mlp-digits-bp", "mlp-digits-dfa", "mlp-digits-shallow"]
    assert all(zoo.get_recipe(i).method == "dfa" for i in zoo.list_models(method="dfa"))
    assert all(zoo.get_recipe(i).domain == "vision" for i in zoo.list_models(domain="vision"))


def test_unknown_id_suggests_close_matches():
    with pytest.raises(zoo.UnknownModelError, match="Did you mean mlp-digits-dfa"):
        zoo.get_recipe("mlp-digit-dfa")


def test_create_model_builds_the_recipe_architecture_with_overrides():
    model = zoo.create_model("mlp-digits-dfa")
    assert model.method == "dfa" and model.arch_name == "mlp"
    bp = zoo.create_model("mlp-digits-dfa", method="bp")
    assert bp.method == "bp"
    assert bp.feedback.matrix.equal(model.feedback.matrix)
