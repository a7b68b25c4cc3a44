namespace Cedm.Features.Onnx;

/// <summary>
/// Where the pretrained ImageNet ResNet-18 lives: the NuGet package <c>Microsoft.ML.DnnImageFeaturizer.ResNet18</c>
/// 0.23.1 (MIT), restored into the NuGet cache by <c>tools/install-deps.sh</c> (which restores the restore-only project
/// <c>tools/pretrained/Cedm.Pretrained.csproj</c>). It ships the network (<c>ResNet18.onnx</c>, exported from CNTK:
/// input <c>Input247</c> [1, 3, 224, 224], 512-d output <c>Pooling395_Output_0</c>, the global average pool) and its
/// input normalisation (<c>ResNetPreprocess.onnx</c>: RGB in 0–255 → BGR minus a 224×224 per-pixel mean image).
/// Nothing is downloaded at run time.
/// </summary>
public static class PretrainedResNet18
{
    public const string PackageId = "microsoft.ml.dnnimagefeaturizer.resnet18";
    public const string PackageVersion = "0.23.1";
    public const string InputName = "Input247";
    public const string OutputName = "Pooling395_Output_0";
    public const string SetupCommand = "bash tools/install-deps.sh";

    /// <summary>The resolution the graph was exported at (its per-pixel mean image has this size).</summary>
    public const int NativeSize = 224;

    /// <summary>The package folder in the NuGet cache ($NUGET_PACKAGES, else ~/.nuget/packages).</summary>
    public static string PackageDirectory()
    {
        string? cache = Environment.GetEnvironmentVariable("NUGET_PACKAGES");
        if (string.IsNullOrEmpty(cache))
            cache = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        return Path.Combine(cache, PackageId, PackageVersion);
    }

    /// <summary>ResNet18.onnx in the package folder (default: <see cref="PackageDirectory"/>); a clear error naming the set-up command when absent.</summary>
    public static string NetworkPath(string? packageDirectory = null) =>
        Require(Path.Combine(packageDirectory ?? PackageDirectory(), "tools", "DnnImageModels", "ResNet18Onnx", "ResNet18.onnx"));

    public static string PreprocessPath(string? packageDirectory = null) =>
        Require(Path.Combine(packageDirectory ?? PackageDirectory(), "tools", "DnnImageModels", "ResNetPrepOnnx", "ResNetPreprocess.onnx"));

    /// <summary>True when the package has been restored (tests use it to say what is missing, never to skip).</summary>
    public static bool IsRestored() =>
        File.Exists(Path.Combine(PackageDirectory(), "tools", "DnnImageModels", "ResNet18Onnx", "ResNet18.onnx"));

    /// <summary>The per-pixel mean image [3, 224, 224] in BGR order that the preprocessing graph subtracts.</summary>
    public static float[] LoadMeanImage()
    {
        var prep = OnnxModel.Load(PreprocessPath());
        var mean = prep.Initializers.Values.FirstOrDefault(t => t.Values.Length == 3 * NativeSize * NativeSize)
            ?? throw new InvalidDataException($"{prep.Source}: no [1, 3, {NativeSize}, {NativeSize}] mean image found.");
        return mean.Values;
    }

    private static string Require(string path) => File.Exists(path) ? path
        : throw new FileNotFoundException(
            $"the pretrained ResNet-18 ({PackageId} {PackageVersion}) is not in the NuGet cache: {path} is missing. Run `{SetupCommand}` (it restores tools/pretrained/Cedm.Pretrained.csproj).", path);
}
