"""PyTorch peer of the conv suite (case names match ConvSuite.cs): conv2d 3x3 64->64 pad 1 on [64,64,32,32], and fwd / fwd+bwd at batch 32 on 16x16 and 8x8."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _peer import setup, time_case  # noqa: E402

args, torch = setup()
torch.manual_seed(1234)
N, C, H, W = 64, 64, 32, 32
x = torch.randn(N, C, H, W)
w = torch.randn(C, C, 3, 3) / 24
b = torch.randn(C) * 0.1
gy = torch.randn(N, C, H, W)
F = torch.nn.functional


def forward():
    with torch.no_grad():
        F.conv2d(x, w, b, stride=1, padding=1)


xg, wg, bg = x.clone().requires_grad_(), w.clone().requires_grad_(), b.clone().requires_grad_()


def forward_backward():
    xg.grad = wg.grad = bg.grad = None
    F.conv2d(xg, wg, bg, stride=1, padding=1).backward(gy)


time_case("conv3x3-fwd", forward, args)
time_case("conv3x3-fwdbwd", forward_backward, args)

# The small-image levels of the training nets at batch 32 (ConvSuite's conv3x3-b32-*-fwdbwd cases).
for side in (16, 8):
    xs = torch.randn(32, C, side, side).requires_grad_()
    gys = torch.randn(32, C, side, side)

    def small_fwdbwd(xs=xs, gys=gys):
        xs.grad = wg.grad = bg.grad = None
        F.conv2d(xs, wg, bg, stride=1, padding=1).backward(gys)

    time_case(f"conv3x3-b32-{side}x{side}-fwdbwd", small_fwdbwd, args)

    def small_fwd(xs=xs):
        with torch.no_grad():
            F.conv2d(xs, w, b, stride=1, padding=1)

    time_case(f"conv3x3-b32-{side}x{side}-fwd", small_fwd, args)
