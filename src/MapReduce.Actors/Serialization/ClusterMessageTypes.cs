using System.Collections.Frozen;
using System.Reflection;
using Hyperion;
using MapReduce.Actors.Protocol;

namespace MapReduce.Actors.Serialization;

/// <summary>
/// The closed set of types that may cross the network through Hyperion: the records of the
/// protocol classes, the types their properties hold (found by walking them, so a field added to a
/// message is allowed with it), the primitives, and the actor-ref surrogate Akka writes in place of
/// an IActorRef. Akka's own messages (cluster gossip, heartbeats, Identify, singleton hand-over)
/// have serializers of their own and never reach this one.
/// </summary>
public static class ClusterMessageTypes
{
    /// <summary>Every protocol class whose messages cross the network (a unit test checks none is missing).</summary>
    public static readonly Type[] Protocols = [typeof(MasterProtocol), typeof(WorkerProtocol), typeof(KvStoreProtocol), typeof(StoreCheck.StoreCheckProtocol)];

    private static readonly Type[] Extra =
    [
        // What the runtime types behind a message's interfaces are (counters are a Dictionary,
        // which Hyperion writes entry by entry).
        typeof(Dictionary<string, long>), typeof(System.Collections.DictionaryEntry), typeof(KeyValuePair<string, long>),
        typeof(Akka.Actor.ActorRefBase.Surrogate),
        typeof(string), typeof(int), typeof(long), typeof(bool), typeof(double), typeof(DateTime), typeof(TimeSpan), typeof(Guid),
        typeof(object),
    ];

    /// <summary>Every allowed type.</summary>
    public static readonly IReadOnlySet<Type> Allowed = Closure();

    /// <summary>The filter Hyperion consults, by type name, before it loads a type it reads and before it writes one.</summary>
    public static readonly ITypeFilter Filter = new NameFilter(Allowed);

    private static HashSet<Type> Closure()
    {
        var allowed = new HashSet<Type>();
        var pending = new Stack<Type>(Protocols.SelectMany(p => p.GetNestedTypes(BindingFlags.Public)).Concat(Extra));
        while (pending.TryPop(out var type))
        {
            if (type.IsInterface || type.IsGenericParameter || !allowed.Add(type)) continue;
            if (type.IsArray) pending.Push(type.GetElementType()!);
            if (type.IsGenericType) foreach (var argument in type.GetGenericArguments()) pending.Push(argument);
            if (Nullable.GetUnderlyingType(type) is { } underlying) pending.Push(underlying);
            // Only the project's own types are walked: a BCL type's fields are not messages.
            if (type.Assembly != typeof(ClusterMessageTypes).Assembly) continue;
            foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance)) pending.Push(property.PropertyType);
        }
        return allowed;
    }

    /// <summary>
    /// Hyperion names a type by its short assembly-qualified name when it reads one and by the full
    /// one when it writes one; both forms of every allowed type are accepted, nothing else.
    /// </summary>
    private sealed class NameFilter : ITypeFilter
    {
        private readonly FrozenSet<string> _names;

        public NameFilter(IEnumerable<Type> types)
        {
            var list = types.ToList();
            var builder = TypeFilterBuilder.Create();
            foreach (var type in list) builder.Include(type);
            _names = builder.Build().FilteredTypes.Concat(list.Select(t => t.AssemblyQualifiedName!)).ToFrozenSet(StringComparer.Ordinal);
        }

        public bool IsAllowed(string typeName) => _names.Contains(typeName);
    }
}
