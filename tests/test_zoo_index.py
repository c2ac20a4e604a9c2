"""The zoo index lets the quick commands answer without torch; it must equal the registry."""

import subprocess
import sys

from dfazoo.project import index_path
from dfazoo.zoo.index import render_index


def test_committed_index_equals_the_registry():
    assert index_path().read_text() == render_index(), (
        "dfazoo/zoo/index.json is stale: run `python -m dfazoo.zoo.index` and commit it"
    )


def test_quick_commands_import_no_torch():
    code = (
        "import sys\n"
        "from dfazoo import cli\n"
        "for argv in (['list'], ['list', '--method', 'dfa'], ['info', 'gcn-cora-dfa'], ['info', 'no-such-id']):\n"
        "    cli.main(argv)\n"
        "assert 'torch' not in sys.modules, 'a quick command imported torch'\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "unknown model id 'no-such-id'" in done.stderr
    assert "gcn-cora-dfa" in done.stdout
