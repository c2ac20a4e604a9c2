"""Upload released card folders to the Hugging Face Hub (same as ``dfazoo publish``).

python scripts/publish_to_hub.py [ID ...] [--org ORG] [--dry-run]
"""

from __future__ import annotations

import sys

from dfazoo.cli import main

if __name__ == "__main__":
    sys.exit(main(["publish", *sys.argv[1:]]))
