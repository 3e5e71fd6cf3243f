using System.Text.Json;
using System.Text.Json.Serialization;
using Akka.Actor;
using Akka.Serialization;
using MapReduce.Actors.Master;

namespace MapReduce.Actors.Serialization;

/// <summary>
/// Persists master events and snapshots as JSON under a stable manifest (the type's name), so the
/// journal can be read by any later build: renaming a namespace or moving an assembly does not
/// orphan old events. Enums are written by name.
/// </summary>
public sealed class JournalEventSerializer(ExtendedActorSystem system) : SerializerWithStringManifest(system)
{
    private static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.General)
    {
        Converters = { new JsonStringEnumConverter() },
    };

    private static readonly Dictionary<string, Type> TypesByManifest = typeof(IMasterEvent).Assembly.GetTypes()
        .Where(t => typeof(IMasterEvent).IsAssignableFrom(t) && t is { IsAbstract: false, IsInterface: false })
        .Append(typeof(MasterSnapshot))
        .ToDictionary(t => t.Name, t => t);

    public override int Identifier => 4711;

    public override string Manifest(object o) => o.GetType().Name;

    public override byte[] ToBinary(object obj) => JsonSerializer.SerializeToUtf8Bytes(obj, obj.GetType(), Options);

    public override object FromBinary(byte[] bytes, string manifest) =>
        TypesByManifest.TryGetValue(manifest, out var type)
            ? JsonSerializer.Deserialize(bytes, type, Options)!
            : throw new System.Runtime.Serialization.SerializationException($"unknown journal event manifest '{manifest}'");
}
