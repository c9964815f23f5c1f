#!/usr/bin/env bash
# `upager cat s3://...` of one object against a plain signed sequential download of the same
# object with `curl --aws-sigv4`, both from a one-node Ceph RADOS Gateway on 127.0.0.1
# (tests/s3/start-ceph-rgw.sh, started here and stopped after). Interleaved runs; prints each
# pair and the ratio of the medians (upager time / curl time; the issue's target: <= 1.3).
#
# Usage: bench/s3_ratios.sh [MIB (default 256)]
# Environment: BUILD_DIR (default <repo>/build/bench), REPETITIONS (default 5).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$here")"
build="${BUILD_DIR:-$repo/build/bench}"
reps="${REPETITIONS:-5}"
mib="${1:-256}"

mkdir -p "$build"
cmake -S "$repo" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DUPAGER_BUILD_BENCHMARKS=ON \
  > "$build/configure.log" 2>&1 || { cat "$build/configure.log"; exit 1; }
cmake --build "$build" --target upager_cli >/dev/null

work=$(mktemp -d)
gateway="$work/gateway"
trap '"$repo/tests/s3/start-ceph-rgw.sh" stop "$gateway"; rm -rf "$work"' EXIT
"$repo/tests/s3/start-ceph-rgw.sh" start "$gateway"
# shellcheck disable=SC1091
. "$gateway/env"
export AWS_ACCESS_KEY_ID=$UPAGER_S3_ACCESS_KEY AWS_SECRET_ACCESS_KEY=$UPAGER_S3_SECRET_KEY
url="$UPAGER_S3_ENDPOINT/$UPAGER_S3_BUCKET/bench.bin"
sign=(--aws-sigv4 "aws:amz:$UPAGER_S3_REGION:s3" --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY")
head -c "$((mib << 20))" /dev/urandom >"$work/bench.bin"
curl -sf "${sign[@]}" -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" -T "$work/bench.bin" "$url"

now() { date +%s.%N; }
curl_times=() upager_times=()
for i in $(seq "$reps"); do
  t0=$(now)
  curl -sf "${sign[@]}" -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" -o /dev/null "$url"
  t1=$(now)
  "$build/tools/upager/upager" cat "s3://$UPAGER_S3_BUCKET/bench.bin" \
    --endpoint "$UPAGER_S3_ENDPOINT" --region "$UPAGER_S3_REGION" >/dev/null
  t2=$(now)
  curl_times+=("$(echo "$t1 - $t0" | bc)")
  upager_times+=("$(echo "$t2 - $t1" | bc)")
  echo "run $i: curl ${curl_times[-1]} s, upager cat ${upager_times[-1]} s"
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
c=$(median "${curl_times[@]}")
u=$(median "${upager_times[@]}")
echo "$mib MiB: curl median $c s, upager cat median $u s, ratio $(echo "scale=2; $u / $c" | bc)"
