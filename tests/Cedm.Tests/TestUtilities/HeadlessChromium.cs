using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;

namespace Cedm.Tests.TestUtilities;

/// <summary>
/// Opens a local HTML file in Debian's headless Chromium through the DevTools protocol (loopback only) and reports
/// what a person would see go wrong: images that did not load and console errors. Tests skip when Chromium is absent.
/// </summary>
public static class HeadlessChromium
{
    public sealed record PageReport(string Title, int Images, int BrokenImages, int Svgs, IReadOnlyList<string> ConsoleErrors);

    public static string? Executable =>
        new[] { "/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome" }.FirstOrDefault(File.Exists);

    public static async Task<PageReport> OpenAsync(string htmlPath, TimeSpan? timeout = null)
    {
        string exe = Executable ?? throw new InvalidOperationException("Chromium is not installed (apt-get install chromium).");
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(60));
        var profile = Directory.CreateTempSubdirectory("cedm-chromium-");
        // Flags as the workplace's probe uses them: no sandbox as root, and no background networking on a closed network.
        var psi = new ProcessStartInfo(exe)
        {
            RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false,
        };
        foreach (var a in new[] { "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--remote-debugging-port=0", $"--user-data-dir={profile.FullName}", "about:blank" })
            psi.ArgumentList.Add(a);
        using var process = Process.Start(psi)!;
        process.ErrorDataReceived += (_, _) => { };
        process.OutputDataReceived += (_, _) => { };
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        try
        {
            string portFile = Path.Combine(profile.FullName, "DevToolsActivePort");
            while (!File.Exists(portFile) || File.ReadAllLines(portFile).Length < 2) await Task.Delay(50, cts.Token);
            int port = int.Parse(File.ReadAllLines(portFile)[0]);
            using var http = new HttpClient();
            JsonArray targets = JsonNode.Parse(await http.GetStringAsync($"http://127.0.0.1:{port}/json/list", cts.Token))!.AsArray();
            string wsUrl = targets.First(t => t!["type"]!.GetValue<string>() == "page")!["webSocketDebuggerUrl"]!.GetValue<string>();
            using var ws = new ClientWebSocket();
            await ws.ConnectAsync(new Uri(wsUrl), cts.Token);
            var session = new Session(ws);
            await session.Call("Runtime.enable", null, cts.Token);
            await session.Call("Log.enable", null, cts.Token);
            await session.Call("Page.enable", null, cts.Token);
            await session.Call("Page.navigate", new JsonObject { ["url"] = new Uri(Path.GetFullPath(htmlPath)).AbsoluteUri }, cts.Token);
            await session.WaitForEvent("Page.loadEventFired", cts.Token);
            var result = await session.Call("Runtime.evaluate", new JsonObject
            {
                ["expression"] = "JSON.stringify({title: document.title, images: document.images.length, " +
                                 "broken: Array.from(document.images).filter(i => !(i.complete && i.naturalWidth > 0)).length, " +
                                 "svgs: document.querySelectorAll('svg').length})",
                ["returnByValue"] = true,
            }, cts.Token);
            var page = JsonNode.Parse(result!["result"]!["value"]!.GetValue<string>())!;
            await Task.Delay(200, cts.Token); // let late console messages arrive
            return new PageReport(page["title"]!.GetValue<string>(), page["images"]!.GetValue<int>(), page["broken"]!.GetValue<int>(),
                page["svgs"]!.GetValue<int>(), session.Errors.ToList());
        }
        finally
        {
            try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            await process.WaitForExitAsync(CancellationToken.None);
            try { profile.Delete(recursive: true); } catch (IOException) { }
        }
    }

    /// <summary>A minimal DevTools session: numbered calls, events collected in the background.</summary>
    private sealed class Session
    {
        private readonly ClientWebSocket _ws;
        private readonly Dictionary<int, TaskCompletionSource<JsonNode?>> _pending = [];
        private readonly List<string> _events = [];
        private int _nextId;

        public Session(ClientWebSocket ws) { _ws = ws; _ = Task.Run(ReadLoop); }

        public List<string> Errors { get; } = [];

        public async Task<JsonNode?> Call(string method, JsonObject? parameters, CancellationToken ct)
        {
            var tcs = new TaskCompletionSource<JsonNode?>(TaskCreationOptions.RunContinuationsAsynchronously);
            int id;
            lock (_pending) { id = ++_nextId; _pending[id] = tcs; }
            var msg = new JsonObject { ["id"] = id, ["method"] = method, ["params"] = parameters ?? new JsonObject() };
            await _ws.SendAsync(Encoding.UTF8.GetBytes(msg.ToJsonString()), WebSocketMessageType.Text, true, ct);
            return await tcs.Task.WaitAsync(ct);
        }

        public async Task WaitForEvent(string method, CancellationToken ct)
        {
            while (true)
            {
                lock (_events) if (_events.Contains(method)) return;
                await Task.Delay(20, ct);
            }
        }

        private async Task ReadLoop()
        {
            var buffer = new byte[1 << 16];
            var message = new MemoryStream();
            while (_ws.State == WebSocketState.Open)
            {
                WebSocketReceiveResult r;
                try { r = await _ws.ReceiveAsync(buffer, CancellationToken.None); }
                catch (WebSocketException) { return; }
                message.Write(buffer, 0, r.Count);
                if (!r.EndOfMessage) continue;
                var node = JsonNode.Parse(message.ToArray())!;
                message.SetLength(0);
                if (node["id"] is JsonNode idNode)
                {
                    TaskCompletionSource<JsonNode?>? tcs;
                    lock (_pending) _pending.Remove(idNode.GetValue<int>(), out tcs);
                    tcs?.TrySetResult(node["result"]);
                    continue;
                }
                string method = node["method"]?.GetValue<string>() ?? "";
                lock (_events) _events.Add(method);
                var p = node["params"];
                if (method == "Runtime.exceptionThrown") lock (Errors) Errors.Add("exception: " + p?["exceptionDetails"]?.ToJsonString());
                else if (method == "Runtime.consoleAPICalled" && p?["type"]?.GetValue<string>() is "error" or "assert")
                    lock (Errors) Errors.Add("console: " + p?["args"]?.ToJsonString());
                else if (method == "Log.entryAdded" && p?["entry"]?["level"]?.GetValue<string>() == "error")
                    lock (Errors) Errors.Add("log: " + p?["entry"]?["text"]?.GetValue<string>());
            }
        }
    }
}

/// <summary>A fact that is skipped, with the reason, when Debian's Chromium is not installed.</summary>
public sealed class ChromiumFactAttribute : FactAttribute
{
    public ChromiumFactAttribute()
    {
        if (HeadlessChromium.Executable == null) Skip = "Chromium is not installed (apt-get install chromium; .ci/run installs it)";
    }
}
