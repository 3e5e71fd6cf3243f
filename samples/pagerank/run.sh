#!/usr/bin/env bash
# PageRank over a graph for a fixed number of iterations: one job of samples/pagerank per
# iteration, each over the previous job's result by its dataset id, so only the graph is uploaded.
#   samples/pagerank/run.sh [ITERATIONS] [OUT] [options for every job...]
#   samples/pagerank/run.sh 10 out/pagerank --keep-cluster 2m   # the local cluster stays up between jobs
#   samples/pagerank/run.sh 3 out/pr --cluster http://10.0.0.2:4080
# ITERATIONS defaults to 10, OUT to out/pagerank; iteration N's parts go to OUT/iteration-N.
# The graph is the folder $PAGERANK_GRAPH (default samples/pagerank-data); the CLI is $MAPREDUCE
# (default ./mapreduce of this repository). Each iteration's result stays in the store as a
# dataset (`./mapreduce datasets`; `./mapreduce delete ID` removes one).
set -euo pipefail
sample="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
iterations="${1:-10}"
out="${2:-out/pagerank}"
shift $(( $# < 2 ? $# : 2 ))
graph="${PAGERANK_GRAPH:-$sample/../pagerank-data}"
read -r -a mapreduce <<< "${MAPREDUCE:-$sample/../../mapreduce}"
if ! [[ "$iterations" =~ ^[1-9][0-9]*$ ]]; then
  echo "error: ITERATIONS must be a positive number, not '$iterations'" >&2
  exit 2
fi

input=(-d "$graph")
for (( i = 1; i <= iterations; i++ )); do
  # --json prints the job's record once the catalog holds it, its result dataset registered.
  json="$("${mapreduce[@]}" "${input[@]}" -c "$sample" -o "$out/iteration-$i" --json "$@")"
  result="$(sed -n 's/^ *"resultDatasetId": *"\([^"]*\)".*/\1/p' <<< "$json")"
  if [[ -z "$result" ]]; then
    echo "error: iteration $i: no result dataset in the CLI's answer:" >&2
    echo "$json" >&2
    exit 1
  fi
  echo "iteration $i: $result, parts in $out/iteration-$i"
  input=(--data-id "$result")
done
echo "highest ranks after $iterations iterations:"
cat "$out/iteration-$iterations"/part-* | LC_ALL=C sort -t $'\t' -k2,2gr -k1,1 | cut -f 1,2 | sed -n 1,5p  # sed reads all: no SIGPIPE for sort under pipefail
