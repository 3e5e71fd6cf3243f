using MapReduce.Actors.Protocol;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace MapReduce.Actors.Hosting;

/// <summary>
/// Refuses with 401 every request to a node's HTTP servers that does not carry the cluster token.
/// Programs send <c>Authorization: Bearer TOKEN</c>. A person's browser cannot, so the status page's
/// server turns its link, <c>GET /?token=TOKEN</c>, into a cookie, and redirects to <c>/#token=TOKEN</c>:
/// the fragment reaches no server, and the page keeps it (in the tab's session storage, which is
/// scoped by port) to send the header with the requests its buttons make.
/// Cookies are not scoped by port: every program on the host that the browser visits receives them.
/// So the cookie holds a random value of this server's own, never the token, and it opens reads
/// (GET, HEAD) only; a request that changes something needs the token in its header.
/// </summary>
public static class ClusterTokenCheck
{
    public const string QueryName = "token";

    public const string Missing = "this cluster requires its token: send 'Authorization: Bearer TOKEN' (the CLI's --token, or MAPREDUCE_TOKEN)";
    public const string Wrong = "the cluster token sent is not this cluster's";
    public const string CookieOnlyReads = "a request that changes something needs 'Authorization: Bearer TOKEN': the status page's cookie only reads (the page's buttons send the token it was opened with)";
    public const string StaleSession = "this status page session is not this server's (it restarted, or the link was another's): open the page through its link again (`mapreduce page` prints it)";

    /// <summary>The status page's cookie on the server at <paramref name="port"/>: cookies are not scoped by port, so each server's has a name of its own.</summary>
    public static string CookieName(int port) => $"mapreduce-session-{port}";

    /// <param name="token">The cluster token; null lets every request through.</param>
    /// <param name="forPeople">Also take the page's link and cookie (the status page's server).</param>
    public static void Use(IApplicationBuilder app, string? token, bool forPeople)
    {
        if (token is null) return;
        // Made when the server starts, so it dies with it; it opens this server's reads and nothing else.
        var session = ClusterToken.New();
        app.Use(async (context, next) =>
        {
            var request = context.Request;
            var header = request.Headers.Authorization.ToString();
            var bearer = header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header["Bearer ".Length..].Trim() : null;
            if (ClusterToken.Matches(bearer, token))
            {
                await next(context).ConfigureAwait(false);
                return;
            }
            var reads = HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method);
            var cookie = forPeople && request.Cookies.TryGetValue(CookieName(context.Connection.LocalPort), out var value) ? value : null;
            var ourSession = ClusterToken.Matches(cookie, session);
            if (ourSession && reads && bearer is null)
            {
                await next(context).ConfigureAwait(false);
                return;
            }
            // The link: only the page's own address takes it, and sends the browser back to that address alone.
            var query = forPeople && reads && request.Path == "/" ? request.Query[QueryName].ToString() : "";
            if (query.Length > 0 && ClusterToken.Matches(query, token))
            {
                context.Response.Cookies.Append(CookieName(context.Connection.LocalPort), session, new CookieOptions
                {
                    HttpOnly = true,
                    SameSite = SameSiteMode.Strict,
                    Secure = request.IsHttps,
                    Path = "/",
                });
                context.Response.Redirect($"{request.PathBase}/#{QueryName}={Uri.EscapeDataString(token)}");
                return;
            }
            context.Response.StatusCode = StatusCodes.Status401Unauthorized;
            context.Response.Headers.WWWAuthenticate = "Bearer";
            var why = bearer is not null || query.Length > 0 ? Wrong
                : ourSession ? CookieOnlyReads
                : cookie is not null ? StaleSession
                : Missing;
            await context.Response.WriteAsJsonAsync(new ApiModels.ApiError(why), ApiModels.Json, context.RequestAborted).ConfigureAwait(false);
        });
    }
}
