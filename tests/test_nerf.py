"""The NeRF domain: fields and their feedback points, rendering, the task, the table script and `dfazoo render`."""

import dataclasses
import json

import pytest
import torch
from eval_scripts import load_eval_script
from nerf_fixtures import make_scene
from PIL import Image

from dfazoo import cli
from dfazoo.nerf import NeRF, TinyNeRF, ViewSynthesisTask
from dfazoo.nerf.fields import encode
from dfazoo.nerf.recipes import nerf_recipe
from dfazoo.nerf.render import (
    RenderConfig,
    composite,
    importance_depths,
    orbit_pose,
    psnr,
    render_image,
    ssim,
)
from dfazoo.nerf.task import SPOT_VIEWS
from dfazoo.spec import build_model, get_recipe, list_models
from dfazoo.train.runner import run

TINY_TASK = {"scene": "lego", "size": 12, "steps_per_epoch": 3, "val_views": 1}


@pytest.fixture
def scene_root(tmp_path):
    make_scene(tmp_path / "data")
    return tmp_path / "data"


def tiny_recipe(method="dfa", **overrides):
    return nerf_recipe(
        "tinynerf",
        method,
        arch_config={"depth": 2, "width": 16, "pos_freqs": 2, "samples": 8},
        task_config=TINY_TASK,
        batch_size=32,
        epochs=2,
        eval_every=1,
        **overrides,
    )


def test_nerf_architecture_sizes_skip_and_placements():
    model = NeRF(method="dfa")
    net = model.coarse
    assert [layer.in_features for layer in net.layers] == [63, 256, 256, 256, 256, 256 + 63, 256, 256]
    assert (net.view.in_features, net.view.out_features, net.rgb.in_features) == (256 + 27, 128, 128)
    assert model.fine is not None and model.render_config == RenderConfig(64, 128)
    assert model.placement == "micro" and len(model.feedback_points()) == 16
    model.set_placement("macro")
    assert sorted(model.feedback_points()) == [
        "coarse.points.4", "coarse.points.7", "fine.points.4", "fine.points.7"
    ]  # fmt: skip
    assert model.feedback.matrix.shape == (256, 4)  # one matrix for every point of both networks
    tiny = TinyNeRF()
    assert tiny.fine is None and not hasattr(tiny.coarse, "view") and tiny.render_config.fine == 0
    assert [layer.out_features for layer in tiny.coarse.layers] == [128] * 4
    assert encode(torch.zeros(5, 3), 10).shape == (5, 63)


def test_dfa_error_is_the_raw_output_gradient_and_heads_learn_by_bp():
    torch.manual_seed(0)
    x, d = torch.rand(40, 3) - 0.5, torch.nn.functional.normalize(torch.randn(40, 3), dim=-1)
    error = torch.randn(40, 4)
    grads = {}
    for method in ("bp", "dfa", "shallow"):
        torch.manual_seed(1)
        model = TinyNeRF(depth=3, width=16, pos_freqs=2, method=method)
        (model(x, d) * error).sum().backward()
        grads[method] = {n: p.grad for n, p in model.named_parameters()}
        if method == "dfa":
            net = model.coarse
            h = encode(x, 2)
            for layer in net.layers:
                z = layer(h)
                h = torch.relu(z)
            signal = error @ model.feedback.slice_for(16).T  # B e, the same matrix for every point
            expected = (signal * (z > 0)).sum(0)
            torch.testing.assert_close(net.layers[2].bias.grad, expected)
    for head in ("coarse.rgb.weight", "coarse.density.weight"):
        torch.testing.assert_close(grads["dfa"][head], grads["bp"][head])
        torch.testing.assert_close(grads["shallow"][head], grads["bp"][head])
    assert not torch.allclose(grads["dfa"]["coarse.layers.0.weight"], grads["bp"]["coarse.layers.0.weight"])
    assert grads["shallow"]["coarse.layers.0.weight"] is None


def test_compositing_over_white_and_hierarchical_samples():
    depths = torch.linspace(2, 6, 8).expand(3, 8)
    raw = torch.zeros(3, 8, 4)
    raw[0, :, 3] = -5.0  # empty: white background
    raw[1, 0] = torch.tensor([10.0, -10.0, -10.0, 1e4])  # opaque red first sample
    raw[2, 4, 3] = 1e4
    color, weights = composite(raw, depths, torch.tensor([[0.0, 0.0, -1.0]]).expand(3, 3))
    torch.testing.assert_close(color[0], torch.ones(3))
    torch.testing.assert_close(color[1], torch.tensor([1.0, 0.0, 0.0]), atol=1e-4, rtol=0)
    assert weights[2].argmax() == 4
    extra = importance_depths(depths, weights, torch.rand(3, 64).sort(-1).values)
    near_peak = (extra[2] - depths[2, 4]).abs() < 0.6
    assert near_peak.float().mean() > 0.9 and extra.min() >= 2.0 and extra.max() <= 6.0


