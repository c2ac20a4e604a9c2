"""Language-modelling corpora as plain strings: Tiny Shakespeare, WikiText-2/103 (raw).

Layout under the data root: ``shakespeare/input.txt`` and ``wikitext-2-raw/wiki.{train,valid,
test}.raw`` (same for ``wikitext-103-raw``), as the original archives unpack.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from dfazoo.data.download import download
from dfazoo.data.root import CorruptDatasetError, DatasetNotFoundError, data_root, reading

SHAKESPEARE_URL = "https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt"
WIKITEXT_URLS: dict[str, list[str]] = {
    name: [
        f"https://s3.amazonaws.com/research.metamind.io/wikitext/{name}-raw-v1.zip",
        f"https://wikitext.smerity.com/{name}-raw-v1.zip",
    ]
    for name in ("wikitext-2", "wikitext-103")
}


@dataclass(frozen=True)
class TextSplits:
    """Train, validation and test text of one corpus; ``notes`` says how it was split."""

    name: str
    train: str
    val: str
    test: str
    notes: str = ""


def _read_text(path: Path) -> str:
    with reading(path):
        text = path.read_text(encoding="utf-8")
    if not text.strip():
        raise CorruptDatasetError(f"corpus file {path} is empty: it holds no text to train or evaluate on")
    return text


def split_text(
    name: str, text: str, fractions: tuple[float, float] = (0.9, 0.05), source: str = ""
) -> TextSplits:
    """``text`` cut by character position into contiguous train / validation / test parts
    (``fractions`` = train, val; the rest is test), so test text is never seen in training."""
    train_end = int(len(text) * fractions[0])
    val_end = train_end + int(len(text) * fractions[1])
    if not 0 < train_end < val_end < len(text):
        raise ValueError(f"{name}: {len(text)} characters are too few to split by {fractions}")
    notes = (
        f"{source}no official split: characters [0, {train_end}) train, [{train_end}, {val_end}) "
        f"validation, [{val_end}, {len(text)}) test (contiguous)"
    )
    return TextSplits(name, text[:train_end], text[train_end:val_end], text[val_end:], notes)


def load_text_file(path: str | os.PathLike[str], fractions: tuple[float, float] = (0.9, 0.05)) -> TextSplits:
    """Any UTF-8 text file, split contiguously as :func:`split_text` (e.g. to fine-tune on it).
    A missing or empty file raises a :class:`~dfazoo.data.root.DatasetError` naming it."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise DatasetNotFoundError(f"corpus file {path} does not exist")
    return split_text(path.stem, _read_text(path), fractions, f"{path.name}: ")


def load_shakespeare(
    root: str | os.PathLike[str] | None = None, fractions: tuple[float, float] = (0.9, 0.05)
) -> TextSplits:
    """Tiny Shakespeare (1,115,394 characters), cut by character position into contiguous parts:
    the first 90% train, the next 5% validation, the last 5% test (``fractions`` = train, val).
    The corpus has no official split; contiguous cuts keep test text unseen in training.
    """
    folder = download(
        SHAKESPEARE_URL,
        data_root(root) / "shakespeare",
        dataset="Tiny Shakespeare",
        expected_files=["input.txt"],
    )
    return split_text("shakespeare", _read_text(folder / "input.txt"), fractions)


def load_wikitext(root: str | os.PathLike[str] | None = None, name: str = "wikitext-2") -> TextSplits:
    """WikiText-2 or WikiText-103, raw (untokenised) character-level version, official splits."""
    if name not in WIKITEXT_URLS:
        raise ValueError(f"wikitext name={name!r}; choose one of {sorted(WIKITEXT_URLS)}")
    files = [f"{name}-raw/wiki.{split}.raw" for split in ("train", "valid", "test")]
    folder = download(WIKITEXT_URLS[name], data_root(root), dataset=f"{name} (raw)", expected_files=files)
    train, val, test = (_read_text(folder / f) for f in files)
    return TextSplits(name, train, val, test, "official train/valid/test files")
