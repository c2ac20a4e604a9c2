"""dfazoo generate / export: streaming output and the bad-input behaviours of issue 16."""

from __future__ import annotations

import pytest
import torch
from nlp_fixtures import TINY, tiny_lm

from dfazoo.cli import main
from dfazoo.vision import MLP


@pytest.fixture
def lm_folder(tmp_path):
    return tiny_lm().save_pretrained(tmp_path / "lm")


def test_generate_streams_greedy_text(lm_folder, capsys):
    assert (
        main(
            [
                "generate",
                str(lm_folder),
                "--prompt",
                "the king",
                "--max-new-tokens",
                "5",
                "--temperature",
                "0",
            ]
        )
        == 0
    )
    first = capsys.readouterr().out
    assert first.startswith("the king") and len(first) > len("the king\n")
    main(["generate", str(lm_folder), "--prompt", "the king", "--max-new-tokens", "5", "--temperature", "0"])
    assert capsys.readouterr().out == first  # greedy: the same every time


def test_a_long_prompt_is_cropped_with_a_notice(lm_folder, capsys):
    assert main(["generate", str(lm_folder), "--prompt", "my lord " * 40, "--max-new-tokens", "2"]) == 0
    assert capsys.readouterr().err.startswith("note: the prompt has")


def _fails(argv, capsys, tmp_path, match):
    before = sorted(p.name for p in tmp_path.iterdir())
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert match in err and err.count("\n") == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing written


def test_bad_inputs_give_one_line_and_write_nothing(lm_folder, tmp_path, capsys):
    _fails(["generate", str(lm_folder), "--prompt", ""], capsys, tmp_path, "prompt is empty")
    mlp = MLP(4, [3], 2).save_pretrained(tmp_path / "mlp")
    _fails(["generate", str(mlp), "--prompt", "x"], capsys, tmp_path, "not a language model")
    (lm_folder / "tokenizer.json").unlink()
    _fails(["generate", str(lm_folder), "--prompt", "x"], capsys, tmp_path, "has no tokenizer.json")
    _fails(
        ["export", str(lm_folder), "--to", "transformers", str(tmp_path / "hf")],
        capsys,
        tmp_path,
        "tokenizer.json",
    )


def test_post_ln_model_exports_as_gpt1_with_identical_logits(tmp_path):
    transformers = pytest.importorskip("transformers")
    d = TINY["d_model"]
    model = tiny_lm(post_ln=True, final_norm=False, activation="gelu_tanh", ln_affine=True, d_ff=4 * d)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.1 * torch.randn_like(p))
    folder = model.save_pretrained(tmp_path / "post")
    assert main(["export", str(folder), "--to", "transformers", str(tmp_path / "hf")]) == 0
    hf = transformers.OpenAIGPTLMHeadModel.from_pretrained(tmp_path / "hf").eval()
    ids = torch.tensor([model.encode("the king shall speak of love")])
    with torch.no_grad():
        torch.testing.assert_close(hf(ids).logits, model.eval()(ids), atol=1e-5, rtol=1e-4)


def test_export_gives_identical_logits(lm_folder, tmp_path, capsys):
    transformers = pytest.importorskip("transformers")
    model = tiny_lm(ln_affine=True)
    with torch.no_grad():  # non-trivial norms and biases, so the mapping is really checked
        for p in model.parameters():
            p.add_(0.1 * torch.randn_like(p))
    folder = model.save_pretrained(tmp_path / "affine")
    assert main(["export", str(folder), "--to", "transformers", str(tmp_path / "hf")]) == 0
    hf = transformers.GPT2LMHeadModel.from_pretrained(tmp_path / "hf").eval()
    tok = transformers.PreTrainedTokenizerFast.from_pretrained(tmp_path / "hf")
    ids = torch.tensor([tok.encode("the king shall speak of love")])
    assert ids.tolist()[0] == model.encode("the king shall speak of love")
    with torch.no_grad():
        torch.testing.assert_close(hf(ids).logits, model.eval()(ids), atol=1e-5, rtol=1e-4)
    # The non-affine default maps too (unit gain, zero bias).
    assert main(["export", str(lm_folder), "--to", "transformers", str(tmp_path / "hf2")]) == 0
    hf2 = transformers.GPT2LMHeadModel.from_pretrained(tmp_path / "hf2").eval()
    with torch.no_grad():
        torch.testing.assert_close(hf2(ids).logits, tiny_lm().eval()(ids), atol=1e-5, rtol=1e-4)
    # The tokenizer file loads as the issue says.
    assert transformers.PreTrainedTokenizerFast(tokenizer_file=str(lm_folder / "tokenizer.json")).encode(
        "my lord"
    )