def test_full_images_render_in_chunks_identically():
    torch.manual_seed(0)
    model = NeRF(depth=2, width=16, skips=(0,), pos_freqs=2, dir_freqs=1, samples=6, fine_samples=4).eval()
    cfg = model.render_config
    small = render_image(model, 5, 6, 5.0, orbit_pose(30.0), dataclasses.replace(cfg, chunk=7))
    whole = render_image(model, 5, 6, 5.0, orbit_pose(30.0), cfg)
    assert small.shape == (5, 6, 3)
    torch.testing.assert_close(small, whole)


def test_psnr_and_library_ssim():
    a = torch.rand(16, 16, 3)
    assert ssim(a, a) == pytest.approx(1.0)
    assert ssim(a, torch.rand(16, 16, 3)) < 0.5
    assert psnr(a, (a + 0.1).clamp(0, 1)) == pytest.approx(20.0, abs=0.5)


def test_recipes_are_registered_with_equal_budgets_per_architecture():
    assert list_models(domain="nerf") == [
        "nerf-lego-bp", "nerf-lego-dfa", "tinynerf-lego-bp", "tinynerf-lego-dfa", "tinynerf-lego-shallow"
    ]  # fmt: skip
    for arch in ("tinynerf", "nerf"):
        ids = list_models(f"{arch}-lego-*")
        budgets = {
            (r.epochs, r.batch_size, json.dumps(r.arch_config), json.dumps(r.task_config))
            for r in map(get_recipe, ids)
        }
        assert len(budgets) == 1
    assert isinstance(build_model(get_recipe("nerf-lego-dfa")), NeRF)


def test_task_holds_out_test_frames_and_trains_through_the_runner(scene_root, tmp_path):
    recipe = tiny_recipe()
    task = ViewSynthesisTask(recipe, str(scene_root))
    assert task.scene.splits["test"].files == ("train/r_0.png", "train/r_10.png")
    assert not set(task.scene.splits["test"].files) & set(task.scene.splits["train"].files)
    assert "i % 10 == 0" in task.data_notes and len(task.target) == 16 * 12 * 12
    first = task.train_batches(0, torch.Generator().manual_seed(3))
    again = task.train_batches(0, torch.Generator().manual_seed(3))
    assert len(first) == 3 and torch.equal(first[2][0], again[2][0]) and first[0][3].shape == (32, 8)
    record = run(recipe, root=tmp_path / "runs", data_root=str(scene_root))
    assert record.finished and set(record.test_metrics) == {"psnr", "ssim", "mse"}
    assert record.alignment and all(-1 <= a["mean"] <= 1 for a in record.alignment.values())


def test_release_writes_a_held_out_render_beside_the_ground_truth_into_the_card(scene_root, tmp_path):
    from PIL import Image

    from dfazoo.zoo.cards import _inputs_section
    from dfazoo.zoo.publish import release_extras

    recipe = tiny_recipe()
    model = build_model(recipe).eval()
    extras = release_extras(recipe, model, tmp_path / "card", str(scene_root))
    render = extras["render"]
    assert render["view"] == "train/r_0.png" and render["size"] == "12x12" and render["psnr"] > 0
    assert Image.open(tmp_path / "card" / "render.png").size == (2 * 12 + 2, 12)
    card = _inputs_section(recipe, {"render": render})
    assert "](render.png)" in card and f"PSNR {render['psnr']:.2f} dB" in card
    # Every test view is recorded; their mean is the test metric, the first is the render's.
    task = ViewSynthesisTask(recipe, str(scene_root))
    views = extras["test_views"]
    assert [v["view"] for v in views] == list(task.scene.splits["test"].files) and views[0]["psnr"] == render[
        "psnr"
    ]
    assert sum(v["psnr"] for v in views) / len(views) == pytest.approx(task.evaluate(model, "test")["psnr"])
    # Tasks without the hook are not even built (no data needed).
    assert release_extras(get_recipe("mlp-digits-dfa"), model, tmp_path / "none", None) == {}
    assert not (tmp_path / "none").exists()


