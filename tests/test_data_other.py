"""Text, MovieLens, Criteo and NeRF loaders and the shared downloader, on generated fixtures."""

from __future__ import annotations

import json
import random
import zipfile

import numpy as np
import pytest
import torch
from PIL import Image

from dfazoo.data.criteo import load_criteo
from dfazoo.data.download import download
from dfazoo.data.movielens import load_movielens
from dfazoo.data.nerf import load_blender
from dfazoo.data.root import CorruptDatasetError, DatasetNotFoundError
from dfazoo.data.text import load_shakespeare, load_wikitext


@pytest.fixture
def online(monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("DFAZOO_OFFLINE", raising=False)


@pytest.fixture
def offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


def corrupt_message(load, *args) -> str:
    """The one-line message ``load(*args)`` raises for a corrupt file."""
    with pytest.raises(CorruptDatasetError) as err:
        load(*args)
    message = str(err.value)
    assert "\n" not in message and "download it again" in message, message
    return message


# -- downloader ------------------------------------------------------------------------------


def make_zip(path, files: dict[str, str]):
    with zipfile.ZipFile(path, "w") as zf:
        for name, text in files.items():
            zf.writestr(name, text)
    return path.as_uri()


def test_download_extracts_an_archive_after_a_broken_mirror(tmp_path, online):
    url = make_zip(tmp_path / "corpus.zip", {"corpus/a.txt": "hello"})
    dest = download(
        [(tmp_path / "gone.zip").as_uri(), url],
        tmp_path / "data",
        dataset="Corpus",
        expected_files=["corpus/a.txt"],
    )
    assert (dest / "corpus/a.txt").read_text() == "hello"
    assert not (dest / "corpus.zip").exists()


def test_download_names_files_an_archive_did_not_provide(tmp_path, online):
    url = make_zip(tmp_path / "corpus.zip", {"corpus/a.txt": "hello"})
    with pytest.raises(
        DatasetNotFoundError, match=r"expected corpus/b.txt in .*data.*did not provide corpus/b.txt"
    ):
        download(url, tmp_path / "data", dataset="Corpus", expected_files=["corpus/a.txt", "corpus/b.txt"])


def test_download_saves_a_plain_file_under_its_name(tmp_path, online):
    (tmp_path / "raw.txt").write_text("text")
    dest = download(
        (tmp_path / "raw.txt").as_uri(),
        tmp_path / "data",
        dataset="X",
        expected_files=["input.txt"],
        filename="input.txt",
    )
    assert (dest / "input.txt").read_text() == "text"


def test_download_offline_never_fetches(tmp_path, offline):
    url = make_zip(tmp_path / "corpus.zip", {"corpus/a.txt": "hello"})
    with pytest.raises(DatasetNotFoundError, match="Offline mode is on"):
        download(url, tmp_path / "data", dataset="Corpus", expected_files=["corpus/a.txt"])
    assert not (tmp_path / "data").exists()


@pytest.mark.parametrize(
    ("load", "expected"),
    [
        (load_shakespeare, "shakespeare/input.txt"),
        (lambda root: load_wikitext(root, "wikitext-103"), "wikitext-103-raw/wiki.train.raw"),
        (load_movielens, "movielens/ml-100k/u.data"),
        (lambda root: load_movielens(root, "1m"), "movielens/ml-1m/ratings.dat"),
        (load_criteo, "criteo/train.txt"),
        (load_blender, "nerf/nerf_synthetic/lego/transforms_train.json"),
    ],
)
def test_missing_dataset_offline_names_path_and_files(tmp_path, offline, load, expected):
    with pytest.raises(DatasetNotFoundError) as err:
        load(tmp_path)
    message = str(err.value)
    assert str(tmp_path) in message and expected.split("/", 1)[1] in message and "Offline" in message


# -- text ------------------------------------------------------------------------------------


def test_shakespeare_is_cut_90_5_5_by_character(tmp_path):
    rng = random.Random(0)
    text = "".join(rng.choice("abc \n") for _ in range(1000))
    (tmp_path / "shakespeare").mkdir()
    (tmp_path / "shakespeare/input.txt").write_text(text)
    splits = load_shakespeare(tmp_path)
    assert (len(splits.train), len(splits.val), len(splits.test)) == (900, 50, 50)
    assert splits.train + splits.val + splits.test == text
    assert "[900, 950) validation" in splits.notes


def test_wikitext_reads_the_official_files(tmp_path):
    folder = tmp_path / "wikitext-2-raw"
    folder.mkdir()
    for split in ("train", "valid", "test"):
        (folder / f"wiki.{split}.raw").write_text(f" = {split} = \n")
    splits = load_wikitext(tmp_path, "wikitext-2")
    assert (splits.train, splits.val, splits.test) == (" = train = \n", " = valid = \n", " = test = \n")
    with pytest.raises(ValueError, match="wikitext-3"):
        load_wikitext(tmp_path, "wikitext-3")


def test_undecodable_text_names_the_file(tmp_path):
    (tmp_path / "shakespeare").mkdir()
    (tmp_path / "shakespeare/input.txt").write_bytes(b"First Citizen:\n\xff\xfe\x00garbage")
    assert str(tmp_path / "shakespeare/input.txt") in corrupt_message(load_shakespeare, tmp_path)


# -- MovieLens -------------------------------------------------------------------------------


def write_ratings(tmp_path, variant: str, sep: str, rows: int = 50):
    rng = random.Random(1)
    lines = [
        sep.join(map(str, (rng.randint(1, 7), rng.randint(1, 9), rng.randint(1, 5), 880000000 + i)))
        for i in range(rows)
    ]
    lines[0] = sep.join(("7", "9", "5", "880000000"))
    folder = tmp_path / "movielens" / f"ml-{variant}"
    folder.mkdir(parents=True)
    (folder / ("u.data" if variant == "100k" else "ratings.dat")).write_text("\n".join(lines) + "\n")
    return lines


@pytest.mark.parametrize(("variant", "sep"), [("100k", "\t"), ("1m", "::")])
def test_movielens_parses_and_splits_with_a_seed(tmp_path, variant, sep):
    lines = write_ratings(tmp_path, variant, sep)
    data = load_movielens(tmp_path, variant, seed=3)
    assert (data.num_users, data.num_items) == (7, 9)
    assert data.users[0].item() == 6 and data.items[0].item() == 8 and data.ratings[0].item() == 5.0
    assert data.timestamps[1].item() == int(lines[1].split(sep)[3])
    sizes = {k: len(v) for k, v in data.splits.items()}
    assert sizes == {"train": 40, "val": 5, "test": 5}
    assert sorted(torch.cat(list(data.splits.values())).tolist()) == list(range(50))
    users, items, ratings = data.split("val")
    assert torch.equal(ratings, data.ratings[data.splits["val"]]) and len(users) == len(items) == 5
    assert torch.equal(load_movielens(tmp_path, variant, seed=3).splits["test"], data.splits["test"])
    assert not torch.equal(load_movielens(tmp_path, variant, seed=4).splits["test"], data.splits["test"])


@pytest.mark.parametrize(("variant", "sep"), [("100k", "\t"), ("1m", "::")])
def test_movielens_malformed_line_names_file_and_line(tmp_path, variant, sep):
    lines = write_ratings(tmp_path, variant, sep)
    path = tmp_path / "movielens" / f"ml-{variant}" / ("u.data" if variant == "100k" else "ratings.dat")
    lines[6] = sep.join(("3", "oops", "4", "880000006"))
    path.write_text("\n".join(lines) + "\n")
    message = corrupt_message(load_movielens, tmp_path, variant)
    assert str(path) in message and "line 7 " in message
    path.write_text("\n".join(lines[:6]) + "\n" + lines[7][:5])  # cut mid-line, like an interrupted copy
    assert "line 7 " in corrupt_message(load_movielens, tmp_path, variant)


# -- Criteo ----------------------------------------------------------------------------------


def test_criteo_goes_through_torchfm_and_caches_outside_the_data_root(tmp_path, monkeypatch):
    pytest.importorskip("lmdb", reason="torchfm's CriteoDataset needs lmdb (pip install lmdb)")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    rng = random.Random(0)
    (tmp_path / "criteo").mkdir()
    rows = []
    for _ in range(100):
        ints = [str(rng.randint(0, 40)) if rng.random() > 0.2 else "" for _ in range(13)]
        cats = [rng.choice(["68fd1e64", "80e26c9b", ""]) for _ in range(26)]
        rows.append("\t".join([str(rng.randint(0, 1)), *ints, *cats]))
    rows.append("1\tbroken line")
    (tmp_path / "criteo/train.txt").write_text("\n".join(rows) + "\n")
    data = load_criteo(tmp_path, min_threshold=2)
    assert len(data.dataset) == 100
    assert {k: len(v) for k, v in data.splits.items()} == {"train": 80, "val": 10, "test": 10}
    assert len(data.field_dims) == 39 and data.field_dims[13] == 4  # three values + the rare index
    fields, label = data.dataset[0]
    assert fields.shape == (39,) and int(label) == int(rows[0].split("\t")[0])
    assert all(int(fields[i]) < data.field_dims[i] for i in range(39))
    assert list((tmp_path / "cache/dfazoo/processed/criteo").iterdir())
    assert sorted(p.name for p in (tmp_path / "criteo").iterdir()) == ["train.txt"]
    again = load_criteo(tmp_path, min_threshold=2)
    assert again.splits["test"].indices == data.splits["test"].indices
    (cache,) = (tmp_path / "cache/dfazoo/processed/criteo").iterdir()
    (tmp_path / "criteo/train.txt").write_text("\n".join(rows[:50]) + "\n")
    assert len(load_criteo(tmp_path, min_threshold=2).dataset) == 50, "a changed file rebuilds the cache"
    assert not cache.exists(), "and the stale cache is removed"
    (tmp_path / "criteo/train.txt").write_text("\t".join(["label?"] + [""] * 39) + "\n")
    assert str(tmp_path / "criteo/train.txt") in corrupt_message(load_criteo, tmp_path, 2)


# -- NeRF ------------------------------------------------------------------------------------


def write_scene(tmp_path, frames: int, splits=("train",)):
    folder = tmp_path / "nerf/nerf_synthetic/toy"
    for split in splits:
        (folder / split).mkdir(parents=True)
        meta = {"camera_angle_x": 0.5, "frames": []}
        for i in range(frames):
            pixels = np.full((8, 8, 4), 10 * i, dtype=np.uint8)
            pixels[:4, :4] = 250  # top-left 4x4 block bright: averages into one pixel at size 2
            pixels[..., 3] = 255  # opaque, so PIL's premultiplied-alpha resize is exact
            Image.fromarray(pixels, "RGBA").save(folder / split / f"r_{i}.png")
            pose = np.eye(4).tolist()
            pose[0][3] = float(i)
            meta["frames"].append(
                {"file_path": f"./{split}/r_{i}", "rotation": 0.0, "transform_matrix": pose}
            )
        (folder / f"transforms_{split}.json").write_text(json.dumps(meta))
    return folder


def test_blender_holds_out_val_and_test_from_train(tmp_path):
    write_scene(tmp_path, frames=8)
    scene = load_blender(tmp_path, "toy", size=2, holdout_every=4)
    assert scene.splits["test"].files == ("train/r_0.png", "train/r_4.png")
    assert scene.splits["val"].files == ("train/r_2.png", "train/r_6.png")
    assert len(scene.splits["train"].files) == 4
    train = scene.splits["train"]
    assert train.images.shape == (4, 2, 2, 4) and train.images.dtype == torch.float32
    assert train.images[0, 0, 0, 0].item() == pytest.approx(250 / 255) and train.images[
        0, 1, 1, 0
    ].item() == pytest.approx(10 / 255)
    assert train.poses[:, 0, 3].tolist() == [1.0, 3.0, 5.0, 7.0]
    assert scene.focal == pytest.approx(0.5 * 2 / np.tan(0.25))
    assert "held out" in scene.notes


def test_blender_uses_official_splits_when_present(tmp_path):
    write_scene(tmp_path, frames=2, splits=("train", "val", "test"))
    scene = load_blender(tmp_path, "toy", size=None)
    assert scene.splits["val"].files == ("val/r_0.png", "val/r_1.png")
    assert (scene.height, scene.width) == (8, 8) and scene.focal == pytest.approx(4 / np.tan(0.25))
    assert scene.notes == "official train/val/test splits"


def test_blender_names_a_missing_frame(tmp_path):
    folder = write_scene(tmp_path, frames=2)
    (folder / "train/r_1.png").unlink()
    with pytest.raises(DatasetNotFoundError, match="r_1.png"):
        load_blender(tmp_path, "toy", holdout_every=100)


def test_blender_names_a_corrupt_frame(tmp_path):
    folder = write_scene(tmp_path, frames=2)
    png = folder / "train/r_1.png"
    png.write_bytes(png.read_bytes()[:60])
    assert str(png) in corrupt_message(load_blender, tmp_path, "toy", 2, 100)


def test_blender_names_a_corrupt_transforms_json(tmp_path):
    folder = write_scene(tmp_path, frames=2)
    meta = folder / "transforms_train.json"
    meta.write_text(meta.read_text()[:100])
    assert str(meta) in corrupt_message(load_blender, tmp_path, "toy")
    meta.write_text(json.dumps({"camera_angle_x": 0.5, "frames": [{"file_path": "./train/r_0"}]}))
    assert str(meta) in corrupt_message(load_blender, tmp_path, "toy")


# -- real data (skip when absent) --------------------------------------------------------------


def require(root, relative):
    if not (root / relative).exists():
        pytest.skip(f"{relative} is not in the data root {root}")


@pytest.mark.data
def test_real_shakespeare(shared_data):
    require(shared_data, "shakespeare/input.txt")
    splits = load_shakespeare(shared_data)
    assert len(splits.train) + len(splits.val) + len(splits.test) == 1_115_394
    assert splits.train.startswith("First Citizen:")


@pytest.mark.data
@pytest.mark.parametrize("name", ["wikitext-2", "wikitext-103"])
def test_real_wikitext(shared_data, name):
    require(shared_data, f"{name}-raw/wiki.train.raw")
    splits = load_wikitext(shared_data, name)
    assert len(splits.train) > len(splits.val) > 0


@pytest.mark.data
def test_real_movielens_100k(shared_data):
    require(shared_data, "movielens/ml-100k/u.data")
    data = load_movielens(shared_data, "100k")
    assert (len(data.ratings), data.num_users, data.num_items) == (100_000, 943, 1682)
    assert set(data.ratings.unique().tolist()) == {1.0, 2.0, 3.0, 4.0, 5.0}


@pytest.mark.data
def test_real_movielens_1m(shared_data):
    require(shared_data, "movielens/ml-1m/ratings.dat")
    assert len(load_movielens(shared_data, "1m").ratings) == 1_000_209


@pytest.mark.data
def test_real_criteo(shared_data):
    require(shared_data, "criteo/train.txt")
    assert len(load_criteo(shared_data).field_dims) == 39


@pytest.mark.data
def test_real_lego_holds_out_frames(shared_data):
    require(shared_data, "nerf/nerf_synthetic/lego/transforms_train.json")
    scene = load_blender(shared_data, "lego", size=50)
    assert {k: len(v.files) for k, v in scene.splits.items()} == {"train": 80, "val": 10, "test": 10}
    assert scene.focal == pytest.approx(0.5 * 50 / np.tan(0.5 * 0.6911112070083618))
