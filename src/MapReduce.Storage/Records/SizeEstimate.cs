namespace MapReduce.Storage.Records;

/// <summary>
/// About how many bytes of memory a key or value takes while a map task holds it as an object,
/// for a buffer bounded by bytes: a string by its length, a fixed-size type by its size, any other
/// type by its encoded length (measured on every 64th value, the last measure standing in for the
/// rest, as Spark's SizeTracker samples).
/// </summary>
internal sealed class SizeEstimate<T>
{
    private const int ObjectOverhead = 24;
    private readonly Codec<T> _codec = Codec.For<T>();
    private readonly ByteWriter _scratch = new();
    private readonly int? _fixed;
    private int _sampled = ObjectOverhead;
    private int _calls;

    public SizeEstimate() => _fixed = typeof(T) == typeof(string) ? null : _codec.FixedSize;

    public int Of(T value)
    {
        if (_fixed is { } size) return size;
        if (value is string s) return ObjectOverhead + 2 * s.Length;
        if ((_calls++ & 63) == 0)
        {
            _scratch.Clear();
            _codec.Write(_scratch, value);
            _sampled = ObjectOverhead + 2 * _scratch.Length;
        }
        return _sampled;
    }
}
