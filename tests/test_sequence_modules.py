"""nn.MultiheadAttention, nn.TransformerEncoderLayer, nn.Transformer, nn.GRU and nn.LSTM, tiny: `costlab.count` under
paper equals FlopCounterMode / 2 and under fvcore equals fvcore's FlopCountAnalysis, each tool run live here; where a
tool prices a module at 0 (fvcore has no handle for aten::gru and aten::lstm; FlopCounterMode none for CPU's fused
attention), costlab's 0 comes with the ops it could not price listed, never silently.

Hand arithmetic, embed 16, 2 heads of 8, sequence 5, batch 1:
- MultiheadAttention: in_proj 5*16*48 = 3,840, q @ k^T 2*5*5*8 = 400, weights @ v 400, out_proj 5*16*16 = 1,280:
  5,920 MACs; fvcore prices F.scaled_dot_product_attention (need_weights=False) at 0: 3,840 + 1,280 = 5,120.
- GRU 16 -> 8: each of 5 steps 16*24 + 8*24 = 576, 2,880 MACs; LSTM 16 -> 8: 5 * (16*32 + 8*32) = 3,840.
"""

import warnings

import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

import costlab  # noqa: E402
from conftest import flop_counter_macs, fvcore_total  # noqa: E402

DIMS = (1, 5, 16)


class Attention(nn.Module):
    def __init__(self, need_weights: bool):
        super().__init__()
        self.attn = nn.MultiheadAttention(16, 2, batch_first=True)
        self.need_weights = need_weights

    def forward(self, x):
        return self.attn(x, x, x, need_weights=self.need_weights)[0]


class Recurrent(nn.Module):
    def __init__(self, cls):
        super().__init__()
        self.rnn = cls(16, 8, batch_first=True)

    def forward(self, x):
        return self.rnn(x)[0]


class Transformer(nn.Module):
    def __init__(self):
        super().__init__()
        self.t = nn.Transformer(16, 2, 1, 1, 32, dropout=0.0, batch_first=True)

    def forward(self, x):
        return self.t(x, x)


MODELS = {
    "mha": lambda: Attention(False),
    "mha_weights": lambda: Attention(True),
    "encoder_layer": lambda: nn.TransformerEncoderLayer(16, 2, 32, dropout=0.0, batch_first=True),
    "transformer": Transformer,
    "gru": lambda: Recurrent(nn.GRU),
    "lstm": lambda: Recurrent(nn.LSTM),
}
HAND = {"mha": (5920, 5120), "mha_weights": (5920, 5920), "gru": (2880, 0), "lstm": (3840, 0)}  # (paper, fvcore)


def _built(name, device):
    torch.manual_seed(0)
    with torch.device(device):
        return MODELS[name]().eval()


@pytest.mark.parametrize("name", list(MODELS))
def test_paper_on_meta_equals_flop_counter_mode(name):
    """The default tracer for paper runs on meta, where torch takes the unfused path: FlopCounterMode / 2 there."""
    model = _built(name, "meta")
    tool = flop_counter_macs(model, torch.empty(DIMS, device="meta"))
    result = costlab.count(model, DIMS, convention="paper")
    assert result.macs == tool and result.unpriced == {}
    if name in HAND:
        assert tool == HAND[name][0]


@pytest.mark.parametrize("name", list(MODELS))
def test_fvcore_equals_fvcore(name):
    """fvcore's own total (its jit trace, on CPU) against costlab's fvcore convention (its formulas, on meta): the
    attention's F.linear calls inside F.multi_head_attention_forward are priced, its fused SDPA is 0 by fvcore's rule;
    a GRU or LSTM is 0 to fvcore (aten::gru, aten::lstm have no handle) and costlab lists the products it ran."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tool = fvcore_total(_built(name, "cpu"), torch.zeros(DIMS))
    result = costlab.count(_built(name, "meta"), DIMS, convention="fvcore")
    assert result.macs == tool
    if name in HAND:
        assert tool == HAND[name][1]
    if name in ("gru", "lstm"):
        assert result.unpriced and set(result.unpriced) <= {"addmm", "mm"}
    else:
        assert result.unpriced == {}


def test_attention_on_cpu_is_fused_and_listed_unpriced():
    """On CPU in eval, torch runs MultiheadAttention as one fused _native_multi_head_attention, which FlopCounterMode
    prices at 0: costlab says 0 too, and names the op."""
    model = _built("mha", "cpu")
    assert flop_counter_macs(model, torch.zeros(DIMS)) == 0
    result = costlab.count(model, DIMS, convention="paper")
    assert result.macs == 0 and result.unpriced == {"_native_multi_head_attention": 1}
