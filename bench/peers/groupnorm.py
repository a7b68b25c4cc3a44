"""PyTorch peer of the groupnorm suite (case names match GroupNormSuite.cs)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _peer import setup, time_case  # noqa: E402

args, torch = setup()
F = torch.nn.functional
torch.manual_seed(1234)
shape = (64, 64, 32, 32)
x = torch.randn(shape)
gamma = 1 + 0.1 * torch.randn(64)
beta = 0.1 * torch.randn(64)
gy = torch.randn(shape)

with torch.no_grad():
    time_case("gn-silu-fwd", lambda: F.silu(F.group_norm(x, 16, gamma, beta, 1e-6)), args)

xg, gg, bg = x.clone().requires_grad_(), gamma.clone().requires_grad_(), beta.clone().requires_grad_()


def gn_fwdbwd():
    xg.grad = gg.grad = bg.grad = None
    F.silu(F.group_norm(xg, 16, gg, bg, 1e-6)).backward(gy)


time_case("gn-silu-fwdbwd", gn_fwdbwd, args)

bias = torch.randn(64, requires_grad=True)


def bias_silu():
    xg.grad = bias.grad = None
    F.silu(xg + bias[None, :, None, None]).backward(gy)


time_case("bias-silu-fwdbwd", bias_silu, args)

# SongUNet attention (spec 2.2), as in the reference: B=16, C=128, 16x16, 1 head.
b, c = 16, 128
qkv = torch.randn(b, 3 * c, 16, 16)
agy = torch.randn(b, c, 16, 16)


def attention(t):
    q, k, v = t.reshape(b, c, 3, -1).unbind(2)
    w = torch.einsum("ncq,nck->nqk", q, k / (c ** 0.5)).softmax(dim=2)
    return torch.einsum("nqk,nck->ncq", w, v).reshape(b, c, 16, 16)


with torch.no_grad():
    time_case("attn16-fwd", lambda: attention(qkv), args)
qkvg = qkv.clone().requires_grad_()


def attn_fwdbwd():
    qkvg.grad = None
    attention(qkvg).backward(agy)


time_case("attn16-fwdbwd", attn_fwdbwd, args)
