using Cedm.Pipeline.Study;
using FluentAssertions;

namespace Cedm.Tests.Study;

/// <summary>Which models `cedm study` trains: the K set from K_UB and its caps, the label model, extra variants, the best K.</summary>
public sealed class StudyPlanTests
{
    private static readonly SourceFacts FashionMnist = new(60000, 10);

    [Theory]
    [InlineData(20, new[] { 10, 20, 40, 80 })]            // K_UB/2 = 10 is also the label count
    [InlineData(40, new[] { 10, 20, 40, 80, 160 })]       // 4·K_UB = 160 = the default cap, kept
    [InlineData(3, new[] { 3, 6, 10, 12 })]               // K_UB/2 = 1 < 2 is dropped
    [InlineData(1, new[] { 2, 4, 8, 10 })]                // K_UB below 2 is planned as 2
    public void TheDefaultKsBracketTheBoundAndAddTheLabelCount(int kub, int[] expected) =>
        StudyPlan.ChooseKs(new StudyOptions(), kub, FashionMnist).Should().Equal(expected);

    [Fact]
    public void CapsDropLargeKsButKeepOneAboveTheBound()
    {
        StudyPlan.ChooseKs(new StudyOptions { KCap = 100 }, 40, FashionMnist).Should().Equal(10, 20, 40, 80);
        StudyPlan.ChooseKs(new StudyOptions { KCap = 50 }, 40, FashionMnist).Should().Equal(10, 20, 40, 50);
        // 1000 images / 50 per cluster = 20: nothing above K_UB = 20 fits, and none is invented.
        StudyPlan.ChooseKs(new StudyOptions(), 20, new SourceFacts(1000, 0)).Should().Equal(10, 20);
    }

    [Fact]
    public void ExplicitKsAreUsedAsGivenSortedOnce() =>
        StudyPlan.ChooseKs(new StudyOptions { Ks = [40, 5, 10, 5] }, 20, FashionMnist).Should().Equal(5, 10, 40);

    [Fact]
    public void TheLabelModelExistsOnlyWhenTheSourceHasLabels()
    {
        StudyPlan.Variants(new StudyOptions { Guidance = false }, 20, FashionMnist).Select(v => v.Name).Should().Equal("uncond", "labels", "k10", "k20", "k40", "k80");
        StudyPlan.Variants(new StudyOptions { Guidance = false }, 20, new SourceFacts(60000, 0)).Select(v => v.Name).Should().Equal("uncond", "k10", "k20", "k40", "k80");
        StudyPlan.Variants(new StudyOptions { Labels = false, Guidance = false }, 20, FashionMnist).Select(v => v.Name).Should().Equal("uncond", "k10", "k20", "k40", "k80");
        StudyPlan.ChooseKs(new StudyOptions { Labels = false }, 40, FashionMnist).Should().Contain(10, "K = label count is a clustering, kept without the label model");
        var labels = StudyPlan.Variants(new StudyOptions(), 20, FashionMnist)[1];
        labels.Kind.Should().Be(VariantKind.Labels);
        labels.K.Should().BeNull();
    }

    [Fact]
    public void ExtraVariantsAreRecordsWithTrainAndSampleArguments()
    {
        var o = new StudyOptions { ExtraVariants = ["cfg=clusters@2kub|--p-uncond 0.1|--guidance 1", "half=clusters@kub/2", "ucfg=labels||--steps 8"] };
        var variants = StudyPlan.Variants(o, 20, FashionMnist);
        variants.Select(v => v.Name).Should().EndWith(["cfg", "half", "ucfg"]);
        var cfg = variants.Single(v => v.Name == "cfg");
        cfg.Should().BeEquivalentTo(new StudyVariant("cfg", VariantKind.Clusters, 40, ["--p-uncond", "0.1"], ["--guidance", "1"]));
        cfg.IsPlain.Should().BeFalse();
        variants.Single(v => v.Name == "half").K.Should().Be(10);
        variants.Single(v => v.Name == "ucfg").SampleArgs.Should().Equal("--steps", "8");
        StudyPlan.ClusterKs(variants).Should().Equal(10, 20, 40, 80);
    }

