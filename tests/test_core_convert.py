"""dfazoo.convert: DFA on an existing model through hooks, the same engine as hand-placed points."""

import copy
import dataclasses

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import dfazoo
from dfazoo.core import ConvertedModel, FeedbackPoint, convert, converted, unconvert
from dfazoo.core.serialization import ModelLoadError
from dfazoo.spec import get_recipe
from dfazoo.train.trainer import Trainer
from dfazoo.vision import MLP


def _plain_copy(ref: MLP) -> nn.Sequential:
    """The layers of ``ref`` without its feedback points, sharing no parameters with it."""
    linears = [m for m in ref.body if isinstance(m, nn.Linear)] + [ref.head]
    layers: list[nn.Module] = [nn.Flatten()]
    for lin in linears[:-1]:
        layers += [nn.Linear(lin.in_features, lin.out_features), nn.Tanh()]
    layers.append(nn.Linear(linears[-1].in_features, linears[-1].out_features))
    net = nn.Sequential(*layers)
    for mine, theirs in zip([m for m in net if isinstance(m, nn.Linear)], linears):
        mine.load_state_dict(theirs.state_dict())
    return net


@pytest.mark.parametrize("placement", ["macro", "micro"])
def test_converted_plain_mlp_has_the_gradients_of_the_hand_written_one(placement):
    torch.manual_seed(0)
    ref = MLP(64, [32, 24, 16], 10, activation="tanh", seed=5)
    net = _plain_copy(ref)
    x, y = torch.randn(16, 1, 8, 8), torch.randint(0, 10, (16,))
    model = convert(net, x, placement=placement, seed=5)
    assert list(model.feedback_points()) == ["2", "4", "6"]
    torch.testing.assert_close(model.feedback.matrix, ref.feedback.matrix, rtol=0, atol=0)
    for mine, theirs in zip(
        model.feedback_matrices().values(), ref.feedback_matrices().values(), strict=True
    ):
        torch.testing.assert_close(mine, theirs, rtol=0, atol=0)
    for method in ("dfa", "bp", "shallow"):
        ref.set_method(method).zero_grad()
        model.set_method(method).zero_grad()
        F.cross_entropy(ref(x), y).backward()
        F.cross_entropy(model(x), y).backward()
        for mine, theirs in zip(model.parameters(), ref.parameters(), strict=True):
            assert (mine.grad is None) == (theirs.grad is None), method
            if theirs.grad is not None:
                torch.testing.assert_close(mine.grad, theirs.grad, rtol=0, atol=0)
    shallow_trained = [n for n, p in model.named_parameters() if p.grad is not None]
    assert shallow_trained == ["module.7.weight", "module.7.bias"]


class BasicBlock(nn.Module):
    """A ResNet basic block (the same ReLU module used twice, as torchvision does)."""

    def __init__(self, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.relu = nn.ReLU()
        self.shortcut = (
            nn.Identity() if stride == 1 and c_in == c_out else nn.Conv2d(c_in, c_out, 1, stride, bias=False)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        return self.relu(self.bn2(self.conv2(out)) + self.shortcut(x))


class TinyResNet(nn.Module):
    def __init__(self, width: int = 16, classes: int = 10) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, width, 3, 1, 1, bias=False), nn.BatchNorm2d(width), nn.ReLU())
        self.stages = nn.Sequential(
            nn.Sequential(BasicBlock(width, width, 1)),
            nn.Sequential(BasicBlock(width, 2 * width, 2)),
            nn.Sequential(BasicBlock(2 * width, 2 * width, 1)),
        )
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(2 * width, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.pool(self.stages(self.stem(x))).flatten(1))


def test_resnet_placement_macro_after_stages_micro_after_activations_too():
    x = torch.randn(4, 1, 8, 8)
    macro = convert(TinyResNet(), x, placement="macro")
    assert list(macro.feedback_points()) == ["stages.0", "stages.1", "stages.2"]
    assert [p.size for p in macro.feedback_points().values()] == [16 * 64, 32 * 16, 32 * 16]
    micro = convert(TinyResNet(), x, placement="micro")
    names = list(micro.feedback_points())
    assert names[0] == "stem.2" and "stages.1.0.relu" in names and "stages.2" in names
    micro.set_placement("macro")
    assert list(micro.feedback_points()) == ["stages.0", "stages.1", "stages.2"]


