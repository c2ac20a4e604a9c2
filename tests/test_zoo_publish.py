"""Releasing (train -> card folder + results + README), re-evaluation, and Hub publishing."""

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from unittest import mock

import pytest
import torch
from huggingface_hub import constants as hf_constants

import dfazoo
from dfazoo.cli import main
from dfazoo.spec import registry
from dfazoo.train.runner import run
from dfazoo.vision.mlp import MLP
from dfazoo.zoo import ModelLoadError
from dfazoo.zoo.cards import card_value, render_card
from dfazoo.zoo.evaluate import evaluate_model
from dfazoo.zoo.hub import save_model
from dfazoo.zoo.publish import card_folders, publish_plan, push_to_hub, train_and_release
from dfazoo.zoo.user_card import user_card


def test_train_and_release_writes_card_results_and_skips_released(zoo):
    results = train_and_release("mlp-digits-dfa", progress=False)
    card = zoo / "model_cards" / "mlp-digits-dfa"
    assert sorted(p.name for p in card.iterdir()) == ["README.md", "config.json", "model.safetensors"]
    stored = json.loads((zoo / "eval" / "results" / "zoo" / "mlp-digits-dfa.json").read_text())
    assert stored == json.loads(json.dumps(results))
    assert (
        stored["value"] == stored["test_metrics"]["accuracy"] and stored["value"] > 25
    )  # 2 epochs; chance 10%
    assert set(stored["alignment"]) == set(dfazoo.from_pretrained(card).feedback_points())
    assert stored["command"] == "python scripts/train_zoo.py mlp-digits-dfa"
    assert stored["seed"] == 0 and stored["best_epoch"] in (1, 2)
    assert card_value(card) == round(stored["value"], 2)  # the model-index rounds to 2 decimals
    recipe = registry.get_recipe("mlp-digits-dfa")
    assert (zoo / "runs" / recipe.run_key() / "best.pt").is_file()  # the runner's run, reused by a rerun
    assert train_and_release("mlp-digits-dfa", progress=False) is None  # already released

    ev = evaluate_model("mlp-digits-dfa")
    assert ev == {
        "model": "mlp-digits-dfa",
        "dataset": "digits",
        "metric": "accuracy",
        "value": pytest.approx(stored["value"]),
        "card_value": round(stored["value"], 2),
    }


def test_counterpart_release_updates_the_dfa_card(zoo):
    train_and_release("mlp-digits-dfa", progress=False)
    readme = zoo / "model_cards" / "mlp-digits-dfa" / "README.md"
    assert "| bp counterpart | not trained yet |" in readme.read_text()
    bp = train_and_release("mlp-digits-bp", progress=False)
    assert f"| bp counterpart (`mlp-digits-bp`) | {bp['value']:.4g} |" in readme.read_text()


def test_chunked_training_releases_only_when_finished_and_seeds_average(zoo):
    assert train_and_release("mlp-digits-dfa", max_epochs=1, progress=False) is None
    assert not (zoo / "model_cards" / "mlp-digits-dfa").exists()
    results = train_and_release("mlp-digits-dfa", seeds=2, progress=False)
    assert results["seeds"] == [0, 1] and len(results["per_seed"]) == 2
    values = [s["value"] for s in results["per_seed"]]
    assert results["mean"] == pytest.approx(sum(values) / 2) and results["value"] == values[0]
    assert results["command"].endswith("--seeds 2")


def test_release_reuses_a_finished_run_of_the_same_recipe(zoo):
    recipe = registry.get_recipe("mlp-digits-dfa")
    table_run = run(recipe, root=zoo / "runs")  # e.g. a table's cell
    results = train_and_release("mlp-digits-dfa", progress=False)
    assert results["value"] == table_run.test and results["wall_time"] == table_run.wall_time
    assert dfazoo.from_pretrained(zoo / "model_cards" / "mlp-digits-dfa").training is False


def released_card(root, model_id="mlp-digits-dfa"):
    folder = root / model_id
    save_model(MLP(64, [128, 128], 10), folder, model_id=model_id)
    (folder / "README.md").write_text("---\nlibrary_name: dfazoo\n---\n# card\n")
    return folder


