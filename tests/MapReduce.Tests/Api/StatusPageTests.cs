using System.Net;
using MapReduce.Actors.Api;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;

namespace MapReduce.Tests.Api;

/// <summary>StatusPage on a bare Kestrel app built as the API server builds its own (empty builder, routing core only).</summary>
public sealed class StatusPageTests
{
    [Fact]
    public async Task Serves_the_page_and_its_files_from_the_assembly_with_their_content_types_and_404s_anything_else()
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.Services.AddRoutingCore();
        builder.WebHost.UseKestrelCore().ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        await using var app = builder.Build();
        StatusPage.Map(app);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        using var http = new HttpClient { BaseAddress = new Uri(address) };

        var index = await http.GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, index.StatusCode);
        Assert.Equal("text/html", index.Content.Headers.ContentType!.MediaType);
        var html = await index.Content.ReadAsStringAsync();
        Assert.Contains("<script src=\"/page/page.js\">", html);
        Assert.Contains("href=\"/page/page.css\"", html);

        var js = await http.GetAsync("/page/page.js");
        Assert.Equal("text/javascript", js.Content.Headers.ContentType!.MediaType);
        Assert.Contains("/api/jobs", await js.Content.ReadAsStringAsync());
        Assert.Equal("text/css", (await http.GetAsync("/page/page.css")).Content.Headers.ContentType!.MediaType);

        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/page/nothing.js")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/page/..%2FStatusPage.cs")).StatusCode);
        await app.StopAsync();
    }
}
