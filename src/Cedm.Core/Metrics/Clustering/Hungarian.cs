namespace Cedm.Metrics.Clustering;

/// <summary>
/// Rectangular linear assignment (Kuhn–Munkres with row/column potentials and shortest augmenting paths, O(n²·m)
/// for n = min(rows, cols), m = max): picks min(rows, cols) cells, at most one per row and column, with the largest
/// (<see cref="Maximize"/>) or smallest (<see cref="Minimize"/>) total weight. Used for clustering accuracy (spec §6.4),
/// where scipy's `linear_sum_assignment` plays the same role.
/// </summary>
public static class Hungarian
{
    /// <summary>
    /// For each row of the row-major [rows, cols] <paramref name="weights"/>, the column assigned to it, or −1 when
    /// rows &gt; cols and the row is left out; the total weight is maximal.
    /// </summary>
    public static int[] Maximize(ReadOnlySpan<double> weights, int rows, int cols)
    {
        var negated = new double[weights.Length];
        for (int i = 0; i < negated.Length; i++) negated[i] = -weights[i];
        return Minimize(negated, rows, cols);
    }

    /// <summary>As <see cref="Maximize"/>, minimising the total weight.</summary>
    public static int[] Minimize(ReadOnlySpan<double> costs, int rows, int cols)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfNegative(cols);
        if (costs.Length != (long)rows * cols)
            throw new ArgumentException($"{costs.Length} costs for a {rows}×{cols} matrix.", nameof(costs));
        foreach (double v in costs)
            if (!double.IsFinite(v)) throw new ArgumentException("Assignment costs must be finite.", nameof(costs));
        var assignment = new int[rows];
        Array.Fill(assignment, -1);
        if (rows == 0 || cols == 0) return assignment;

        if (rows <= cols)
        {
            var colOfRow = SolveWide(costs, rows, cols, transposed: false);
            for (int r = 0; r < rows; r++) assignment[r] = colOfRow[r];
        }
        else
        {
            // More rows than columns: solve the transpose (columns choose rows) and invert.
            var rowOfCol = SolveWide(costs, cols, rows, transposed: true);
            for (int c = 0; c < cols; c++) assignment[rowOfCol[c]] = c;
        }
        return assignment;
    }

    /// <summary>
    /// Minimum-cost assignment of every one of n "agents" to a distinct one of m ≥ n "tasks". Cost(agent, task) is
    /// costs[agent·m + task], or costs[task·n + agent] when <paramref name="transposed"/>. Returns the task of each agent.
    /// Agents are added one at a time; each addition grows a shortest-path tree over the tasks using reduced costs
    /// c − u(agent) − v(task) (kept non-negative by the potentials), then flips the path to the first free task.
    /// </summary>
    private static int[] SolveWide(ReadOnlySpan<double> costs, int n, int m, bool transposed)
    {
        // Index 0 of the task arrays is a virtual task holding the agent being inserted; agents are 1-based there.
        var u = new double[n + 1];
        var v = new double[m + 1];
        var agentOfTask = new int[m + 1];   // 0 = free
        var previousTask = new int[m + 1];  // the tree edge used to reach each task
        var slack = new double[m + 1];
        var visited = new bool[m + 1];
        for (int agent = 1; agent <= n; agent++)
        {
            agentOfTask[0] = agent;
            int task = 0;
            Array.Fill(slack, double.PositiveInfinity);
            Array.Clear(visited);
            do
            {
                visited[task] = true;
                int i = agentOfTask[task], next = -1;
                double delta = double.PositiveInfinity;
                for (int j = 1; j <= m; j++)
                {
                    if (visited[j]) continue;
                    double cost = transposed ? costs[(j - 1) * n + (i - 1)] : costs[(i - 1) * m + (j - 1)];
                    double reduced = cost - u[i] - v[j];
                    if (reduced < slack[j]) { slack[j] = reduced; previousTask[j] = task; }
                    if (slack[j] < delta) { delta = slack[j]; next = j; }
                }
                // Raise the tree's potentials by delta so that at least one more task becomes tight.
                for (int j = 0; j <= m; j++)
                {
                    if (visited[j]) { u[agentOfTask[j]] += delta; v[j] -= delta; }
                    else slack[j] -= delta;
                }
                task = next;
            } while (agentOfTask[task] != 0);
            // Augment: shift agents back along the tree path ending at the free task.
            while (task != 0)
            {
                int before = previousTask[task];
                agentOfTask[task] = agentOfTask[before];
                task = before;
            }
        }
        var result = new int[n];
        for (int j = 1; j <= m; j++)
            if (agentOfTask[j] != 0) result[agentOfTask[j] - 1] = j - 1;
        return result;
    }
}
