using Cedm.Tensors;
using Microsoft.ML.OnnxRuntime;

namespace Cedm.Features.Onnx;

/// <summary>
/// One ONNX graph run through ONNX Runtime (CPU, <see cref="Cedm.Tensors.EnginePolicy.Threads"/> of the current engine policy as intra-op threads): a single
/// float image input [N, C, H, W] → one named output. Checks the input's rank and the output
/// name at load time and names the file in every error. When the graph fixes its batch dimension (the ML.NET
/// ResNet-18 declares 1), batches are run image by image.
/// </summary>
public sealed class OnnxRuntimeSession : IDisposable
{
    private readonly InferenceSession _session;
    private readonly RunOptions _runOptions = new();

    public OnnxRuntimeSession(string path, string? outputName = null)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"ONNX model not found: {path}", path);
        Source = path;
        var options = new SessionOptions { IntraOpNumThreads = Cedm.Tensors.EnginePolicy.Current.Threads, InterOpNumThreads = 1 };
        try
        {
            _session = new InferenceSession(path, options);
        }
        catch (OnnxRuntimeException e)
        {
            throw new InvalidDataException($"{path}: ONNX Runtime cannot load it: {e.Message}", e);
        }
        var inputs = _session.InputMetadata.Where(kv => kv.Value.IsTensor).ToList();
        if (inputs.Count != 1)
            throw new InvalidDataException($"{path}: expected one image input, found {inputs.Count} ({string.Join(", ", _session.InputMetadata.Keys)}).");
        InputName = inputs[0].Key;
        InputDims = [.. inputs[0].Value.Dimensions];
        if (InputDims.Length != 4)
            throw new InvalidDataException($"{path}: input '{InputName}' has rank {InputDims.Length} ([{string.Join(", ", InputDims)}]); an image model takes [N, C, H, W].");
        if (inputs[0].Value.ElementDataType != Microsoft.ML.OnnxRuntime.Tensors.TensorElementType.Float)
            throw new InvalidDataException($"{path}: input '{InputName}' is {inputs[0].Value.ElementDataType}, not float.");
        OutputName = outputName ?? _session.OutputMetadata.Keys.First();
        if (!_session.OutputMetadata.ContainsKey(OutputName))
            throw new ArgumentException($"{path}: no output named '{OutputName}' (outputs: {string.Join(", ", _session.OutputMetadata.Keys)}).");
    }

    public string Source { get; }

    public string InputName { get; }

    /// <summary>Declared input dims [N, C, H, W] (−1 where symbolic).</summary>
    public int[] InputDims { get; }

    public string OutputName { get; }

    /// <summary>Channels the input takes (3 when the graph leaves it symbolic).</summary>
    public int Channels => InputDims[1] > 0 ? InputDims[1] : 3;

    /// <summary>The largest batch one run takes: the fixed batch dimension, or unlimited (int.MaxValue) when symbolic.</summary>
    public int MaxBatch => InputDims[0] > 0 ? InputDims[0] : int.MaxValue;

    /// <summary>x [N, C, H, W] → the output [N, ...] (its shape as ONNX Runtime reports it), in runs of at most <see cref="MaxBatch"/> images.</summary>
    public Tensor Run(Tensor x)
    {
        if (x.Rank != 4) throw new ArgumentException($"{Source}: expects images [N, C, H, W], got {Shapes.Format(x.Shape)}.");
        int n = x.Dim(0), per = x.Size / Math.Max(1, n);
        for (int a = 1; a < 4; a++)
            if (InputDims[a] > 0 && InputDims[a] != x.Dim(a))
                throw new ArgumentException($"{Source}: input '{InputName}' is [{string.Join(", ", InputDims)}], got {Shapes.Format(x.Shape)}.");
        int step = Math.Min(n, MaxBatch);
        float[]? result = null;
        int d = 0;
        long[] shape = [];
        for (int start = 0; start < n; start += step)
        {
            int m = Math.Min(step, n - start);
            var chunk = new float[m * per];
            Array.Copy(x.Data, start * per, chunk, 0, chunk.Length);
            using var input = OrtValue.CreateTensorValueFromMemory(chunk, [m, x.Dim(1), x.Dim(2), x.Dim(3)]);
            using var outputs = _session.Run(_runOptions, [InputName], [input], [OutputName]);
            var y = outputs[0].GetTensorDataAsSpan<float>();
            if (result is null)
            {
                shape = outputs[0].GetTensorTypeAndShape().Shape;
                d = y.Length / m;
                result = new float[n * d];
            }
            if (y.Length != m * d) throw new InvalidDataException($"{Source}: output '{OutputName}' changed length between batches.");
            y.CopyTo(result.AsSpan(start * d, m * d));
        }
        if (result is null) return Tensor.Zeros(0, 0);
        return shape.Length >= 1 ? new Tensor(result, [n, .. shape.Skip(1).Select(v => (int)v)]) : new Tensor(result, n, d);
    }

    public void Dispose()
    {
        _runOptions.Dispose();
        _session.Dispose();
    }
}
