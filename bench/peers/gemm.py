"""PyTorch peer of the gemm suite: torch.mm on square float32 matrices (case names match GemmSuite.cs)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _peer import setup, time_case  # noqa: E402

args, torch = setup()
torch.manual_seed(1234)
for n in (512, 1024, 2048):
    a = torch.rand(n, n) * 2 - 1
    b = torch.rand(n, n) * 2 - 1
    out = torch.empty(n, n)
    time_case(f"sgemm-{n}", lambda: torch.mm(a, b, out=out), args)
