using MapReduce.Actors.UserCode;

namespace MapReduce.Actors.Worker;

/// <summary>
/// Map buffers kept between the tasks of this worker, at most one per slot. A map task of the same
/// code and partition count takes one back, emptied but with its table of keys, instead of
/// building a new one (why that saves CPU: MapOutputBuffer's remarks). Only a task that succeeded
/// gives its buffer back.
/// </summary>
public sealed class MapOutputPool(int capacity)
{
    private readonly Lock _gate = new();
    private readonly LinkedList<(string CodeId, int Partitions, IMapOutput Output)> _idle = new();

    /// <summary>A pool that drops the buffers of code <paramref name="code"/> unloads: they hold its types, which would keep it in memory.</summary>
    public static MapOutputPool For(CompiledCodeCache code, int capacity)
    {
        var pool = new MapOutputPool(capacity);
        code.Unloaded += pool.Drop;
        return pool;
    }

    /// <summary>Forgets every buffer of <paramref name="codeId"/>.</summary>
    public void Drop(string codeId)
    {
        lock (_gate)
            for (var node = _idle.First; node is not null;)
            {
                var next = node.Next;
                if (node.Value.CodeId == codeId) _idle.Remove(node);
                node = next;
            }
    }

    public IMapOutput Rent(string codeId, IUserTask task, int partitions, long limitBytes, string spillFolder, bool compressRuns)
    {
        IMapOutput? reused = null;
        lock (_gate)
        {
            for (var node = _idle.First; node is not null; node = node.Next)
            {
                if (node.Value.CodeId != codeId || node.Value.Partitions != partitions) continue;
                reused = node.Value.Output;
                _idle.Remove(node);
                break;
            }
        }
        if (reused is null) return task.NewMapOutput(partitions, limitBytes, spillFolder, compressRuns);
        reused.Reset(spillFolder);
        return reused;
    }

    /// <summary>Keeps <paramref name="output"/> for a later task; the least recently returned beyond capacity are dropped.</summary>
    public void Return(string codeId, int partitions, IMapOutput output)
    {
        lock (_gate)
        {
            _idle.AddFirst((codeId, partitions, output));
            while (_idle.Count > capacity) _idle.RemoveLast();
        }
    }
}
