namespace MapReduce.Submit.Client;

/// <summary>What <see cref="JobRunner"/> reports while it works; the CLI shows it (see ConsoleProgress.For).</summary>
public abstract record JobEvent;

public sealed record Uploaded(string What, string Id, int Files, int Chunks, long Bytes, TimeSpan Took) : JobEvent;

public sealed record UploadProgress(long BytesDone, long BytesTotal) : JobEvent;

public sealed record Submitted(string JobId, int MapTasks, int ReduceTasks) : JobEvent;

public sealed record Progressed(int MapsDone, int MapsTotal, int ReducesDone, int ReducesTotal) : JobEvent;

public sealed record Downloaded(int Parts, long Bytes, string Folder, TimeSpan Took) : JobEvent;