@pytest.mark.integration
def test_converted_resnet_trains_on_digits_with_dfa_and_beats_shallow(tmp_path):
    recipe = dataclasses.replace(
        get_recipe("mlp-digits-dfa"), epochs=8, optimizer={"name": "adam", "lr": 3e-3}
    )
    example = torch.zeros(2, 1, 8, 8)
    accuracy, alignment = {}, {}
    for method in ("dfa", "shallow"):
        torch.manual_seed(0)
        model = convert(TinyResNet(), example, method=method, seed=0)
        trainer = Trainer(recipe, tmp_path / method, model=model, progress=False, align_every=4)
        result = trainer.fit()
        accuracy[method], alignment[method] = result.test_metrics["accuracy"], result.alignment
    assert accuracy["dfa"] > accuracy["shallow"] + 5, accuracy
    assert set(alignment["dfa"]) == {"stages.0", "stages.1", "stages.2"}
    assert alignment["dfa"]["stages.2"]["mean"] > 0.05, alignment
    reloaded = ConvertedModel.from_pretrained(tmp_path / "dfa", model=TinyResNet())
    assert reloaded.method == "dfa" and list(reloaded.feedback_points()) == [
        "stages.0",
        "stages.1",
        "stages.2",
    ]


def test_dfa_skips_the_input_gradients_of_blocks():
    """In dfa mode a block's input does not require grad: autograd never computes its gradient."""
    net = nn.Sequential(
        nn.Sequential(nn.Linear(8, 8), nn.ReLU()), nn.Sequential(nn.Linear(8, 8), nn.ReLU()), nn.Linear(8, 3)
    )
    x, y = torch.randn(5, 8), torch.tensor([0, 1, 2, 0, 1])
    model = convert(net, x)
    needs_grad = []
    net[1].register_forward_pre_hook(lambda m, args: needs_grad.append(args[0].requires_grad))
    F.cross_entropy(model(x), y).backward()
    assert net[0][0].weight.grad is not None and net[1][0].weight.grad is not None
    model.set_method("bp")
    F.cross_entropy(model(x), y).backward()
    assert needs_grad == [False, True]


def test_user_rules_name_or_select_the_modules():
    x = torch.randn(4, 1, 8, 8)
    by_name = convert(TinyResNet(), x, placement=["stem", "stages.1"])
    assert list(by_name.feedback_points()) == ["stem", "stages.1"]
    convs = convert(TinyResNet(), x, placement=lambda name, m: isinstance(m, BasicBlock))
    assert list(convs.feedback_points()) == ["stages.0.0", "stages.1.0", "stages.2.0"]
    assert convs.placement == "macro" and all(p.tag == "block" for p in convs.feedback_points().values())


def test_outputs_of_tokens_nodes_and_tuples():
    class Block(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.lin = nn.Linear(6, 6)

        def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, None]:
            return torch.tanh(self.lin(x)), None

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.blocks = nn.ModuleList(Block() for _ in range(2))
            self.head = nn.Linear(6, 5)

        def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
            for block in self.blocks:
                x = block(x)[0]
            return {"hidden": x, "logits": self.head(x)}

    tokens = torch.randn(3, 7, 6)
    model = convert(Net(), tokens)
    assert [(p.size, p.shared_dims) for p in model.feedback_points().values()] == [(6, 2), (6, 2)]
    out = model(tokens)
    F.mse_loss(out["logits"], torch.zeros(3, 7, 5)).backward()
    assert model.module.blocks[0].lin.weight.grad.abs().sum() > 0
    nodes = torch.randn(11, 6)  # (nodes, features) share the matrix too
    assert convert(Net(), nodes).feedback_points()["blocks.0"].shared_dims == 1
    hidden = convert(Net(), nodes, output="hidden", placement=["blocks.0"])
    assert hidden.feedback.error_size == 6 and hidden.output_module == "blocks.1"


def test_bf16_autocast_and_alignment_work_on_a_converted_model():
    net = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 4))
    x, y = torch.randn(6, 8), torch.tensor([0, 1, 2, 3, 0, 1])
    model = convert(net, x)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        loss = F.cross_entropy(model(x), y)
    loss.backward()
    assert net[0].weight.grad is not None and net[0].weight.grad.dtype == torch.float32
    result = dfazoo.measure_alignment(model, x, y, F.cross_entropy)
    assert set(result) == {"1", "3"}


def test_save_and_load_round_trip_exactly(tmp_path):
    net = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 4))
    x = torch.randn(6, 8)
    model = convert(net, x, placement="micro", seed=7, method="bp")
    model.save_pretrained(tmp_path)
    fresh = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 4))
    back = ConvertedModel.from_pretrained(tmp_path, model=fresh)
    assert back.method == "bp" and back.placement == "micro"
    for (k, a), (k2, b) in zip(model.state_dict().items(), back.state_dict().items(), strict=True):
        assert k == k2 and torch.equal(a, b)
    with pytest.raises(ModelLoadError, match="model="):
        dfazoo.from_pretrained(tmp_path)


def test_deepcopy_gives_an_independent_converted_copy():
    net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    x, y = torch.randn(3, 4), torch.tensor([0, 1, 1])
    model = convert(net, x)
    clone = copy.deepcopy(model)
    assert clone.module is not net and clone.module[0].weight is not net[0].weight
    F.cross_entropy(clone(x), y).backward()
    assert net[0].weight.grad is None and clone.module[0].weight.grad is not None
    assert len(net[1]._forward_hooks) == 1 and len(clone.module[1]._forward_hooks) == 1
    torch.testing.assert_close(clone.feedback.matrix, model.feedback.matrix)


