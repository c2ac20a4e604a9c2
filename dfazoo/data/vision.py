"""Image classification datasets as in-memory uint8 arrays: digits, MNIST, Fashion-MNIST, CIFAR-10.

Every loader returns an :class:`ImageData` with images ``(N, C, H, W)`` uint8 and int64 labels.
MNIST-style sets are read from the official IDX ``.gz`` files. CIFAR-10 is read from the
official python pickles (``cifar-10-batches-py/``) when present, else from the JPEG tar layout
(``cifar10-jpeg.tar.gz``: ``train|test/<class>/NNNN.jpg``), decoded once into a cached ``.npz``
in :func:`dfazoo.data.root.cache_dir` (never inside the data root).
"""

from __future__ import annotations

import gzip
import io
import pickle
import tarfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image
from tqdm import tqdm

from dfazoo.data.cache import keyed_cache, prune_stale
from dfazoo.data.root import corrupt_file, data_root, is_offline, reading, require_files
from dfazoo.files import atomic_file

DATASETS: tuple[str, ...] = ("digits", "mnist", "fashion-mnist", "cifar10")
CIFAR10_CLASSES: tuple[str, ...] = (
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
)
IDX_FILES: tuple[str, ...] = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)
CIFAR_PICKLES: tuple[str, ...] = tuple(f"data_batch_{i}" for i in range(1, 6)) + ("test_batch",)
CIFAR_JPEG_TAR = "cifar10-jpeg.tar.gz"
FASHION_SYSTEM_DIR = Path("/usr/share/datasets/fashion-mnist")
SOURCES = {
    "mnist": "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "fashion-mnist": "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
    "cifar10": "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
}


@dataclass
class ImageData:
    """Train and test images (N, C, H, W) uint8 with int64 labels; ``notes`` describes the source."""

    name: str
    train_x: np.ndarray
    train_y: np.ndarray
    test_x: np.ndarray
    test_y: np.ndarray
    classes: tuple[str, ...]
    notes: str = ""
    pixel_max: float = 255.0


def load_image_dataset(name: str, root: str | Path | None = None) -> ImageData:
    """Load ``name`` (one of :data:`DATASETS`) from the data root (``--data-root``/``$DFAZOO_DATA``)."""
    if name == "digits":
        return load_digits()
    base = data_root(root)
    if name == "mnist":
        return load_idx_dataset(_find_idx_folder(base, "mnist"), "mnist")
    if name == "fashion-mnist":
        return load_idx_dataset(_find_idx_folder(base, "fashion-mnist"), "fashion-mnist")
    if name == "cifar10":
        return load_cifar10(base)
    raise ValueError(f"dataset={name!r} is unknown; choose one of {DATASETS}")


def load_digits(test_fraction: float = 0.2, seed: int = 0) -> ImageData:
    """scikit-learn's bundled 8x8 digits (values 0..16), split stratified 80/20 with a fixed seed."""
    from sklearn.datasets import load_digits as sk_load_digits
    from sklearn.model_selection import train_test_split

    bunch = sk_load_digits()
    images = bunch.images.astype(np.uint8)[:, None]
    labels = bunch.target.astype(np.int64)
    x_tr, x_te, y_tr, y_te = train_test_split(
        images, labels, test_size=test_fraction, stratify=labels, random_state=seed
    )
    notes = f"scikit-learn load_digits (1797 8x8 images), stratified {1 - test_fraction:.0%}/{test_fraction:.0%} split, seed {seed}"
    return ImageData("digits", x_tr, y_tr, x_te, y_te, tuple(str(d) for d in range(10)), notes, 16.0)


def _find_idx_folder(base: Path, name: str) -> Path:
    candidates = [base / name, base]
    if name == "fashion-mnist":
        candidates += [base / "fashion_mnist", FASHION_SYSTEM_DIR]
    for folder in candidates:
        if all((folder / f).exists() for f in IDX_FILES):
            return folder
    _download_or_raise(base / name, list(IDX_FILES), name, [SOURCES[name] + f for f in IDX_FILES])
    return base / name


def read_idx(path: Path) -> np.ndarray:
    """Read one (gzipped) IDX file into an array of its declared shape.

    Raises :class:`~dfazoo.data.root.CorruptDatasetError` naming ``path`` if it is truncated or garbled.
    """
    opener = gzip.open if path.suffix == ".gz" else open
    with reading(path), opener(path, "rb") as fh:
        raw = bytearray(fh.read())  # writable, so torch.from_numpy needs no copy and gives no warning
    if len(raw) < 4 or raw[:2] != b"\x00\x00" or raw[2] != 0x08:
        raise corrupt_file(path, f"not an unsigned-byte IDX file, magic {raw[:4].hex()}")
    ndim = raw[3]
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    data = np.frombuffer(raw, dtype=np.uint8, offset=min(4 + 4 * ndim, len(raw)))
    if data.size != int(np.prod(shape)):
        raise corrupt_file(path, f"holds {data.size} bytes but declares shape {shape}")
    return data.reshape(shape)


