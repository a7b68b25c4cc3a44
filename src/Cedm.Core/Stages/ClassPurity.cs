using System.Globalization;
using System.Text.Json.Nodes;
using Cedm.Features;
using Cedm.Features.Evaluator;
using Cedm.Tensors;
using Cedm.Tensors.Autograd;

namespace Cedm.Stages;

/// <summary>
/// Class purity of generated images per condition (related-seeds A′.1 "cluster purity of generations"): the
/// evaluator's own classifier (the `fmnist` evaluator, trained on Fashion-MNIST's labels) predicts a class for every
/// sample; per condition id, the class histogram and its purity = the largest class's share. A peaked histogram means
/// the condition picks out a kind of image. "mean" weights each condition by its samples.
/// </summary>
public static class ClassPurity
{
    public static bool Applies(IFeatureExtractor extractor) => extractor is FashionEvaluatorFeatures;

    /// <param name="features">The samples' features in the evaluator's space [n, d].</param>
    /// <param name="conditions">The condition id of each sample.</param>
    public static JsonObject Compute(IFeatureExtractor extractor, float[] features, int n, long[] conditions)
    {
        var evaluator = extractor as FashionEvaluatorFeatures ?? throw new SettingException("Evaluator", "class purity needs a classifying evaluator (fmnist)");
        if (conditions.Length != n) throw new ArgumentException($"{conditions.Length} condition ids for {n} samples", nameof(conditions));
        int classes = FashionClassifier.Classes, d = FashionClassifier.FeatureDimension;
        Tensor logits;
        using (GradMode.NoGrad()) logits = evaluator.Model.Classify(new Tensor(features, n, d));
        var predicted = logits.ArgMaxLastAxis();
        var perCondition = new JsonObject();
        double weighted = 0;
        foreach (var group in Enumerable.Range(0, n).GroupBy(i => conditions[i]).OrderBy(g => g.Key))
        {
            var histogram = new int[classes];
            foreach (int i in group) histogram[predicted[i]]++;
            int top = Array.IndexOf(histogram, histogram.Max());
            double purity = (double)histogram[top] / group.Count();
            weighted += purity * group.Count();
            perCondition[group.Key.ToString(CultureInfo.InvariantCulture)] = new JsonObject
            {
                ["n"] = group.Count(), ["purity"] = Math.Round(purity, 4), ["top_class"] = top,
                ["histogram"] = new JsonArray(histogram.Select(h => (JsonNode)h).ToArray()),
            };
        }
        return new JsonObject { ["mean"] = Math.Round(weighted / n, 4), ["per_condition"] = perCondition, ["classifier"] = evaluator.Name };
    }
}
