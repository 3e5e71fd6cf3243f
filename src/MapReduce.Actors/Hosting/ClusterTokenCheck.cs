using MapReduce.Actors.Api;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace MapReduce.Actors.Hosting;

/// <summary>
/// Refuses with 401 every request to a node's HTTP servers that does not carry the cluster token.
/// Programs send <c>Authorization: Bearer TOKEN</c>. A person's browser cannot, so on the status
/// page's server <c>GET /?token=TOKEN</c> (the URL the CLI prints) stores it in an HttpOnly cookie
/// and redirects to the same path without it; the page's own requests then carry the cookie.
/// </summary>
public static class ClusterTokenCheck
{
    public const string CookieName = "mapreduce-token";
    public const string QueryName = "token";

    public const string Missing = "this cluster requires its token: send 'Authorization: Bearer TOKEN' (the CLI's --token, or MAPREDUCE_TOKEN)";
    public const string Wrong = "the cluster token sent is not this cluster's";

    /// <param name="token">The cluster token; null lets every request through.</param>
    /// <param name="forPeople">Also accept the cookie, and set it from <c>?token=</c> (the status page's server).</param>
    public static void Use(WebApplication app, string? token, bool forPeople)
    {
        if (token is null) return;
        app.Use(async (context, next) =>
        {
            var header = context.Request.Headers.Authorization.ToString();
            var bearer = header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header["Bearer ".Length..].Trim() : null;
            if (ClusterToken.Matches(bearer, token)
                || (forPeople && context.Request.Cookies.TryGetValue(CookieName, out var cookie) && ClusterToken.Matches(cookie, token)))
            {
                await next(context).ConfigureAwait(false);
                return;
            }
            var query = forPeople && HttpMethods.IsGet(context.Request.Method) ? context.Request.Query[QueryName].ToString() : "";
            if (query.Length > 0 && ClusterToken.Matches(query, token))
            {
                context.Response.Cookies.Append(CookieName, token, new CookieOptions
                {
                    HttpOnly = true,
                    SameSite = SameSiteMode.Strict,
                    Secure = context.Request.IsHttps,
                    Path = "/",
                });
                // Out of the address bar (and the browser's history) at once.
                context.Response.Redirect(context.Request.PathBase + context.Request.Path);
                return;
            }
            context.Response.StatusCode = StatusCodes.Status401Unauthorized;
            context.Response.Headers.WWWAuthenticate = "Bearer";
            var given = bearer is not null || query.Length > 0 || context.Request.Cookies.ContainsKey(CookieName);
            await context.Response.WriteAsJsonAsync(new ApiModels.ApiError(given ? Wrong : Missing), ApiModels.Json, context.RequestAborted).ConfigureAwait(false);
        });
    }
}
