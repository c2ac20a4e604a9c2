"""NLP domain: KV cache, tokenizer in the model folder, the language-modelling task, generation."""

from __future__ import annotations

import dataclasses

import pytest
import torch
from nlp_fixtures import corpus_text, tiny_lm, write_corpus

import dfazoo
from dfazoo.data.root import CorruptDatasetError, DatasetNotFoundError
from dfazoo.data.text import load_text_file
from dfazoo.nlp import LanguageModelingTask, TransformerLM
from dfazoo.nlp.generate import crop_prompt, generate_ids, stream_text
from dfazoo.nlp.recipes import lm_recipe
from dfazoo.nlp.tokenizer import train_bpe


def test_kv_cache_gives_the_uncached_logits():
    model = tiny_lm().eval()
    tokens = torch.randint(0, 300, (2, 20), generator=torch.Generator().manual_seed(0))
    full = model(tokens)
    cache = model.new_cache()
    pieces = [model(tokens[:, :7], cache)]  # a prefill of several tokens, then one at a time
    pieces += [model(tokens[:, i : i + 1], cache) for i in range(7, 20)]
    assert len(cache) == 20
    torch.testing.assert_close(torch.cat(pieces, dim=1), full, atol=1e-5, rtol=1e-5)
    with pytest.raises(ValueError, match="exceed the context"):
        model(tokens[:, :5], cache)


def test_tokenizer_is_byte_level_deterministic_and_lossless():
    text = corpus_text()
    a, b = train_bpe(text, 300), train_bpe(text, 300)
    assert a.to_str() == b.to_str() and a.get_vocab_size() == 300
    odd = "Ünïcödé — never seen ✓\n"
    assert a.decode(a.encode(odd).ids) == odd


def test_tokenizer_round_trips_through_save_and_load(tmp_path):
    model = tiny_lm()
    model.save_pretrained(tmp_path / "m")
    assert (tmp_path / "m" / "tokenizer.json").exists()
    loaded = dfazoo.from_pretrained(tmp_path / "m")
    assert isinstance(loaded, TransformerLM)
    assert loaded.encode("my lord") == model.encode("my lord")
    assert loaded.decode(loaded.encode("Good night.")) == "Good night."


def test_extra_file_hooks_are_general(tmp_path):
    """Any architecture can keep files beside config/weights: save_extra / load_extra are called."""

    class Tagged(TransformerLM):
        arch_name = "transformer-tagged-test"
        extra_files = ("tag.txt",)

        def save_extra(self, folder):
            (folder / "tag.txt").write_text(self.tag)

        def load_extra(self, folder):
            self.tag = (folder / "tag.txt").read_text()

    model = Tagged(11, **{"d_model": 8, "n_layers": 1, "n_heads": 2, "d_ff": 8, "max_len": 4})
    model.tag = "hello"
    model.save_pretrained(tmp_path)
    assert Tagged.from_pretrained(tmp_path).tag == "hello"


def test_a_model_without_tokenizer_says_so(tmp_path):
    model = tiny_lm()
    model.tokenizer = None
    model.save_pretrained(tmp_path)
    loaded = TransformerLM.from_pretrained(tmp_path)
    with pytest.raises(ValueError, match="no tokenizer.json"):
        loaded.encode("x")


def _task(tmp_path, **task) -> LanguageModelingTask:
    recipe = lm_recipe(
        "dfa-macro",
        "base",
        dataset="text",
        corpus_file=str(write_corpus(tmp_path)),
        vocab_size=300,
        context=16,
        steps_per_epoch=3,
        **task,
    )
    recipe = dataclasses.replace(
        recipe,
        arch_config={**recipe.arch_config, **{"vocab_size": 300, "d_model": 16, "d_ff": 32, "max_len": 16}},
    )
    return LanguageModelingTask(recipe)


def test_task_metrics_cover_every_token_and_character(tmp_path):
    task = _task(tmp_path)
    model = tiny_lm(max_len=16).eval()
    model.tokenizer = None
    task.prepare_model(model)
    assert model.tokenizer is task.tokenizer
    m = task.evaluate(model, "val")
    assert m["tokens"] == len(task.ids["val"]) - 1
    assert abs(m["perplexity"] - torch.tensor(m["loss"]).exp().item()) < 1e-3
    # nats/char = total nats / characters of the predicted tokens.
    assert m["nats_per_char"] == pytest.approx(m["loss"] * m["tokens"] / task.chars["val"])
    batches = list(task.train_batches(0, torch.Generator().manual_seed(0)))
    assert len(batches) == 3 and batches[0][0].shape == (32, 16)
    torch.testing.assert_close(batches[0][0][:, 1:], batches[0][1][:, :-1])


def test_task_refuses_a_model_with_another_tokenizer(tmp_path):
    task = _task(tmp_path)
    model = tiny_lm(max_len=16)
    model.tokenizer = train_bpe("completely different text " * 50, 280)
    with pytest.raises(ValueError, match="tokenizer differs"):
        task.prepare_model(model)


def test_missing_or_empty_corpus_is_one_clear_error(tmp_path):
    with pytest.raises(DatasetNotFoundError, match="does not exist"):
        load_text_file(tmp_path / "nope.txt")
    (tmp_path / "empty.txt").write_text("\n")
    with pytest.raises(CorruptDatasetError, match="is empty"):
        load_text_file(tmp_path / "empty.txt")


def test_greedy_generation_is_deterministic_and_cache_agrees():
    model = tiny_lm()
    prompt = model.encode("the king")
    cached = list(generate_ids(model, prompt, 10, temperature=0))
    uncached = list(generate_ids(model, prompt, 10, temperature=0, use_cache=False))
    assert cached == uncached and len(cached) == 10
    a = list(generate_ids(model, prompt, 8, temperature=1.0, top_k=5, seed=3))
    assert a == list(generate_ids(model, prompt, 8, temperature=1.0, top_k=5, seed=3))
    text = "".join(stream_text(model, "the king", 6, temperature=0))
    assert text == model.decode(cached[:6])


def test_generation_past_the_context_and_prompt_cropping():
    model = tiny_lm()
    ids, dropped = crop_prompt(model, list(range(40)))
    assert ids == list(range(40 - 23, 40)) and dropped == 17
    assert len(list(generate_ids(model, list(range(30)), 40, temperature=0))) == 40
    with pytest.raises(ValueError, match="empty"):
        crop_prompt(model, [])
