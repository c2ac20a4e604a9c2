"""The dfazoo command line: every subcommand, its --help, and one-line errors with exit 2."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from dfazoo import cli
from dfazoo.zoo.cards import read_results
from dfazoo.zoo.publish import train_and_release

SUBCOMMANDS = ("list", "zoo-table", "info", "eval", "train", "align", "publish", "plot", "demo")


@pytest.fixture
def zoo(zoo):
    """The conftest zoo (digits recipes at 2 epochs) with mlp-digits-dfa released."""
    train_and_release("mlp-digits-dfa", progress=False)
    return zoo


def run(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("command", SUBCOMMANDS)
def test_every_subcommand_has_help(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main([command, "--help"])
    assert exit_info.value.code == 0
    assert f"usage: dfazoo {command}" in capsys.readouterr().out


def test_console_script_entry_point():
    script = Path(sys.executable).with_name("dfazoo")
    if not script.exists():
        pytest.skip("the dfazoo console script is not installed (pip install -e .)")
    proc = subprocess.run([str(script), "list", "mlp-digits-*"], capture_output=True, text=True, check=True)
    assert proc.stdout.split()[0] == "mlp-digits-bp"
    proc = subprocess.run([str(script), "info", "nope"], capture_output=True, text=True)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr


def test_list_filters(capsys):
    code, out, _ = run(capsys, "list", "--domain", "vision", "--method", "dfa", "mlp*")
    ids = [line.split()[0] for line in out.splitlines()]
    assert code == 0 and "mlp-digits-dfa" in ids
    assert all(i.endswith("-dfa") and i.startswith("mlp") for i in ids)
    assert run(capsys, "list", "no-such-*")[0] == 1


def test_info_eval_align_on_a_released_model(zoo, capsys):
    code, out, _ = run(capsys, "info", "mlp-digits-dfa")
    info = json.loads(out)
    assert code == 0 and info["recipe"]["model_id"] == "mlp-digits-dfa"
    assert info["results"]["value"] == read_results("mlp-digits-dfa")["value"]

    code, out, _ = run(capsys, "eval", "mlp-digits-dfa", "--json")
    result = json.loads(out)
    assert code == 0
    assert set(result) == {"model", "dataset", "metric", "value", "card_value"}
    assert result["value"] == pytest.approx(result["card_value"])
    released = read_results("mlp-digits-dfa")["value"]
    assert result["card_value"] == round(released, 2)
    assert result["value"] == round(result["value"], 2)

    code, out, _ = run(capsys, "eval", "mlp-digits-dfa")
    assert code == 0 and "matches the card" in out

    code, out, _ = run(capsys, "align", "mlp-digits-dfa")
    assert code == 0 and "body.3" in out and "mean" in out

    code, out, _ = run(capsys, "zoo-table")
    assert code == 0 and "`mlp-digits-dfa`" in out
    readme = zoo / "README.md"
    readme.write_text("# zoo\n<!-- zoo-table -->\n<!-- /zoo-table -->\n")
    code, out, _ = run(capsys, "zoo-table", "--write-readme", str(readme))
    assert code == 0 and "`mlp-digits-dfa`" in readme.read_text()
    readme.write_text("# no markers\n")
    code, _, err = run(capsys, "zoo-table", "--write-readme", str(readme))
    assert code == 2 and "markers" in err

    code, out, _ = run(capsys, "publish", "--dry-run", "--org", "myorg")
    assert code == 0 and "-> myorg/mlp-digits-dfa" in out


def test_eval_exits_1_when_the_card_disagrees(zoo, capsys):
    readme = zoo / "model_cards" / "mlp-digits-dfa" / "README.md"
    value = round(read_results("mlp-digits-dfa")["value"], 2)
    readme.write_text(readme.read_text().replace(f"value: {value}", "value: 1.5", 1))
    code, out, _ = run(capsys, "eval", "mlp-digits-dfa", "--json")
    assert code == 1 and json.loads(out)["card_value"] == 1.5


def test_train_then_plot(tmp_path, capsys):
    run_dir = tmp_path / "run"
    code, out, _ = run(
        capsys, "train", "mlp-digits-dfa", "--method", "bp", "--epochs", "1", "--run-dir", str(run_dir)
    )
    assert code == 0 and json.loads(out)["best_epoch"] == 1
    assert json.loads((run_dir / "recipe.json").read_text())["method"] == "bp"
    code, out, _ = run(capsys, "plot", str(run_dir))
    assert code == 0 and all(p.endswith(".png") for p in out.split())


def test_demo_is_wired(monkeypatch, capsys):
    calls = []
    monkeypatch.setattr(
        "dfazoo.demo.run_demo", lambda epochs=None, seed=0, progress=True: calls.append((epochs, seed)) or {}
    )
    assert run(capsys, "demo", "--epochs", "2", "--seed", "3")[0] == 0
    assert calls == [(2, 3)]


@pytest.mark.parametrize(
    "argv, message",
    [
        (["eval", "mlp-digit-dfa"], "Did you mean mlp-digits-dfa"),
        (["info", "nope"], "unknown model id 'nope'"),
        (["eval", "someorg/absent"], "HF_HUB_OFFLINE is set"),
        (["eval", "./no/such/folder"], "does not exist"),
        (["train", "mlp3x800-mnist-dfa", "--data-root", "{tmp}", "--epochs", "1"], "mnist not found"),
        (["plot", "{tmp}/absent"], "does not exist"),
    ],
)
def test_errors_are_one_line_with_exit_2(argv, message, tmp_path, capsys):
    code, _, err = run(capsys, *[a.format(tmp=tmp_path) for a in argv])
    assert code == 2
    assert err.count("\n") == 1 and message in err and "Traceback" not in err


def test_train_run_folder_reproduces_the_card_and_is_never_overwritten(zoo, tmp_path, capsys):
    run_dir = tmp_path / "run"
    code, out, err = run(capsys, "train", "mlp-digits-dfa", "--run-dir", str(run_dir))
    assert code == 0 and (run_dir / "config.json").is_file() and (run_dir / "model.safetensors").is_file()
    assert len(err.splitlines()) == 2  # one progress line per epoch off a terminal
    code, out, _ = run(capsys, "eval", str(run_dir), "--json")
    result = json.loads(out)
    assert code == 0 and result["value"] == result["card_value"] == round(
        read_results("mlp-digits-dfa")["value"], 2
    )

    last = (run_dir / "last.pt").read_bytes()
    for argv, message in [
        ([], "already holds a run of mlp-digits-dfa (last.pt, best.pt, model.safetensors); pass --resume"),
        (["--method", "bp"], "holds a run of a different recipe (mlp-digits-dfa, key"),
    ]:
        code, _, err = run(capsys, "train", "mlp-digits-dfa", "--run-dir", str(run_dir), *argv)
        assert code == 2 and err.count("\n") == 1 and message in err and "--overwrite" in err
    assert (run_dir / "last.pt").read_bytes() == last

    # --overwrite: a 1-epoch run of the recipe (not a registered one) evaluates with its recipe.json
    code, _, _ = run(
        capsys, "train", "mlp-digits-dfa", "--run-dir", str(run_dir), "--epochs", "1", "--overwrite"
    )
    assert code == 0 and json.loads((run_dir / "recipe.json").read_text())["epochs"] == 1
    code, out, _ = run(capsys, "eval", str(run_dir))
    assert code == 0 and "no released card of this recipe" in out


def test_train_resume_without_a_checkpoint_is_an_error(tmp_path, capsys):
    code, _, err = run(capsys, "train", "mlp-digits-dfa", "--resume", "--run-dir", str(tmp_path / "new"))
    assert code == 2 and "last.pt does not exist; drop --resume" in err and err.count("\n") == 1


def test_train_init_from_a_pretrained_model(zoo, tmp_path, capsys):
    from dfazoo.spec.registry import get_recipe
    from dfazoo.zoo.hub import cards_dir, from_pretrained

    released = from_pretrained("mlp-digits-dfa")
    model = cli._init_model(get_recipe("mlp-digits-bp"), str(cards_dir() / "mlp-digits-dfa"))
    assert model.method == "bp" and model.training
    assert all(torch.equal(released.state_dict()[k], v) for k, v in model.state_dict().items())

    run_dir = tmp_path / "finetuned"
    argv = [
        "train",
        "mlp-digits-bp",
        "--init-from",
        "mlp-digits-dfa",
        "--epochs",
        "1",
        "--run-dir",
        str(run_dir),
    ]
    code, out, _ = run(capsys, *argv)
    assert code == 0 and json.loads(out)["best_epoch"] == 1
    fresh = run(capsys, "train", "mlp-digits-bp", "--epochs", "1", "--run-dir", str(tmp_path / "fresh"))
    assert fresh[0] == 0

    def first_loss(folder):
        return json.loads((folder / "metrics.jsonl").read_text().splitlines()[0])["loss"]

    assert first_loss(run_dir) < first_loss(tmp_path / "fresh")  # started from the trained weights

    code, _, err = run(capsys, "train", "mlp3x800-mnist-dfa", "--init-from", "mlp-digits-dfa")
    assert code == 2 and err.count("\n") == 1
    assert (
        "--init-from mlp-digits-dfa: its architecture (mlp) does not match the recipe mlp3x800-mnist-dfa"
        in err
    )


def test_a_closed_pipe_is_not_an_error():
    done = subprocess.run(
        f"{sys.executable} -m dfazoo.cli list | head -1", shell=True, capture_output=True, text=True
    )
    assert done.stdout.count("\n") == 1 and "Broken pipe" not in done.stderr