    [Fact]
    public void TheGuidanceComparisonSitsAtTheBestKAndSharesTrainings()
    {
        var provisional = StudyPlan.Variants(new StudyOptions(), 20, FashionMnist);
        provisional.Select(v => v.Name).Should().Equal("uncond", "labels", "k10", "k20", "k40", "k80", "cad", "cad-ca1", "cad-ca3", "cfg-w1", "cfg-w3");
        provisional.Skip(6).Should().OnlyContain(v => v.K == 20, "before every plain K is evaluated, K_UB stands in");
        var variants = StudyPlan.Variants(new StudyOptions(), 20, FashionMnist, best: 40);
        variants.Skip(6).Should().OnlyContain(v => v.K == 40 && v.Kind == VariantKind.Clusters && !v.IsPlain);
        var byName = variants.ToDictionary(v => v.Name);
        byName["cad"].TrainArgs.Should().Equal("--coherence", "maxprob");
        byName["cad"].TrainingOf.Should().BeNull();
        byName["cad-ca3"].Should().BeEquivalentTo(new StudyVariant("cad-ca3", VariantKind.Clusters, 40, ["--coherence", "maxprob"], ["--ca-guidance", "3"], "cad"));
        byName["cad-ca3"].TrainFolder.Should().Be(byName["cad"].TrainFolder);
        byName["cfg-w1"].TrainArgs.Should().Equal("--p-uncond", "0.1");
        byName["cfg-w1"].TrainingOf.Should().BeNull();
        byName["cfg-w3"].TrainingOf.Should().Be("cfg-w1");
        byName["cfg-w3"].SampleArgs.Should().Equal("--guidance", "3");
        StudyPlan.ClusterKs(variants).Should().Equal([10, 20, 40, 80], "the best K is one of the plain ones: no extra clustering");
        StudyVariant.Parse("x=clusters@best", 20, best: 40).K.Should().Be(40);
        StudyVariant.Parse("x=clusters@best", 20).K.Should().Be(20);
        new StudyOptions().AsQuick().CaGuidance.Should().Equal(1.0);
    }

    [Theory]
    [InlineData("no-equals")]
    [InlineData("x=bogus")]
    [InlineData("bad name=uncond")]
    [InlineData("x=clusters@1")]
    [InlineData("x=uncond@5")]
    [InlineData("x=clusters@3kub/0")]
    [InlineData("x=uncond|a|b|c")]
    public void BadVariantSpecsAreUsageErrors(string spec) =>
        FluentActions.Invoking(() => StudyVariant.Parse(spec, 20)).Should().Throw<ArgumentException>();

    [Fact]
    public void ARelativeKIsAcceptedBeforeTheBoundIsKnownAndVariantNamesAreUnique()
    {
        FluentActions.Invoking(() => new StudyOptions { ExtraVariants = ["x=clusters@2kub"] }.Validate()).Should().NotThrow();
        FluentActions.Invoking(() => new StudyOptions { ExtraVariants = ["a b=clusters@2kub"] }.Validate()).Should().Throw<ArgumentException>("the name is checked before K_UB is known");
        FluentActions.Invoking(() => StudyPlan.Variants(new StudyOptions { ExtraVariants = ["k20=uncond"] }, 20, FashionMnist))
            .Should().Throw<ArgumentException>().WithMessage("*taken*");
        FluentActions.Invoking(() => StudyPlan.Variants(new StudyOptions { ExtraVariants = ["l=labels"] }, 20, new SourceFacts(100, 0)))
            .Should().Throw<ArgumentException>().WithMessage("*no labels*");
    }

    [Fact]
    public void TheBestKIsThePlainClusterModelWithTheLowestFd()
    {
        var rows = new (StudyVariant, double)[]
        {
            (StudyVariant.Uncond(), 10), (StudyVariant.Labels(), 11), (StudyVariant.Clusters(10), 30), (StudyVariant.Clusters(20), 25),
            (StudyVariant.Clusters(40), double.NaN), (StudyVariant.Clusters(80), 25), (new StudyVariant("cfg", VariantKind.Clusters, 20, ["--p-uncond", "0.1"]), 1),
        };
        StudyPlan.BestK(rows)!.Name.Should().Be("k20", "the lowest plain FD; the tie with K = 80 goes to the smaller K");
        StudyPlan.BestK(rows.Take(2)).Should().BeNull();
    }

