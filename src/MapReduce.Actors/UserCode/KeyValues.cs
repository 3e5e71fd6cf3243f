using MapReduce.Storage.Records;

namespace MapReduce.Actors.UserCode;

/// <summary>
/// The values of one key as Reduce sees them: decoded one at a time from the key's segments as
/// Reduce asks, from the first run to the last. One pass only (a second enumeration continues where
/// the first stopped), as the values are streamed, not held.
/// </summary>
internal sealed class KeyValues<TKey, TValue>(RunMerge<TKey> merge) : IEnumerable<TValue>, IEnumerator<TValue>
{
    private static readonly Codec<TValue> Values = Codec.For<TValue>();

    private RunReader? _segment;
    private int _left, _position;
    private bool _done;
    private readonly long _key = merge.KeyNumber;

    public TValue Current { get; private set; } = default!;

    object? System.Collections.IEnumerator.Current => Current;

    public bool MoveNext()
    {
        // Values kept past their key (Reduce stored the enumerable) have nothing more to give.
        if (merge.KeyNumber != _key) _done = true;
        while (!_done)
        {
            if (_segment is not null && _left > 0)
            {
                var reader = new ByteReader(_segment.Values[_position..]);
                Current = Values.Read(ref reader);
                _position += reader.Position;
                _left--;
                return true;
            }
            if (merge.NextSegment(out var next))
            {
                _segment = next;
                _left = next.ValueCount;
                _position = 0;
            }
            else
            {
                _done = true;
            }
        }
        return false;
    }

    public IEnumerator<TValue> GetEnumerator() => this;

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => this;

    public void Reset() => throw new NotSupportedException("a key's values are streamed once");

    public void Dispose() { }
}
