"""Save/load of zoo models: local folders, zoo ids, Hub ids and every way loading can fail."""

import json
import socket

import pytest
import torch
from huggingface_hub import constants as hf_constants
from safetensors.torch import load_file, save_file

import dfazoo
import dfazoo.data
import dfazoo.data.vision as vision_data
from dfazoo.spec import UnknownModelError
from dfazoo.vision.mlp import MLP
from dfazoo.zoo import HubUnavailableError, ModelLoadError, evaluate, finetune
from dfazoo.zoo.hub import CONFIG_NAME, WEIGHTS_NAME, from_pretrained, resolve_folder, save_model


def tiny(**kwargs) -> MLP:
    torch.manual_seed(0)
    return MLP(6, [5, 4], 3, **kwargs)


def assert_same_state(a: torch.nn.Module, b: torch.nn.Module) -> None:
    sa, sb = a.state_dict(), b.state_dict()
    assert sa.keys() == sb.keys()
    for key in sa:
        assert torch.equal(sa[key], sb[key]), key


def test_save_load_roundtrip_keeps_weights_feedback_mask_and_current_method(tmp_path):
    model = tiny(bottleneck_layer=1, bottleneck_keep=2, seed=7).set_method("bp")
    save_model(model, tmp_path, model_id="mlp-x-dfa")
    config = json.loads((tmp_path / CONFIG_NAME).read_text())
    assert config["architecture"] == "mlp"
    assert config["dfazoo_version"] == dfazoo.__version__
    assert config["method"] == "bp" and config["seed"] == 7 and config["model_id"] == "mlp-x-dfa"
    loaded = dfazoo.from_pretrained(tmp_path)
    assert isinstance(loaded, MLP) and loaded.method == "bp" and not loaded.training
    assert_same_state(model, loaded)
    assert "feedback.matrix" in loaded.state_dict()
    assert any(k.endswith("mask") for k in loaded.state_dict())
    x = torch.randn(2, 6)
    assert torch.equal(model.eval()(x), loaded(x))


def test_zoo_id_resolves_to_local_card_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("DFAZOO_ZOO_DIR", str(tmp_path))
    model = MLP(64, [128, 128], 10)
    save_model(model, tmp_path / "model_cards" / "mlp-digits-dfa")
    assert resolve_folder("mlp-digits-dfa") == tmp_path / "model_cards" / "mlp-digits-dfa"
    assert_same_state(model, from_pretrained("mlp-digits-dfa"))


def test_unknown_id_suggests_close_matches():
    with pytest.raises(UnknownModelError, match="Did you mean mlp-digits-dfa"):
        from_pretrained("mlp-digit-dfa")


def test_missing_folder_or_file_is_named(tmp_path):
    with pytest.raises(ModelLoadError, match="does not exist"):
        from_pretrained(tmp_path / "nowhere" / "deeper")
    save_model(tiny(), tmp_path)
    with pytest.raises(ModelLoadError, match="is a file; pass the folder"):
        from_pretrained(tmp_path / WEIGHTS_NAME)


def test_folder_without_weights(tmp_path):
    save_model(tiny(), tmp_path)
    (tmp_path / WEIGHTS_NAME).unlink()
    with pytest.raises(ModelLoadError, match="weights are missing"):
        from_pretrained(tmp_path)


def test_folder_without_config(tmp_path):
    save_model(tiny(), tmp_path)
    (tmp_path / CONFIG_NAME).unlink()
    with pytest.raises(ModelLoadError, match="no config.json"):
        from_pretrained(tmp_path)


def test_truncated_weights(tmp_path):
    save_model(tiny(), tmp_path)
    data = (tmp_path / WEIGHTS_NAME).read_bytes()
    (tmp_path / WEIGHTS_NAME).write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelLoadError, match="corrupted or truncated"):
        from_pretrained(tmp_path)


def test_shape_mismatch_names_the_tensor(tmp_path):
    save_model(tiny(), tmp_path)
    config = json.loads((tmp_path / CONFIG_NAME).read_text())
    config["hidden"] = [5, 9]
    (tmp_path / CONFIG_NAME).write_text(json.dumps(config))
    with pytest.raises(ModelLoadError, match=r"size mismatch for body\.4\.weight"):
        from_pretrained(tmp_path)


def rewrite_weights(folder, edit) -> None:
    """Apply ``edit`` to the tensors of ``folder``'s weights file and write them back."""
    tensors = load_file(folder / WEIGHTS_NAME)
    edit(tensors)
    save_file(tensors, folder / WEIGHTS_NAME)