    [Fact]
    public void SeriesTargetsSplitTheBudgetEvenly() =>
        StudyPlan.SeriesTargets(new StudyOptions { Kimg = 12, SeriesPoints = 3 }).Should().Equal(4000, 8000, 12000);

    [Fact]
    public void OptionsRoundTripThroughJsonAndTheDefaultBudgetFitsAboutAnHour()
    {
        var o = new StudyOptions { Ks = [5, 10], ExtraVariants = ["cfg=clusters@kub|--p-uncond 0.1|--guidance 1"], Seed = 3 }.AsQuick();
        var back = StudyOptions.FromJson(o.ToJson());
        back.SameAs(o).Should().BeTrue();
        back.Ks.Should().Equal(5, 10);
        back.Source.Should().Be("fashion-mnist:test");
        o.ToJson().Should().Contain("\"extra_variants\"").And.Contain("\"eval_samples\"");

        var d = new StudyOptions();
        double minutes = StudyPlan.Cost.Total(d, variants: 6, clusterings: 4) / 60;
        minutes.Should().BeInRange(40, 70, "the default study (K_UB = 20: uncond, labels, 4 Ks) is meant to take about an hour on 2 cores");
        (StudyPlan.Cost.Total(d.AsQuick(), variants: 5, clusterings: 3) / 60).Should().BeLessThan(3);
    }

    [Fact]
    public void KStartDoublesPastTwiceTheBoundWithTheBoundAmongThem()
    {
        var o = new StudyOptions { KStart = 10, KCap = 1000 };
        StudyPlan.ChooseKs(o, 120, FashionMnist).Should().Equal(10, 20, 40, 80, 120, 160);
        StudyPlan.ChooseKs(o, 160, FashionMnist).Should().Equal(10, 20, 40, 80, 160, 320);
        StudyPlan.ChooseKs(o with { KCap = 100 }, 160, FashionMnist).Should().Equal([10, 20, 40, 80], "the cap still holds");
    }

    [Fact]
    public void SecondSeedsAndAFeatureComparisonAreExtraModelsOutsideTheKSweep()
    {
        var o = new StudyOptions { Guidance = false, Ks = [10, 20], TrainingSeeds = 2, CompareFeatures = "pca:64" };
        var variants = StudyPlan.Variants(o, 20, FashionMnist, best: 10);
        variants.Select(v => v.Name).Should().Equal("uncond", "labels", "k10", "k20", "uncond-s1", "labels-s1", "best-s1", "pca64-k20");
        var best = variants.Single(v => v.Name == "best-s1");
        (best.K, best.SeedOffset, best.IsPlain).Should().Be((10, 1, false));
        var pca = variants.Single(v => v.Name == "pca64-k20");
        (pca.FeatureSet, pca.IsPlain).Should().Be(("pca64", false));
        StudySteps.ClustersDir(pca).Should().Be(Path.Combine("clusters", "pca64-k20"));
        StudySteps.ClustersDir(best).Should().Be(Path.Combine("clusters", "k10"), "a second seed trains on the same clustering");
        StudyPlan.ClusterKs(variants).Should().Equal(10, 20);
        StudyPlan.OtherFeatureClusterings(variants).Should().Equal([("pca64", 20)]);
        StudyPlan.BestK(variants.Select(v => (v, v.Name == "best-s1" ? 1.0 : 50)))!.Name.Should().Be("k10", "only plain models compete for the best K");
    }

    [Fact]
    public void SeedSpreadPairsEachModelWithItsSecondRun()
    {
        StudyRow Row(string name, double fd) => new(name, "x", null, null, null, 1, fd, 0, 0, 0, 0, null, 0, 0);
        var rows = new[] { Row("uncond", 40), Row("k20", 30), Row("uncond-s1", 44), Row("best-s1", 31) };
        StudyReportStep.SeedSpread(rows, "k20").Should().Equal([("uncond", 40.0, 44.0), ("k20", 30.0, 31.0)]);
    }
}
