using System.Reflection;
using MapReduce.Sdk;

namespace MapReduce.Actors.UserCode;

/// <summary>
/// Finds a job's functions by name and signature and checks them against Map's key and value
/// types: on task.csx's submission class, or on the class a job project marks. One place for both,
/// so a project's job is held to exactly the contract of a script. <c>what</c> names the code in
/// every message ("task.csx", or "WordCount (MyJob.dll)").
/// </summary>
internal static class JobBinder
{
    /// <summary>The SDK's interfaces, whose methods a class may implement explicitly (then they are found by the interface's method name).</summary>
    private static readonly Type[] SdkInterfaces = [typeof(IMapper<,>), typeof(IReducer<,,>), typeof(ILineReducer<,>), typeof(ICombiner<,>), typeof(IPartitioner<>)];

    /// <summary>What task.csx defines: every method of its submission class.</summary>
    public static List<(string Name, MethodInfo Method)> ScriptFunctions(Type submission) =>
        [.. submission.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly)
            .Select(m => (m.Name, m))];

    /// <summary>What a job class defines: its public methods (inherited ones too, not object's), and the SDK interface methods it implements explicitly.</summary>
    public static List<(string Name, MethodInfo Method)> ClassFunctions(Type job)
    {
        var found = job.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static)
            .Where(m => m.DeclaringType != typeof(object))
            .Select(m => (m.Name, m)).ToList();
        foreach (var itf in job.GetInterfaces().Where(i => i.IsGenericType && SdkInterfaces.Contains(i.GetGenericTypeDefinition())))
        {
            var map = job.GetInterfaceMap(itf);
            for (var i = 0; i < map.InterfaceMethods.Length; i++)
                if (!map.TargetMethods[i].IsPublic) found.Add((map.InterfaceMethods[i].Name, map.TargetMethods[i]));
        }
        return found;
    }

    /// <summary>Whether a class is marked as a job's: <see cref="MapReduceJobAttribute"/>, or it implements <see cref="IMapper{TKey, TValue}"/>.</summary>
    public static bool IsJobClass(Type type) =>
        type.IsClass && (!type.IsAbstract || type.IsSealed) && !type.IsGenericTypeDefinition // a static class is abstract and sealed
        && (type.IsDefined(typeof(MapReduceJobAttribute), inherit: false)
            || type.GetInterfaces().Any(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IMapper<,>)));

    /// <summary>The functions found and checked, with the key, value and result types they agree on; no user code runs.</summary>
    public static JobShape Check(IReadOnlyList<(string Name, MethodInfo Method)> functions, string what, bool usesTotalOrder)
    {
        var map = Single(functions, "Map", what)
                  ?? throw new CompileErrorException($"{what} must define: IEnumerable<(TKey, TValue)> Map(string docId, string chunk)");
        var mapParameters = map.GetParameters();
        var pairType = ElementOfEnumerable(map.ReturnType);
        // The second parameter is the record Map reads: a chunk of text lines, or one record of another input format (MapRecords).
        if (mapParameters.Length != 2 || mapParameters[0].ParameterType != typeof(string) || !MapRecords.CanBeRecord(mapParameters[1].ParameterType)
            || pairType is null || !IsPair(pairType))
            throw new CompileErrorException($"{what}: Map must have the signature IEnumerable<(TKey, TValue)> Map(string docId, string chunk), or for --input-format csv, jsonl or whole-file Map(string docId, CsvRow row), Map(string docId, JsonElement record) (or a type the job declares) or Map(string docId, byte[] content); found {Describe(map)}");
        var keyType = pairType.GetGenericArguments()[0];
        var valueType = pairType.GetGenericArguments()[1];

        var reduce = Single(functions, "Reduce", what);
        var reduceLines = Single(functions, "ReduceLines", what);
        var reducer = Single(functions, "Reducer", what);
        var combine = Single(functions, "Combine", what);
        var partition = Single(functions, "Partition", what);
        Type resultType;
        if (reduceLines is not null && (reduce ?? reducer) is { } other)
            throw new CompileErrorException($"{what} defines both ReduceLines and {other.Name}; define one of Reduce, ReduceLines or Reducer");
        if (reduce is not null)
        {
            CheckKeyValues(reduce, keyType, valueType, "TResult Reduce(TKey key, IEnumerable<TValue> values)", what);
            resultType = reduce.ReturnType;
            if (resultType == typeof(void)) throw new CompileErrorException($"{what}: Reduce must return a value");
        }
        else if (reduceLines is not null)
        {
            CheckKeyValues(reduceLines, keyType, valueType, "IEnumerable<string> ReduceLines(TKey key, IEnumerable<TValue> values)", what);
            if (reduceLines.ReturnType != typeof(IEnumerable<string>))
                throw new CompileErrorException($"{what}: ReduceLines must return IEnumerable<string> (each string one output line, written as it is); found {Describe(reduceLines)}");
            resultType = typeof(string);
        }
        else if (reducer is not null)
        {
            var parameters = reducer.GetParameters();
            var dictionary = typeof(IDictionary<,>).MakeGenericType(keyType, typeof(List<>).MakeGenericType(valueType));
            var resultPair = ElementOfEnumerable(reducer.ReturnType);
            if (parameters.Length != 1 || parameters[0].ParameterType != dictionary || resultPair is null || !IsPair(resultPair)
                || resultPair.GetGenericArguments()[0] != keyType)
                throw new CompileErrorException($"{what}: Reducer must have the signature IEnumerable<(TKey, TResult)> Reducer(IDictionary<TKey, List<TValue>> keyValues) with the TKey and TValue of Map; found {Describe(reducer)}");
            resultType = resultPair.GetGenericArguments()[1];
        }
        else
        {
            throw new CompileErrorException($"{what} must define TResult Reduce(TKey key, IEnumerable<TValue> values), IEnumerable<string> ReduceLines(TKey key, IEnumerable<TValue> values) or IEnumerable<(TKey, TResult)> Reducer(IDictionary<TKey, List<TValue>> keyValues)");
        }
        if (combine is not null)
        {
            CheckKeyValues(combine, keyType, valueType, "TValue Combine(TKey key, IEnumerable<TValue> values)", what);
            if (combine.ReturnType != valueType)
                throw new CompileErrorException($"{what}: Combine must return the value type of Map ({valueType.Name}); found {Describe(combine)}");
        }
        if (partition is not null)
        {
            var parameters = partition.GetParameters();
            if (parameters.Length != 2 || parameters[0].ParameterType != keyType || parameters[1].ParameterType != typeof(int) || partition.ReturnType != typeof(int))
                throw new CompileErrorException($"{what}: Partition must have the signature int Partition(TKey key, int reducers) with TKey = {TypeName(keyType)} as Map yields; found {Describe(partition)}");
        }
        return new JobShape(new UserFunctions(map, reduce, reduceLines, reducer, combine, partition, usesTotalOrder), keyType, valueType, resultType);
    }

    /// <summary>The typed task over <paramref name="instance"/> (null when every function is static).</summary>
    public static IUserTask Create(JobShape shape, object? instance)
    {
        var taskType = typeof(CompiledTask<,,>).MakeGenericType(shape.KeyType, shape.ValueType, shape.ResultType);
        return (IUserTask)Activator.CreateInstance(taskType, instance, shape.Functions)!;
    }

    private static void CheckKeyValues(MethodInfo method, Type keyType, Type valueType, string signature, string what)
    {
        var parameters = method.GetParameters();
        if (parameters.Length != 2 || parameters[0].ParameterType != keyType
            || parameters[1].ParameterType != typeof(IEnumerable<>).MakeGenericType(valueType))
            throw new CompileErrorException($"{what}: {method.Name} must have the signature {signature} with TKey = {keyType.Name} and TValue = {valueType.Name} as Map yields; found {Describe(method)}");
    }

    private static MethodInfo? Single(IReadOnlyList<(string Name, MethodInfo Method)> functions, string name, string what)
    {
        var found = functions.Where(f => f.Name == name).Select(f => f.Method).Distinct().ToList();
        if (found.Count > 1) throw new CompileErrorException($"{what} defines {found.Count} functions named {name}; define exactly one");
        return found.FirstOrDefault();
    }

    private static Type? ElementOfEnumerable(Type type)
    {
        if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(IEnumerable<>)) return type.GetGenericArguments()[0];
        return type.GetInterfaces().FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IEnumerable<>))?.GetGenericArguments()[0];
    }

    private static bool IsPair(Type type) => type.IsGenericType && type.GetGenericTypeDefinition() == typeof(ValueTuple<,>);

    private static string Describe(MethodInfo method) =>
        $"{TypeName(method.ReturnType)} {method.Name}({string.Join(", ", method.GetParameters().Select(p => $"{TypeName(p.ParameterType)} {p.Name}"))})";

    private static string TypeName(Type type) =>
        type.IsGenericType
            ? $"{type.Name[..type.Name.IndexOf('`')]}<{string.Join(", ", type.GetGenericArguments().Select(TypeName))}>"
            : type.Name;
}

/// <summary>A job's functions, checked, and the key, value and result types they agree on.</summary>
internal sealed record JobShape(UserFunctions Functions, Type KeyType, Type ValueType, Type ResultType);
