"""The README's downstream path runs as written: every snippet of "From a zoo model to your own"."""

import re
import shlex
from pathlib import Path

import torch

from dfazoo.cli import main
from dfazoo.vision import preprocessing

README = Path(__file__).resolve().parents[1] / "README.md"
SECTION = "## From a zoo model to your own"
SUBSECTIONS = (
    "Load",
    "Evaluate",
    "Preprocess your own inputs",
    "Fine-tune on your own data with DFA still on",
    "Save and reload",
    "Publish your own model",
)


def section() -> str:
    text = README.read_text()
    start = text.index(SECTION)
    return text[start : text.index("\n## ", start + len(SECTION))]


def blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", section(), flags=re.S)


def test_the_section_covers_the_whole_path_with_a_snippet_each():
    parts = re.split(r"\n### ", section())[1:]
    assert [p.splitlines()[0] for p in parts] == list(SUBSECTIONS)
    assert all("```python" in p or "```bash" in p for p in parts)
    assert "revision=" in parts[0]


def test_python_snippets_run_in_order(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    torch.set_num_threads(1)
    namespace: dict = {}
    for code in blocks("python"):
        exec(compile(code, str(README), "exec"), namespace)  # noqa: S102
    assert (tmp_path / "my-digits-parity" / "model.safetensors").is_file()
    assert namespace["reloaded"].feedback.error_size == 2


def test_cli_lines_run(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    torch.set_num_threads(1)
    dfazoo_lines = [
        line.split("#")[0]
        for code in blocks("bash")
        for line in code.splitlines()
        if line.startswith("dfazoo ")
    ]
    assert len(dfazoo_lines) == 2
    import dfazoo

    dfazoo.from_pretrained("mlp-digits-dfa").save_pretrained("my-digits-parity")
    for line in dfazoo_lines:
        assert main(shlex.split(line)[1:]) == 0, line
    out = capsys.readouterr().out
    assert "matches the card" in out and "-> you/digits-parity" in out


def test_the_normalisation_table_shows_the_measured_values():
    rows = {
        m: line
        for line in section().splitlines()
        for m in ("digits", "MNIST", "CIFAR-10")
        if line.startswith(f"| {m} |")
    }
    for name, model_id in (
        ("digits", "mlp-digits-dfa"),
        ("MNIST", "mlp3x800-mnist-dfa"),
        ("CIFAR-10", "cnn-cifar10-dfa"),
    ):
        p = preprocessing(model_id)
        cells = [c.strip() for c in rows[name].strip("|").split("|")]
        assert cells[2:] == [
            f"{p['pixel_max']:g}",
            ", ".join(f"{v:.4f}" for v in p["mean"]),
            ", ".join(f"{v:.4f}" for v in p["std"]),
        ], name


def test_the_stated_gradient_ratios_name_their_command():
    text = section()
    assert "python scripts/grad_norm_ratio.py mlp3x800-mnist-dfa" in text
    assert (Path(__file__).resolve().parents[1] / "scripts" / "grad_norm_ratio.py").is_file()


def test_the_dfa_on_your_own_model_snippet_runs(tmp_path, monkeypatch):
    import pytest

    pytest.importorskip("transformers", reason="the optional extra .[transformers]")
    text = README.read_text()
    start = text.index("## DFA on your own model")
    part = text[start : text.index("\n## ", start + 1)]
    (code,) = re.findall(r"```python\n(.*?)```", part, flags=re.S)
    monkeypatch.chdir(tmp_path)
    scope: dict = {}
    exec(compile(code, "README.md", "exec"), scope)
    assert (tmp_path / "gpt2-dfa" / "config.json").exists()
    assert not any(m._forward_hooks for m in scope["gpt2"].modules())
