"""CTR task on generated ML-100K files and on the synthetic benchmark; the Table 2 script."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
import torch
from eval_scripts import load_eval_script
from recsys_fixtures import write_ml100k

from dfazoo.data.movielens_ctr import load_movielens_ctr
from dfazoo.data.root import CorruptDatasetError
from dfazoo.data.synthetic_ctr import SyntheticCTRConfig, make_synthetic_ctr
from dfazoo.recsys.recipes import ctr_recipe
from dfazoo.recsys.task import CTRTask
from dfazoo.spec.registry import build_model

TINY = {"num_samples": 2000, "vocab_sizes": [7, 5, 3], "interaction_terms": 4}


def test_movielens_ctr_rows_join_the_side_features(tmp_path):
    folder = write_ml100k(tmp_path)
    table = load_movielens_ctr(tmp_path, seed=0)
    ratings = [line.split("\t") for line in (folder / "u.data").read_text().splitlines()]
    users = {line.split("|")[0]: line.split("|") for line in (folder / "u.user").read_text().splitlines()}
    assert table.columns["user_id"][5] == int(ratings[5][0])
    assert table.columns["age"][5] == int(users[ratings[5][0]][1])
    assert table.columns["zip"][5] == users[ratings[5][0]][4]
    assert torch.equal(table.labels, torch.tensor([float(int(r[2]) >= 4) for r in ratings]))
    third = [i for i, item in enumerate(table.columns["item_id"]) if item == 3]
    assert third and all(table.columns["year"][i] is None for i in third)
    assert {k: len(v) for k, v in table.splits.items()} == {"train": 240, "val": 30, "test": 30}


@pytest.mark.data
def test_real_ml100k_is_encoded_without_out_of_vocabulary_ids(shared_data):
    recipe = ctr_recipe("fm", "ml100k", "bp")
    task = CTRTask(recipe, str(shared_data))
    assert task.x.shape == (100_000, 8) and 0.55 < float(task.y.mean()) < 0.56
    names = [f["name"] for f in recipe.arch_config["fields"]]
    in_vocab = (task.x > 0).all(0).tolist()
    assert dict(zip(names, in_vocab)) == {**dict.fromkeys(names, True), "zip": False, "year": False}
    assert (
        float((task.x[:, names.index("zip")] == 0).float().mean()) < 0.03
    )  # letters: Canadian codes (2.1% of ratings)


def test_malformed_user_line_names_the_file_and_the_line(tmp_path):
    folder = write_ml100k(tmp_path)
    lines = (folder / "u.user").read_text().splitlines()
    lines[3] = "4|twenty|M|student|12345"
    (folder / "u.user").write_text("\n".join(lines) + "\n")
    with pytest.raises(CorruptDatasetError) as err:
        load_movielens_ctr(tmp_path)
    assert str(folder / "u.user") in str(err.value) and "line 4" in str(err.value)


def test_ml100k_task_trains_and_reports_auc_and_log_loss(tmp_path):
    write_ml100k(tmp_path)
    recipe = ctr_recipe("deepfm", "ml100k", "dfa", epochs=1)
    task = CTRTask(recipe, str(tmp_path))
    assert task.x.shape == (300, 8) and task.x.min() >= 0
    model = build_model(recipe)
    batches = task.train_batches(0, torch.Generator().manual_seed(0))
    assert sum(len(y) for _, y in batches) == 240
    task.loss(model, batches[0]).backward()
    metrics = task.evaluate(model.eval(), "test")
    assert set(metrics) == {"auc", "logloss", "loss"} and 0 <= metrics["auc"] <= 1
    assert metrics["logloss"] == pytest.approx(metrics["loss"], rel=1e-6)


def test_synthetic_benchmark_is_seeded_and_needs_its_teacher():
    cfg = SyntheticCTRConfig(**{**TINY, "vocab_sizes": (7, 5, 3)})
    a, b = make_synthetic_ctr(cfg), make_synthetic_ctr(replace(cfg, seed=1))
    assert a.x.shape == (2000, 3) and a.x.min() >= 1 and int(a.x[:, 2].max()) <= 3
    assert {k: len(v) for k, v in a.splits.items()} == {"train": 1600, "val": 200, "test": 200}
    make_synthetic_ctr.cache_clear()
    again = make_synthetic_ctr(cfg)
    assert torch.equal(again.x, a.x) and torch.equal(again.labels, a.labels)
    assert not torch.equal(b.labels, a.labels)
    # Labels follow the teacher's logits: positives have higher logits on average.
    assert a.oracle_logits[a.labels == 1].mean() > a.oracle_logits[a.labels == 0].mean() + 0.5


def test_synthetic_high_order_part_couples_the_chosen_fields():
    """One degree-3 term and no low-order part: the logit depends on exactly 3 fields, jointly."""
    cfg = SyntheticCTRConfig(
        num_samples=3000, vocab_sizes=(6, 5, 4, 3, 7), interaction_terms=1, low_weight=0.0
    )
    data = make_synthetic_ctr(cfg)
    used = []
    for j in range(5):
        rest = [k for k in range(5) if k != j]
        groups: dict[tuple, set] = {}
        for row, logit in zip(data.x.tolist(), data.oracle_logits.tolist()):
            groups.setdefault(tuple(row[k] for k in rest), set()).add(round(logit, 4))
        used.append(any(len(v) > 1 for v in groups.values()))
    assert sum(used) == 3


def test_synthetic_task_checks_the_recipe_fields_match_the_benchmark():
    recipe = ctr_recipe("dcn", "synthetic", "bp", synthetic=TINY, epochs=1)
    task = CTRTask(recipe)
    assert task.x.shape == (2000, 3)
    bad = replace(recipe, arch_config={**recipe.arch_config, "fields": recipe.arch_config["fields"][:2]})
    with pytest.raises(ValueError, match="sizes"):
        CTRTask(bad)
    old = replace(recipe, task_config={**recipe.task_config, "generator_version": 1})
    with pytest.raises(ValueError, match="generator v1"):
        CTRTask(old)


def test_table2_quick_writes_results_and_resumes(tmp_path, monkeypatch):
    write_ml100k(tmp_path / "data")
    table = load_eval_script("recsys_table2")
    monkeypatch.setattr(table, "QUICK_SYNTHETIC", TINY)
    args = ["--quick", "--data-root", str(tmp_path / "data"), "--out", str(tmp_path / "out"), "--epochs", "1",
            "--archs", "fm", "deepfm", "--methods", "bp", "dfa"]  # fmt: skip
    table.main(args)
    data = json.loads((tmp_path / "out" / "recsys_table2_quick.json").read_text())
    assert set(data["cells"]) == {f"{a}-{d}-{m}" for d in ("ml100k", "synthetic") for a, m in
                                  (("fm", "bp"), ("deepfm", "bp"), ("deepfm", "dfa"))}  # fmt: skip
    assert 0.5 <= data["synthetic_bayes_auc"] <= 1
    text = (tmp_path / "out" / "recsys_table2_quick.md").read_text()
    assert "0.7954 / 0.4610" in text and "Criteo" in text
    records = sorted((tmp_path / "out" / "recsys_table2" / "runs_quick").glob("*.json"))
    assert len(records) == 6
    monkeypatch.setattr(table, "run", lambda *a, **k: pytest.fail("a finished run was retrained"))
    table.main(args)


def test_bench_recsys_times_bp_and_dfa_in_one_run(tmp_path):
    bench = load_eval_script("bench_recsys")
    result = bench.main(["--quick", "--out", str(tmp_path)])
    for case in result["cases"].values():
        assert case["bp"]["samples_per_s"] > 0 and case["dfa"]["samples_per_s"] > 0
    assert "| deepfm-400x3 |" in (tmp_path / "bench_recsys_quick.md").read_text()


def test_table2_grid_searches_dropout_only_where_there_is_one():
    table = load_eval_script("recsys_table2")
    args = table.argparse.Namespace(
        quick=False,
        lrs=[1e-3, 3e-3],
        dropouts=[0.0, 0.5],
        weight_decays=[0.0],
        embedding_feedbacks=["point", "layer", "none"],
    )
    assert [s["dropout"] for s in table.grid("fm", "bp", args, "ml100k")] == [None, None]
    assert len(table.grid("dcn", "bp", args, "ml100k")) == 4 and {
        s["dropout"] for s in table.grid("dcn", "bp", args, "ml100k")
    } == {0.0, 0.5}
    assert len(table.grid("deepfm", "dfa", args, "ml100k")) == 12
    assert len(table.grid("dcn", "dfa", args, "ml100k")) == 8 and {
        s["embedding_feedback"] for s in table.grid("dcn", "dfa", args, "ml100k")
    } == {
        "point",
        "layer",
    }
    # Without flags each dataset searches its own grid.
    args.lrs = args.dropouts = args.weight_decays = None
    assert len(table.grid("deepfm", "bp", args, "ml100k")) == 12
    assert {(s["lr"], s["dropout"]) for s in table.grid("deepfm", "bp", args, "synthetic")} == {
        (1e-3, 0.0), (1e-3, 0.2), (3e-3, 0.0), (3e-3, 0.2)
    }  # fmt: skip


def test_afn_diagnostics_variants_change_only_what_they_name():
    from dfazoo.train.optim import build_optimizer

    diagnostics = load_eval_script("recsys_diagnostics")
    paper = build_model(diagnostics.variant_recipe("dfa", 1))
    no_point = build_model(diagnostics.variant_recipe("dfa_no_lnn_point", 1))
    assert "lnn_point" in paper.feedback_points() and "lnn_point" not in no_point.feedback_points()
    frozen = diagnostics.variant_recipe("dfa_frozen_lnn", 1)
    optimizer = build_optimizer(build_model(frozen), frozen.optimizer)
    lrs = sorted({g["lr"] for g in optimizer.param_groups})
    assert lrs == [0.0, frozen.optimizer["lr"]]
    assert diagnostics.variant_recipe("shallow", 1).method == "shallow"
    chosen = diagnostics.table2_setting()
    full = diagnostics.variant_recipe("dfa_no_lnn_point", 20, full=True)
    assert full.epochs == 20 and full.task_config["synthetic"] == {} and full.optimizer["lr"] == chosen["lr"]
    assert full.arch_config["embedding_feedback"] == chosen["embedding_feedback"]
    assert full.arch_config["lnn_feedback"] is False and full.arch_config["dropout"] == chosen["dropout"]
    with pytest.raises(ValueError, match="AFN's option"):
        diagnostics.ctr_recipe("dcn", "synthetic", "dfa", lnn_feedback=False)


def test_table2_reports_the_papers_embeddings_beside_a_dfa_cell_that_chose_others(tmp_path, monkeypatch):
    from types import SimpleNamespace

    table = load_eval_script("recsys_table2")

    def fake_train(recipe, args, records):
        mode = recipe.arch_config.get("embedding_feedback")
        val = {"layer": 0.80, "point": 0.70, "none": 0.75, None: 0.75}[mode] + recipe.optimizer["lr"]
        metrics = {"auc": val - 0.01, "logloss": 0.5}
        return SimpleNamespace(val=val, test=val, key=f"{mode}-{recipe.seed}", test_metrics=metrics,
                               val_metrics={"auc": val}, alignment={}, best_epoch=1, wall_time=1.0)  # fmt: skip

    monkeypatch.setattr(table, "train", fake_train)
    args = SimpleNamespace(quick=False, epochs=None, seeds=2, lrs=[1e-3, 3e-3], dropouts=[0.0],
                           weight_decays=[0.0], embedding_feedbacks=["none", "point", "layer"],
                           afn_lnn_points=["on"])  # fmt: skip
    cell = table.run_cell("ml100k", "deepfm", "dfa", args, tmp_path)
    assert cell["setting"]["embedding_feedback"] == "layer" and cell["setting"]["lr"] == 3e-3
    own = cell["paper_placement"]  # DeepFM's own: through the FM only
    assert own["setting"]["embedding_feedback"] == "none" and own["auc"]["n"] == 2
    assert "paper_placement" not in table.run_cell("ml100k", "deepfm", "bp", args, tmp_path)
    text = table.render({"deepfm-ml100k-dfa": cell}, SimpleNamespace(**vars(args), datasets=["ml100k"],
                        archs=["deepfm"], methods=["dfa"]), 1.0, None)  # fmt: skip
    assert "| DeepFM | dfa, the paper's embeddings (none) |" in text


def test_table2_searches_afns_logarithmic_point_and_reports_the_papers_placement_beside(
    tmp_path, monkeypatch
):
    from types import SimpleNamespace

    table = load_eval_script("recsys_table2")

    def fake_train(recipe, args, records):
        assert recipe.arch == "afn" or "lnn_feedback" not in recipe.arch_config
        val = 0.70 if recipe.arch_config.get("lnn_feedback", True) else 0.80
        return SimpleNamespace(val=val, test=val, key=str(recipe.run_key()), test_metrics={"auc": val, "logloss": 0.5},
                               val_metrics={"auc": val}, alignment={}, best_epoch=1, wall_time=1.0)  # fmt: skip

    monkeypatch.setattr(table, "train", fake_train)
    args = SimpleNamespace(quick=False, epochs=None, seeds=1, lrs=[1e-3], dropouts=[0.0], weight_decays=[0.0],
                           embedding_feedbacks=[None], afn_lnn_points=["on", "off"])  # fmt: skip
    cell = table.run_cell("synthetic", "afn", "dfa", args, tmp_path)
    assert cell["grid_total"] == 2 and cell["setting"]["lnn_feedback"] is False
    assert cell["paper_placement"]["setting"]["lnn_feedback"] is None
    assert table.run_cell("synthetic", "dcn", "dfa", args, tmp_path)["grid_total"] == 1
    text = table.render({"afn-synthetic-dfa": cell}, SimpleNamespace(**vars(args), datasets=["synthetic"],
                        archs=["afn"], methods=["dfa"]), 1.0, None)  # fmt: skip
    assert "no logarithmic-layer point |" in text and "--afn-lnn-points on off" in text
    assert "| AFN | dfa, the paper's embeddings (layer) and logarithmic-layer point | 0.7000" in text
    release = table.release_records({"afn-ml100k-dfa": {**cell, "auc": {"n": 1}}}, 1)["afn-ml100k-dfa"]
    assert release["row"]["lnn_feedback"] is False and "embedding_feedback" not in release["row"]
