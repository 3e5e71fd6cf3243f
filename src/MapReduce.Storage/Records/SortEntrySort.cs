namespace MapReduce.Storage.Records;

/// <summary>
/// Sorts <see cref="SortEntry"/>s in <see cref="SortEntryOrder"/> with the comparison inlined: the
/// framework's Span.Sort takes the comparer as an interface and calls it for every comparison,
/// which measured 10% of a sort job's CPU. An introsort: quicksort with a median of three, insertion
/// sort for small ranges, heapsort past a depth limit.
/// </summary>
internal static class SortEntrySort
{
    private const int InsertionLimit = 24;

    public static void Sort(Span<SortEntry> entries, byte[] bytes)
    {
        if (entries.Length < 2) return;
        var order = new SortEntryOrder(bytes);
        IntroSort(entries, order, 2 * (int)Math.Log2(entries.Length));
    }

    private static void IntroSort(Span<SortEntry> span, SortEntryOrder order, int depth)
    {
        while (span.Length > InsertionLimit)
        {
            if (depth-- == 0)
            {
                HeapSort(span, order);
                return;
            }
            var pivot = Partition(span, order);
            // Recurse into the smaller side, loop on the larger: the stack stays logarithmic.
            if (pivot < span.Length - pivot)
            {
                IntroSort(span[..pivot], order, depth);
                span = span[(pivot + 1)..];
            }
            else
            {
                IntroSort(span[(pivot + 1)..], order, depth);
                span = span[..pivot];
            }
        }
        InsertionSort(span, order);
    }

    /// <summary>Hoare-style partition around the median of the first, middle and last entries; returns the pivot's final place.</summary>
    private static int Partition(Span<SortEntry> span, SortEntryOrder order)
    {
        var last = span.Length - 1;
        var middle = last >> 1;
        if (order.Compare(span[middle], span[0]) < 0) Swap(span, 0, middle);
        if (order.Compare(span[last], span[0]) < 0) Swap(span, 0, last);
        if (order.Compare(span[last], span[middle]) < 0) Swap(span, middle, last);
        Swap(span, middle, last - 1);
        var pivot = span[last - 1];
        int left = 0, right = last - 1;
        while (true)
        {
            while (order.Compare(span[++left], pivot) < 0) { }
            while (order.Compare(pivot, span[--right]) < 0) { }
            if (left >= right) break;
            Swap(span, left, right);
        }
        Swap(span, left, last - 1);
        return left;
    }

    private static void InsertionSort(Span<SortEntry> span, SortEntryOrder order)
    {
        for (var i = 1; i < span.Length; i++)
        {
            var item = span[i];
            var j = i - 1;
            while (j >= 0 && order.Compare(item, span[j]) < 0)
            {
                span[j + 1] = span[j];
                j--;
            }
            span[j + 1] = item;
        }
    }

    private static void HeapSort(Span<SortEntry> span, SortEntryOrder order)
    {
        for (var i = span.Length / 2 - 1; i >= 0; i--) SiftDown(span, i, span.Length, order);
        for (var end = span.Length - 1; end > 0; end--)
        {
            Swap(span, 0, end);
            SiftDown(span, 0, end, order);
        }
    }

    private static void SiftDown(Span<SortEntry> span, int i, int count, SortEntryOrder order)
    {
        while (true)
        {
            var child = 2 * i + 1;
            if (child >= count) return;
            if (child + 1 < count && order.Compare(span[child], span[child + 1]) < 0) child++;
            if (order.Compare(span[i], span[child]) >= 0) return;
            Swap(span, i, child);
            i = child;
        }
    }

    private static void Swap(Span<SortEntry> span, int a, int b) => (span[a], span[b]) = (span[b], span[a]);
}
