using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace MapReduce.Storage.Records;

/// <summary>
/// Binary encoding of one key or value type. Primitives, strings, tuples, arrays and lists are
/// encoded by the codecs here; any other type (records or classes declared in task.csx) as JSON,
/// decoded with the reading process's own compiled copy of that type. No CLR type name is ever
/// written, so a type that lives in a dynamic assembly can cross process boundaries. The bytes are
/// those <see cref="BinaryWriter"/> wrote in earlier versions (the hash partitioner hashes them).
/// </summary>
public abstract class Codec<T>
{
    public abstract void Write(ByteWriter writer, T value);
    public abstract T Read(ref ByteReader reader);

    /// <summary>Bytes a value of this type takes in memory, about, for a buffer bounded by bytes; null when it varies with the value.</summary>
    public virtual int? FixedSize => null;
}

public static class Codec
{
    private static readonly ConcurrentDictionary<Type, object> Cache = new();

    public static Codec<T> For<T>() => (Codec<T>)Cache.GetOrAdd(typeof(T), Create);

    private static object Create(Type type)
    {
        if (type == typeof(string)) return new StringCodec();
        if (type == typeof(int)) return new Int32Codec();
        if (type == typeof(long)) return new Int64Codec();
        if (type == typeof(double)) return new DoubleCodec();
        if (type == typeof(float)) return new SingleCodec();
        if (type == typeof(bool)) return new BooleanCodec();
        if (type == typeof(char)) return new CharCodec();
        if (type == typeof(byte)) return new ByteCodec();
        if (type == typeof(short)) return new Int16Codec();
        if (type == typeof(decimal)) return new DecimalCodec();
        if (type == typeof(Guid)) return new GuidCodec();
        if (type == typeof(DateTime)) return new DateTimeCodec();
        if (type.IsArray && type.GetArrayRank() == 1)
            return Make(typeof(ArrayCodec<>), type.GetElementType()!);
        if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(List<>))
            return Make(typeof(ListCodec<>), type.GetGenericArguments()[0]);
        if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(Nullable<>))
            return Make(typeof(NullableCodec<>), type.GetGenericArguments()[0]);
        if (IsValueTuple(type))
        {
            var args = type.GetGenericArguments();
            var definition = args.Length switch
            {
                2 => typeof(TupleCodec<,>),
                3 => typeof(TupleCodec<,,>),
                4 => typeof(TupleCodec<,,,>),
                _ => null,
            };
            if (definition is not null) return Activator.CreateInstance(definition.MakeGenericType(args))!;
        }
        return Activator.CreateInstance(typeof(JsonCodec<>).MakeGenericType(type))!;
    }

    private static object Make(Type definition, Type argument) =>
        Activator.CreateInstance(definition.MakeGenericType(argument))!;

    private static bool IsValueTuple(Type type) =>
        type.IsGenericType && type.FullName!.StartsWith("System.ValueTuple`", StringComparison.Ordinal);

    private sealed class StringCodec : Codec<string>
    {
        // UTF-8 byte count first; -1 stands for null.
        public override void Write(ByteWriter w, string value)
        {
            if (value is null) { w.WriteVarInt(-1); return; }
            if (value.Length < 42)
            {
                // At most 127 bytes: a one-byte count, written once the bytes are known.
                var span = w.GetSpan(1 + value.Length * 3);
                var n = Encoding.UTF8.GetBytes(value, span[1..]);
                span[0] = (byte)n;
                w.Advance(1 + n);
                return;
            }
            var length = Encoding.UTF8.GetByteCount(value);
            w.WriteVarInt(length);
            Encoding.UTF8.GetBytes(value, w.GetSpan(length));
            w.Advance(length);
        }

        public override string Read(ref ByteReader r)
        {
            var n = r.ReadVarInt();
            return n == -1 ? null! : Encoding.UTF8.GetString(r.ReadSpan(n)); // another negative count: ReadSpan refuses it
        }
    }

    private sealed class Int32Codec : Codec<int>
    {
        public override void Write(ByteWriter w, int value) => w.WriteVarInt(value);
        public override int Read(ref ByteReader r) => r.ReadVarInt();
        public override int? FixedSize => 4;
    }

    private sealed class Int64Codec : Codec<long>
    {
        public override void Write(ByteWriter w, long value) => w.WriteVarLong(value);
        public override long Read(ref ByteReader r) => r.ReadVarLong();
        public override int? FixedSize => 8;
    }

    private sealed class DoubleCodec : Codec<double>
    {
        public override void Write(ByteWriter w, double value) => w.WriteDouble(value);
        public override double Read(ref ByteReader r) => r.ReadDouble();
        public override int? FixedSize => 8;
    }

    private sealed class SingleCodec : Codec<float>
    {
        public override void Write(ByteWriter w, float value) => w.WriteSingle(value);
        public override float Read(ref ByteReader r) => r.ReadSingle();
        public override int? FixedSize => 4;
    }

    private sealed class BooleanCodec : Codec<bool>
    {
        public override void Write(ByteWriter w, bool value) => w.WriteByte(value ? (byte)1 : (byte)0);
        public override bool Read(ref ByteReader r) => r.ReadByte() != 0;
        public override int? FixedSize => 1;
    }

    private sealed class CharCodec : Codec<char>
    {
        public override void Write(ByteWriter w, char value) => w.WriteUInt16(value);
        public override char Read(ref ByteReader r) => (char)r.ReadUInt16();
        public override int? FixedSize => 2;
    }

    private sealed class ByteCodec : Codec<byte>
    {
        public override void Write(ByteWriter w, byte value) => w.WriteByte(value);
        public override byte Read(ref ByteReader r) => r.ReadByte();
        public override int? FixedSize => 1;
    }

    private sealed class Int16Codec : Codec<short>
    {
        public override void Write(ByteWriter w, short value) => w.WriteInt16(value);
        public override short Read(ref ByteReader r) => r.ReadInt16();
        public override int? FixedSize => 2;
    }

    private sealed class DecimalCodec : Codec<decimal>
    {
        public override void Write(ByteWriter w, decimal value)
        {
            Span<int> bits = stackalloc int[4];
            decimal.GetBits(value, bits);
            foreach (var part in bits) w.WriteInt32(part);
        }

        public override decimal Read(ref ByteReader r)
        {
            Span<int> bits = [r.ReadInt32(), r.ReadInt32(), r.ReadInt32(), r.ReadInt32()];
            try { return new decimal(bits); }
            catch (ArgumentException) { throw new InvalidDataException("a record holds a malformed decimal (the run is corrupt)"); }
        }

        public override int? FixedSize => 16;
    }

    private sealed class GuidCodec : Codec<Guid>
    {
        public override void Write(ByteWriter w, Guid value)
        {
            value.TryWriteBytes(w.GetSpan(16));
            w.Advance(16);
        }

        public override Guid Read(ref ByteReader r) => new(r.ReadSpan(16));
        public override int? FixedSize => 16;
    }

    private sealed class DateTimeCodec : Codec<DateTime>
    {
        public override void Write(ByteWriter w, DateTime value) => w.WriteInt64(value.ToBinary());
        public override DateTime Read(ref ByteReader r)
        {
            var binary = r.ReadInt64();
            try { return DateTime.FromBinary(binary); }
            catch (ArgumentException) { throw new InvalidDataException("a record holds a malformed date (the run is corrupt)"); }
        }
        public override int? FixedSize => 8;
    }

    private sealed class ArrayCodec<TElement> : Codec<TElement[]>
    {
        private readonly Codec<TElement> _element = For<TElement>();

        public override void Write(ByteWriter w, TElement[] value)
        {
            if (value is null) { w.WriteVarInt(-1); return; }
            w.WriteVarInt(value.Length);
            foreach (var item in value) _element.Write(w, item);
        }

        public override TElement[] Read(ref ByteReader r)
        {
            var n = r.ReadVarInt();
            if (n == -1) return null!;
            if (n < 0) throw new InvalidDataException("a record holds a negative count (the run is corrupt)");
            if (n > r.Remaining) throw new InvalidDataException("a record holds an array longer than its bytes");
            var items = new TElement[n];
            for (var i = 0; i < n; i++) items[i] = _element.Read(ref r);
            return items;
        }
    }

    private sealed class ListCodec<TElement> : Codec<List<TElement>>
    {
        private readonly Codec<TElement> _element = For<TElement>();

        public override void Write(ByteWriter w, List<TElement> value)
        {
            if (value is null) { w.WriteVarInt(-1); return; }
            w.WriteVarInt(value.Count);
            foreach (var item in value) _element.Write(w, item);
        }

        public override List<TElement> Read(ref ByteReader r)
        {
            var n = r.ReadVarInt();
            if (n == -1) return null!;
            if (n < 0) throw new InvalidDataException("a record holds a negative count (the run is corrupt)");
            if (n > r.Remaining) throw new InvalidDataException("a record holds a list longer than its bytes");
            var items = new List<TElement>(n);
            for (var i = 0; i < n; i++) items.Add(_element.Read(ref r));
            return items;
        }
    }

    private sealed class NullableCodec<TValue> : Codec<TValue?> where TValue : struct
    {
        private readonly Codec<TValue> _value = For<TValue>();

        public override void Write(ByteWriter w, TValue? value)
        {
            w.WriteByte(value.HasValue ? (byte)1 : (byte)0);
            if (value.HasValue) _value.Write(w, value.Value);
        }

        public override TValue? Read(ref ByteReader r) => r.ReadByte() != 0 ? _value.Read(ref r) : null;
    }

    private sealed class TupleCodec<T1, T2> : Codec<ValueTuple<T1, T2>>
    {
        private readonly Codec<T1> _c1 = For<T1>();
        private readonly Codec<T2> _c2 = For<T2>();
        public override void Write(ByteWriter w, (T1, T2) v) { _c1.Write(w, v.Item1); _c2.Write(w, v.Item2); }
        public override (T1, T2) Read(ref ByteReader r) { var a = _c1.Read(ref r); return (a, _c2.Read(ref r)); }
    }

    private sealed class TupleCodec<T1, T2, T3> : Codec<ValueTuple<T1, T2, T3>>
    {
        private readonly Codec<T1> _c1 = For<T1>();
        private readonly Codec<T2> _c2 = For<T2>();
        private readonly Codec<T3> _c3 = For<T3>();
        public override void Write(ByteWriter w, (T1, T2, T3) v) { _c1.Write(w, v.Item1); _c2.Write(w, v.Item2); _c3.Write(w, v.Item3); }
        public override (T1, T2, T3) Read(ref ByteReader r) { var a = _c1.Read(ref r); var b = _c2.Read(ref r); return (a, b, _c3.Read(ref r)); }
    }

    private sealed class TupleCodec<T1, T2, T3, T4> : Codec<ValueTuple<T1, T2, T3, T4>>
    {
        private readonly Codec<T1> _c1 = For<T1>();
        private readonly Codec<T2> _c2 = For<T2>();
        private readonly Codec<T3> _c3 = For<T3>();
        private readonly Codec<T4> _c4 = For<T4>();
        public override void Write(ByteWriter w, (T1, T2, T3, T4) v) { _c1.Write(w, v.Item1); _c2.Write(w, v.Item2); _c3.Write(w, v.Item3); _c4.Write(w, v.Item4); }
        public override (T1, T2, T3, T4) Read(ref ByteReader r)
        {
            var a = _c1.Read(ref r); var b = _c2.Read(ref r); var c = _c3.Read(ref r);
            return (a, b, c, _c4.Read(ref r));
        }
    }

    private sealed class JsonCodec<TValue> : Codec<TValue>
    {
        // NaN and the infinities as the strings "NaN", "Infinity", "-Infinity" (plain JSON has no such numbers; without this a record holding one failed to be written).
        private static readonly JsonSerializerOptions Options = new() { IncludeFields = true, NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals };

        public override void Write(ByteWriter w, TValue value)
        {
            var json = JsonSerializer.SerializeToUtf8Bytes(value, Options);
            w.WriteVarInt(json.Length);
            w.Write(json);
        }

        public override TValue Read(ref ByteReader r)
        {
            var n = r.ReadVarInt();
            try { return JsonSerializer.Deserialize<TValue>(r.ReadSpan(n), Options)!; }
            catch (JsonException e) { throw new InvalidDataException($"a record is not the JSON of a {typeof(TValue).Name} (the run is corrupt): {e.Message}"); }
        }
    }
}
