namespace Cedm.Clustering.Bounds;

/// <summary>One TEMI run of the search: K, K_used, r = K_used/K, which phase ran it, β and its wall time.</summary>
public sealed record BoundRow(int K, int Utilized, double Ratio, string Phase, double Beta, double Seconds);

/// <summary>
/// The outcome of <see cref="ClusterBoundSearch.Run"/>: K_UB, the threshold, every run in order, whether the
/// doubling hit <see cref="BoundOptions.MaxK"/>, and with --lower the β = 1 run and K_LB.
/// </summary>
public sealed record BoundResult(int KUpper, double Threshold, IReadOnlyList<BoundRow> Table, bool CappedAtMaxK, int? KLower, BoundRow? LowerRun, double KnnSeconds, double TotalSeconds);
