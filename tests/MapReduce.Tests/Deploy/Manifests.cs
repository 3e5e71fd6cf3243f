using YamlDotNet.RepresentationModel;

namespace MapReduce.Tests.Deploy;

/// <summary>The YAML documents under deploy/k8s, parsed, with paths into them that fail with the path they could not follow.</summary>
public sealed class Manifests
{
    public Manifests(string folder)
    {
        foreach (var file in Directory.EnumerateFiles(folder, "*.yaml").Order(StringComparer.Ordinal))
        {
            var stream = new YamlStream();
            using (var reader = new StreamReader(file)) stream.Load(reader);
            foreach (var doc in stream.Documents) Documents.Add((System.IO.Path.GetFileName(file), (YamlMappingNode)doc.RootNode));
        }
    }

    public List<(string File, YamlMappingNode Root)> Documents { get; } = [];

    public IEnumerable<YamlMappingNode> OfKind(string kind) => Documents.Where(d => Text(d.Root, "kind") == kind).Select(d => d.Root);

    public YamlMappingNode Single(string kind, string name) =>
        OfKind(kind).SingleOrDefault(d => Text(d, "metadata", "name") == name) ?? throw new Xunit.Sdk.XunitException($"no {kind} named {name} in deploy/k8s");

    public static YamlNode At(YamlNode root, params string[] path)
    {
        var node = root;
        foreach (var key in path)
        {
            if (node is not YamlMappingNode map || !map.Children.TryGetValue(new YamlScalarNode(key), out var next))
                throw new Xunit.Sdk.XunitException($"no '{string.Join('.', path)}' (missing '{key}')");
            node = next;
        }
        return node;
    }

    public static string Text(YamlNode root, params string[] path) => ((YamlScalarNode)At(root, path)).Value ?? "";

    public static bool Has(YamlNode root, params string[] path)
    {
        try { At(root, path); return true; }
        catch (Xunit.Sdk.XunitException) { return false; }
    }

    public static IReadOnlyList<YamlNode> Items(YamlNode root, params string[] path) => [.. ((YamlSequenceNode)At(root, path)).Children];

    public static IReadOnlyList<string> Strings(YamlNode root, params string[] path) => [.. Items(root, path).Select(n => ((YamlScalarNode)n).Value ?? "")];
}
