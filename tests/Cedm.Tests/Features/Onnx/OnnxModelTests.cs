using Cedm.Data;
using Cedm.Features;
using Cedm.Features.Onnx;
using Cedm.Tensors;
using Cedm.Tests.TestUtilities;
using FluentAssertions;

namespace Cedm.Tests.Features.Onnx;

/// <summary>
/// The ONNX reader, the engine port and the ONNX Runtime path on small models exported by PyTorch
/// (tools/fixtures/make_onnx_fixtures.py): tinycnn.onnx (conv + BatchNorm + ReLU, max pool, a stride-2 residual
/// stage, global average pool, flatten → "features"; a linear layer → "logits") and vector.onnx (rank-2 input).
/// </summary>
public sealed class OnnxModelTests
{
    private static string FixturePath(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", "onnx", name);

    private static readonly FixtureFile Expected = FixtureFile.Load(Path.Combine("onnx", "tinycnn.bin"));

    [Fact]
    public void Reader_FindsGraphInputsOutputsAndWeights()
    {
        var model = OnnxModel.Load(FixturePath("tinycnn.onnx"));
        model.Inputs.Select(i => i.Name).Should().Equal("images");
        model.Inputs[0].Dims.Should().Equal(-1, 3, 32, 32); // symbolic batch
        model.Outputs.Select(o => o.Name).Should().Equal("features", "logits");
        model.Nodes.Select(n => n.OpType).Should().Contain(["Conv", "BatchNormalization", "MaxPool", "Add", "GlobalAveragePool", "Gemm"]);
        var stem = model.Nodes.First(n => n.OpType == "Conv");
        model.Initializers[stem.Inputs[1]].Dims.Should().Equal(8, 3, 3, 3);
        stem.Integers("pads", []).Should().Equal(1, 1, 1, 1);
        model.Nodes.First(n => n.OpType == "BatchNormalization").Real("epsilon", 0f).Should().BeApproximately(1e-5f, 1e-9f);
    }

    [Fact]
    public void EnginePort_MatchesPyTorch_WithBatchNormFolded()
    {
        var net = OnnxConvNet.Load(FixturePath("tinycnn.onnx"), "features");
        var y = net.Forward(Expected["x"]);
        TensorAssert.Close(Expected["features"], y, atol: 1e-5, rtol: 1e-4, "tinycnn features on cedm's engine");
    }

    [Fact]
    public void OnnxRuntime_MatchesPyTorch_ForEitherOutput()
    {
        using var features = new OnnxRuntimeSession(FixturePath("tinycnn.onnx"));
        Assert.Equal("features", features.OutputName); // the graph's first output by default
        TensorAssert.Close(Expected["features"], features.Run(Expected["x"]), 1e-5, 1e-4, "ORT features");
        using var logits = new OnnxRuntimeSession(FixturePath("tinycnn.onnx"), "logits");
        TensorAssert.Close(Expected["logits"], logits.Run(Expected["x"]), 1e-5, 1e-4, "ORT logits");
    }

    [Fact]
    public void OnnxExtractor_AppliesTheDocumentedInputPath()
    {
        var px = Expected["images"];
        var pixels = px.Data.Select(v => (byte)v).ToArray();
        var images = new ImageDataset("fixture", pixels, 4, 20, 20, 3);
        using var extractor = (OnnxFeatures)FeatureExtractors.Create($"onnx:{FixturePath("tinycnn.onnx")}:features",
            new FeatureExtractorContext { ImageShape = (20, 20, 3) });
        Assert.Equal(16, extractor.Dimension);
        Assert.Equal((32, 32), (extractor.Height, extractor.Width));
        var progress = new List<double>();
        var f = extractor.Extract(images, new SyncProgress(progress.Add));
        TensorAssert.Close(Expected["features_pipeline"], f, 1e-4, 1e-3, "onnx: extractor on 20x20 RGB images");
        progress.Should().NotBeEmpty().And.EndWith(1.0);
    }

    [Fact]
    public void MissingFile_IsNamed()
    {
        var context = new FeatureExtractorContext { ImageShape = (28, 28, 1) };
        var e = Assert.Throws<FileNotFoundException>(() => FeatureExtractors.Create("onnx:/nonexistent/model.onnx", context));
        e.Message.Should().Contain("/nonexistent/model.onnx");
        Assert.Throws<FileNotFoundException>(() => OnnxModel.Load("/nonexistent/model.onnx")).Message.Should().Contain("/nonexistent/model.onnx");
    }

    [Fact]
    public void UnknownOutputName_IsRejectedNamingFileAndOutputs()
    {
        string path = FixturePath("tinycnn.onnx");
        var e = Assert.Throws<ArgumentException>(() => new OnnxRuntimeSession(path, "pool5"));
        e.Message.Should().Contain(path).And.Contain("pool5").And.Contain("features");
        var p = Assert.Throws<ArgumentException>(() => OnnxConvNet.Load(path, "pool5"));
        p.Message.Should().Contain(path).And.Contain("pool5");
    }

    [Fact]
    public void WrongInputRank_IsRejectedNamingTheFile()
    {
        string path = FixturePath("vector.onnx");
        var e = Assert.Throws<InvalidDataException>(() => new OnnxFeatures(path));
        e.Message.Should().Contain(path).And.Contain("rank 2");
        using var session = new OnnxRuntimeSession(FixturePath("tinycnn.onnx"));
        Assert.Throws<ArgumentException>(() => session.Run(Tensor.Zeros(2, 3 * 32 * 32))).Message.Should().Contain("tinycnn.onnx");
        Assert.Throws<ArgumentException>(() => session.Run(Tensor.Zeros(1, 3, 16, 16))).Message.Should().Contain("[-1, 3, 32, 32]");
    }

    [Fact]
    public void EnginePort_RefusesOperatorsItCannotRun_NamingNodeAndFile()
    {
        string path = FixturePath("vector.onnx");
        var e = Assert.Throws<InvalidDataException>(() => OnnxConvNet.Load(path));
        e.Message.Should().Contain(path).And.Contain("Gemm");
    }

    [Fact]
    public void NotProtobuf_IsAClearError()
    {
        string path = Path.Combine(Path.GetTempPath(), $"cedm-not-onnx-{Environment.ProcessId}.onnx");
        File.WriteAllBytes(path, [0x0A, 0xFF, 0xFF, 0x7F, 1, 2]);
        try
        {
            Assert.Throws<InvalidDataException>(() => OnnxModel.Load(path)).Message.Should().Contain(path);
        }
        finally { File.Delete(path); }
    }

    private sealed class SyncProgress(Action<double> report) : IProgress<double>
    {
        public void Report(double value) => report(value);
    }
}