def test_spot_check_re_renders_released_test_views(scene_root):
    recipe = tiny_recipe()
    model = build_model(recipe).eval()
    task = ViewSynthesisTask(recipe, str(scene_root))
    views = task.release_extras(model, scene_root)["test_views"]
    checks = task.spot_check(model, {"test_views": views})
    assert [released for _, released in checks] == [views[i]["psnr"] for i in SPOT_VIEWS if i < len(views)]
    assert checks and all(measured == pytest.approx(released) for measured, released in checks)
    # Another model's renders do not match the records.
    other = build_model(dataclasses.replace(recipe, seed=1)).eval()
    assert any(abs(m - r) > 0.05 for m, r in task.spot_check(other, {"test_views": views}))
    assert task.spot_check(model, {}) == []
    renamed = [{**v, "view": "train/r_99.png"} for v in views]
    with pytest.raises(ValueError, match="released test view 0 is train/r_99.png"):
        task.spot_check(model, {"test_views": renamed})


def test_table_script_quick_writes_results_and_figure(scene_root, tmp_path, monkeypatch):
    table = load_eval_script("nerf_table1")
    monkeypatch.setattr(table, "QUICK", {"size": 12, "epochs": 1, "steps_per_epoch": 2, "val_views": 1})
    small = {"depth": 2, "width": 16, "pos_freqs": 2, "samples": 8}
    monkeypatch.setitem(table.nerf_recipe.__globals__["TINY"], "arch_config", small)
    argv = [
        "--quick",
        "--data-root",
        str(scene_root),
        "--results",
        str(tmp_path),
        "--runs-root",
        str(tmp_path / "r"),
    ]
    table.main(argv)
    data = json.loads((tmp_path / "nerf_table1_quick.json").read_text())
    assert [c["method"] for c in data["cells"]] == ["bp", "dfa", "shallow"]
    assert all(c["steps"] == 2 and "psnr" in c["test"] for c in data["cells"])
    assert data["figure"] == "nerf_table1_quick.png" and (tmp_path / "nerf_table1_quick.png").exists()
    assert "| tinynerf | dfa |" in (tmp_path / "nerf_table1_quick.md").read_text()
    assert len(list((tmp_path / "nerf_table1_runs_quick").glob("*.json"))) == 3
    table.main(argv)  # resumable: every cell is read back from its record, nothing retrains
    assert json.loads((tmp_path / "nerf_table1_quick.json").read_text())["cells"] == data["cells"]
    monkeypatch.setattr(table, "run", None)  # --cached-only never calls the runner
    table.main([*argv, "--cached-only"])
    assert json.loads((tmp_path / "nerf_table1_quick.json").read_text())["cells"] == data["cells"]


def test_render_command_writes_views_and_turntable(scene_root, tmp_path, capsys):
    torch.manual_seed(0)  # an untrained field whose turntable frames differ (a GIF merges equal frames)
    model = TinyNeRF(depth=2, width=16, pos_freqs=2, samples=8)
    model.save_pretrained(tmp_path / "model")
    out = tmp_path / "out"
    code = cli.main(
        [
            "render",
            str(tmp_path / "model"),
            "--out",
            str(out),
            "--frames",
            "3",
            "--size",
            "12",
            "--data-root",
            str(scene_root),
        ]
    )
    assert code == 0 and "turntable.gif" in capsys.readouterr().out
    assert sorted(p.name for p in out.glob("test_*.png")) == [
        "test_00.png",
        "test_00_gt.png",
        "test_01.png",
        "test_01_gt.png",
    ]
    with Image.open(out / "turntable.gif") as gif:
        assert gif.n_frames == 3 and gif.size == (12, 12)
    assert json.loads((out / "metrics.json").read_text())["views"][1]["file"] == "train/r_10.png"


def test_render_bad_input_is_one_line(scene_root, tmp_path, capsys):
    TinyNeRF(depth=1, width=8, pos_freqs=1, samples=4).save_pretrained(tmp_path / "model")
    model = str(tmp_path / "model")
    (tmp_path / "file").write_text("x")
    empty = tmp_path / "empty"
    (empty / "nerf" / "nerf_synthetic" / "lego").mkdir(parents=True)
    (scene_root / "nerf" / "nerf_synthetic" / "lego" / "train" / "r_7.png").unlink()
    cases = [
        (["mlp-digits-dfa", "--out", str(tmp_path / "o")], "not a NeRF"),
        ([model, "--out", str(tmp_path / "file")], "is a file"),
        ([model, "--out", str(tmp_path / "o"), "--data-root", str(empty)], "no transforms_train.json"),
        ([model, "--out", str(tmp_path / "o"), "--data-root", str(scene_root), "--size", "12"], "r_7.png"),
    ]
    for argv, message in cases:
        assert cli.main(["render", *argv]) == 2
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1, err


