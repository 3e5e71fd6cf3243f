using System.Reflection;

namespace MapReduce.Actors.UserCode;

/// <summary>The functions a compiled task.csx defines, found by name and checked against their signatures, and whether it calls TotalOrder.</summary>
internal sealed record UserFunctions(
    MethodInfo Map,
    MethodInfo? Reduce,
    MethodInfo? ReduceLines,
    MethodInfo? Reducer,
    MethodInfo? Combine,
    MethodInfo? Partition,
    bool UsesTotalOrder);