def test_push_to_hub_creates_and_uploads_each_card(tmp_path, monkeypatch):
    a, b = released_card(tmp_path, "mlp-digits-dfa"), released_card(tmp_path, "mlp-digits-bp")
    monkeypatch.setattr(hf_constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setenv("HF_TOKEN", "hf_fake_token")
    with mock.patch("dfazoo.zoo.publish.HfApi") as api_cls:
        plan = push_to_hub(org="myorg", folder=tmp_path)
    api = api_cls.return_value
    assert plan == [("myorg/mlp-digits-bp", b), ("myorg/mlp-digits-dfa", a)]
    assert [c.args[0] for c in api.create_repo.call_args_list] == [
        "myorg/mlp-digits-bp",
        "myorg/mlp-digits-dfa",
    ]
    assert all(c.kwargs["exist_ok"] for c in api.create_repo.call_args_list)
    uploads = [(c.kwargs["repo_id"], c.kwargs["folder_path"]) for c in api.upload_folder.call_args_list]
    assert uploads == plan


def test_push_dry_run_and_errors(tmp_path, monkeypatch):
    folder = released_card(tmp_path)
    with mock.patch("dfazoo.zoo.publish.HfApi") as api_cls:
        assert push_to_hub(["mlp-digits-dfa"], org="o", dry_run=True, folder=tmp_path) == [
            ("o/mlp-digits-dfa", folder)
        ]
        monkeypatch.setattr(hf_constants, "HF_HUB_OFFLINE", True)
        with pytest.raises(ConnectionError, match="HF_HUB_OFFLINE"):
            push_to_hub(folder=tmp_path)
        monkeypatch.setattr(hf_constants, "HF_HUB_OFFLINE", False)
        monkeypatch.delenv("HF_TOKEN", raising=False)
        monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
        with mock.patch("dfazoo.zoo.publish.get_token", return_value=None):
            with pytest.raises(PermissionError, match="HF_TOKEN"):
                push_to_hub(folder=tmp_path)
    assert not api_cls.return_value.create_repo.called
    (folder / "README.md").unlink()
    with pytest.raises(FileNotFoundError, match="lacks README.md"):
        card_folders(["mlp-digits-dfa"], tmp_path)
    with pytest.raises(FileNotFoundError, match="no card folder"):
        card_folders(None, tmp_path / "empty")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def olah_server(tmp_path):
    """An olah mirror on 127.0.0.1 serving local git repos from tmp_path/mirrors (offline)."""
    olah = shutil.which("olah-cli") or os.path.join(os.path.dirname(sys.executable), "olah-cli")
    if not os.path.exists(olah) or shutil.which("git") is None:
        pytest.skip("olah-cli or git is not installed")
    port = free_port()
    config = tmp_path / "olah.toml"
    config.write_text(
        f'[basic]\nhost = "127.0.0.1"\nport = {port}\nrepos-path = "{tmp_path / "repos"}"\n'
        f'mirrors-path = ["{tmp_path / "mirrors"}"]\n[accessibility]\noffline = true\n'
    )
    log = open(tmp_path / "olah.log", "w")  # noqa: SIM115
    proc = subprocess.Popen([olah, "-c", str(config)], cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.skip(f"olah could not start: {(tmp_path / 'olah.log').read_text()[-500:]}")
                time.sleep(0.3)
        yield f"http://127.0.0.1:{port}", tmp_path / "mirrors" / "models"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


def git_commit(repo) -> None:
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git, "init", "-q", "-b", "main"], cwd=repo, check=True)
    subprocess.run([*git, "add", "."], cwd=repo, check=True)
    subprocess.run([*git, "commit", "-q", "-m", "release"], cwd=repo, check=True)


