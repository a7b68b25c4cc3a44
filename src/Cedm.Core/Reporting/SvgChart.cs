using System.Globalization;
using System.Text;

namespace Cedm.Reporting;

/// <summary>One line of a chart: points (x, y) drawn in order, with markers when there are few points.</summary>
public sealed record ChartSeries(string Name, IReadOnlyList<(double X, double Y)> Points);

/// <summary>A vertical marker line with a label (e.g. K_UB on the utilisation curve).</summary>
public sealed record ChartMarker(double X, string Label);

/// <summary>Everything a line chart shows; axes are linear unless <see cref="LogX"/>.</summary>
public sealed record LineChart(
    string Title,
    string XLabel,
    string YLabel,
    IReadOnlyList<ChartSeries> Series,
    IReadOnlyList<ChartMarker>? Markers = null,
    bool LogX = false,
    double? YMin = null,
    double? YMax = null,
    int Width = 640,
    int Height = 360);

/// <summary>Draws line charts as standalone SVG (no scripts, no external resources).</summary>
public static class SvgChart
{
    private static readonly string[] Colors = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"];

    public static string Render(LineChart chart)
    {
        const int left = 64, right = 16, top = 32, bottom = 48;
        int w = chart.Width, h = chart.Height, pw = w - left - right, ph = h - top - bottom;
        var pts = chart.Series.SelectMany(s => s.Points).Where(p => double.IsFinite(p.X) && double.IsFinite(p.Y) && (!chart.LogX || p.X > 0)).ToList();
        double Tx(double x) => chart.LogX ? Math.Log10(x) : x;
        var xs = pts.Select(p => Tx(p.X)).Concat(chart.Markers?.Where(m => !chart.LogX || m.X > 0).Select(m => Tx(m.X)) ?? []).ToList();
        double x0 = xs.Count > 0 ? xs.Min() : 0, x1 = xs.Count > 0 ? xs.Max() : 1;
        double y0 = chart.YMin ?? (pts.Count > 0 ? pts.Min(p => p.Y) : 0), y1 = chart.YMax ?? (pts.Count > 0 ? pts.Max(p => p.Y) : 1);
        if (x1 - x0 < 1e-12) { x0 -= 0.5; x1 += 0.5; }
        if (y1 - y0 < 1e-12) { y0 -= 0.5; y1 += 0.5; }
        if (chart.YMin is null || chart.YMax is null) { double pad = 0.05 * (y1 - y0); if (chart.YMin is null) y0 -= pad; if (chart.YMax is null) y1 += pad; }
        double Px(double x) => left + (Tx(x) - x0) / (x1 - x0) * pw;
        double Py(double y) => top + (1 - (y - y0) / (y1 - y0)) * ph;

        var sb = new StringBuilder();
        sb.Append($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" font-family=\"sans-serif\" font-size=\"11\">");
        sb.Append($"<rect width=\"{w}\" height=\"{h}\" fill=\"white\"/>");
        sb.Append($"<text x=\"{w / 2}\" y=\"18\" text-anchor=\"middle\" font-size=\"13\" font-weight=\"bold\">{HtmlReport.Enc(chart.Title)}</text>");
        // Axes with 5 ticks each (decades on a log axis).
        sb.Append($"<line x1=\"{left}\" y1=\"{top + ph}\" x2=\"{left + pw}\" y2=\"{top + ph}\" stroke=\"#333\"/><line x1=\"{left}\" y1=\"{top}\" x2=\"{left}\" y2=\"{top + ph}\" stroke=\"#333\"/>");
        for (int i = 0; i <= 4; i++)
        {
            double yv = y0 + i * (y1 - y0) / 4, py = Py(yv);
            sb.Append($"<line x1=\"{left - 4}\" y1=\"{F(py)}\" x2=\"{left + pw}\" y2=\"{F(py)}\" stroke=\"#eee\"/><text x=\"{left - 6}\" y=\"{F(py + 4)}\" text-anchor=\"end\">{Tick(yv)}</text>");
            double tx = x0 + i * (x1 - x0) / 4, px = left + i * pw / 4.0;
            double label = chart.LogX ? Math.Pow(10, tx) : tx;
            sb.Append($"<line x1=\"{F(px)}\" y1=\"{top + ph}\" x2=\"{F(px)}\" y2=\"{top + ph + 4}\" stroke=\"#333\"/><text x=\"{F(px)}\" y=\"{top + ph + 16}\" text-anchor=\"middle\">{Tick(label)}</text>");
        }
        sb.Append($"<text x=\"{left + pw / 2}\" y=\"{h - 8}\" text-anchor=\"middle\">{HtmlReport.Enc(chart.XLabel)}{(chart.LogX ? " (log scale)" : "")}</text>");
        sb.Append($"<text x=\"14\" y=\"{top + ph / 2}\" text-anchor=\"middle\" transform=\"rotate(-90 14 {top + ph / 2})\">{HtmlReport.Enc(chart.YLabel)}</text>");
        foreach (var m in chart.Markers ?? [])
        {
            if (chart.LogX && m.X <= 0) continue;
            double px = Px(m.X);
            // Labels near the right edge go to the left of their line so they stay inside the picture.
            bool leftOfLine = px > left + 0.7 * pw;
            sb.Append($"<line x1=\"{F(px)}\" y1=\"{top}\" x2=\"{F(px)}\" y2=\"{top + ph}\" stroke=\"#555\" stroke-dasharray=\"4 3\"/><text x=\"{F(leftOfLine ? px - 4 : px + 4)}\" y=\"{top + ph - 8}\" text-anchor=\"{(leftOfLine ? "end" : "start")}\">{HtmlReport.Enc(m.Label)}</text>");
        }
        // The legend sits top-right, moved left far enough for its longest name (~6.2 px a character at 11 px) to stay
        // inside the picture.
        int longest = chart.Series.Count == 0 ? 0 : chart.Series.Max(x => x.Name.Length);
        double legendX = Math.Max(left + 8, left + pw - 22 - 6.2 * longest);
        legendX = Math.Min(legendX, left + pw - 130);
        for (int s = 0; s < chart.Series.Count; s++)
        {
            var series = chart.Series[s];
            string color = Colors[s % Colors.Length];
            var p = series.Points.Where(q => double.IsFinite(q.X) && double.IsFinite(q.Y) && (!chart.LogX || q.X > 0)).ToList();
            if (p.Count == 0) continue;
            sb.Append($"<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"1.8\" points=\"{string.Join(' ', p.Select(q => $"{F(Px(q.X))},{F(Py(q.Y))}"))}\"/>");
            if (p.Count <= 40)
                foreach (var q in p) sb.Append($"<circle cx=\"{F(Px(q.X))}\" cy=\"{F(Py(q.Y))}\" r=\"3\" fill=\"{color}\"/>");
            // Legend entry, top-right.
            int ly = top + 8 + 16 * s;
            sb.Append($"<line x1=\"{F(legendX)}\" y1=\"{ly}\" x2=\"{F(legendX + 18)}\" y2=\"{ly}\" stroke=\"{color}\" stroke-width=\"2\"/><text x=\"{F(legendX + 22)}\" y=\"{ly + 4}\">{HtmlReport.Enc(series.Name)}</text>");
        }
        sb.Append("</svg>");
        return sb.ToString();
    }

    private static string F(double v) => v.ToString("0.##", CultureInfo.InvariantCulture);

    private static string Tick(double v)
    {
        double a = Math.Abs(v);
        string fmt = a == 0 ? "0" : a >= 1000 || a < 0.01 ? "0.##e0" : a >= 10 ? "0" : "0.###";
        return v.ToString(fmt, CultureInfo.InvariantCulture);
    }
}
