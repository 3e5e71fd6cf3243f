// A reduce-side join of two datasets given as two -d folders, as Hadoop's "repartition join":
//   ./mapreduce -d samples/join-data/users -d samples/join-data/orders -c samples/join -o out/join
// With several -d folders each document id starts with its folder's name (users/users.tsv,
// orders/orders-1.tsv), which is how Map tells the two sides apart. Tab-separated lines, no header:
//   users/…   user_id  name  country
//   orders/…  order_id  user_id  product  amount
// Map keys every record by user id and tags it with its side; Reduce gets a user's records of both
// sides and writes one bare line per (user, order) pair, an inner join:
//   user_id  name  country  order_id  product  amount
// a user's orders in the order the map tasks read them. Orders of an unknown user and users
// without orders are left out and counted (user.orders-without-user, user.users-without-orders);
// so are malformed lines (user.bad-lines).

const string UsersFolder = "users/";
const string OrdersFolder = "orders/";

IEnumerable<(string, (bool IsUser, string Fields))> Map(string docId, string chunk)
{
    var isUser = docId.StartsWith(UsersFolder, StringComparison.Ordinal);
    if (!isUser && !docId.StartsWith(OrdersFolder, StringComparison.Ordinal))
        throw new ArgumentException($"document {docId} is in neither a users nor an orders folder: give -d …/users -d …/orders");
    foreach (var raw in chunk.Split('\n'))
    {
        var line = raw.TrimEnd('\r');
        if (line.Length == 0) continue;
        var fields = line.Split('\t');
        if (fields.Length != (isUser ? 3 : 4))
        {
            Count("bad-lines");
            continue;
        }
        // The user id is a user's first field and an order's second; the rest travels with it.
        if (isUser) yield return (fields[0], (true, $"{fields[1]}\t{fields[2]}"));
        else yield return (fields[1], (false, $"{fields[0]}\t{fields[2]}\t{fields[3]}"));
    }
}

IEnumerable<string> ReduceLines(string userId, IEnumerable<(bool IsUser, string Fields)> records)
{
    // A user's records of both sides, in no set order: hold them (one user's worth) to pair them.
    var users = new List<string>();
    var orders = new List<string>();
    foreach (var (isUser, fields) in records) (isUser ? users : orders).Add(fields);
    if (users.Count == 0) Count("orders-without-user", orders.Count);
    else if (orders.Count == 0) Count("users-without-orders", users.Count);
    foreach (var user in users)
        foreach (var order in orders)
            yield return $"{userId}\t{user}\t{order}";
}
