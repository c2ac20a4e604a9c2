"""The command-line header every table script shares: its docstring as help and ``--data-root``."""

from __future__ import annotations

import argparse


def table_parser(doc: str | None, holds: str) -> argparse.ArgumentParser:
    """A table script's parser; ``holds`` names what the data root must contain (e.g. ``nerf/``)."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-root", help=f"folder holding {holds} (default: $DFAZOO_DATA)")
    return parser
