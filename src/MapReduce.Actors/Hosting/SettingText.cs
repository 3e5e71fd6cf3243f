namespace MapReduce.Actors.Hosting;

/// <summary>Settings as the refusal lines write them: durations the way the HOCON does (2s, 1500ms).</summary>
public static class SettingText
{
    public static string Duration(TimeSpan t) => t.TotalSeconds >= 1 && t.TotalSeconds % 1 == 0 ? $"{t.TotalSeconds:0}s" : $"{t.TotalMilliseconds:0}ms";
}
