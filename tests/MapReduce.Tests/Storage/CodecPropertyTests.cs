using System.Collections;
using System.Runtime.CompilerServices;
using System.Text;
using CsCheck;
using MapReduce.Storage.Records;

namespace MapReduce.Tests.Storage;

/// <summary>
/// Random values (CsCheck, shrunk to a smallest failing case) through every record codec and key
/// format: decode(encode(x)) is x, to the bit (NaN, -0, a decimal's scale, a DateTime's kind);
/// the bytes of ordered keys sort as the keys do; and bytes that are not a record are refused with
/// <see cref="InvalidDataException"/>, never another exception.
/// </summary>
public class CodecPropertyTests
{
    /// <summary>Text of every kind a key or value holds: ASCII, NUL, accents, U+E000..U+FFFF, surrogate pairs (U+10000 and above).</summary>
    internal static readonly Gen<string> Text = Gen.Frequency(
        (4, (IGen<string>)Gen.Char['a', 'z'].Select(c => c.ToString())),
        (1, (IGen<string>)Gen.Char['\0', '\u007f'].Select(c => c.ToString())),
        (1, (IGen<string>)Gen.Char['\u0080', '\ud7ff'].Select(c => c.ToString())),
        (1, (IGen<string>)Gen.Char['\ue000', '\uffff'].Select(c => c.ToString())),
        (1, (IGen<string>)Gen.Int[0x10000, 0x10FFFF].Select(char.ConvertFromUtf32)),
        (1, (IGen<string>)Gen.Const("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"))).Array[0, 12].Select(string.Concat);

    /// <summary>Text that may hold a lone surrogate (half of a pair, as a Map that cut a string by char index would emit).</summary>
    internal static readonly Gen<string> AnyUtf16 = Gen.Frequency(
        (6, (IGen<string>)Text),
        (1, (IGen<string>)Gen.Char['\ud800', '\udfff'].Select(c => c.ToString()))).Array[0, 4].Select(string.Concat);

    private static readonly Gen<double> Doubles = Gen.OneOf<double>(Gen.Double, Gen.Double.Special, Gen.OneOf(double.NaN, -0.0, 0.0, double.NegativeInfinity, double.Epsilon, BitConverter.Int64BitsToDouble(unchecked((long)0xFFF8_0000_0000_0001))));
    private static readonly Gen<float> Floats = Gen.OneOf<float>(Gen.Float, Gen.Float.Special, Gen.OneOf(float.NaN, -0f, float.NegativeInfinity));
    private static readonly Gen<DateTime> DateTimes = Gen.Select(Gen.Long[DateTime.MinValue.Ticks, DateTime.MaxValue.Ticks], Gen.OneOf(DateTimeKind.Utc, DateTimeKind.Unspecified))
        .Select((ticks, kind) => new DateTime(ticks, kind));

    public sealed record Rec(string Text, int N, double[] Values);

    [Fact]
    public void Every_codec_gives_back_exactly_what_it_was_given()
    {
        RoundTrips(Text.Null());
        RoundTrips(Gen.Int);
        RoundTrips(Gen.Long);
        RoundTrips(Doubles);
        RoundTrips(Floats);
        RoundTrips(Gen.Bool);
        RoundTrips(Gen.Char); // any UTF-16 code unit, a lone surrogate too: a char is written as it is
        RoundTrips(Gen.Byte);
        RoundTrips(Gen.Short);
        RoundTrips(Gen.Decimal);
        RoundTrips(Gen.Guid);
        RoundTrips(DateTimes);
        RoundTrips(Gen.Int.Array[0, 20].Null());
        RoundTrips(Text.Null().List[0, 8].Null());
        RoundTrips(Gen.Long.Nullable());
        RoundTrips(Gen.Select(Text, Gen.Int));
        RoundTrips(Gen.Select(Gen.Int, Text, Doubles));
        RoundTrips(Gen.Select(Gen.Long, Text, Gen.Int.Array[0, 5], Gen.Bool));
        RoundTrips(Gen.Select(Text, Gen.Int, Doubles.Array[0, 4]).Select((t, n, v) => new Rec(t, n, v)));
    }

