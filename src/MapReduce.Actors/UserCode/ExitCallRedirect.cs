using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using MapReduce.Actors.Worker;

namespace MapReduce.Actors.UserCode;

/// <summary>
/// Points task.csx's uses of <c>Environment.Exit</c> (calls, <c>using static</c> calls, method
/// groups) at <see cref="ProcessExitWatch.ExitFromUserCode"/>, so a worker that user code exits
/// blames that code's attempt alone. .NET raises ProcessExit on another thread, so nothing else
/// can tell which of a worker's attempts called the exit. An exit from a library the script loads
/// is not seen; the master then counts every attempt the worker held.
/// </summary>
internal static class ExitCallRedirect
{
    private static readonly ExpressionSyntax Target =
        SyntaxFactory.ParseExpression($"global::{typeof(ProcessExitWatch).FullName}.{nameof(ProcessExitWatch.ExitFromUserCode)}");

    /// <summary>The compilation with its exits redirected; the same compilation when the source names no Exit (the common case costs no binding).</summary>
    public static Compilation Apply(Compilation compilation, string source)
    {
        if (!source.Contains("Exit", StringComparison.Ordinal)) return compilation;
        foreach (var tree in compilation.SyntaxTrees)
        {
            var model = compilation.GetSemanticModel(tree);
            var root = tree.GetRoot();
            var uses = root.DescendantNodes().OfType<SimpleNameSyntax>()
                .Where(name => name.Identifier.ValueText == "Exit")
                // Environment.Exit as a whole, or a bare Exit (using static System.Environment).
                .Select(name => name.Parent is MemberAccessExpressionSyntax access && access.Name == name ? (ExpressionSyntax)access : name)
                .Where(use => !InNameOf(use) && IsEnvironmentExit(model.GetSymbolInfo(use)))
                .ToList();
            if (uses.Count == 0) continue;
            var rewritten = root.ReplaceNodes(uses, (original, _) => Target.WithTriviaFrom(original));
            compilation = compilation.ReplaceSyntaxTree(tree, tree.WithRootAndOptions(rewritten, tree.Options));
        }
        return compilation;
    }

    private static bool InNameOf(ExpressionSyntax use) =>
        use.Parent is ArgumentSyntax { Parent.Parent: InvocationExpressionSyntax { Expression: IdentifierNameSyntax { Identifier.ValueText: "nameof" } } };

    private static bool IsEnvironmentExit(SymbolInfo info) =>
        (info.Symbol ?? info.CandidateSymbols.FirstOrDefault()) is IMethodSymbol { Name: "Exit" } method
        && method.ContainingType.ToDisplayString() == "System.Environment";
}
