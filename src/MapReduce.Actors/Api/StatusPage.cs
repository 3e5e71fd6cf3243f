using System.Collections.Frozen;
using System.Reflection;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace MapReduce.Actors.Api;

/// <summary>
/// The status page (Api/Page/*): static files embedded in this assembly, so a node serves them
/// with no folder beside it. <c>GET /</c> is index.html, <c>GET /page/{file}</c> the rest; the page
/// itself polls the control API.
/// </summary>
public static class StatusPage
{
    private const string ResourcePrefix = "MapReduce.Actors.Api.Page.";

    private static readonly FrozenDictionary<string, string> ContentTypes = new Dictionary<string, string>
    {
        [".html"] = "text/html; charset=utf-8",
        [".js"] = "text/javascript; charset=utf-8",
        [".css"] = "text/css; charset=utf-8",
        [".svg"] = "image/svg+xml",
        [".png"] = "image/png",
    }.ToFrozenDictionary();

    private static readonly Lazy<FrozenDictionary<string, byte[]>> Files = new(Load);

    /// <summary>The embedded files by name (index.html, page.js, page.css).</summary>
    public static IReadOnlyDictionary<string, byte[]> Embedded => Files.Value;

    /// <summary>Maps <c>GET /</c> and <c>GET /page/{file}</c> on the API server's app.</summary>
    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapGet("/", context => ServeAsync(context, "index.html"));
        app.MapGet("/page/{file}", context => ServeAsync(context, (string)context.Request.RouteValues["file"]!));
    }

    private static Task ServeAsync(HttpContext context, string file)
    {
        if (!Files.Value.TryGetValue(file, out var bytes) || !ContentTypes.TryGetValue(Path.GetExtension(file), out var type))
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return Task.CompletedTask;
        }
        context.Response.ContentType = type;
        // Revalidate each load, so a node upgraded in place serves its own page, not a cached one.
        context.Response.Headers.CacheControl = "no-cache";
        context.Response.ContentLength = bytes.Length;
        return context.Response.Body.WriteAsync(bytes).AsTask();
    }

    private static FrozenDictionary<string, byte[]> Load()
    {
        var assembly = typeof(StatusPage).Assembly;
        var files = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var name in assembly.GetManifestResourceNames())
        {
            if (!name.StartsWith(ResourcePrefix, StringComparison.Ordinal)) continue;
            using var stream = assembly.GetManifestResourceStream(name)!;
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            files[name[ResourcePrefix.Length..]] = copy.ToArray();
        }
        return files.ToFrozenDictionary(StringComparer.Ordinal);
    }
}
