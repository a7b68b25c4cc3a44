using System.Globalization;

namespace Cedm.Benchmarks.Harness;

/// <summary>Command line: <c>[suite ...] [--repeats N] [--threads N] [--sample-ms X] [--case NAME ...] [--no-peer] [--list]</c>.</summary>
public sealed class BenchOptions
{
    public List<string> Suites { get; } = [];
    public int Repeats { get; private set; } = 5;
    public int Threads { get; private set; } = Cedm.Tensors.EnginePolicy.Current.Threads;
    public double SampleMs { get; private set; } = 50;
    public bool NoPeer { get; private set; }

    /// <summary>Only the cases whose name contains one of these (empty = all); the peer runs only their peer cases.</summary>
    public List<string> Cases { get; } = [];
    public bool List { get; private set; }
    public string RepoRoot { get; private set; } = FindRepoRoot();
    public string PeersDir => Path.Combine(RepoRoot, "bench", "peers");
    public string ResultsDir => Path.Combine(RepoRoot, "bench", "results");

    public const string Usage =
        "usage: dotnet run -c Release --project bench/Cedm.Benchmarks -- [suite ...] [--repeats N] [--threads N] [--sample-ms X] [--case NAME ...] [--no-peer] [--list]";

    public static BenchOptions Parse(string[] args)
    {
        var o = new BenchOptions();
        for (int i = 0; i < args.Length; i++)
        {
            string a = args[i];
            switch (a)
            {
                case "--repeats": o.Repeats = PositiveInt(a, Next(args, ref i)); break;
                case "--threads": o.Threads = PositiveInt(a, Next(args, ref i)); break;
                case "--sample-ms": o.SampleMs = double.Parse(Next(args, ref i), CultureInfo.InvariantCulture); break;
                case "--case": o.Cases.Add(Next(args, ref i)); break;
                case "--no-peer": o.NoPeer = true; break;
                case "--list": o.List = true; break;
                case "-h" or "--help": throw new ArgumentException(Usage);
                default:
                    if (a.StartsWith('-'))
                        throw new ArgumentException($"unknown option {a}\n{Usage}");
                    o.Suites.Add(a);
                    break;
            }
        }
        return o;
    }

    /// <summary>True when no --case was given or the name contains one of them.</summary>
    public bool Selects(string caseName) => Cases.Count == 0 || Cases.Any(c => caseName.Contains(c, StringComparison.Ordinal));

    private static string Next(string[] args, ref int i) =>
        ++i < args.Length ? args[i] : throw new ArgumentException($"{args[i - 1]} needs a value\n{Usage}");

    private static int PositiveInt(string name, string s) =>
        int.TryParse(s, out int v) && v >= 1 ? v : throw new ArgumentException($"{name} needs an integer >= 1, got '{s}'");

    /// <summary>The directory holding Cedm.slnx, searched upwards from the working directory, then from the binary.</summary>
    private static string FindRepoRoot()
    {
        foreach (string start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var d = new DirectoryInfo(start); d is not null; d = d.Parent)
                if (File.Exists(Path.Combine(d.FullName, "Cedm.slnx")))
                    return d.FullName;
        }
        return Directory.GetCurrentDirectory();
    }
}
