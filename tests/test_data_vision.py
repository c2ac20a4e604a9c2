import gzip
import pickle
import tarfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from dfazoo.data import CorruptDatasetError, DatasetNotFoundError
from dfazoo.data import vision as vdata


def write_idx(path: Path, array: np.ndarray) -> None:
    header = bytes([0, 0, 8, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    with gzip.open(path, "wb") as fh:
        fh.write(header + array.astype(np.uint8).tobytes())


def make_idx_folder(folder: Path, n_train: int = 12, n_test: int = 5) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    arrays = {
        "train-images-idx3-ubyte.gz": rng.integers(0, 256, (n_train, 28, 28)),
        "train-labels-idx1-ubyte.gz": rng.integers(0, 10, n_train),
        "t10k-images-idx3-ubyte.gz": rng.integers(0, 256, (n_test, 28, 28)),
        "t10k-labels-idx1-ubyte.gz": rng.integers(0, 10, n_test),
    }
    folder.mkdir(parents=True, exist_ok=True)
    for name, array in arrays.items():
        write_idx(folder / name, array)
    return arrays


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("DFAZOO_OFFLINE", "1")


def test_idx_roundtrip_and_mnist_layout(tmp_path):
    arrays = make_idx_folder(tmp_path / "mnist")
    data = vdata.load_image_dataset("mnist", tmp_path)
    assert data.train_x.shape == (12, 1, 28, 28) and data.test_x.shape == (5, 1, 28, 28)
    np.testing.assert_array_equal(data.train_x[:, 0], arrays["train-images-idx3-ubyte.gz"])
    np.testing.assert_array_equal(data.test_y, arrays["t10k-labels-idx1-ubyte.gz"])
    assert data.train_y.dtype == np.int64
    assert data.test_x.flags.writeable, "read-only arrays make torch.from_numpy warn"


def test_idx_rejects_truncated_file(tmp_path):
    path = tmp_path / "bad.gz"
    with gzip.open(path, "wb") as fh:
        fh.write(bytes([0, 0, 8, 1]) + (10).to_bytes(4, "big") + b"\x01\x02")
    with pytest.raises(CorruptDatasetError, match=r"bad\.gz is corrupt or truncated \(holds 2 bytes"):
        vdata.read_idx(path)


def assert_one_line_naming(err: pytest.ExceptionInfo, name: str) -> None:
    message = str(err.value)
    assert "\n" not in message and name in message and "download it again" in message, message


def test_truncated_mnist_gz_names_the_file(tmp_path):
    make_idx_folder(tmp_path / "mnist")
    path = tmp_path / "mnist" / "train-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:-40])  # cut inside the deflate stream: EOFError without a guard
    with pytest.raises(CorruptDatasetError) as err:
        vdata.load_image_dataset("mnist", tmp_path)
    assert_one_line_naming(err, str(path))


def test_garbled_cifar_pickle_names_the_file(tmp_path):
    folder = tmp_path / "cifar10" / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    for name in vdata.CIFAR_PICKLES:
        batch = {b"data": np.zeros((2, 3072), dtype=np.uint8), b"labels": [0, 1]}
        (folder / name).write_bytes(pickle.dumps(batch))
    (folder / "data_batch_3").write_bytes(b"<html>Not Found</html>")
    with pytest.raises(CorruptDatasetError) as err:
        vdata.load_image_dataset("cifar10", tmp_path)
    assert_one_line_naming(err, str(folder / "data_batch_3"))


def test_fashion_mnist_falls_back_to_system_folder(tmp_path, monkeypatch):
    system = tmp_path / "usr-share"
    make_idx_folder(system)
    monkeypatch.setattr(vdata, "FASHION_SYSTEM_DIR", system)
    data = vdata.load_image_dataset("fashion-mnist", tmp_path / "empty-root")
    assert data.classes[0] == "T-shirt/top" and len(data.train_x) == 12


def test_missing_dataset_names_expected_files(tmp_path):
    with pytest.raises(DatasetNotFoundError, match="train-images-idx3-ubyte.gz"):
        vdata.load_image_dataset("mnist", tmp_path)
    with pytest.raises(DatasetNotFoundError, match="data_batch_1"):
        vdata.load_image_dataset("cifar10", tmp_path)


def test_cifar_pickles(tmp_path):
    folder = tmp_path / "cifar10" / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(1)
    for name in vdata.CIFAR_PICKLES:
        batch = {b"data": rng.integers(0, 256, (4, 3072), dtype=np.uint8), b"labels": [1, 2, 3, 4]}
        (folder / name).write_bytes(pickle.dumps(batch))
    data = vdata.load_image_dataset("cifar10", tmp_path)
    assert data.train_x.shape == (20, 3, 32, 32) and data.test_x.shape == (4, 3, 32, 32)
    assert data.train_y.tolist()[:4] == [1, 2, 3, 4]
    assert "official pickles" in data.notes


def write_cifar_tar(tar_path: Path, colors: dict[str, tuple[int, int, int]]) -> None:
    staging = tar_path.parent / "staging"
    with tarfile.open(tar_path, "w:gz") as tar:
        for split in ("train", "test"):
            for cls, color in colors.items():
                for i in range(2):
                    path = staging / split / cls / f"{i:04d}.jpg"
                    path.parent.mkdir(parents=True, exist_ok=True)
                    Image.new("RGB", (32, 32), color).save(path, quality=95)
                    tar.add(path, arcname=f"{split}/{cls}/{i:04d}.jpg")


def cifar_caches(tmp_path: Path) -> list[Path]:
    return list((tmp_path / "cache" / "dfazoo" / "processed" / "cifar10-jpeg").glob("*.npz"))


def test_cifar_jpeg_tar_is_decoded_once_into_the_cache(tmp_path):
    tar_path = tmp_path / "cifar10" / vdata.CIFAR_JPEG_TAR
    tar_path.parent.mkdir()
    write_cifar_tar(tar_path, {"airplane": (250, 10, 10), "truck": (10, 10, 250)})
    data = vdata.load_image_dataset("cifar10", tmp_path)
    assert data.train_x.shape == (4, 3, 32, 32)
    assert data.train_y.tolist() == [0, 0, 9, 9]
    assert abs(int(data.train_x[0, 0].mean()) - 250) < 6 and abs(int(data.train_x[3, 2].mean()) - 250) < 6
    assert "JPEG re-encoded" in data.notes
    (cached,) = cifar_caches(tmp_path)
    built = cached.stat()
    vdata.load_image_dataset("cifar10", tmp_path)  # unchanged tar: the cache is reused, not rebuilt
    assert cifar_caches(tmp_path) == [cached] and cached.stat().st_mtime_ns == built.st_mtime_ns
    tar_path.unlink()
    write_cifar_tar(tar_path, {"airplane": (10, 250, 10), "truck": (10, 10, 250)})
    changed = vdata.load_image_dataset("cifar10", tmp_path)  # a new tar must not be served stale
    assert abs(int(changed.train_x[0, 1].mean()) - 250) < 6
    assert len(cifar_caches(tmp_path)) == 1 and not cached.exists(), "the stale cache is removed"


def test_truncated_cifar_tar_names_the_file_and_leaves_no_cache(tmp_path):
    tar_path = tmp_path / "cifar10" / vdata.CIFAR_JPEG_TAR
    tar_path.parent.mkdir()
    write_cifar_tar(tar_path, {"airplane": (250, 10, 10), "truck": (10, 10, 250)})
    good = tar_path.read_bytes()
    tar_path.write_bytes(good[: len(good) // 2])
    with pytest.raises(CorruptDatasetError) as err:
        vdata.load_image_dataset("cifar10", tmp_path)
    assert_one_line_naming(err, str(tar_path))
    assert cifar_caches(tmp_path) == []
    tar_path.write_bytes(good)  # the good file replaces the bad one: it loads, nothing to delete by hand
    assert vdata.load_image_dataset("cifar10", tmp_path).train_y.tolist() == [0, 0, 9, 9]


def test_digits_split_is_stratified_and_deterministic():
    a, b = vdata.load_digits(), vdata.load_digits()
    assert a.train_x.shape == (1437, 1, 8, 8) and a.test_x.shape == (360, 1, 8, 8)
    np.testing.assert_array_equal(a.test_y, b.test_y)
    counts = np.bincount(a.test_y, minlength=10)
    assert counts.min() >= 35 and counts.max() <= 37
    assert a.pixel_max == 16.0 and a.train_x.max() == 16


@pytest.mark.data
def test_real_mnist_and_cifar(shared_data):
    mnist = vdata.load_image_dataset("mnist", shared_data)
    assert mnist.train_x.shape == (60000, 1, 28, 28) and mnist.test_x.shape == (10000, 1, 28, 28)
    cifar = vdata.load_image_dataset("cifar10", shared_data)
    assert cifar.train_x.shape == (50000, 3, 32, 32) and np.bincount(cifar.test_y).tolist() == [1000] * 10


def test_decoding_off_a_terminal_draws_no_progress_frames(tmp_path, capsys):
    tar_path = tmp_path / "cifar10" / vdata.CIFAR_JPEG_TAR
    tar_path.parent.mkdir()
    write_cifar_tar(tar_path, {"airplane": (250, 10, 10), "truck": (10, 10, 250)})
    vdata.load_image_dataset("cifar10", tmp_path)
    assert "decoding" not in capsys.readouterr().err  # captured stderr is not a terminal
