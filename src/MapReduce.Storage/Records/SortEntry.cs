using System.Runtime.InteropServices;

namespace MapReduce.Storage.Records;

/// <summary>
/// One record (or one distinct key) of a map buffer to sort: its partition, the 8-byte prefix of
/// its key and where the key's bytes are. Sorting these 24-byte entries instead of the records
/// themselves moves little memory, and most comparisons end at the partition or the prefix.
/// </summary>
/// <param name="Item">The arena's value length (the value follows the key), or a grouping table's group index.</param>
[StructLayout(LayoutKind.Sequential, Pack = 4)]
internal readonly record struct SortEntry(ulong Prefix, int Partition, int KeyOffset, int KeyLength, int Item);

/// <summary>Partition, then key bytes (prefix first), then where the key was written: equal keys keep the order they came in.</summary>
internal readonly struct SortEntryOrder(byte[] bytes) : IComparer<SortEntry>
{
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public int Compare(SortEntry a, SortEntry b)
    {
        if (a.Partition != b.Partition) return a.Partition < b.Partition ? -1 : 1;
        if (a.Prefix != b.Prefix) return a.Prefix < b.Prefix ? -1 : 1;
        if (a.KeyLength > 8 || b.KeyLength > 8 || a.KeyLength != b.KeyLength)
        {
            var c = KeyBytes.Compare(bytes.AsSpan(a.KeyOffset, a.KeyLength), bytes.AsSpan(b.KeyOffset, b.KeyLength));
            if (c != 0) return c;
        }
        return a.KeyOffset.CompareTo(b.KeyOffset);
    }
}
