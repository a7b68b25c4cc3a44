using System.Globalization;
using Cedm.Data;
using Cedm.Features.Inception;
using Cedm.Features.Onnx;
using Cedm.Features.Vit;
using Cedm.Features.Evaluator;
using Cedm.Features.Ssl;

namespace Cedm.Features;

/// <summary>What an extractor may need beyond its spec string: the image shape, data to fit on, a saved model.</summary>
public sealed record FeatureExtractorContext
{
    /// <summary>Height, width and channels of the images the extractor will be applied to.</summary>
    public required (int Height, int Width, int Channels) ImageShape { get; init; }

    /// <summary>Loads the images a fitted extractor (PCA) is fitted on; called at most once, only when needed.</summary>
    public Func<ImageDataset>? FitData { get; init; }

    /// <summary>A saved model to load instead of fitting (e.g. a PCA written by `cedm features`).</summary>
    public string? ModelPath { get; init; }

    public int Seed { get; init; }

    public IProgress<double>? Progress { get; init; }

    /// <summary>Training settings for `ssl` (default: <see cref="SslOptions"/> with <see cref="Seed"/>).</summary>
    public SslOptions? Ssl { get; init; }

    /// <summary>Receives progress lines of extractors that train (ssl).</summary>
    public Action<string>? Log { get; init; }
}

/// <summary>
/// The registry of feature extractors by spec string (cli.md `cedm features --extractor`, `cedm eval --evaluator`):
/// "pixels", "pca[:D]", "pca:&lt;model.safetensors&gt;", "vit:&lt;weights.safetensors&gt;" (DINO/DINOv2 ViT, CLS
/// features; heads from the file's num_heads metadata or the S/B/L/g table) and "inception:&lt;weights.safetensors&gt;"
/// (the FID Inception-v3's 2048-d pool3). Other branches add their kinds as one line each in
/// <see cref="Create"/>'s switch.
/// </summary>
public static class FeatureExtractors
{
    public const string Syntax = "pixels, pca[:D] (default D 64), pca:<pca.safetensors>, ssl (SimCLR-trained on the source), ssl:quick, ssl:<encoder.safetensors>, fmnist (the shipped Fashion-MNIST evaluator), fmnist:<weights.safetensors>, vit:<weights.safetensors>, inception:<weights.safetensors>, resnet18 (ImageNet ResNet-18 from NuGet through ONNX Runtime at 224x224), resnet18:<size> (the same network on cedm's engine at size x size, a multiple of 32), onnx:<model.onnx>[:<output>] (any ONNX image model, through ONNX Runtime)";

    /// <summary>The extractor kinds <see cref="Create"/> knows.</summary>
    public static readonly string[] Kinds = ["pixels", "pca", "ssl", "vit", "inception", "resnet18", "onnx", "fmnist"];

