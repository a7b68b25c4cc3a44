using Cedm.Tensors;
using Cedm.Tensors.Autograd;

namespace Cedm.Features.Onnx;

/// <summary>
/// Runs the convolutional part of an ONNX graph on cedm's own engine, at any input resolution: the weights are the
/// graph's initializers, the node order is the graph's (ONNX stores nodes topologically sorted). Operators: Conv
/// (group 1, dilation 1; a BatchNormalization that is the conv's only consumer is folded into its weights and bias,
/// as <c>FoldedConv</c> does for Inception), Relu, Add, MaxPool, AveragePool, GlobalAveragePool and Flatten. Asymmetric
/// pads (CNTK exports pad [begin 1, end 0] on stride-2 layers) become an explicit <see cref="Tensor.Pad2d"/>.
/// An AveragePool without padding that produces the graph output is taken as a global average pool, so a network
/// exported for 224×224 (ResNet-18's 7×7 head pool) gives the same feature length at any resolution and exactly
/// the exported result at the exported one. Anything else is refused at load time with the node named.
/// </summary>
public sealed class OnnxConvNet
{
    private readonly List<Func<Dictionary<string, Tensor>, Tensor>> _steps = [];
    private readonly List<string> _stepOutputs = [];
    private readonly Dictionary<string, int> _lastUse = [];

    public OnnxConvNet(OnnxModel model, string? outputName = null)
    {
        Source = model.Source;
        try
        {
            Build(model, outputName);
        }
        catch (InvalidDataException e) when (!e.Message.StartsWith(Source, StringComparison.Ordinal))
        {
            throw new InvalidDataException($"{Source}: {e.Message}", e);
        }
    }

    private void Build(OnnxModel model, string? outputName)
    {
        if (model.Inputs.Count != 1)
            throw new InvalidDataException($"{Source}: expected one image input, found {model.Inputs.Count} ({string.Join(", ", model.Inputs.Select(i => i.Name))}).");
        InputName = model.Inputs[0].Name;
        OutputName = outputName ?? model.Outputs[0].Name;
        InputDims = model.Inputs[0].Dims;
        var graphOutputs = model.Outputs.Select(o => o.Name).ToHashSet();
        if (!model.Nodes.Any(n => n.Outputs.Contains(OutputName)))
            throw new ArgumentException($"{Source}: no output named '{OutputName}' (graph outputs: {string.Join(", ", graphOutputs)}).");
        var consumers = new Dictionary<string, List<OnnxNode>>();
        foreach (var node in model.Nodes)
            foreach (var i in node.Inputs)
                (consumers.TryGetValue(i, out var l) ? l : consumers[i] = []).Add(node);
        var folded = new HashSet<OnnxNode>();
        var produced = new HashSet<string> { InputName };
        foreach (var node in model.Nodes)
        {
            if (folded.Contains(node)) continue;
            foreach (var i in node.Inputs.Where(i => i.Length > 0 && !model.Initializers.ContainsKey(i)))
                if (!produced.Contains(i)) throw Unsupported(node, $"input '{i}' is not produced before it");
            string output = node.Outputs[0];
            Func<Dictionary<string, Tensor>, Tensor> step;
            string x = node.Inputs[0];
            switch (node.OpType)
            {
                case "Conv":
                {
                    OnnxNode? bn = consumers.TryGetValue(output, out var cs) && cs.Count == 1 && cs[0].OpType == "BatchNormalization"
                        && !graphOutputs.Contains(output) && output != OutputName ? cs[0] : null;
                    var conv = BuildConv(model, node, bn);
                    if (bn is not null) { folded.Add(bn); output = bn.Outputs[0]; }
                    step = v => conv(v[x]);
                    break;
                }
                case "Relu": step = v => v[x].Relu(); break;
                case "Add":
                {
                    string y = node.Inputs[1];
                    if (model.Initializers.ContainsKey(x) || model.Initializers.ContainsKey(y)) throw Unsupported(node, "adding a constant");
                    step = v => v[x] + v[y];
                    break;
                }
                case "MaxPool": step = BuildPool(node, max: true, global: false); break;
                case "AveragePool": step = BuildPool(node, max: false, global: graphOutputs.Contains(output)); break;
                case "GlobalAveragePool": step = v => v[x].Mean([2, 3], keepDim: true); break;
                case "Flatten":
                    if (node.Whole("axis", 1) != 1) throw Unsupported(node, "axis other than 1");
                    step = v => v[x].Reshape(v[x].Dim(0), -1);
                    break;
                default: throw Unsupported(node, "operator not supported by cedm's engine (run the model through ONNX Runtime with onnx:<model.onnx>)");
            }
            for (int k = 0; k < node.Inputs.Length; k++) _lastUse[node.Inputs[k]] = _steps.Count;
            _steps.Add(step);
            _stepOutputs.Add(output);
            produced.Add(output);
            if (output == OutputName) break;
        }
        if (!produced.Contains(OutputName))
            throw new ArgumentException($"{Source}: no output named '{OutputName}' (graph outputs: {string.Join(", ", graphOutputs)}).");
    }

    public static OnnxConvNet Load(string path, string? outputName = null) => new(OnnxModel.Load(path), outputName);

    public string Source { get; }

    public string InputName { get; private set; } = "";

    public string OutputName { get; private set; } = "";

    /// <summary>The input's declared dims (−1 where symbolic): the resolution the graph was exported at.</summary>
    public long[] InputDims { get; private set; } = [];