    /// <summary>Each value is decoded after another was written before it, from one buffer: a codec reads exactly its own bytes.</summary>
    private static void RoundTrips<T>(Gen<T> values)
    {
        var codec = Codec.For<T>();
        values.Array[1, 5].Sample(items =>
        {
            var writer = new ByteWriter();
            foreach (var item in items) codec.Write(writer, item);
            var reader = new ByteReader(writer.Written);
            foreach (var item in items) AssertSame(item, codec.Read(ref reader));
            Assert.True(reader.AtEnd, "bytes left over");
        }, iter: 500, threads: 1);
    }

    [Fact]
    public void Ordered_key_bytes_sort_as_the_keys_do_and_decode_to_them()
    {
        KeysSortAsBytes(Text, StringComparer.Ordinal);
        KeysSortAsBytes(Gen.Int, Comparer<int>.Default);
        KeysSortAsBytes(Gen.Long, Comparer<long>.Default);
    }

    private static void KeysSortAsBytes<T>(Gen<T> keys, IComparer<T> order)
    {
        var format = KeyFormat<T>.Instance;
        Assert.True(format.IsOrdered);
        Gen.Select(keys, keys).Sample((a, b) =>
        {
            var (x, y) = (Encode(format, a), Encode(format, b));
            AssertSame(a, format.Read(x));
            Assert.Equal(Math.Sign(order.Compare(a, b)), Math.Sign(KeyBytes.Compare(x, y)));
            var byPrefix = KeyBytes.Prefix(x).CompareTo(KeyBytes.Prefix(y));
            if (byPrefix != 0) Assert.Equal(byPrefix, Math.Sign(KeyBytes.Compare(x, y))); // the prefix never contradicts the bytes
        }, iter: 5000, threads: 1);
    }

    /// <summary>
    /// A string that is not valid UTF-16 (a lone surrogate) cannot be written as UTF-8: it is stored
    /// with U+FFFD in place of each lone surrogate, as Hadoop's Text and Java's String.getBytes do;
    /// it then sorts, groups and is partitioned as that string, so a key lands in one part only.
    /// </summary>
    [Fact]
    public void A_lone_surrogate_is_stored_as_U_FFFD_and_its_key_is_partitioned_as_what_it_becomes()
    {
        Gen.Select(AnyUtf16, Gen.Int[1, 10_000]).Sample((text, partitions) =>
        {
            var stored = Encoding.UTF8.GetString(Encoding.UTF8.GetBytes(text)); // lone surrogates become U+FFFD, nothing else changes
            var writer = new ByteWriter();
            Codec.For<string>().Write(writer, text);
            var reader = new ByteReader(writer.Written);
            Assert.Equal(stored, Codec.For<string>().Read(ref reader));
            Assert.Equal(stored, KeyFormat<string>.Instance.Read(Encode(KeyFormat<string>.Instance, text)));
            Assert.Equal(new Partitioner<string>(partitions).PartitionOf(stored), new Partitioner<string>(partitions).PartitionOf(text));
        }, iter: 3000, threads: 1);
    }

