"""The one registry: ids, filters, suggestions, fresh models, one way a domain registers."""

import subprocess
import sys

import pytest

import dfazoo.zoo as zoo
from dfazoo import spec
from dfazoo.spec import registry


def test_list_models_filters_by_pattern_domain_and_method():
    all_ids = spec.list_models()
    assert "mlp-digits-dfa" in all_ids and all_ids == sorted(all_ids)
    assert spec.list_models("mlp-digits-*") == ["mlp-digits-bp", "mlp-digits-dfa", "mlp-digits-shallow"]
    assert all(spec.get_recipe(i).method == "dfa" for i in spec.list_models(method="dfa"))
    assert all(spec.get_recipe(i).domain == "vision" for i in spec.list_models(domain="vision"))


def test_unknown_id_suggests_close_matches():
    with pytest.raises(spec.UnknownModelError, match="Did you mean mlp-digits-dfa"):
        spec.get_recipe("mlp-digit-dfa")


def test_create_model_builds_the_recipe_architecture_with_overrides():
    model = zoo.create_model("mlp-digits-dfa")
    assert model.method == "dfa" and model.arch_name == "mlp"
    bp = zoo.create_model("mlp-digits-dfa", method="bp")
    assert bp.method == "bp"
    assert bp.feedback.matrix.equal(model.feedback.matrix)


@pytest.mark.parametrize(
    "lookup",
    [
        "get_task('image_classification')",
        "get_task('node_classification')",
        "get_task('link_prediction')",
        "get_architecture('transformer')",
        "get_recipe('gcn-cora-dfa')",
    ],
)
def test_every_lookup_sees_every_domain_first_thing_in_a_fresh_process(lookup):
    code = f"from dfazoo.spec import registry; registry.{lookup}"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_every_domain_package_registers_itself():
    assert set(spec.domains()) == set(registry.DOMAINS)
    for name, domain in spec.domains().items():
        assert all(r.domain == name for r in domain.recipes)
    assert {t.name for d in spec.domains().values() for t in d.tasks} >= {
        "image_classification",
        "node_classification",
        "link_prediction",
    }


def test_registering_a_name_twice_raises():
    vision = spec.domains()["vision"]
    with pytest.raises(ValueError, match="domain 'vision' is registered twice"):
        spec.register_domain(spec.Domain("vision"))
    with pytest.raises(ValueError, match="architecture 'mlp' is registered twice"):
        spec.register_architecture(type("OtherMLP", (vision.architectures[0],), {}))
    with pytest.raises(ValueError, match="model id 'mlp-digits-dfa' is registered twice"):
        spec.register_recipe(
            spec.get_recipe("mlp-digits-bp").__class__(
                **{**spec.get_recipe("mlp-digits-bp").to_dict(), "model_id": "mlp-digits-dfa"}
            )
        )
    with pytest.raises(ValueError, match="task 'image_classification' is registered twice"):
        spec.register_task(type("OtherTask", (vision.tasks[0],), {}))


def test_public_names_load_on_first_use():
    code = (
        "import sys, dfazoo\n"
        "assert 'torch' not in sys.modules\n"
        "assert set(dfazoo.__all__) == {'__version__', *dfazoo._EXPORTS}\n"
        "for name in dfazoo.__all__: getattr(dfazoo, name)\n"
        "from dfazoo.vision import MLP\n"
        "assert MLP.from_pretrained('mlp-digits-dfa').method == 'dfa'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
