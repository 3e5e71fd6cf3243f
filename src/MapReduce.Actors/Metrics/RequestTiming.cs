using System.Diagnostics;
using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Prometheus;

namespace MapReduce.Actors.Metrics;

/// <summary>Times every request of a server, refused ones too, until its response is sent, into a histogram by method and status code.</summary>
public static class RequestTiming
{
    public static void Use(IApplicationBuilder app, Histogram histogram) => app.Use(async (context, next) =>
    {
        var started = Stopwatch.GetTimestamp();
        var threw = false;
        try
        {
            await next(context).ConfigureAwait(false);
        }
        catch
        {
            threw = true;
            throw;
        }
        finally
        {
            // Kestrel answers 500 for a handler that threw before it began its response.
            var status = threw && !context.Response.HasStarted ? StatusCodes.Status500InternalServerError : context.Response.StatusCode;
            histogram.WithLabels(context.Request.Method, status.ToString(CultureInfo.InvariantCulture)).Observe(Stopwatch.GetElapsedTime(started).TotalSeconds);
        }
    });
}