    /// <summary>x: [N, C, H, W] in the layout and normalisation the graph was exported with → the output, flattened to [N, D].</summary>
    public Tensor Forward(Tensor x)
    {
        if (x.Rank != 4) throw new ArgumentException($"{Source}: expects images [N, C, H, W], got {Shapes.Format(x.Shape)}.");
        if (InputDims.Length == 4 && InputDims[1] > 0 && x.Dim(1) != InputDims[1])
            throw new ArgumentException($"{Source}: input '{InputName}' has {InputDims[1]} channels, got {Shapes.Format(x.Shape)}.");
        using var _ = GradMode.NoGrad();
        var values = new Dictionary<string, Tensor> { [InputName] = x };
        for (int s = 0; s < _steps.Count; s++)
        {
            values[_stepOutputs[s]] = _steps[s](values);
            // Drop every value whose last reader was this step, so large early activations are freed early.
            foreach (var (name, last) in _lastUse)
                if (last == s && name != _stepOutputs[s]) values.Remove(name);
        }
        var y = values[OutputName];
        return y.Reshape(y.Dim(0), -1);
    }

    private static Func<Tensor, Tensor> BuildConv(OnnxModel model, OnnxNode node, OnnxNode? bn)
    {
        if (node.Whole("group", 1) != 1) throw Unsupported(node, "grouped convolution");
        if (node.Integers("dilations", [1, 1]).Any(d => d != 1)) throw Unsupported(node, "dilated convolution");
        var w = Weight(model, node, 1, 4);
        int cout = (int)w.Dims[0], cin = (int)w.Dims[1], kh = (int)w.Dims[2], kw = (int)w.Dims[3];
        var strides = node.Integers("strides", [1, 1]);
        var pads = Pads(node, kh, kw);
        var weights = (float[])w.Values.Clone();
        var bias = node.Inputs.Length > 2 && node.Inputs[2].Length > 0 ? (float[])Weight(model, node, 2, 1).Values.Clone() : new float[cout];
        if (bn is not null)
        {
            // y = γ (conv(x) + b − mean)/√(var + ε) + β: scale the weights by k = γ/√(var + ε), b' = (b − mean)·k + β.
            float eps = bn.Real("epsilon", 1e-5f);
            var gamma = Weight(model, bn, 1, 1).Values;
            var beta = Weight(model, bn, 2, 1).Values;
            var mean = Weight(model, bn, 3, 1).Values;
            var variance = Weight(model, bn, 4, 1).Values;
            if (gamma.Length != cout) throw Unsupported(bn, $"{gamma.Length} channels after a conv with {cout}");
            int per = cin * kh * kw;
            for (int o = 0; o < cout; o++)
            {
                double k = gamma[o] / Math.Sqrt(variance[o] + (double)eps);
                for (int i = 0; i < per; i++) weights[o * per + i] = (float)(weights[o * per + i] * k);
                bias[o] = (float)((bias[o] - mean[o]) * k + beta[o]);
            }
        }
        var wt = new Tensor(weights, cout, cin, kh, kw);
        var bt = new Tensor(bias, cout);
        int sh = (int)strides[0], sw = (int)strides[1];
        var (top, left, bottom, right) = pads;
        if (top == bottom && left == right) return x => Tensor.Conv2d(x, wt, bt, sh, sw, top, left);
        return x => Tensor.Conv2d(x.Pad2d(top, bottom, left, right), wt, bt, sh, sw, 0, 0);
    }

    private static Func<Dictionary<string, Tensor>, Tensor> BuildPool(OnnxNode node, bool max, bool global)
    {
        string x = node.Inputs[0];
        var kernel = node.Integers("kernel_shape", []);
        var strides = node.Integers("strides", [1, 1]);
        if (kernel.Length != 2 || kernel[0] != kernel[1] || strides[0] != strides[1]) throw Unsupported(node, "non-square pooling window or stride");
        if (node.Whole("ceil_mode", 0) != 0) throw Unsupported(node, "ceil_mode");
        int k = (int)kernel[0], s = (int)strides[0];
        var (top, left, bottom, right) = Pads(node, k, k);
        bool includePad = node.Whole("count_include_pad", 0) != 0;
        if (global && top + left + bottom + right == 0) return v => v[x].Mean([2, 3], keepDim: true);
        bool symmetric = top == bottom && left == right && top == left;
        if (max)
            return symmetric ? v => v[x].MaxPool2d(k, s, top)
                : v => v[x].Pad2d(top, bottom, left, right, float.NegativeInfinity).MaxPool2d(k, s, 0);
        if (!symmetric) throw Unsupported(node, "asymmetric average-pool padding");
        return v => v[x].AvgPool2d(k, s, top, includePad);
    }

    /// <summary>ONNX pads [top, left, bottom, right] (begins then ends), or an auto_pad of NOTSET/VALID.</summary>
    private static (int Top, int Left, int Bottom, int Right) Pads(OnnxNode node, int kh, int kw)
    {
        string auto = node.Text("auto_pad", "NOTSET");
        if (auto is not ("NOTSET" or "VALID")) throw Unsupported(node, $"auto_pad {auto}");
        var p = node.Integers("pads", [0, 0, 0, 0]);
        if (p.Length != 4) throw Unsupported(node, $"{p.Length} pad values");
        return ((int)p[0], (int)p[1], (int)p[2], (int)p[3]);
    }

    private static OnnxInitializer Weight(OnnxModel model, OnnxNode node, int input, int rank)
    {
        if (node.Inputs.Length <= input || !model.Initializers.TryGetValue(node.Inputs[input], out var t))
            throw Unsupported(node, $"input {input} is not a stored weight");
        if (t.Dims.Length != rank || t.Values.Length == 0) throw Unsupported(node, $"weight '{t.Name}' of dims [{string.Join(", ", t.Dims)}] (expected a float tensor of rank {rank})");
        return t;
    }

    private static InvalidDataException Unsupported(OnnxNode node, string what) =>
        new($"ONNX node '{node.Name}' ({node.OpType}): {what}.");
}
