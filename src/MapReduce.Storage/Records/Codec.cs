using System.Collections.Concurrent;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text.Json;

namespace MapReduce.Storage.Records;

/// <summary>
/// Binary encoding of one key or value type. Primitives, strings, tuples, arrays and lists are
/// encoded by the codecs here; any other type (records or classes declared in task.csx) as JSON,
/// decoded with the reading process's own compiled copy of that type. No CLR type name is ever
/// written, so a type that lives in a dynamic assembly can cross process boundaries.
/// </summary>
public abstract class Codec<T>
{
    public abstract void Write(BinaryWriter writer, T value);
    public abstract T Read(BinaryReader reader);
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
        // UTF-8 byte count first; -1 stands for null, which BinaryWriter.Write(string) cannot express.
        public override void Write(BinaryWriter w, string value)
        {
            if (value is null) { w.Write7BitEncodedInt(-1); return; }
            var max = System.Text.Encoding.UTF8.GetMaxByteCount(value.Length);
            Span<byte> scratch = max <= 1024 ? stackalloc byte[max] : new byte[max];
            var n = System.Text.Encoding.UTF8.GetBytes(value, scratch);
            w.Write7BitEncodedInt(n);
            w.Write(scratch[..n]);
        }

        public override string Read(BinaryReader r)
        {
            var n = r.Read7BitEncodedInt();
            if (n < 0) return null!;
            Span<byte> scratch = n <= 1024 ? stackalloc byte[n] : new byte[n];
            r.BaseStream.ReadExactly(scratch);
            return System.Text.Encoding.UTF8.GetString(scratch);
        }
    }

    private sealed class Int32Codec : Codec<int>
    {
        public override void Write(BinaryWriter w, int value) => w.Write7BitEncodedInt(value);
        public override int Read(BinaryReader r) => r.Read7BitEncodedInt();
    }

    private sealed class Int64Codec : Codec<long>
    {
        public override void Write(BinaryWriter w, long value) => w.Write7BitEncodedInt64(value);
        public override long Read(BinaryReader r) => r.Read7BitEncodedInt64();
    }

    private sealed class DoubleCodec : Codec<double>
    {
        public override void Write(BinaryWriter w, double value) => w.Write(value);
        public override double Read(BinaryReader r) => r.ReadDouble();
    }

    private sealed class SingleCodec : Codec<float>
    {
        public override void Write(BinaryWriter w, float value) => w.Write(value);
        public override float Read(BinaryReader r) => r.ReadSingle();
    }

    private sealed class BooleanCodec : Codec<bool>
    {
        public override void Write(BinaryWriter w, bool value) => w.Write(value);
        public override bool Read(BinaryReader r) => r.ReadBoolean();
    }

    private sealed class CharCodec : Codec<char>
    {
        public override void Write(BinaryWriter w, char value) => w.Write((ushort)value);
        public override char Read(BinaryReader r) => (char)r.ReadUInt16();
    }

    private sealed class ByteCodec : Codec<byte>
    {
        public override void Write(BinaryWriter w, byte value) => w.Write(value);
        public override byte Read(BinaryReader r) => r.ReadByte();
    }

    private sealed class Int16Codec : Codec<short>
    {
        public override void Write(BinaryWriter w, short value) => w.Write(value);
        public override short Read(BinaryReader r) => r.ReadInt16();
    }

    private sealed class DecimalCodec : Codec<decimal>
    {
        public override void Write(BinaryWriter w, decimal value) => w.Write(value);
        public override decimal Read(BinaryReader r) => r.ReadDecimal();
    }

    private sealed class GuidCodec : Codec<Guid>
    {
        public override void Write(BinaryWriter w, Guid value)
        {
            Span<byte> bytes = stackalloc byte[16];
            value.TryWriteBytes(bytes);
            w.Write(bytes);
        }

        public override Guid Read(BinaryReader r) => new(r.ReadBytes(16));
    }

    private sealed class DateTimeCodec : Codec<DateTime>
    {
        public override void Write(BinaryWriter w, DateTime value) => w.Write(value.ToBinary());
        public override DateTime Read(BinaryReader r) => DateTime.FromBinary(r.ReadInt64());
    }

    private sealed class ArrayCodec<TElement> : Codec<TElement[]>
    {
        private readonly Codec<TElement> _element = For<TElement>();

        public override void Write(BinaryWriter w, TElement[] value)
        {
            if (value is null) { w.Write7BitEncodedInt(-1); return; }
            w.Write7BitEncodedInt(value.Length);
            foreach (var item in value) _element.Write(w, item);
        }

        public override TElement[] Read(BinaryReader r)
        {
            var n = r.Read7BitEncodedInt();
            if (n < 0) return null!;
            var items = new TElement[n];
            for (var i = 0; i < n; i++) items[i] = _element.Read(r);
            return items;
        }
    }

    private sealed class ListCodec<TElement> : Codec<List<TElement>>
    {
        private readonly Codec<TElement> _element = For<TElement>();

        public override void Write(BinaryWriter w, List<TElement> value)
        {
            if (value is null) { w.Write7BitEncodedInt(-1); return; }
            w.Write7BitEncodedInt(value.Count);
            foreach (var item in value) _element.Write(w, item);
        }

        public override List<TElement> Read(BinaryReader r)
        {
            var n = r.Read7BitEncodedInt();
            if (n < 0) return null!;
            var items = new List<TElement>(n);
            for (var i = 0; i < n; i++) items.Add(_element.Read(r));
            return items;
        }
    }

    private sealed class NullableCodec<TValue> : Codec<TValue?> where TValue : struct
    {
        private readonly Codec<TValue> _value = For<TValue>();

        public override void Write(BinaryWriter w, TValue? value)
        {
            w.Write(value.HasValue);
            if (value.HasValue) _value.Write(w, value.Value);
        }

        public override TValue? Read(BinaryReader r) => r.ReadBoolean() ? _value.Read(r) : null;
    }

    private sealed class TupleCodec<T1, T2> : Codec<ValueTuple<T1, T2>>
    {
        private readonly Codec<T1> _c1 = For<T1>();
        private readonly Codec<T2> _c2 = For<T2>();
        public override void Write(BinaryWriter w, (T1, T2) v) { _c1.Write(w, v.Item1); _c2.Write(w, v.Item2); }
        public override (T1, T2) Read(BinaryReader r) => (_c1.Read(r), _c2.Read(r));
    }

    private sealed class TupleCodec<T1, T2, T3> : Codec<ValueTuple<T1, T2, T3>>
    {
        private readonly Codec<T1> _c1 = For<T1>();
        private readonly Codec<T2> _c2 = For<T2>();
        private readonly Codec<T3> _c3 = For<T3>();
        public override void Write(BinaryWriter w, (T1, T2, T3) v) { _c1.Write(w, v.Item1); _c2.Write(w, v.Item2); _c3.Write(w, v.Item3); }
        public override (T1, T2, T3) Read(BinaryReader r) => (_c1.Read(r), _c2.Read(r), _c3.Read(r));
    }

    private sealed class TupleCodec<T1, T2, T3, T4> : Codec<ValueTuple<T1, T2, T3, T4>>
    {
        private readonly Codec<T1> _c1 = For<T1>();
        private readonly Codec<T2> _c2 = For<T2>();
        private readonly Codec<T3> _c3 = For<T3>();
        private readonly Codec<T4> _c4 = For<T4>();
        public override void Write(BinaryWriter w, (T1, T2, T3, T4) v) { _c1.Write(w, v.Item1); _c2.Write(w, v.Item2); _c3.Write(w, v.Item3); _c4.Write(w, v.Item4); }
        public override (T1, T2, T3, T4) Read(BinaryReader r) => (_c1.Read(r), _c2.Read(r), _c3.Read(r), _c4.Read(r));
    }

    private sealed class JsonCodec<TValue> : Codec<TValue>
    {
        private static readonly JsonSerializerOptions Options = new() { IncludeFields = true };

        public override void Write(BinaryWriter w, TValue value)
        {
            var json = JsonSerializer.SerializeToUtf8Bytes(value, Options);
            w.Write7BitEncodedInt(json.Length);
            w.Write(json);
        }

        public override TValue Read(BinaryReader r)
        {
            var n = r.Read7BitEncodedInt();
            return JsonSerializer.Deserialize<TValue>(r.ReadBytes(n), Options)!;
        }
    }
}
