"""One model format through every entry point: each way of saving, read back by each way of
loading, keeps the current method and placement, the feedback matrix and the masks."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import huggingface_hub
import pytest
import torch
from huggingface_hub import constants as hf_constants

import dfazoo
from dfazoo.core import DFAModel
from dfazoo.nlp import TransformerLM
from dfazoo.recsys import DCN
from dfazoo.recsys.recipes import MOVIELENS_FIELDS
from dfazoo.vision import MLP
from dfazoo.zoo import hub
from dfazoo.zoo.finetune import replace_head

ZOO_ID = "mlp-digits-dfa"  # a registered id, so create_model(pretrained=True) can resolve it


class FakeHubApi:
    """Stands in for HfApi: an upload copies the folder to ``<store>/<repo_id>``."""

    store: Path

    def create_repo(self, repo_id: str, **_: object) -> None:
        (self.store / repo_id).mkdir(parents=True, exist_ok=True)

    def upload_folder(self, *, repo_id: str, folder_path: Path, **_: object) -> None:
        shutil.copytree(folder_path, self.store / repo_id, dirs_exist_ok=True)


@pytest.fixture
def fake_hub(tmp_path, monkeypatch) -> Path:
    store = tmp_path / "hub"
    monkeypatch.setattr(FakeHubApi, "store", store, raising=False)
    monkeypatch.setattr(huggingface_hub, "HfApi", FakeHubApi)
    monkeypatch.setattr(huggingface_hub, "get_token", lambda: "token")
    monkeypatch.setattr(hf_constants, "is_offline_mode", lambda: False)
    monkeypatch.setattr(hub, "_download", lambda repo_id, revision: store / repo_id)
    monkeypatch.setenv("DFAZOO_ZOO_DIR", str(tmp_path / "zoo"))
    return store


def mlp() -> DFAModel:
    torch.manual_seed(0)
    model = MLP(64, [12, 8], 10, bottleneck_layer=1, bottleneck_keep=5, seed=3)
    return model.set_method("bp")  # not the constructor's method


def lm() -> DFAModel:
    torch.manual_seed(0)
    model = TransformerLM(vocab_size=17, d_model=8, n_layers=2, n_heads=2, d_ff=16, max_len=6, seed=5)
    return model.set_method("shallow").set_placement("micro")


def ctr() -> DFAModel:
    """A recommender: its field encoding (``fields``) must come back through config.json."""
    torch.manual_seed(0)
    model = DCN(MOVIELENS_FIELDS, embed_dim=4, num_cross_layers=2, mlp_dims=[6], seed=2)
    return model.set_placement("micro")


def finetuned_mlp() -> DFAModel:
    return replace_head(mlp(), num_outputs=4)


# Each writer saves ``model`` and returns what a reader needs: (folder, Hub repo id, zoo id).
def by_save_pretrained(model: DFAModel, tmp: Path) -> tuple[Path, str, str]:
    folder = model.save_pretrained(tmp / "zoo" / "model_cards" / ZOO_ID)
    return folder, "", ZOO_ID


def by_save_model(model: DFAModel, tmp: Path) -> tuple[Path, str, str]:
    folder = dfazoo.save_model(model, tmp / "zoo" / "model_cards" / ZOO_ID, model_id=ZOO_ID)
    return folder, "", ZOO_ID


def by_push_to_hub(model: DFAModel, tmp: Path) -> tuple[Path, str, str]:
    model.push_to_hub(f"someone/{ZOO_ID}")
    return tmp / "hub" / "someone" / ZOO_ID, f"someone/{ZOO_ID}", ""


WRITERS = [by_save_pretrained, by_save_model, by_push_to_hub]
READERS: dict[str, Callable[[type[DFAModel], Path, str, str], DFAModel]] = {
    "dfazoo.from_pretrained(folder)": lambda cls, folder, repo, zid: dfazoo.from_pretrained(folder),
    "Arch.from_pretrained(folder)": lambda cls, folder, repo, zid: cls.from_pretrained(folder),
    "dfazoo.from_pretrained(hub repo)": lambda cls, folder, repo, zid: dfazoo.from_pretrained(repo or folder),
    "Arch.from_pretrained(hub repo)": lambda cls, folder, repo, zid: cls.from_pretrained(repo or folder),
    "dfazoo.from_pretrained(zoo id)": lambda cls, folder, repo, zid: dfazoo.from_pretrained(zid or repo),
    "create_model(pretrained=True)": lambda cls, folder, repo, zid: (
        dfazoo.create_model(zid, pretrained=True) if zid else dfazoo.from_pretrained(repo)
    ),
}


def assert_same_model(a: DFAModel, b: DFAModel) -> None:
    assert type(a) is type(b)
    assert (a.method, a.placement) == (b.method, b.placement)
    assert a.get_config() == b.get_config()
    sa, sb = a.state_dict(), b.state_dict()
    assert sa.keys() == sb.keys()
    for key in sa:
        assert torch.equal(sa[key], sb[key]), key
    assert {k: v.tolist() for k, v in a.feedback_matrices().items()} == {
        k: v.tolist() for k, v in b.feedback_matrices().items()
    }


@pytest.mark.parametrize(
    "make", [mlp, lm, finetuned_mlp, ctr], ids=["mlp+mask", "lm-micro", "finetuned", "ctr-micro"]
)
@pytest.mark.parametrize("writer", WRITERS, ids=lambda w: w.__name__)
@pytest.mark.parametrize("reader", list(READERS), ids=list(READERS))
def test_every_writer_round_trips_through_every_reader(make, writer, reader, tmp_path, fake_hub):
    model = make()
    folder, repo, zid = writer(model, tmp_path)
    loaded = READERS[reader](type(model), folder, repo, zid)
    assert_same_model(model, loaded)
    assert not loaded.training


def test_masks_and_feedback_survive(tmp_path):
    model = mlp()
    loaded = MLP.from_pretrained(model.save_pretrained(tmp_path))
    masks = [k for k in loaded.state_dict() if k.endswith("mask")]
    assert masks and torch.equal(loaded.state_dict()[masks[0]], model.state_dict()[masks[0]])
    assert torch.equal(loaded.feedback.matrix, model.feedback.matrix)


def test_loading_with_the_wrong_class_names_both(tmp_path):
    folder = mlp().save_pretrained(tmp_path)
    with pytest.raises(dfazoo.zoo.ModelLoadError, match="holds a 'mlp' model, not 'transformer'"):
        TransformerLM.from_pretrained(folder)


def test_from_pretrained_rejects_non_path_ids():
    for bad in (42, None):
        with pytest.raises(TypeError, match="zoo id, a Hub repo id or a folder path"):
            dfazoo.from_pretrained(bad)  # type: ignore[arg-type]


def test_unsaveable_constructor_argument_is_named(tmp_path):
    model = MLP(4, [3], 2)
    model.update_config(activation=torch.nn.Tanh())
    with pytest.raises(TypeError, match="activation=Tanh"):
        model.save_pretrained(tmp_path)