def test_missing_keys_alone_are_rejected_and_named(tmp_path):
    save_model(tiny(), tmp_path)
    rewrite_weights(tmp_path, lambda t: t.pop("head.bias"))
    with pytest.raises(ModelLoadError, match=r"missing keys \['head\.bias'\], unexpected keys \[\]"):
        from_pretrained(tmp_path)


def test_unexpected_keys_alone_are_rejected_and_named(tmp_path):
    save_model(tiny(), tmp_path)
    rewrite_weights(tmp_path, lambda t: t.update(extra=torch.zeros(2)))
    with pytest.raises(ModelLoadError, match=r"missing keys \[\], unexpected keys \['extra'\]"):
        from_pretrained(tmp_path)


def test_config_that_changes_the_layers_names_both_kinds(tmp_path):
    save_model(tiny(bottleneck_layer=1, bottleneck_keep=2), tmp_path)
    config = json.loads((tmp_path / CONFIG_NAME).read_text())
    config["bottleneck_layer"] = config["bottleneck_keep"] = None
    (tmp_path / CONFIG_NAME).write_text(json.dumps(config))
    with pytest.raises(ModelLoadError, match=r"unexpected keys \[.*'body\.3\.mask'"):
        from_pretrained(tmp_path)
    config["batch_norm"] = True
    (tmp_path / CONFIG_NAME).write_text(json.dumps(config))
    with pytest.raises(ModelLoadError, match=r"missing keys \[.*running_mean"):
        from_pretrained(tmp_path)


def test_hub_offline_fails_fast_with_reason(tmp_path, monkeypatch):
    monkeypatch.setattr(hf_constants, "HF_HUB_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(hf_constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(HubUnavailableError, match="HF_HUB_OFFLINE is set"):
        from_pretrained("someorg/not-cached")
    # a zoo id without a local card goes to the Hub repo <org>/<id>
    monkeypatch.setenv("DFAZOO_ZOO_DIR", str(tmp_path))
    monkeypatch.setenv("DFAZOO_HUB_ORG", "myorg")
    with pytest.raises(HubUnavailableError, match="'myorg/mlp-digits-dfa'.*HF_HUB_OFFLINE"):
        from_pretrained("mlp-digits-dfa")


def test_hub_unreachable_online(tmp_path, monkeypatch):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed once the block ends: nothing listens there
    monkeypatch.setattr(hf_constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{port}")
    monkeypatch.setattr(hf_constants, "HF_HUB_CACHE", str(tmp_path))
    with pytest.raises(HubUnavailableError, match="unreachable"):
        from_pretrained("someorg/anything")


def test_top_level_exports():
    assert "mlp-digits-dfa" in dfazoo.list_models(domain="vision", method="dfa")
    assert dfazoo.from_pretrained is from_pretrained and dfazoo.save_model is save_model
    assert dfazoo.replace_head is finetune.replace_head
    assert dfazoo.evaluate_model is evaluate.evaluate_model
    assert all(getattr(dfazoo, name) is not None for name in dfazoo.__all__)


def test_data_package_exports_every_loader():
    """Every public ``load_*`` function of the dfazoo/data modules is exported by the package."""
    import importlib
    import inspect
    import pkgutil

    defined = set()
    for info in pkgutil.iter_modules(dfazoo.data.__path__):
        module = importlib.import_module(f"dfazoo.data.{info.name}")
        defined |= {
            name
            for name, fn in inspect.getmembers(module, inspect.isfunction)
            if name.startswith("load_") and fn.__module__ == module.__name__
        }
    assert len(defined) >= 8
    assert defined == {n for n in dfazoo.data.__all__ if n.startswith("load_")}
    assert dfazoo.data.load_digits is vision_data.load_digits
    assert all(
        getattr(dfazoo.data, name) is getattr(importlib.import_module(dfazoo.data._LOADERS[name]), name)
        for name in defined
    )


def test_revision_never_silently_ignored(tmp_path, monkeypatch):
    monkeypatch.setenv("DFAZOO_ZOO_DIR", str(tmp_path))
    save_model(tiny(), tmp_path / "model_cards" / "mlp-digits-dfa")
    with pytest.raises(ValueError, match="revision='v1' applies to Hub repos, not to the local folder"):
        from_pretrained(tmp_path / "model_cards" / "mlp-digits-dfa", revision="v1")
    asked = []

    def download(repo: str, revision: str | None):
        asked.append((repo, revision))
        return tmp_path / "model_cards" / "mlp-digits-dfa"

    monkeypatch.setattr(dfazoo.zoo.hub, "_download", download)
    from_pretrained("mlp-digits-dfa")
    assert asked == []  # the local card, no download
    from_pretrained("mlp-digits-dfa", revision="v1")
    assert asked == [("dfazoo/mlp-digits-dfa", "v1")]  # the Hub revision, not the local card
