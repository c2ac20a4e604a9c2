"""eval/nlp_table5.py (runner-based, resumable, learning curves) and eval/nlp_finetune.py on tiny fixtures."""

from __future__ import annotations

import dataclasses
import json
import shutil

import pytest
from eval_scripts import load_eval_script
from nlp_fixtures import TINY, corpus_text, tiny_lm, write_corpus

from dfazoo.nlp.recipes import LAYOUTS, lm_recipe

table5 = load_eval_script("nlp_table5")
nlp_finetune = load_eval_script("nlp_finetune")


def _tiny_recipe(corpus, row, seed=0, layout="post_ln"):
    variant, name = row.split("/")
    recipe = lm_recipe(
        variant,
        name,
        seed=seed,
        epochs=2,
        warmup=2,
        dataset="text",
        corpus_file=str(corpus),
        vocab_size=300,
        context=16,
        steps_per_epoch=3,
        layout=layout,
    )
    arch = {**TINY, **LAYOUTS[layout], "vocab_size": 300, "max_len": 16}
    return dataclasses.replace(recipe, batch_size=4, arch_config=arch)


def test_a_released_lm_carries_its_tokenizer_and_a_sample_into_the_card_folder(tmp_path):
    from dfazoo.train.runner import run
    from dfazoo.zoo.hub import save_model
    from dfazoo.zoo.publish import release_extras, released_model

    recipe = _tiny_recipe(write_corpus(tmp_path), "dfa-macro/base")
    record = run(recipe, root=tmp_path / "runs")
    model = released_model(record)
    assert model.decode(model.encode("my lord")) == "my lord"
    card = save_model(model, tmp_path / "card")
    assert (card / "tokenizer.json").read_text() == (record.folder / "tokenizer.json").read_text()
    extras = release_extras(recipe, model, card, data_root=None)  # the task's hook, as a release calls it
    assert extras["sample"]["text"].startswith("ROMEO:") and extras["sample"]["seed"] == 0


def test_table5_quick_trains_through_the_runner_and_resumes(tmp_path, monkeypatch):
    corpus = write_corpus(tmp_path)
    monkeypatch.setattr(
        table5,
        "recipe_for",
        lambda row, quick, seed=0, layout="post_ln": _tiny_recipe(corpus, row, seed, layout),
    )
    argv = [
        "--quick",
        "--rows",
        "bp/base",
        "dfa-micro/plateau",
        "--runs-root",
        str(tmp_path / "runs"),
        "--results",
        str(tmp_path / "res"),
    ]
    result = table5.main(argv)
    rows = result["rows"]
    assert list(rows) == ["bp/base", "dfa-micro/plateau"]
    assert [p["epoch"] for p in rows["bp/base"]["curve"]] == [1, 2]  # a learning curve point per epoch
    assert rows["dfa-micro/plateau"]["alignment"] and not rows["bp/base"]["alignment"]
    assert "dfa-micro" in result["ratios"]
    assert len(list((tmp_path / "res" / "nlp_table5_quick" / "runs").glob("*.json"))) == 2
    for suffix in ("md", "json", "png"):
        assert (tmp_path / "res" / f"nlp_table5_quick.{suffix}").exists()
    # Resumable: a second invocation reuses the committed records; nothing trains even when the
    # run folders are gone, and the curves are kept from the JSON.
    shutil.rmtree(tmp_path / "runs")
    again = table5.main(argv)
    assert again["rows"]["bp/base"]["test"] == rows["bp/base"]["test"]
    assert again["rows"]["bp/base"]["curve"] == rows["bp/base"]["curve"]
    assert not (tmp_path / "runs").exists()


def test_finetune_keeps_dfa_and_the_tokenizer_and_learns_the_new_text(tmp_path):
    source = tiny_lm("dfa", "macro", max_len=16).save_pretrained(tmp_path / "src")
    text = tmp_path / "other.txt"
    text.write_text(corpus_text(8_000, seed=5).upper())
    out = nlp_finetune.main(
        [
            "--source",
            str(source),
            "--text",
            str(text),
            "--epochs",
            "2",
            "--steps",
            "8",
            "--lr",
            "3e-3",
            "--run-dir",
            str(tmp_path / "run"),
            "--out",
            str(tmp_path / "ft.json"),
        ]
    )
    assert (out["method"], out["placement"]) == ("dfa", "macro")
    assert out["test_after"]["perplexity"] < out["test_before"]["perplexity"]
    saved = json.loads((tmp_path / "ft.json").read_text())
    assert saved["test_after"] == out["test_after"]
    # The fine-tuned folder keeps the source's tokenizer.
    assert (tmp_path / "run" / "tokenizer.json").read_text() == (source / "tokenizer.json").read_text()


