"""Language-modelling corpora as plain strings: Tiny Shakespeare, WikiText-2/103 (raw).

Layout under the data root: ``shakespeare/input.txt`` and ``wikitext-2-raw/wiki.{train,valid,
test}.raw`` (same for ``wikitext-103-raw``), as the original archives unpack.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from dfazoo.data.download import download
from dfazoo.data.root import data_root, reading

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
        return path.read_text(encoding="utf-8")


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
    text = _read_text(folder / "input.txt")
    train_end = int(len(text) * fractions[0])
    val_end = train_end + int(len(text) * fractions[1])
    notes = (
        f"no official split: characters [0, {train_end}) train, [{train_end}, {val_end}) validation, "
        f"[{val_end}, {len(text)}) test"
    )
    return TextSplits("shakespeare", text[:train_end], text[train_end:val_end], text[val_end:], notes)


def load_wikitext(root: str | os.PathLike[str] | None = None, name: str = "wikitext-2") -> TextSplits:
    """WikiText-2 or WikiText-103, raw (untokenised) character-level version, official splits."""
    if name not in WIKITEXT_URLS:
        raise ValueError(f"wikitext name={name!r}; choose one of {sorted(WIKITEXT_URLS)}")
    files = [f"{name}-raw/wiki.{split}.raw" for split in ("train", "valid", "test")]
    folder = download(WIKITEXT_URLS[name], data_root(root), dataset=f"{name} (raw)", expected_files=files)
    train, val, test = (_read_text(folder / f) for f in files)
    return TextSplits(name, train, val, test, "official train/valid/test files")
