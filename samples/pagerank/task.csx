// PageRank, one iteration per job: samples/pagerank/run.sh chains the jobs, each reading the
// previous job's result by its dataset id (--data-id result-JOB).
// Input lines: `page<TAB>links` (the graph, samples/pagerank-data/graph.txt: links comma-separated,
// none for a page without out-links), or `page<TAB>rank<TAB>links` (an iteration's output).
// A page of the graph starts with rank 1. Each iteration computes, as Brin and Page's paper writes it,
//   rank(p) = (1 - d) + d * sum over the pages q that link to p of rank(q) / links(q)
// with d = 0.85, so the ranks average 1 (less the share of pages without out-links, which is lost).
// Output: bare lines `page<TAB>rank<TAB>links`, the next iteration's input; a page that is only
// linked to gets a line with no links. Ranks are written as .NET's shortest round-trip form.

const double Damping = 0.85;

// Per page: its own record (IsPage, its links) and one share of rank per page that links to it.
IEnumerable<(string, (bool IsPage, string Links, double Share))> Map(string docId, string chunk)
{
    foreach (var raw in chunk.Split('\n'))
    {
        var line = raw.TrimEnd('\r');
        if (line.Length == 0) continue;
        var fields = line.Split('\t');
        var rank = 1.0;
        if (fields.Length is < 2 or > 3 || fields.Length == 3 && !double.TryParse(fields[1], NumberStyles.Float, CultureInfo.InvariantCulture, out rank))
        {
            Count("bad-lines");
            continue;
        }
        var (page, links) = (fields[0], fields[^1]);
        yield return (page, (true, links, 0));
        var targets = links.Split(',', StringSplitOptions.RemoveEmptyEntries);
        foreach (var target in targets) yield return (target, (false, "", rank / targets.Length));
    }
}

IEnumerable<string> ReduceLines(string page, IEnumerable<(bool IsPage, string Links, double Share)> values)
{
    var links = "";
    var sum = 0.0;
    foreach (var (isPage, pageLinks, share) in values)
    {
        if (isPage) links = pageLinks;
        else sum += share;
    }
    var rank = (1 - Damping) + Damping * sum;
    yield return $"{page}\t{rank.ToString("R", CultureInfo.InvariantCulture)}\t{links}";
}