def test_bench_generate_reports_both_paths(tmp_path):
    bench = load_eval_script("bench_generate")
    result = bench.main(["--tokens", "6", "--repeats", "1", "--threads", "1", "--results", str(tmp_path)])
    assert result["tokens_per_s_cached"] > 0 and result["tokens_per_s_uncached"] > 0
    assert (tmp_path / "bench_generate.md").read_text().startswith("# Generation speed")


def test_an_lm_card_shows_tokenizer_nats_per_char_and_a_reproducible_sample():
    from dfazoo.nlp.generate import card_sample
    from dfazoo.spec import get_recipe
    from dfazoo.zoo.cards import render_card

    model = tiny_lm()
    sample = card_sample(model, prompt="the king")
    assert sample == card_sample(model, prompt="the king") and sample["text"].startswith("the king")
    recipe = get_recipe("transformer-shakespeare-dfa-macro")
    results = {
        "model_id": recipe.model_id,
        "value": 50.0,
        "std": None,
        "seed": 0,
        "seeds": [0],
        "split": "test",
        "best_epoch": 30,
        "alignment": {"blocks.0.point": {"mean": 0.1, "std": 0.01}},
        "wall_time": 60.0,
        "command": f"python scripts/train_zoo.py {recipe.model_id}",
        "config": {},
        "error_size": 2048,
        "head_replaceable": True,
        "test_metrics": {"perplexity": 50.0, "nats_per_char": 1.6123, "tokens": 21935.0},
        "sample": sample,
    }
    card = render_card(recipe, results)
    assert "tokenizer.json" in card and "1.612 nats per" in card
    assert (
        "nats_per_char (released weights)" in card
        and "tokens" not in card.split("## Results")[1].split("\n\n")[2]
    )
    assert sample["text"] in card and "--seed 0" in card
    assert "90 / 5 / 5" in card  # the split


def test_finetune_on_a_missing_or_empty_text_is_one_line_and_writes_nothing(tmp_path):
    import pytest

    source = tiny_lm().save_pretrained(tmp_path / "src")
    (tmp_path / "empty.txt").write_text("")
    for text, message in ((tmp_path / "nope.txt", "does not exist"), (tmp_path / "empty.txt", "is empty")):
        with pytest.raises(SystemExit) as exit_info:
            nlp_finetune.main(
                ["--source", str(source), "--text", str(text), "--out", str(tmp_path / "o.json")]
            )
        assert message in str(exit_info.value.code) and "\n" not in str(exit_info.value.code)
        assert not (tmp_path / "o.json").exists()


def test_diagnostic_variants_change_one_thing_of_the_table5_row_each():
    diagnostics = load_eval_script("nlp_diagnostics")
    base = diagnostics.lm_recipe("dfa-macro", "base", layout="pre_ln")
    post = diagnostics.variant_recipe("post_ln")
    assert post.arch_config == {**base.arch_config, "post_ln": True} and post.optimizer == base.optimizer
    assert diagnostics.variant_recipe("shallow_post_ln").method == "shallow"
    assert diagnostics.variant_recipe("bp_post_ln").method == "bp"
    assert diagnostics.variant_recipe("bp_post_ln").arch_config["post_ln"] is True
    assert diagnostics.variant_recipe("uniform").arch_config["feedback_init"] == "uniform2020"
    block_lr = diagnostics.variant_recipe("block_lr").optimizer
    assert block_lr["lr"] == base.optimizer["lr"] / 10 and block_lr["betas"] == [0.9, 0.999]
    assert {g["match"] for g in block_lr["param_groups"]} == {"ln_f.*", "head.*"}
    keys = {diagnostics.variant_recipe(v).run_key() for v in diagnostics.VARIANTS}
    assert len(keys) == len(diagnostics.VARIANTS) and base.run_key() not in keys
    curve = [{"epoch": 10, "step": 1000, "perplexity": 300.0, "nats_per_char": 2.2}]
    text = diagnostics.markdown({"variants": {"post_ln": {"curve": curve, "command": "cmd"}}})
    assert "| post_ln | 1000 | 300.0 | 2.200 | `cmd` |" in text and "Table 5 shallow/base | 1000" in text


