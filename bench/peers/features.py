"""PyTorch peer of the features suite (case names match FeatureNetworksSuite.cs): the reference modules of
tools/fixtures/make_vit_fixtures.py and make_inception_fixtures.py in float32 with random weights, under no_grad."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "..", "tools", "fixtures"))
from _peer import setup, time_case  # noqa: E402

args, torch = setup()
from make_inception_fixtures import FidInceptionV3  # noqa: E402
from make_vit_fixtures import VisionTransformer  # noqa: E402

torch.manual_seed(1234)
batch = 8
with torch.no_grad():
    for name, dim, heads in (("vit-s16-224-b8", 384, 6), ("vit-b16-224-b8", 768, 12)):
        vit = VisionTransformer(dim, 12, heads, 16, 14).eval()
        for p in vit.parameters():
            p.normal_(0, 0.02)
        x = torch.randn(batch, 3, 224, 224)
        time_case(name, lambda: vit(x), args)
        del vit
    inc = FidInceptionV3(1).eval()
    x = torch.rand(batch, 3, 299, 299) * 2 - 1
    time_case("inception-299-b8", lambda: inc.features(x), args)
