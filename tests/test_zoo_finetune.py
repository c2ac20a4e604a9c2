"""replace_head: new output size, feedback matrix redrawn from the same seed, DFA keeps learning."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import dfazoo
from dfazoo.core import FeedbackMatrix
from dfazoo.vision.mlp import MLP
from dfazoo.zoo.finetune import replace_head


def pretrained() -> MLP:
    torch.manual_seed(0)
    return MLP(8, [32, 32], 10, seed=3, feedback_init="uniform2020")


def test_replace_head_changes_output_and_redraws_feedback():
    model = pretrained()
    body_before = {k: v.clone() for k, v in model.body.state_dict().items()}
    replace_head(model, 4)
    assert model(torch.randn(5, 8)).shape == (5, 4)
    fresh = FeedbackMatrix(32, 4, "uniform2020", seed=3, normalize=True)
    assert torch.equal(model.feedback.matrix, fresh.matrix)
    assert model._engine.feedback is model.feedback
    assert {name: m.shape for name, m in model.feedback_matrices().items()} == {
        "body.3": (32, 4),
        "body.6": (32, 4),
    }
    assert all(torch.equal(v, body_before[k]) for k, v in model.body.state_dict().items())


def test_dfa_steps_after_replace_head_reduce_the_loss():
    model = replace_head(pretrained(), 3).train().set_method("dfa")
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(64, 8, generator=gen)
    y = (x[:, 0] > 0).long() + (x[:, 1] > 0).long()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    losses = []
    for _ in range(30):
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert model.body[1].weight.grad is not None  # hidden layers got their DFA signal
    assert losses[-1] < 0.8 * losses[0]


def test_replaced_model_saves_and_reloads(tmp_path):
    model = replace_head(pretrained(), 2)
    dfazoo.save_model(model, tmp_path)
    loaded = dfazoo.from_pretrained(tmp_path)
    assert loaded.head.out_features == 2 and loaded.feedback.error_size == 2
    assert torch.equal(loaded.feedback.matrix, model.feedback.matrix)


def test_non_linear_head_needs_an_explicit_module():
    model = pretrained()
    model.head = nn.Sequential(nn.Linear(32, 10))
    with pytest.raises(TypeError, match="new_head"):
        replace_head(model, 4)
    replace_head(model, 4, new_head=nn.Sequential(nn.Linear(32, 4)))
    assert model(torch.randn(1, 8)).shape == (1, 4)
    with pytest.raises(ValueError, match="positive"):
        replace_head(model, 0)


def test_replace_head_on_a_graph_autoencoder_says_what_to_pass():
    from dfazoo.graph import GAE

    with pytest.raises(TypeError, match="GAE.conv2 is a GCNConv; pass new_head= with a module producing 3"):
        replace_head(GAE(12, latent=4), 3)


def test_replace_head_on_a_model_without_a_head_says_so():
    class Headless(MLP):
        head_name = "decoder"

    with pytest.raises(ValueError, match="Headless has no output layer 'decoder' to replace"):
        replace_head(Headless(4, [3], 2), 3)
