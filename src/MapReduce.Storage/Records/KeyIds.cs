using System.IO.Hashing;
using System.Runtime.InteropServices;

namespace MapReduce.Storage.Records;

/// <summary>Dense ids (0, 1, 2, ...) for the distinct keys a map buffer sees, and each id's key back.</summary>
internal interface IKeyIds<TKey> where TKey : notnull
{
    /// <summary>The key's id; a new key gets the next one.</summary>
    int IdOf(TKey key);

    TKey KeyOf(int id);

    int Count { get; }

    /// <summary>The stable hash partitioner's choice for the key of <paramref name="id"/>, when this table knows it without hashing again; else -1.</summary>
    int HashPartition(int id, int partitions);

    void Clear();

    public static IKeyIds<TKey> Create() =>
        typeof(TKey) == typeof(string) ? (IKeyIds<TKey>)(object)new StringKeyIds() : new DictionaryKeyIds<TKey>();
}

/// <summary>Any key type: a dictionary from key to id.</summary>
internal sealed class DictionaryKeyIds<TKey> : IKeyIds<TKey> where TKey : notnull
{
    private readonly Dictionary<TKey, int> _ids = new(KeyOrder.EqualityFor<TKey>());
    private readonly List<TKey> _keys = [];

    public int Count => _keys.Count;

    public int IdOf(TKey key)
    {
        ref var id = ref CollectionsMarshal.GetValueRefOrAddDefault(_ids, key, out var exists);
        if (!exists)
        {
            id = _keys.Count;
            _keys.Add(key);
        }
        return id;
    }

    public TKey KeyOf(int id) => _keys[id];

    public int HashPartition(int id, int partitions) => -1;

    public void Clear()
    {
        _ids.Clear();
        _ids.TrimExcess();
        _keys.Clear();
    }
}

/// <summary>
/// String keys in an open-addressing table of their own: each key's XxHash3 (over its UTF-16 code
/// units, as the default partitioner hashes it, so the partition costs no second hash) is kept and
/// compared first, and the characters of every key sit in one array, so a lookup compares
/// contiguous memory instead of a string object somewhere in the heap. Measured on the 200 MB
/// word count's words: 22-43 ns a lookup against 61-78 ns for a Dictionary with the ordinal comparer.
/// </summary>
internal sealed class StringKeyIds : IKeyIds<string>
{
    private int[] _slots = new int[1 << 12]; // 0: empty; else id + 1
    private ulong[] _hashes = new ulong[1 << 10];
    private int[] _starts = new int[1 << 10];
    private int[] _lengths = new int[1 << 10];
    private string[] _keys = new string[1 << 10];
    private char[] _chars = new char[1 << 14];
    private int _charsUsed;

    public int Count { get; private set; }

    public int IdOf(string key)
    {
        var hash = XxHash3.HashToUInt64(MemoryMarshal.AsBytes(key.AsSpan()));
        var mask = _slots.Length - 1;
        var slot = (int)hash & mask;
        while (true)
        {
            var id = _slots[slot] - 1;
            if (id < 0) break;
            if (_hashes[id] == hash && _lengths[id] == key.Length && _chars.AsSpan(_starts[id], key.Length).SequenceEqual(key)) return id;
            slot = (slot + 1) & mask;
        }
        var added = Count++;
        if (added == _hashes.Length)
        {
            Array.Resize(ref _hashes, added * 2);
            Array.Resize(ref _starts, added * 2);
            Array.Resize(ref _lengths, added * 2);
            Array.Resize(ref _keys, added * 2);
        }
        if (_charsUsed + key.Length > _chars.Length) Array.Resize(ref _chars, Math.Max(_chars.Length * 2, _charsUsed + key.Length));
        key.CopyTo(_chars.AsSpan(_charsUsed));
        (_hashes[added], _starts[added], _lengths[added], _keys[added]) = (hash, _charsUsed, key.Length, key);
        _charsUsed += key.Length;
        _slots[slot] = added + 1;
        if (Count * 2 > _slots.Length) Grow();
        return added;
    }

    public string KeyOf(int id) => _keys[id];

    /// <summary>-1 for a key with a lone surrogate: the partitioner hashes it as stored (U+FFFD in its place), not as kept here.</summary>
    public int HashPartition(int id, int partitions) =>
        ReferenceEquals(Partitioner<string>.AsStored(_keys[id]), _keys[id]) ? (int)(_hashes[id] % (ulong)partitions) : -1;

    private void Grow()
    {
        var slots = new int[_slots.Length * 2];
        var mask = slots.Length - 1;
        for (var id = 0; id < Count; id++)
        {
            var slot = (int)_hashes[id] & mask;
            while (slots[slot] != 0) slot = (slot + 1) & mask;
            slots[slot] = id + 1;
        }
        _slots = slots;
    }

    public void Clear()
    {
        _slots = new int[1 << 12];
        Array.Clear(_keys, 0, Count);
        Count = 0;
        _charsUsed = 0;
    }
}
