"""The stored input normalisation equals what the task measures from the data."""

import json

import numpy as np
import pytest
import torch

from dfazoo.data import DatasetNotFoundError, load_digits
from dfazoo.spec import get_recipe, make_task
from dfazoo.vision import preprocess, preprocessing
from dfazoo.vision.normalization import TABLE, normalization_key
from dfazoo.zoo.hub import cards_dir

ZOO_DATASETS = {
    "digits/val_size=287": "mlp-digits-dfa",
    "mnist/val_size=5000": "mlp3x800-mnist-dfa",
    "cifar10/val_size=5000": "cnn-cifar10-dfa",
}


def test_the_table_covers_every_zoo_image_classifier():
    assert set(json.loads(TABLE.read_text())) == set(ZOO_DATASETS)
    assert normalization_key(get_recipe("mlp3x800-cifar10-bp")) == "cifar10/val_size=5000"


@pytest.mark.parametrize("key", sorted(ZOO_DATASETS))
def test_stored_values_are_the_measured_ones(key):
    torch.set_num_threads(1)
    try:
        task = make_task(get_recipe(ZOO_DATASETS[key]))
    except DatasetNotFoundError:
        pytest.skip(f"{key} data not available")
    stored = preprocessing(ZOO_DATASETS[key])
    assert stored == {"dataset": key.split("/")[0], **task.preprocessing}
    assert len(stored["mean"]) == (3 if key.startswith("cifar10") else 1)


def test_preprocess_reproduces_the_task_inputs_exactly():
    task = make_task(get_recipe("mlp-digits-dfa"))
    raw = load_digits().test_x  # uint8 0..16, as the task reads it
    torch.testing.assert_close(preprocess(raw, "mlp-digits-dfa"), task.tensors["test"][0], rtol=0, atol=0)
    with pytest.raises(ValueError, match=r"shape \(N, 1, H, W\)"):
        preprocess(np.zeros((2, 3, 8, 8)), "mlp-digits-dfa")
    with pytest.raises(ValueError, match="image classifiers"):
        preprocessing("gcn-cora-dfa")


@pytest.mark.parametrize("model_id", ["mlp3x800-mnist-dfa", "cnn-cifar10-bp", "mlp-digits-shallow"])
def test_each_vision_card_states_its_normalisation(model_id):
    p = preprocessing(model_id)
    card = (cards_dir() / model_id / "README.md").read_text()
    mean = ", ".join(f"{v:.4f}" for v in p["mean"])
    assert f"mean ({mean}) and std" in card and f'preprocess(images, "{model_id}")' in card
