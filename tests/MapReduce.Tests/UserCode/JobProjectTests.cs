using System.Globalization;
using System.IO.Compression;
using System.Runtime.CompilerServices;
using MapReduce.Actors.UserCode;
using MapReduce.Sdk;
using MapReduce.Storage.Blobs;
using MapReduce.Storage.Chunking;
using MapReduce.Submit.Client;
using MapReduce.Testing;
using MapReduce.Tests.Deploy;
using MapReduce.Tests.Support;
using Microsoft.Extensions.Time.Testing;
using Microsoft.VisualBasic.FileIO;

namespace MapReduce.Tests.UserCode;

/// <summary>samples/sales published once, as the CLI publishes a job project (a real `dotnet publish`).</summary>
public sealed class PublishedSales : IAsyncLifetime
{
    public byte[] Archive { get; private set; } = [];

    public string CodeId => CodeBlob.IdOf(CodeKind.Project, Archive);

    public static string Project => RepoFiles.Path("samples", "sales", "Sales.csproj");

    public async Task InitializeAsync() => Archive = await ProjectBuild.ArchiveAsync(Project, CancellationToken.None);

    public Task DisposeAsync() => Task.CompletedTask;
}

/// <summary>
/// A job as a C# project: the sample's answer against an independent CSV reader, its archive (with
/// its package, without the SDK, the same bytes for the same build), how a worker loads it (its own
/// collectible context, its packages from its folder, the SDK shared) and unloads it once unused.
/// </summary>
public sealed class JobProjectTests(PublishedSales sales) : IClassFixture<PublishedSales>, IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    /// <summary>Orders and revenue per region read with the framework's own CSV parser (TextFieldParser), not CsvHelper.</summary>
    private static (Dictionary<string, string> Answer, int BadRows) Independently(string folder)
    {
        var totals = new Dictionary<string, (long Orders, long Cents)>(StringComparer.Ordinal);
        var bad = 0;
        foreach (var file in Directory.GetFiles(folder, "*.csv"))
        {
            using var parser = new TextFieldParser(file) { TextFieldType = FieldType.Delimited, HasFieldsEnclosedInQuotes = true };
            parser.SetDelimiters(",");
            parser.ReadFields(); // the header
            while (parser.ReadFields() is { } row)
            {
                if (!long.TryParse(row[4], CultureInfo.InvariantCulture, out var units) || !decimal.TryParse(row[5], CultureInfo.InvariantCulture, out var price))
                {
                    bad++;
                    continue;
                }
                var (orders, cents) = totals.GetValueOrDefault(row[2]);
                totals[row[2]] = (orders + 1, cents + (long)Math.Round(units * price * 100, MidpointRounding.AwayFromZero));
            }
        }
        return (totals.ToDictionary(kv => kv.Key, kv => string.Create(CultureInfo.InvariantCulture, $"{kv.Value.Orders} {kv.Value.Cents / 100m:0.00}")), bad);
    }

    [Fact]
    public void The_sales_sample_gives_each_regions_orders_and_revenue_as_an_independent_CSV_reader_does()
    {
        var data = RepoFiles.Path("samples", "sales-data");
        var (answer, bad) = Independently(data);
        Assert.Equal(5, answer.Count);
        Assert.Equal(1, bad);
        var result = JobHarness.Run<Sales.SalesByRegion>(JobHarness.Documents(data), new HarnessOptions { Reducers = 2 });
        var got = result.AllLines.Select(l => l.Split('\t')).ToDictionary(f => f[0], f => f[1]);
        Assert.Equal(answer.OrderBy(kv => kv.Key), got.OrderBy(kv => kv.Key));
        Assert.Equal(1, result.Counter("user.bad-rows"));
    }

    [Fact]
    public async Task The_archive_ships_the_jobs_assembly_and_CsvHelper_but_not_the_SDK_and_the_same_build_gives_the_same_bytes()
    {
        using (var zip = new ZipArchive(new MemoryStream(sales.Archive)))
        {
            var names = zip.Entries.Select(e => e.FullName).ToList();
            Assert.Contains("Sales.dll", names);
            Assert.Contains("Sales.deps.json", names);
            Assert.Contains("CsvHelper.dll", names);
            Assert.DoesNotContain(names, n => n.StartsWith("MapReduce.Sdk.", StringComparison.Ordinal));
            Assert.Equal(names.Order(StringComparer.Ordinal), names);
        }
        Assert.Matches("^proj-[0-9a-f]{16}$", sales.CodeId);
        // Built again, unchanged: the same bytes, so the same code id (workers load it once).
        Assert.Equal(sales.Archive, await ProjectBuild.ArchiveAsync(PublishedSales.Project, CancellationToken.None));
    }

    [Fact]
    public async Task A_worker_loads_the_archive_in_a_context_of_its_own_shares_the_SDK_and_unloads_it_once_unused()
    {
        var clock = new FakeTimeProvider();
        var unloaded = new List<string>();
        using var cache = new CompiledCodeCache(_folder.File("code-cache"), time: clock, unloadAfter: TimeSpan.FromMinutes(1));
        cache.Unloaded += unloaded.Add;
        var context = await RunOnceAsync(cache, sales.CodeId, sales.Archive);
        Collect(context);
        Assert.Empty(unloaded); // held by no attempt, but used just now: kept
        Assert.True(context.IsAlive, "the cache let go of code used less than a minute ago");

        clock.Advance(TimeSpan.FromSeconds(59));
        Assert.Empty(unloaded);
        clock.Advance(TimeSpan.FromSeconds(1)); // the sweep timer fires
        Assert.Equal([sales.CodeId], unloaded);
        Collect(context);
        Assert.False(context.IsAlive, "the job's load context was not collected after it was unloaded");

        // Its files stay extracted in the cache folder: a new worker process loads them without fetching.
        using var next = new CompiledCodeCache(_folder.File("code-cache"));
        var loaded = await next.GetLoaded(sales.CodeId, () => throw new InvalidOperationException("the archive must not be needed"));
        Assert.False(loaded.CallsTotalOrder);
    }

    private static void Collect(WeakReference context)
    {
        for (var i = 0; i < 20 && context.IsAlive; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }
    }

    /// <summary>Loads, starts and runs the job under a lease, then lets go of everything but a weak reference to its context.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static async Task<WeakReference> RunOnceAsync(CompiledCodeCache cache, string codeId, byte[] archive)
    {
        using var lease = cache.Use(codeId);
        var loaded = await cache.GetLoaded(codeId, () => Task.FromResult(archive));
        var task = await cache.GetStarted(codeId, loaded);
        Assert.Equal((typeof(string), typeof(ValueTuple<long, long>), typeof(string)), (task.KeyType, task.ValueType, task.ResultType));
        var output = task.NewMapOutput(1, 1 << 20, Directory.CreateTempSubdirectory().FullName);
        var attempt = new AttemptContext();
        Assert.Equal(2, attempt.Run(() => task.RunMap("o.csv", "order_id,date,region,product,units,unit_price\n1,d,North,\"A, b\",2,1.50\n2,d,North,x,many,1\n3,d,South,y,1,2.00\n", output, "o.csv")));
        Assert.Equal(1, attempt.UserCounters()["user.bad-rows"]);
        var assemblies = loaded.Context.Assemblies.Select(a => a.GetName().Name).ToList();
        Assert.Contains("Sales", assemblies);
        Assert.Contains("CsvHelper", assemblies); // from the archive, into the job's own context
        Assert.DoesNotContain("MapReduce.Sdk", assemblies); // the worker's own copy, shared
        Assert.Same(System.Runtime.Loader.AssemblyLoadContext.Default, System.Runtime.Loader.AssemblyLoadContext.GetLoadContext(typeof(JobFunctions).Assembly));
        return new WeakReference(loaded.Context);
    }
}
