"""scripts/train_zoo.py: reproducing never writes the released artefacts; releasing is explicit."""

import importlib.util
from pathlib import Path

import pytest

from dfazoo.zoo.publish import train_and_release

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "train_zoo.py"


def load_script():
    spec = importlib.util.spec_from_file_location("train_zoo", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_reproduce_compares_with_the_card_and_writes_no_release(zoo, tmp_path, capsys):
    train_and_release("mlp-digits-dfa", progress=False)
    released = {name: snapshot(zoo / name) for name in ("model_cards", "eval")}
    script = load_script()
    assert script.main(["mlp-digits-dfa", "--runs", str(tmp_path / "fresh")]) == 0
    out = capsys.readouterr().out
    assert "mlp-digits-dfa seed 0: accuracy" in out and "matches" in out and str(tmp_path / "fresh") in out
    assert {name: snapshot(zoo / name) for name in ("model_cards", "eval")} == released
    assert (tmp_path / "fresh").is_dir()


def test_force_needs_release_and_release_writes_the_card(zoo, capsys):
    script = load_script()
    with pytest.raises(SystemExit) as exit_info:
        script.main(["mlp-digits-dfa", "--force"])
    assert exit_info.value.code == 2 and "--force re-releases: it needs --release" in capsys.readouterr().err
    assert not (zoo / "model_cards" / "mlp-digits-dfa").exists()
    assert script.main(["mlp-digits-dfa", "--release"]) == 0
    assert (zoo / "model_cards" / "mlp-digits-dfa" / "model.safetensors").is_file()
