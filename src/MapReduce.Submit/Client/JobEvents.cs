using MapReduce.Actors.Protocol;

namespace MapReduce.Submit.Client;

/// <summary>What <see cref="JobRunner"/> reports while it works; the CLI shows it (see ConsoleProgress.For).</summary>
public abstract record JobEvent;

public sealed record Uploaded(string What, string Id, int Files, int Chunks, long Bytes, TimeSpan Took) : JobEvent;

public sealed record UploadProgress(long BytesDone, long BytesTotal) : JobEvent;

public sealed record Submitted(string JobId, int MapTasks, int ReduceTasks) : JobEvent;

public sealed record Progressed(int MapsDone, int MapsTotal, int ReducesDone, int ReducesTotal) : JobEvent;

public sealed record Downloaded(int Parts, long Bytes, string Folder, TimeSpan Took) : JobEvent;

/// <summary>The job started waiting for <see cref="What"/> (the kvstore): <see cref="Reason"/> since <see cref="Since"/> (UTC); its tasks resume when it is back.</summary>
public sealed record WaitStarted(string What, string Reason, DateTime Since) : JobEvent;

/// <summary>The job no longer waits for <see cref="What"/>, which it waited for <see cref="After"/>.</summary>
public sealed record WaitEnded(string What, TimeSpan After) : JobEvent;