def test_micro_diagnostics_change_the_post_ln_micro_row_and_report_under_its_own_references():
    diagnostics = load_eval_script("nlp_diagnostics")
    row = diagnostics.lm_recipe("dfa-micro", "base")
    assert diagnostics.variant_recipe("micro") == row and row.placement == "micro"
    assert diagnostics.variant_recipe("micro_uniform").arch_config == {
        **row.arch_config,
        "feedback_init": "uniform2020",
    }
    block_lr = diagnostics.variant_recipe("micro_block_lr").optimizer
    assert block_lr["lr"] == 1e-4 and {g["lr"] for g in block_lr["param_groups"]} == {row.optimizer["lr"]}
    for variant, lr in (("micro_block_lr5", 2e-4), ("micro_block_lr20", 5e-5)):
        scaled = diagnostics.variant_recipe(variant).optimizer
        assert scaled["lr"] == lr and scaled["param_groups"] == block_lr["param_groups"]
    nodrop = diagnostics.variant_recipe("micro_block_lr_nodrop")
    table_row = diagnostics.lm_recipe("dfa-micro", "block_lr")
    assert nodrop.arch_config == {**table_row.arch_config, "dropout": 0.0} and nodrop.optimizer == block_lr
    slow = diagnostics.variant_recipe("micro_slow_decoder").optimizer
    assert slow["lr"] == row.optimizer["lr"] and {g["lr"] for g in slow["param_groups"]} == {
        row.optimizer["lr"] / 10
    }
    curve = [{"epoch": 10, "step": 1000, "perplexity": 250.0, "nats_per_char": 2.1}]
    text = diagnostics.markdown({"variants": {"micro_uniform": {"curve": curve, "command": "cmd"}}})
    assert "## Post-LN blocks" in text and "## Pre-LN blocks" not in text
    assert "| micro_uniform | 1000 | 250.0 | 2.100 | `cmd` |" in text
    assert "| Table 5 dfa-micro/plateau | 1000 |" in text and "`python eval/nlp_table5.py` |" in text


def test_ratios_take_each_variants_row_of_best_validation_not_best_test():
    def row(val, test):
        return {"val": {"perplexity": val}, "test": {"perplexity": test}}

    rows = {
        "bp/beta2": row(60.0, 50.0),
        "dfa-micro/plateau": row(200.0, 100.0),  # best test, worse validation
        "dfa-micro/block_lr": row(150.0, 150.0),
    }
    assert table5.ratios(rows)["dfa-micro"] == 3.0
    # The stricter ratio divides by BP's best test perplexity, whichever row has it.
    rows["bp/nodrop"] = row(70.0, 40.0)
    assert table5.ratios(rows)["dfa-micro"] == 3.0 and table5.ratios_to_best_bp_test(rows) == {
        "dfa-micro": 3.75
    }
    # The block-lr row is the diagnostics' variant: one run serves both.
    diagnostics = load_eval_script("nlp_diagnostics")
    assert (
        diagnostics.variant_recipe("micro_block_lr").run_key() == lm_recipe("dfa-micro", "block_lr").run_key()
    )
    assert table5.recipe_for("dfa-macro/block_lr", False).paper_value is None


def test_the_nodrop_rows_are_base_without_dropout_for_bp_and_macro_only():
    for variant in ("bp", "dfa-macro"):
        base, nodrop = lm_recipe(variant, "base"), lm_recipe(variant, "nodrop")
        assert (
            nodrop.arch_config == {**base.arch_config, "dropout": 0.0} and base.arch_config["dropout"] == 0.1
        )
        assert (nodrop.optimizer, nodrop.scheduler) == (base.optimizer, base.scheduler)
    with pytest.raises(ValueError, match="not 'nodrop'"):
        lm_recipe("dfa-micro", "nodrop")
    # Micro's is its block-lr row without dropout: the diagnostics' variant, one run for both.
    diagnostics = load_eval_script("nlp_diagnostics")
    micro = lm_recipe("dfa-micro", "block_lr_nodrop")
    assert micro.run_key() == diagnostics.variant_recipe("micro_block_lr_nodrop").run_key()


def test_the_high_lr_rows_are_nodrop_at_twice_the_lr_for_bp_and_macro_alike():
    for variant in ("bp", "dfa-macro"):
        nodrop, high = lm_recipe(variant, "nodrop"), lm_recipe(variant, "high_lr_nodrop")
        assert high.arch_config == nodrop.arch_config and high.scheduler == nodrop.scheduler
        assert high.optimizer == {**nodrop.optimizer, "lr": 2 * nodrop.optimizer["lr"]}
        assert "lr x 2" in high.description and "dropout 0," in high.description
    # The lower-lr rows still halve it (their run keys, hence their run folders, are unchanged).
    assert (
        lm_recipe("dfa-macro", "lower_lr").optimizer["lr"]
        == lm_recipe("dfa-macro", "base").optimizer["lr"] / 2
    )
    with pytest.raises(ValueError, match="not 'high_lr_nodrop'"):
        lm_recipe("dfa-micro", "high_lr_nodrop")


def test_merging_keeps_rows_written_by_newer_code_and_puts_known_rows_in_protocol_order():
    old = {"dfa-macro/some_newer_row": {"v": 1}, "shallow/base": {"v": 2}, "bp/base": {"v": 3}}
    merged = table5.merge(old, {"bp/base": {"v": 4}})
    assert list(merged) == ["bp/base", "shallow/base", "dfa-macro/some_newer_row"]
    assert merged["bp/base"] == {"v": 4} and merged["dfa-macro/some_newer_row"] == {"v": 1}