    /// <summary>Run segments come from disk and the network: bytes that are not a record throw InvalidDataException, or decode to some value.</summary>
    [Fact]
    public void Bytes_that_are_not_a_record_are_refused_as_invalid_data_never_with_another_exception()
    {
        var bytes = Gen.Byte.Array[0, 40];
        DecodesOrRefuses<string>(bytes);
        DecodesOrRefuses<int>(bytes);
        DecodesOrRefuses<long>(bytes);
        DecodesOrRefuses<double>(bytes);
        DecodesOrRefuses<decimal>(bytes);
        DecodesOrRefuses<DateTime>(bytes);
        DecodesOrRefuses<Guid>(bytes);
        DecodesOrRefuses<int[]>(bytes);
        DecodesOrRefuses<List<string>>(bytes);
        DecodesOrRefuses<long?>(bytes);
        DecodesOrRefuses<(string, int, double)>(bytes);
        DecodesOrRefuses<Rec>(bytes);
        KeyDecodesOrRefuses<string>(bytes);
        KeyDecodesOrRefuses<int>(bytes);
        KeyDecodesOrRefuses<long>(bytes);
        KeyDecodesOrRefuses<(int, string)>(bytes);

        // -1 is the one count that means null; another negative count is corruption, not a null.
        byte[] minusTwo = [0xFE, 0xFF, 0xFF, 0xFF, 0x0F];
        Assert.Throws<InvalidDataException>(() => { var r = new ByteReader(minusTwo); Codec.For<string>().Read(ref r); });
        Assert.Throws<InvalidDataException>(() => { var r = new ByteReader(minusTwo); Codec.For<int[]>().Read(ref r); });
        Assert.Throws<InvalidDataException>(() => { var r = new ByteReader(minusTwo); Codec.For<List<int>>().Read(ref r); });
    }

    private static void DecodesOrRefuses<T>(Gen<byte[]> bytes)
    {
        var codec = Codec.For<T>();
        bytes.Sample(input =>
        {
            try
            {
                var reader = new ByteReader(input);
                codec.Read(ref reader);
            }
            catch (InvalidDataException) { }
        }, iter: 3000, threads: 1);
    }

    private static void KeyDecodesOrRefuses<T>(Gen<byte[]> bytes)
    {
        bytes.Sample(input =>
        {
            try { KeyFormat<T>.Instance.Read(input); }
            catch (InvalidDataException) { }
        }, iter: 3000, threads: 1);
    }

    private static byte[] Encode<T>(KeyFormat<T> format, T key)
    {
        var writer = new ByteWriter();
        format.Write(writer, key);
        return writer.Written.ToArray();
    }

    /// <summary>Equal to the bit: doubles and floats by their bits (NaN payloads, -0), decimals by their bits (scale), DateTimes with their kind, collections and tuples item by item.</summary>
    internal static void AssertSame(object? expected, object? actual)
    {
        switch (expected)
        {
            case null:
                Assert.Null(actual);
                break;
            case double d:
                Assert.Equal(BitConverter.DoubleToInt64Bits(d), BitConverter.DoubleToInt64Bits(Assert.IsType<double>(actual)));
                break;
            case float f:
                Assert.Equal(BitConverter.SingleToInt32Bits(f), BitConverter.SingleToInt32Bits(Assert.IsType<float>(actual)));
                break;
            case decimal m:
                Assert.Equal(decimal.GetBits(m), decimal.GetBits(Assert.IsType<decimal>(actual)));
                break;
            case DateTime t:
                Assert.Equal((t.Ticks, t.Kind), (Assert.IsType<DateTime>(actual).Ticks, ((DateTime)actual).Kind));
                break;
            case string s:
                Assert.Equal(s, Assert.IsType<string>(actual));
                break;
            case Rec r:
                var back = Assert.IsType<Rec>(actual);
                AssertSame(r.Text, back.Text);
                AssertSame(r.N, back.N);
                // JSON keeps a double's value and sign, and NaN as "NaN" (not a NaN's payload bits).
                Assert.Equal(r.Values.Select(v => double.IsNaN(v) ? double.NaN : v).Select(BitConverter.DoubleToInt64Bits), back.Values.Select(BitConverter.DoubleToInt64Bits));
                break;
            case ITuple tuple:
                var other = Assert.IsAssignableFrom<ITuple>(actual);
                Assert.Equal(tuple.Length, other.Length);
                for (var i = 0; i < tuple.Length; i++) AssertSame(tuple[i], other[i]);
                break;
            case IEnumerable items:
                var left = items.Cast<object?>().ToList();
                var right = Assert.IsAssignableFrom<IEnumerable>(actual).Cast<object?>().ToList();
                Assert.Equal(left.Count, right.Count);
                for (var i = 0; i < left.Count; i++) AssertSame(left[i], right[i]);
                break;
            default:
                Assert.Equal(expected, actual);
                break;
        }
    }
}