def test_bench_times_bp_and_dfa_on_the_same_nerf(tmp_path, monkeypatch):
    bench = load_eval_script("bench_nerf")
    monkeypatch.setitem(bench.FULL, "arch_config", {"depth": 2, "width": 16, "samples": 4, "fine_samples": 4})
    result = bench.main(["--quick", "--threads", "1", "--results", str(tmp_path)])["threads"]["1"]
    assert len(result["bp"]["steps"]) == len(result["dfa"]["steps"]) == 2
    assert result["dfa_over_bp"] == pytest.approx(result["dfa"]["step_s"] / result["bp"]["step_s"])
    assert f"**{result['dfa_over_bp']:.2f}**" in (tmp_path / "bench_nerf_quick.md").read_text()


@pytest.mark.data
def test_real_lego_task_holds_out_every_tenth_frame(shared_data):
    if not (shared_data / "nerf/nerf_synthetic/lego/transforms_train.json").exists():
        pytest.skip("lego absent")
    task = ViewSynthesisTask(
        dataclasses.replace(get_recipe("tinynerf-lego-dfa"), task_config={"size": 20}), str(shared_data)
    )
    views = task.scene.splits
    assert [len(views[s].files) for s in ("train", "val", "test")] == [80, 10, 10]
    assert views["test"].files[:2] == ("train/r_0.png", "train/r_10.png")
    assert views["val"].files[0] == "train/r_5.png" and task.target.shape == (80 * 20 * 20, 3)
    assert task.target.min() >= 0 and task.target.max() <= 1


def test_table_goals_state_each_measured_gap_and_what_is_not_run():
    table = load_eval_script("nerf_table1")

    def cell(arch, method, psnr, val=0.0):
        return {
            "arch": arch,
            "method": method,
            "diverged": False,
            "test": {"psnr": psnr},
            "val": {"psnr": val},
        }

    cells = [cell("tinynerf", "bp", 22.5), cell("tinynerf", "dfa", 20.5), cell("tinynerf", "shallow", 11.0)]
    cells += [cell("nerf", "dfa", 16.0, val=15.0), cell("nerf", "dfa", 18.0, val=14.0)]
    text = "\n".join(table.goals(table.select(cells)))
    assert "- Tiny-NeRF BP at least 22 dB: 22.50 dB: met" in text
    assert "- Tiny-NeRF DFA within 1.5 dB of BP: gap 2.00 dB: **not met**" in text
    assert "- NeRF DFA within 3 dB of NeRF BP (paper: 7.6 dB at full scale): not run yet" in text
    assert "- Tiny-NeRF shallow at least 5 dB below DFA: 9.50 dB below: met" in text
    cells.append(cell("nerf", "bp", 20.0))
    # The validation views choose the DFA row (15.0 > 14.0), not its better test PSNR.
    assert "gap 4.00 dB: **not met**" in "\n".join(table.goals(table.select(cells)))


def test_table_rows_cover_each_cells_learning_rates():
    table = load_eval_script("nerf_table1")
    dfa = [r.optimizer["lr"] for r in table.recipes(False, ["nerf"], ("dfa",))]
    assert dfa == [5e-4, 2.5e-4] and len({r.run_key() for r in table.recipes(False, ["nerf"])}) == 3
    assert [r.optimizer["lr"] for r in table.recipes(False, ["nerf"], ("dfa",), [2.5e-4])] == [2.5e-4]
    assert [r.optimizer["lr"] for r in table.recipes(False, ["tinynerf"], ("dfa",))] == [5e-4]


def test_zoo_recipe_applies_its_release_row(monkeypatch):
    from dfazoo.nerf import recipes
    from dfazoo.spec.releases import Release

    release = Release(
        "nerf-lego-dfa", "best validation", "eval/results/nerf_table1.md", 0, "x", {"lr": 2.5e-4}
    )
    monkeypatch.setitem(recipes.RELEASES, "nerf-lego-dfa", release)
    assert recipes.zoo_recipe("nerf", "dfa").optimizer["lr"] == 2.5e-4
    assert recipes.zoo_recipe("nerf", "bp").optimizer["lr"] == recipes.LR
