using System.Globalization;
using System.Text;
using Cedm.Diffusion.Labels;

namespace Cedm.Stages;

/// <summary>
/// A cluster tree (a TreeVAE's, or the Ward tree above an agglo cut) drawn as text for reports: one line per node,
/// children indented under their parent; each line the node's images and, when labels are known, its most common
/// labels (labels describe the tree, they never shaped it).
/// </summary>
public static class ClusterTreeText
{
    /// <param name="ids">The cluster id of every image.</param>
    /// <param name="labels">The label of every image, or null.</param>
    /// <param name="labelNames">Names of the labels by value, or null (values printed).</param>
    public static string Draw(LabelTree tree, int[] ids, long[]? labels, IReadOnlyList<string>? labelNames = null)
    {
        ArgumentNullException.ThrowIfNull(tree);
        ArgumentNullException.ThrowIfNull(ids);
        var clusterOfLeaf = new Dictionary<int, int>();
        for (int c = 0; c < tree.LeafOfCluster.Length; c++) if (tree.LeafOfCluster[c] >= 0) clusterOfLeaf[tree.LeafOfCluster[c]] = c;
        // The images under every node: its leaf's cluster, or the union of its children's.
        var members = new List<int>[tree.Nodes];
        for (int v = 0; v < tree.Nodes; v++) members[v] = [];
        for (int i = 0; i < ids.Length; i++)
            if ((uint)ids[i] < (uint)tree.LeafOfCluster.Length && tree.LeafOfCluster[ids[i]] is int leaf and >= 0)
                for (int v = leaf; v >= 0; v = tree.Parent[v]) members[v].Add(i);
        var text = new StringBuilder();
        Write(0, "", "", true);
        return text.ToString();

        void Write(int node, string lead, string childLead, bool root)
        {
            string name = clusterOfLeaf.TryGetValue(node, out int c) ? $"cluster {c}" : root ? "root" : $"node {node}";
            text.Append(lead).Append(name).Append(string.Create(CultureInfo.InvariantCulture, $" ({members[node].Count:N0} images"));
            if (labels != null && members[node].Count > 0)
            {
                var top = members[node].GroupBy(i => labels[i]).OrderByDescending(g => g.Count()).ThenBy(g => g.Key).Take(2)
                    .Select(g => string.Create(CultureInfo.InvariantCulture, $"{Name(g.Key)} {100.0 * g.Count() / members[node].Count:0} %"));
                text.Append(": ").Append(string.Join(", ", top));
            }
            text.Append(")\n");
            var kids = tree.Children(node);
            for (int k = 0; k < kids.Count; k++)
            {
                bool last = k == kids.Count - 1;
                Write(kids[k], childLead + (last ? "└─ " : "├─ "), childLead + (last ? "   " : "│  "), false);
            }
        }

        string Name(long label) => labelNames != null && label >= 0 && label < labelNames.Count ? labelNames[(int)label] : label.ToString(CultureInfo.InvariantCulture);
    }
}
