using System.Text.Json;
using MapReduce.Sdk;
using MapReduce.Storage.Chunking;

namespace MapReduce.Actors.UserCode;

/// <summary>
/// What Map's second parameter takes for each input format, and the check that a job's Map fits
/// the format its input was uploaded in: text lines give a <c>string</c> (whole lines), CSV a
/// <see cref="CsvRow"/>, JSON lines a <see cref="JsonElement"/> or any other type the job declares
/// (deserialized with System.Text.Json), whole files a <c>byte[]</c>.
/// </summary>
public static class MapRecords
{
    /// <summary>Map's signature for <paramref name="format"/>, as messages show it.</summary>
    public static string Signature(InputFormat format) => format switch
    {
        InputFormat.Csv => "IEnumerable<(TKey, TValue)> Map(string docId, CsvRow row)",
        InputFormat.JsonLines => "IEnumerable<(TKey, TValue)> Map(string docId, JsonElement record) (or a record type the job declares)",
        InputFormat.WholeFile => "IEnumerable<(TKey, TValue)> Map(string docId, byte[] content)",
        _ => "IEnumerable<(TKey, TValue)> Map(string docId, string chunk)",
    };

    /// <summary>The format Map's record type reads: CsvRow is CSV, byte[] whole files, string text lines, anything else JSON lines.</summary>
    public static InputFormat FormatOf(Type recordType) =>
        recordType == typeof(string) ? InputFormat.Lines
        : recordType == typeof(CsvRow) ? InputFormat.Csv
        : recordType == typeof(byte[]) ? InputFormat.WholeFile
        : InputFormat.JsonLines;

    /// <summary>Throws <see cref="CompileErrorException"/> when a Map taking <paramref name="recordType"/> cannot read <paramref name="format"/>.</summary>
    public static void Check(InputFormat format, Type recordType, string where)
    {
        if (FormatOf(recordType) == format) return;
        throw new CompileErrorException(
            $"Map takes {TypeName(recordType)} records, which is --input-format {InputFormats.Name(FormatOf(recordType))}, but {where} was uploaded with --input-format {InputFormats.Name(format)}; for it, define {Signature(format)}");
    }

    /// <summary>Whether a type may be Map's record: no pointer, by-ref or open generic.</summary>
    public static bool CanBeRecord(Type type) => !type.IsByRef && !type.IsPointer && !type.ContainsGenericParameters && type != typeof(object);

    private static string TypeName(Type type) => type == typeof(string) ? "string" : type == typeof(byte[]) ? "byte[]" : type.Name;
}