def load_idx_dataset(folder: Path, name: str) -> ImageData:
    """MNIST or Fashion-MNIST from the four official IDX ``.gz`` files in ``folder``."""
    tr_x, tr_y, te_x, te_y = (read_idx(folder / f) for f in IDX_FILES)
    if name == "fashion-mnist":
        classes = (
            "T-shirt/top",
            "Trouser",
            "Pullover",
            "Dress",
            "Coat",
            "Sandal",
            "Shirt",
            "Sneaker",
            "Bag",
            "Ankle boot",
        )
    else:
        classes = tuple(str(d) for d in range(10))
    notes = f"{name}: official IDX files from {folder}"
    return ImageData(
        name, tr_x[:, None], tr_y.astype(np.int64), te_x[:, None], te_y.astype(np.int64), classes, notes
    )


def load_cifar10(base: Path) -> ImageData:
    """Official pickles if found under ``base`` (or ``base/cifar10``), else the JPEG tar copy."""
    for folder in (base / "cifar10" / "cifar-10-batches-py", base / "cifar-10-batches-py"):
        if all((folder / f).exists() for f in CIFAR_PICKLES):
            return load_cifar10_pickles(folder)
    for tar in (base / "cifar10" / CIFAR_JPEG_TAR, base / CIFAR_JPEG_TAR):
        if tar.exists():
            return load_cifar10_jpeg(tar)
    folder = base / "cifar10"
    expected = [f"cifar-10-batches-py/{f}" for f in CIFAR_PICKLES]
    _download_or_raise(folder, expected, "cifar10", [SOURCES["cifar10"]])
    return load_cifar10_pickles(folder / "cifar-10-batches-py")


def load_cifar10_pickles(folder: Path) -> ImageData:
    """The official ``cifar-10-batches-py`` pickles (uint8 rows of 3072 = 3 x 32 x 32)."""

    def read(name: str) -> tuple[np.ndarray, np.ndarray]:
        with reading(folder / name), open(folder / name, "rb") as fh:
            batch = pickle.load(fh, encoding="bytes")
            return batch[b"data"].reshape(-1, 3, 32, 32), np.asarray(batch[b"labels"], dtype=np.int64)

    parts = [read(f) for f in CIFAR_PICKLES[:5]]
    te_x, te_y = read("test_batch")
    tr_x = np.concatenate([p[0] for p in parts])
    tr_y = np.concatenate([p[1] for p in parts])
    return ImageData(
        "cifar10", tr_x, tr_y, te_x, te_y, CIFAR10_CLASSES, f"CIFAR-10 official pickles from {folder}"
    )


JPEG_NOTE = (
    "CIFAR-10 JPEG re-encoded copy (quality about 75): pixels close to, not identical to, the "
    "official images, so accuracies are not exactly comparable with results on the official pickles"
)


def load_cifar10_jpeg(tar_path: Path) -> ImageData:
    """Decode ``train|test/<class>/NNNN.jpg`` once, cache as ``.npz`` keyed by the tar's size/mtime."""
    cached = keyed_cache("cifar10-jpeg", [tar_path], suffix=".npz")
    if not cached.exists():
        with reading(tar_path):
            arrays = _decode_cifar_tar(tar_path)
        with atomic_file(cached) as f:
            np.savez(f, **arrays)
        prune_stale(cached)
    with reading(cached, "delete it; the next load rebuilds it"), np.load(cached) as z:
        arrays = {k: z[k] for k in z.files}
    notes = f"{JPEG_NOTE} ({tar_path.name})"
    return ImageData(
        "cifar10",
        arrays["train_x"],
        arrays["train_y"],
        arrays["test_x"],
        arrays["test_y"],
        CIFAR10_CLASSES,
        notes,
    )


def _decode_cifar_tar(tar_path: Path) -> dict[str, np.ndarray]:
    images: dict[str, list[tuple[str, np.ndarray, int]]] = {"train": [], "test": []}
    with tarfile.open(tar_path, "r:gz") as tar:
        bar = tqdm(tar, desc=f"decoding {tar_path.name}", unit="img", leave=False, disable=None)
        for member in bar:  # disable=None: a bar on a terminal only
            parts = Path(member.name).parts
            if not member.isfile() or len(parts) < 3 or parts[-3] not in images:
                continue
            split, cls = parts[-3], parts[-2]
            if cls not in CIFAR10_CLASSES:
                raise corrupt_file(tar_path, f"unexpected class folder {cls!r} in {member.name}")
            data = tar.extractfile(member).read()
            try:
                img = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"), dtype=np.uint8)
            except (OSError, SyntaxError, ValueError) as err:
                raise corrupt_file(tar_path, f"unreadable image {member.name}: {err}") from err
            images[split].append((member.name, img.transpose(2, 0, 1), CIFAR10_CLASSES.index(cls)))
    out = {}
    for split, items in images.items():
        if not items:
            raise corrupt_file(tar_path, f"no {split}/<class>/*.jpg images")
        items.sort(key=lambda t: t[0])
        out[f"{split}_x"] = np.stack([t[1] for t in items])
        out[f"{split}_y"] = np.asarray([t[2] for t in items], dtype=np.int64)
    return out


def _download_or_raise(folder: Path, expected: list[str], dataset: str, urls: list[str]) -> None:
    """Fetch with :func:`dfazoo.data.download.download` when online and available, else raise."""
    try:
        from dfazoo.data.download import download
    except ImportError:
        download = None
    if download is not None and not is_offline():
        for url in urls:
            download(url, folder, dataset=dataset, expected_files=expected)
    require_files(folder, expected, dataset, ", ".join(urls))