@pytest.mark.integration
def test_download_from_hub_mirror_over_http(tmp_path, monkeypatch, olah_server):
    endpoint, mirrors = olah_server
    torch.manual_seed(1)
    model = MLP(6, [5], 3, seed=4).set_method("bp")
    save_model(model, mirrors / "myorg" / "tiny-mlp")
    git_commit(mirrors / "myorg" / "tiny-mlp")
    recipe = registry.get_recipe("mlp-digits-dfa")
    zoo_model = registry.build_model(recipe)
    card = save_model(zoo_model, mirrors / "myorg" / recipe.model_id, model_id=recipe.model_id)
    (card / "README.md").write_text(render_card(recipe, {"value": 12.5, "model_id": recipe.model_id}))
    git_commit(card)

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(hf_constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(hf_constants, "HF_HUB_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("HF_ENDPOINT", endpoint)
    monkeypatch.setenv("DFAZOO_ZOO_DIR", str(tmp_path / "no-local-cards"))
    loaded = dfazoo.from_pretrained("myorg/tiny-mlp")
    assert loaded.method == "bp"
    for key, value in model.state_dict().items():
        assert torch.equal(loaded.state_dict()[key], value), key
    assert (tmp_path / "cache" / "models--myorg--tiny-mlp").is_dir()

    # a zoo id without a local card comes from <org>/<id>, card included
    loaded = dfazoo.from_pretrained(recipe.model_id, org="myorg")
    for key, value in zoo_model.state_dict().items():
        assert torch.equal(loaded.state_dict()[key], value), key
    result = evaluate_model(recipe.model_id, org="myorg")
    assert result["model"] == recipe.model_id and result["card_value"] == 12.5
    with pytest.raises(ModelLoadError, match="'myorg/absent'.*does not exist"):
        dfazoo.from_pretrained("myorg/absent")


def user_folder(root, *, with_results: bool):
    """A folder as save_pretrained writes it, plus a run's checkpoint (and result.json)."""
    folder = save_model(MLP(64, [16], 10, seed=3), root / "my-mlp")
    (folder / "last.pt").write_bytes(b"checkpoint")
    if with_results:
        result = {"best_epoch": 3, "test_metrics": {"accuracy": 90.54321}, "val_metrics": {"accuracy": 91.25}}
        (folder / "result.json").write_text(json.dumps(result))
    return folder


def test_publish_a_user_folder_generates_an_honest_card_and_uploads_it(tmp_path, monkeypatch):
    folder = user_folder(tmp_path, with_results=True)
    assert push_to_hub([str(folder)], repo_id="me/mine", dry_run=True) == [("me/mine", folder)]
    assert not (folder / "README.md").exists()  # a dry run writes nothing
    monkeypatch.setattr(hf_constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setenv("HF_TOKEN", "hf_fake_token")
    with mock.patch("dfazoo.zoo.publish.HfApi") as api_cls:
        assert push_to_hub([str(folder)], org="me") == [("me/my-mlp", folder)]
    api = api_cls.return_value
    assert api.create_repo.call_args.args == ("me/my-mlp",)
    upload = api.upload_folder.call_args.kwargs
    assert upload["repo_id"] == "me/my-mlp" and upload["folder_path"] == folder
    assert "last.pt" not in upload["allow_patterns"] and "README.md" in upload["allow_patterns"]
    card = (folder / "README.md").read_text()
    assert "library_name: dfazoo" in card and "- method: `dfa`" in card and "- feedback seed: `3`" in card
    assert "| test | accuracy | 90.54 |" in card and "| validation (best epoch) | accuracy | 91.25 |" in card
    assert "best validation epoch, 3" in card and 'from_pretrained("me/my-mlp")' in card
    assert "No recipe.json was saved" in card and "None" not in card


def test_user_card_without_results_claims_no_number(tmp_path):
    card = user_card(user_folder(tmp_path, with_results=False), "me/mine")
    assert "No result.json was saved with this model, so this card claims no metric" in card
    assert "| test |" not in card and "model-index" not in card


def test_publish_errors_say_what_is_wrong(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"'mlp-digts-dfa' is neither.*did you mean mlp-digits-dfa"):
        publish_plan(["mlp-digts-dfa"], folder=tmp_path)
    folder = user_folder(tmp_path, with_results=False)
    with pytest.raises(
        FileNotFoundError, match=r"model folder .*my-mpl does not exist; did you mean .*my-mlp\?"
    ):
        publish_plan([str(tmp_path / "my-mpl")])
    with pytest.raises(FileNotFoundError, match="no card folder under .*not released in this checkout"):
        publish_plan(["mlp-digits-bp"], folder=tmp_path)
    with pytest.raises(ValueError, match="needs a Hub repo: pass --repo-id owner/name"):
        publish_plan([str(folder)])
    with pytest.raises(ValueError, match="not of the form owner/name"):
        publish_plan([str(folder)], repo_id="mine")
    with pytest.raises(ValueError, match="exactly one folder"):
        publish_plan([str(folder), str(folder)], repo_id="me/mine")
    (folder / "model.safetensors").unlink()
    with pytest.raises(FileNotFoundError, match="lacks model.safetensors: publish a folder written by"):
        publish_plan([str(folder)], org="me")


def test_cli_publish_dry_run_of_a_user_folder(tmp_path, capsys):
    folder = user_folder(tmp_path, with_results=False)
    assert main(["publish", str(folder), "--repo-id", "me/mine", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"would upload {folder} -> me/mine (it has no README.md: a card generated")
    assert main(["publish", str(tmp_path / "nope"), "--dry-run"]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_refresh_table_seeds_follows_a_release_record_added_after_the_release(tmp_path):
    from dfazoo.spec import list_models
    from dfazoo.spec.releases import release_of
    from dfazoo.zoo.publish import refresh_table_seeds

    list_models()
    results = {"per_seed": [{"seed": 0, "metrics": {"perplexity": 1.0}}], "table_seeds": {"rule": "old"}}
    (tmp_path / "transformer-shakespeare-bp.json").write_text(json.dumps(results))
    assert refresh_table_seeds("transformer-shakespeare-bp", tmp_path)
    seeds = json.loads((tmp_path / "transformer-shakespeare-bp.json").read_text())["table_seeds"]
    assert seeds["table"] == "eval/results/nlp_table5.md" and seeds["rule"].startswith("seed 0")
    assert [s["run_key"] for s in seeds["seeds"]] == [release_of("transformer-shakespeare-bp").run_key]
    assert not refresh_table_seeds("transformer-shakespeare-bp", tmp_path)  # already current


def test_a_forced_retrain_keeps_the_finished_run_folder(tmp_path):
    from dfazoo.zoo.publish import set_aside

    folder = tmp_path / "abc123"
    folder.mkdir()
    (folder / "model.safetensors").write_bytes(b"weights")
    kept = set_aside(folder)
    assert not folder.exists() and kept.name.startswith("abc123.replaced-")
    assert (kept / "model.safetensors").read_bytes() == b"weights"
    assert set_aside(tmp_path / "missing") is None
