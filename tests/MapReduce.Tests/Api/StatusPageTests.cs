using System.Net;
using MapReduce.Actors.Api;
using MapReduce.Actors.Hosting;

namespace MapReduce.Tests.Api;

/// <summary>StatusPage on a Kestrel app built and started as the API server builds its own (<see cref="HttpEndpoint"/>).</summary>
public sealed class StatusPageTests
{
    [Fact]
    public async Task Serves_the_page_and_its_files_from_the_assembly_with_their_content_types_and_404s_anything_else()
    {
        var app = HttpEndpoint.CreateBuilder("127.0.0.1", 0, certificate: null).Build();
        StatusPage.Map(app);
        await using var server = await HttpEndpoint.StartAsync(app, "127.0.0.1", https: false, TimeSpan.FromSeconds(2));
        using var http = new HttpClient { BaseAddress = server.BaseUrl };

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
