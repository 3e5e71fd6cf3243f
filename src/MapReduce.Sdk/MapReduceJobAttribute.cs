namespace MapReduce.Sdk;

/// <summary>
/// Marks the class of a job project that holds the job's functions, found by name and signature as
/// in task.csx: <c>Map</c>, and <c>Reduce</c>, <c>ReduceLines</c> or <c>Reducer</c>, optionally
/// <c>Combine</c> and <c>Partition</c>. A class that implements <see cref="IMapper{TKey, TValue}"/>
/// needs no mark. The class needs a public parameterless constructor unless its functions are static.
/// </summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class MapReduceJobAttribute : Attribute;
