"""Planetoid loading from a read-only data root (generated fixture; real Cora when present)."""

import os

import pytest
import torch
from graph_fixtures import NUM_CLASSES, NUM_EXTRA, NUM_FEATURES, NUM_TEST, NUM_TRAIN, NUM_VAL, write_planetoid

from dfazoo.data.planetoid import load_planetoid
from dfazoo.data.root import CorruptDatasetError, DatasetNotFoundError


@pytest.fixture(scope="module")
def fixture_root(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("cache")))
        yield write_planetoid(tmp_path_factory.mktemp("data"))


def test_public_split_and_normalised_features(fixture_root):
    data = load_planetoid("cora", fixture_root)
    assert data.num_nodes == NUM_TRAIN + NUM_VAL + NUM_EXTRA + NUM_TEST
    assert data.num_features == NUM_FEATURES and int(data.y.max()) + 1 == NUM_CLASSES
    assert (int(data.train_mask.sum()), int(data.val_mask.sum()), int(data.test_mask.sum())) == (
        NUM_TRAIN,
        NUM_VAL,
        NUM_TEST,
    )
    sums = data.x.sum(1)
    torch.testing.assert_close(sums[sums > 0], torch.ones_like(sums[sums > 0]))
    assert not any((fixture_root / "planetoid" / "Cora").glob("processed")), "data root must stay untouched"


def test_fresh_train_split_avoids_public_nodes_and_follows_its_seed(fixture_root):
    public = load_planetoid("cora", fixture_root)
    a = load_planetoid("cora", fixture_root, split="fresh_train", num_train_per_class=5, split_seed=1)
    b = load_planetoid("cora", fixture_root, split="fresh_train", num_train_per_class=5, split_seed=1)
    c = load_planetoid("cora", fixture_root, split="fresh_train", num_train_per_class=5, split_seed=2)
    assert torch.equal(a.train_mask, b.train_mask) and not torch.equal(a.train_mask, c.train_mask)
    assert not (a.train_mask & (public.train_mask | public.val_mask | public.test_mask)).any()
    assert torch.equal(a.test_mask, public.test_mask)
    assert torch.bincount(a.y[a.train_mask]).tolist() == [5] * NUM_CLASSES


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


def test_missing_dataset_names_the_files(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(DatasetNotFoundError, match=r"ind\.citeseer\.x"):
        load_planetoid("citeseer", tmp_path)
    with pytest.raises(ValueError, match="not a Planetoid graph"):
        load_planetoid("mnist", tmp_path)


@pytest.fixture
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache" / "dfazoo" / "processed" / "planetoid"


@pytest.mark.parametrize(
    ("suffix", "damage"),
    [
        ("x", lambda b: b[: len(b) // 2]),
        ("graph", lambda b: b"<html>404</html>"),
        ("test.index", lambda b: b"1\nx\n"),
    ],
)
def test_corrupt_raw_file_is_named_and_its_replacement_loads(tmp_path, private_cache, suffix, damage):
    root = write_planetoid(tmp_path / "data")
    path = root / "planetoid" / "Cora" / "raw" / f"ind.cora.{suffix}"
    path.write_bytes(damage(path.read_bytes()))
    with pytest.raises(CorruptDatasetError) as err:
        load_planetoid("cora", root)
    message = str(err.value)
    assert "\n" not in message and str(path) in message and "download it again" in message, message
    write_planetoid(root)  # the good files are back: no processed copy may still hold the bad one
    assert load_planetoid("cora", root).num_nodes == NUM_TRAIN + NUM_VAL + NUM_EXTRA + NUM_TEST


def test_processed_cache_is_reused_until_a_raw_file_changes(tmp_path, private_cache):
    root = write_planetoid(tmp_path / "data", seed=0)
    first = load_planetoid("cora", root)
    (processed,) = private_cache.glob("*/Cora/processed/data.pt")
    built = processed.stat().st_mtime_ns
    assert torch.equal(load_planetoid("cora", root).x, first.x)
    assert processed.stat().st_mtime_ns == built, "an unchanged source must reuse its cache"
    write_planetoid(root, seed=1)
    changed = load_planetoid("cora", root)
    fresh = load_planetoid("cora", write_planetoid(tmp_path / "other", seed=1))
    assert not torch.equal(changed.x, first.x) and torch.equal(changed.x, fresh.x)
    assert not processed.exists(), "the stale cache is removed once rebuilt"
    assert len(list(private_cache.iterdir())) == 2  # one per source folder


@pytest.mark.data
def test_real_cora(shared_data, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    data = load_planetoid("Cora", shared_data)
    assert (data.num_nodes, data.num_features) == (2708, 1433)
    assert int(data.train_mask.sum()) == 140 and int(data.test_mask.sum()) == 1000
    assert os.access(tmp_path / "dfazoo" / "processed", os.W_OK)