def test_unconvert_and_context_manager_give_back_the_original():
    net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    net.note = "mine"
    x = torch.randn(3, 4)
    expected = net(x)
    with converted(net, x) as model:
        assert model.module is net and net[1]._forward_hooks
        assert model.note == "mine"  # attributes the wrapper lacks come from the model
    assert not net[1]._forward_hooks and not net[2]._forward_hooks
    torch.testing.assert_close(net(x), expected)
    model = convert(net, x)
    assert unconvert(model) is net
    assert not any(m._forward_hooks for m in net.modules())
    assert not any(isinstance(m, FeedbackPoint) for m in net.modules())


def test_bad_input_gets_clear_errors():
    net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    x = torch.randn(3, 4)
    with pytest.raises(ValueError, match="no module of Linear matches placement='macro'"):
        convert(nn.Linear(4, 2), x)
    with pytest.raises(ValueError, match="has no module named 'nope'"):
        convert(net, x, placement=["nope"])
    with pytest.raises(ValueError, match="example_input does not run through Sequential"):
        convert(net, torch.randn(3, 5))

    class Strings(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.body = nn.Sequential(nn.Linear(4, 4), nn.ReLU(), nn.Linear(4, 2))

        def forward(self, x: torch.Tensor) -> str:
            return str(self.body(x))

    with pytest.raises(TypeError, match="returned a str, not a tensor"):
        convert(Strings(), x)
    model = convert(net, x)
    with pytest.raises(ValueError, match="already converted"):
        convert(net, x)
    with pytest.raises(ValueError, match="already a DFA model"):
        convert(model, x)
    with pytest.raises(ValueError, match="feed the output with no layer after them"):
        convert(nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2), nn.Tanh()), x, placement=["3"])
    resnet = convert(TinyResNet(), torch.randn(2, 1, 8, 8))
    loss = F.cross_entropy(resnet(torch.randn(2, 1, 16, 16)), torch.tensor([0, 1]))
    with pytest.raises(RuntimeError, match="'stages.0' declared size 1024 but received 4096"):
        loss.backward()


def _tiny_gpt2():
    transformers = pytest.importorskip("transformers", reason="the optional extra .[transformers]")
    config = transformers.GPT2Config(
        vocab_size=61, n_positions=16, n_embd=32, n_layer=3, n_head=4, bos_token_id=0, eos_token_id=0
    )
    torch.manual_seed(0)
    return transformers.GPT2LMHeadModel(config)


def _matmul_flops(model: nn.Module, ids: torch.Tensor) -> int:
    """FLOPs of one forward + backward (matmuls and attention), by ``torch.utils.flop_counter``."""
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter:
        model(input_ids=ids, labels=ids).loss.backward()
    model.zero_grad()
    return counter.get_total_flops()


@pytest.mark.parametrize("placement", ["macro", "micro"])
def test_huggingface_gpt2_trains_with_dfa_skips_block_input_gradients_and_reloads(placement, tmp_path):
    gpt2 = _tiny_gpt2()
    ids = (torch.arange(16)[None] + torch.arange(0, 61, 4)[:, None]) % 61  # next token = token + 1
    model = convert(gpt2, ids[:2], placement=placement)
    blocks = {"macro": 3, "micro": 6}[placement]
    assert len(model.feedback_points()) == blocks and model.output_module == "lm_head"
    needs_grad = []
    for block in gpt2.transformer.h:
        block.register_forward_pre_hook(
            lambda m, args, kw: needs_grad.append(args[0].requires_grad), with_kwargs=True
        )
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(25):
        loss = model(input_ids=ids, labels=ids).loss
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0] - 0.25, losses
    assert needs_grad[:3] == [True, False, False]  # the embeddings learn through block 0 only
    # Less the projection B e, DFA computes no more than BP; micro also skips the input-gradient
    # matmuls of each MLP's output projection (macro's blocks open with an affine LayerNorm, whose
    # gain needs the first projection's input-gradient, so macro skips no matmul here).
    rows = max(p.size for p in model.feedback_points().values())
    projection = 2 * ids.numel() * model.feedback.error_size * rows
    dfa_flops = _matmul_flops(model, ids) - projection
    bp_flops = _matmul_flops(model.set_method("bp"), ids)
    model.set_method("dfa")
    assert dfa_flops < bp_flops if placement == "micro" else dfa_flops == bp_flops
    model.save_pretrained(tmp_path)
    back = dfazoo.from_pretrained(tmp_path)
    assert back.placement == placement and type(back.module) is type(gpt2)
    model.eval()
    torch.testing.assert_close(back(input_ids=ids).logits, model(input_ids=ids).logits)
