using System.Text.RegularExpressions;
using Cedm.Imaging.Png;
using Cedm.Reporting;
using Cedm.Tests.TestUtilities;
using FluentAssertions;

namespace Cedm.Tests.Reporting;

public sealed class HtmlReportTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("cedm-report-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static byte[] Checkerboard(int size)
    {
        var px = new byte[size * size];
        for (int y = 0; y < size; y++) for (int x = 0; x < size; x++) px[y * size + x] = (byte)(((x / 4 + y / 4) & 1) * 255);
        return PngEncoder.Encode(px, size, size, 1);
    }

    private HtmlReport Sample()
    {
        var chart = new LineChart("Utilisation ratio over K", "K", "ratio",
            [new ChartSeries("r(K)", [(5, 1.0), (10, 1.0), (20, 0.9), (40, 0.55)])], [new ChartMarker(10, "K_UB = 10")], LogX: true, YMin: 0, YMax: 1.05);
        return new HtmlReport("cedm <run> & co")
            .Heading("Data").Paragraph("60,000 images <28x28>")
            .Figures([("real", Checkerboard(16)), ("generated", Checkerboard(24))], width: 96)
            .Svg(SvgChart.Render(chart))
            .Table(["metric", "value"], [["fd", "12.5"], ["<script>", "x"]])
            .Json("options", new System.Text.Json.Nodes.JsonObject { ["k"] = 10 });
    }

    [Fact]
    public void PageIsSelfContainedAndEscapesText()
    {
        string html = Sample().Render();
        html.Should().Contain("data:image/png;base64,").And.Contain("<svg").And.Contain("&lt;script&gt;").And.Contain("cedm &lt;run&gt; &amp; co");
        Regex.IsMatch(html, "(src|href)=\"(http|//)").Should().BeFalse("the report must not reference the network");
        html.Should().NotContain("<script");
    }

    [Fact]
    public void SvgRowPutsChartsInOneFlexRow()
    {
        string a = SvgChart.Render(new LineChart("a", "x", "y", [new ChartSeries("s", [(0, 0), (1, 1)])], Width: 300));
        string b = SvgChart.Render(new LineChart("b", "x", "y", [new ChartSeries("s", [(0, 1), (1, 0)])], Width: 300));
        string html = new HtmlReport("t").SvgRow([a, b]).Render();
        Regex.IsMatch(html, "<div class=\"row\">(<div class=\"plot\"><svg.*?</svg></div>){2}</div>").Should().BeTrue();
    }

    [Fact]
    public void ChartPlacesPointsAndMarkerInsideThePlot()
    {
        string svg = SvgChart.Render(new LineChart("t", "x", "y", [new ChartSeries("s", [(0, 0), (10, 5)])], [new ChartMarker(5, "m")], Width: 200, Height: 100));
        var circles = Regex.Matches(svg, "<circle cx=\"([0-9.]+)\" cy=\"([0-9.]+)\"").Select(m => (X: double.Parse(m.Groups[1].Value), Y: double.Parse(m.Groups[2].Value))).ToList();
        circles.Should().HaveCount(2);
        circles[0].X.Should().BeLessThan(circles[1].X);
        circles[0].Y.Should().BeGreaterThan(circles[1].Y, "larger y is drawn higher");
        circles.Should().OnlyContain(c => c.X >= 64 && c.X <= 184 && c.Y >= 32 && c.Y <= 52);
    }

    [Fact]
    public void LongLegendNamesMoveTheLegendLeftToStayInsideThePicture()
    {
        string Svg(string name) => SvgChart.Render(new LineChart("t", "x", "y", [new ChartSeries(name, [(0, 0), (1, 1)])], Width: 520));
        double TextX(string svg) => double.Parse(Regex.Match(svg, "<text x=\"([0-9.]+)\" y=\"[0-9.]+\">(long|s)").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        TextX(Svg("s")).Should().Be(64 + 440 - 108, "short names keep the legend's usual place");
        string name = "long " + new string('x', 45);
        (TextX(Svg(name)) + 6.2 * name.Length).Should().BeLessThanOrEqualTo(520);
    }

    [ChromiumFact]
    public async Task OpensInHeadlessChromiumWithEveryImageLoadedAndNoConsoleErrors()
    {
        string path = Path.Combine(_dir, "report.html");
        Sample().Save(path);
        var page = await HeadlessChromium.OpenAsync(path);
        page.Title.Should().Be("cedm <run> & co");
        page.Images.Should().Be(2);
        page.BrokenImages.Should().Be(0);
        page.Svgs.Should().Be(1);
        page.ConsoleErrors.Should().BeEmpty();
    }

    [ChromiumFact]
    public async Task TheChromiumCheckSeesABrokenImage()
    {
        string path = Path.Combine(_dir, "broken.html");
        File.WriteAllText(path, "<!DOCTYPE html><html><head><title>b</title></head><body><img src=\"data:image/png;base64,AAAA\"><script>console.error('boom')</script></body></html>");
        var page = await HeadlessChromium.OpenAsync(path);
        page.BrokenImages.Should().Be(1);
        page.ConsoleErrors.Should().NotBeEmpty();
    }
}
