using System.Text.Json;
using Akka.Actor;
using Akka.Configuration;
using Akka.Event;
using MapReduce.Actors.Hosting;
using MapReduce.Node;

namespace MapReduce.Tests.Hosting;

/// <summary>mapreduce.log-format = json: every line a node writes is one JSON object with the same fields.</summary>
public sealed class JsonLogTests
{
    [Fact]
    public void A_line_holds_every_field_and_no_raw_line_break()
    {
        var time = new DateTime(2026, 12, 7, 19, 24, 24, 675, DateTimeKind.Utc);
        var error = new InvalidOperationException("broken \"quote\"");
        var line = JsonLogLine.Format(time, "warning", "akka://mapreduce/user/worker", "first\nsecond \"quoted\" \\ é", 7, error);

        Assert.DoesNotContain('\n', line);
        var json = JsonDocument.Parse(line).RootElement;
        Assert.Equal(["time", "level", "source", "thread", "message", "error"], json.EnumerateObject().Select(p => p.Name));
        Assert.Equal("2026-12-07T19:24:24.675Z", json.GetProperty("time").GetString());
        Assert.Equal("warning", json.GetProperty("level").GetString());
        Assert.Equal("akka://mapreduce/user/worker", json.GetProperty("source").GetString());
        Assert.Equal(7, json.GetProperty("thread").GetInt32());
        Assert.Equal("first\nsecond \"quoted\" \\ é", json.GetProperty("message").GetString());
        Assert.Equal("System.InvalidOperationException: broken \"quote\"", json.GetProperty("error").GetString());
    }

    [Fact]
    public void A_line_without_thread_or_error_leaves_them_out()
    {
        var line = JsonLogLine.Format(new DateTime(2026, 1, 2, 3, 4, 5, DateTimeKind.Utc), "info", "node", "up");
        Assert.Equal("""{"time":"2026-01-02T03:04:05Z","level":"info","source":"node","message":"up"}""", line);
    }

    [Theory]
    [InlineData("text", NodeLogFormat.Text)]
    [InlineData("json", NodeLogFormat.Json)]
    [InlineData(" JSON ", NodeLogFormat.Json)]
    public void The_setting_is_read(string value, NodeLogFormat expected)
    {
        var settings = MapReduceSettings.From(ConfigurationFactory.ParseString($"mapreduce.log-format = \"{value}\"").WithFallback(MapReduceSettings.LoadConfig()));
        Assert.Equal(expected, settings.LogFormat);
    }

    [Fact]
    public void The_default_is_text_and_an_unknown_format_is_refused_in_one_line()
    {
        Assert.Equal(NodeLogFormat.Text, MapReduceSettings.From(MapReduceSettings.LoadConfig()).LogFormat);
        var e = Assert.Throws<ConfigurationException>(() => NodeLogFormats.Parse("xml"));
        Assert.Equal("mapreduce.log-format must be text or json, not 'xml'", e.Message);
    }

    [Theory]
    [InlineData("MAPREDUCE-NODE-READY roles=worker address=akka.tcp://mapreduce@127.0.0.1:1", "MAPREDUCE-NODE-READY roles=worker address=akka.tcp://mapreduce@127.0.0.1:1")]
    [InlineData("""{"time":"2026-01-02T03:04:05Z","level":"info","source":"node","message":"MAPREDUCE-NODE-READY roles=worker address=a"}""", "MAPREDUCE-NODE-READY roles=worker address=a")]
    [InlineData("""{"time":"2026-01-02T03:04:05Z","level":"info","source":"x","message":"waiting for MAPREDUCE-NODE-READY"}""", null)]
    [InlineData("""{"message":"MAPREDUCE-NODE-READY""", null)]
    [InlineData("node starting", null)]
    public void The_ready_line_is_found_in_either_format(string line, string? expected) =>
        Assert.Equal(expected, NodeConsole.ReadyText(line));

    [Fact]
    public async Task Akka_logs_through_the_json_logger_when_it_is_configured()
    {
        var output = new StringWriter();
        JsonLogger.Output = output;
        try
        {
            var config = ConfigurationFactory.ParseString($"{JsonLogger.Hocon}\nakka.stdout-loglevel = INFO\nakka.loglevel = INFO");
            using var system = ActorSystem.Create("json-log", config);
            system.Log.Warning("disk {0} is {1}", "scratch", "full\n!");
            // Akka's loggers write on their own thread: poll for the line (an outcome, not time to pass).
            var deadline = DateTime.UtcNow.AddSeconds(10);
            string? line = null;
            while (line is null && DateTime.UtcNow < deadline)
            {
                lock (output) line = output.ToString().Split('\n').FirstOrDefault(l => l.Contains("scratch"));
                if (line is null) await Task.Delay(10);
            }
            Assert.NotNull(line);
            var json = JsonDocument.Parse(line!).RootElement;
            Assert.Equal("warning", json.GetProperty("level").GetString());
            Assert.Equal("disk scratch is full\n!", json.GetProperty("message").GetString());
            lock (output)
            {
                foreach (var l in output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries)) JsonDocument.Parse(l).Dispose();
            }
            await system.Terminate();
            // Akka's last words after its loggers stopped went through the minimal logger: JSON too.
            lock (output)
            {
                foreach (var l in output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries)) JsonDocument.Parse(l).Dispose();
            }
        }
        finally
        {
            JsonLogger.Output = Console.Out;
        }
    }
}
