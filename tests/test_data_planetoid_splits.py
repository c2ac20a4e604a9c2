"""The stratified 20/20/60 split of PyG's DNAConv example, on the generated Planetoid fixture."""

import pytest
import torch
from graph_fixtures import NUM_CLASSES, write_planetoid

from dfazoo.data.planetoid import load_planetoid


@pytest.fixture(scope="module")
def fixture_root(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("cache")))
        yield write_planetoid(tmp_path_factory.mktemp("data"))


def test_stratified_split_partitions_every_node_by_class(fixture_root):
    data = load_planetoid("cora", fixture_root, split="stratified_20_20_60", split_seed=55)
    train, val, test = data.train_mask, data.val_mask, data.test_mask
    assert torch.equal(train.int() + val.int() + test.int(), torch.ones(data.num_nodes, dtype=torch.int))
    n = data.num_nodes
    assert (
        abs(int(train.sum()) - n / 5) <= NUM_CLASSES and abs(int(test.sum()) - 3 * n / 5) <= 2 * NUM_CLASSES
    )
    # Stratified: each class keeps (within one node per fold) its share in the train fold.
    for c in range(NUM_CLASSES):
        in_class = data.y == c
        assert abs(int((train & in_class).sum()) - int(in_class.sum()) / 5) <= 1


def test_stratified_split_follows_its_seed(fixture_root):
    a = load_planetoid("cora", fixture_root, split="stratified_20_20_60", split_seed=55)
    b = load_planetoid("cora", fixture_root, split="stratified_20_20_60", split_seed=55)
    c = load_planetoid("cora", fixture_root, split="stratified_20_20_60", split_seed=1)
    assert torch.equal(a.train_mask, b.train_mask) and not torch.equal(a.train_mask, c.train_mask)