    /// <summary>Splits "kind:argument" (the argument may itself contain ':' such as a path).</summary>
    public static (string Kind, string Argument) Parse(string spec)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(spec);
        int colon = spec.IndexOf(':');
        return colon < 0 ? (spec.Trim().ToLowerInvariant(), "") : (spec[..colon].Trim().ToLowerInvariant(), spec[(colon + 1)..]);
    }

    public static IFeatureExtractor Create(string spec, FeatureExtractorContext context)
    {
        var (kind, arg) = Parse(spec);
        var (h, w, c) = context.ImageShape;
        switch (kind)
        {
            case "pixels":
                if (arg.Length > 0) throw new ArgumentException($"extractor '{spec}': pixels takes no argument");
                return new PixelFeatures(h, w, c);
            case "pca":
                return CreatePca(spec, arg, context);
            // Extension points for the other branches: one line per kind.
            case "ssl": return CreateSsl(spec, arg, context);
            case "vit": return new VitFeatures(WeightsPath(spec, arg));
            case "inception": return new InceptionFeatures(WeightsPath(spec, arg));
            case "resnet18": return ResNet18Features.FromSpec(spec, arg);
            case "onnx": return OnnxFeatures.FromSpec(spec, arg);
            case "fmnist": return FashionEvaluatorFeatures.Load(arg.Length > 0 ? arg : context.ModelPath ?? FashionEvaluatorFeatures.DefaultPath());
            default:
                throw new ArgumentException($"unknown extractor '{spec}'; expected {Syntax}");
        }
    }

    private static PcaFeatures CreatePca(string spec, string arg, FeatureExtractorContext context)
    {
        string? modelPath = context.ModelPath;
        int? dimension = null;
        if (arg.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase)) modelPath = arg;
        else if (arg.Length > 0)
        {
            if (!int.TryParse(arg, NumberStyles.None, CultureInfo.InvariantCulture, out int d) || d < 1)
                throw new ArgumentException($"extractor '{spec}': expected pca, pca:D with D a positive integer, or pca:<model.safetensors>");
            dimension = d;
        }
        if (modelPath is not null)
        {
            var model = PcaFeatures.Load(modelPath);
            if (dimension is int want && want != model.Dimension)
                throw new ArgumentException($"extractor '{spec}': the PCA model {modelPath} has D = {model.Dimension}, not {want}");
            return model;
        }
        if (context.FitData is null)
            throw new SettingException("FitOn", $"extractor '{spec}': PCA needs data to fit on or a saved model");
        return PcaFeatures.Fit(context.FitData(), dimension ?? PcaFeatures.DefaultDimension, whiten: true, context.Seed, context.Progress);
    }

    /// <summary>The weights file of a pretrained-network extractor ("vit:&lt;path&gt;", "inception:&lt;path&gt;"), which must exist.</summary>
    private static string WeightsPath(string spec, string arg)
    {
        if (arg.Length == 0)
            throw new ArgumentException($"extractor '{spec}' needs a weights file: {spec.TrimEnd(':')}:<weights.safetensors>");
        if (!File.Exists(arg)) throw new FileNotFoundException($"extractor '{spec}': weights file not found: {arg}", arg);
        return arg;
    }

    /// <summary>"ssl" trains with the context's options, "ssl:quick" with the smoke-test budget, "ssl:&lt;weights&gt;" loads.</summary>
    private static SslFeatures CreateSsl(string spec, string arg, FeatureExtractorContext context)
    {
        string? modelPath = arg.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase) ? arg : arg.Length == 0 ? context.ModelPath : null;
        if (modelPath is not null) return SslFeatures.Load(modelPath);
        SslOptions options = arg.Length == 0 ? context.Ssl ?? new SslOptions { Seed = context.Seed }
            : arg.Equals("quick", StringComparison.OrdinalIgnoreCase) ? SslOptions.Quick(context.Seed)
            : throw new ArgumentException($"extractor '{spec}': expected ssl, ssl:quick or ssl:<encoder.safetensors>");
        if (context.FitData is null)
            throw new ArgumentException($"extractor '{spec}': training the ssl encoder needs images (or pass ssl:<encoder.safetensors>)");
        return SslFeatures.Train(context.FitData(), options, context.Progress, context.Log);
    }

    /// <summary>
    /// The spec with implied files spelled out ("fmnist" → "fmnist:&lt;the shipped evaluator&gt;"), so caches keyed on the
    /// files a spec names notice when the shipped evaluator is remade.
    /// </summary>
    public static string WithDefaultFiles(string spec) =>
        Parse(spec) is ("fmnist", "") ? $"fmnist:{FashionEvaluatorFeatures.DefaultPath()}" : spec;

    /// <summary>
    /// A spec that recreates <paramref name="extractor"/> exactly without refitting: a fitted PCA becomes
    /// "pca:&lt;its saved model&gt;" (given the path it was saved to); everything else keeps its name.
    /// </summary>
    public static string Resolved(IFeatureExtractor extractor, string? savedModelPath) => extractor switch
    {
        PcaFeatures when savedModelPath is not null => $"pca:{Path.GetFullPath(savedModelPath)}",
        SslFeatures when savedModelPath is not null => $"ssl:{Path.GetFullPath(savedModelPath)}",
        _ => extractor.Name,
    };
}
