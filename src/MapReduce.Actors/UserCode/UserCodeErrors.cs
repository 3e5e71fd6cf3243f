namespace MapReduce.Actors.UserCode;

/// <summary>task.csx did not compile or lacks the functions a job needs; the message lists every problem with its line.</summary>
public sealed class CompileErrorException(string message) : Exception(message);

/// <summary>User code threw; the message names where (document, chunk or partition) and what. <see cref="Line"/>: the line of its chunk Map threw on, when it mapped line by line.</summary>
public sealed class UserCodeException(string message, Exception inner, long? line = null) : Exception(message, inner)
{
    public long? Line => line;
}
