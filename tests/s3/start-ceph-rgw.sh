#!/usr/bin/env bash
# A throw-away single-node Ceph cluster with its RADOS Gateway on 127.0.0.1, for the S3 tests.
#
#   start-ceph-rgw.sh start DIR   makes DIR (removing what an earlier start left there) and
#                                 starts a monitor,
#                                 one memstore OSD and radosgw in it; creates a user with keys
#                                 and a private bucket; writes DIR/env (shell assignments the
#                                 tests read: UPAGER_S3_ENDPOINT, _REGION, _BUCKET, _ACCESS_KEY,
#                                 _SECRET_KEY) and prints the seconds it took.
#   start-ceph-rgw.sh stop DIR    kills what start started (pids in DIR/pids) and removes DIR.
#   start-ceph-rgw.sh stop-rgw DIR / start-rgw DIR
#                                 stops / restarts the gateway alone (same port).
#
# Needs Debian's ceph-mon, ceph-osd, radosgw and ceph-common (ceph, radosgw-admin,
# monmaptool) and curl. No cephx: everything listens on 127.0.0.1 only. Logs: DIR/log.
set -euo pipefail

log_dir=""  # set once a start has one: a failure shows the ends of its logs (CI keeps no files)
die() {
  echo "start-ceph-rgw: $*" >&2
  if [ -n "$log_dir" ]; then tail -n 15 "$log_dir"/* >&2 2>/dev/null || true; fi
  exit 1
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# Waits up to $1 seconds for the command after it to succeed.
wait_for() {
  local limit=$1; shift
  local end=$((SECONDS + limit))
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $end ] || return 1
    sleep 0.2
  done
}

start_rgw() {
  local dir=$1
  # shellcheck disable=SC1091
  . "$dir/ports"
  radosgw -c "$dir/ceph.conf" -n client.rgw -f >"$dir/log/radosgw.out" 2>&1 &
  echo $! >"$dir/rgw.pid"
  wait_for 60 curl -sf -o /dev/null "http://127.0.0.1:$RGW_PORT/" ||
    die "radosgw did not answer on port $RGW_PORT (see $dir/log)"
}

stop_rgw() {
  local dir=$1
  if [ -f "$dir/rgw.pid" ]; then
    local pid; pid=$(cat "$dir/rgw.pid")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$dir/rgw.pid"
  fi
}

start() {
  local dir=$1
  local t0=$SECONDS
  for tool in ceph-mon ceph-osd radosgw radosgw-admin ceph monmaptool curl python3; do
    if ! command -v "$tool" >/dev/null; then
      # Without Ceph the S3 tests skip (they find no DIR/env), except in CI, where they
      # must run: fail here too.
      echo "start-ceph-rgw: $tool not found: no S3 gateway (apt-get install radosgw ceph-mon ceph-osd ceph-common)" >&2
      [ "${CI:-}" = true ] && exit 1
      exit 0
    fi
  done
  stop "$dir"  # what a previous run left behind
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  mkdir -p "$dir/log" "$dir/mon.a" "$dir/osd.0"
  log_dir="$dir/log"
  umask 077  # the keys end up in files here
  # Admin sockets in a short path of their own (a UNIX socket's path has ~107 bytes at most,
  # and a build tree can be deep).
  local run; run=$(mktemp -d /tmp/upager-ceph.XXXXXX)
  echo "$run" >"$dir/rundir"
  local mon_port rgw_port fsid
  mon_port=$(free_port)
  rgw_port=$(free_port)
  fsid=$(python3 -c 'import uuid; print(uuid.uuid4())')
  printf 'MON_PORT=%s\nRGW_PORT=%s\n' "$mon_port" "$rgw_port" >"$dir/ports"
  cat >"$dir/ceph.conf" <<CONF
[global]
fsid = $fsid
mon host = [v2:127.0.0.1:$mon_port]
public addr = 127.0.0.1
# No cephx, so no "secure" connection mode: radosgw asks for it by default.
ms mon client mode = crc secure
ms client mode = crc secure
auth cluster required = none
auth service required = none
auth client required = none
auth allow insecure global id reclaim = true
run dir = $run
log file = $dir/log/\$name.log
admin socket = $run/\$name.asok
osd objectstore = memstore
memstore device bytes = 2147483648
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon allow pool delete = true
mon max pg per osd = 1000
mon warn on pool no redundancy = false
osd data = $dir/\$name
mon data = $dir/\$name
[client.rgw]
rgw frontends = beast endpoint=127.0.0.1:$rgw_port
rgw dns name = localhost
rgw data = $dir/rgw
# STS, for temporary credentials with a session token (GetSessionToken).
rgw s3 auth use sts = true
rgw sts key = upagerstskey0123
CONF
  monmaptool --create --fsid "$fsid" --addv a "[v2:127.0.0.1:$mon_port]" "$dir/monmap" >/dev/null
  ceph-mon -c "$dir/ceph.conf" -i a --mkfs --monmap "$dir/monmap" >"$dir/log/mkfs-mon.out" 2>&1 ||
    die "ceph-mon --mkfs failed: $(cat "$dir/log/mkfs-mon.out")"
  ceph-mon -c "$dir/ceph.conf" -i a -f >"$dir/log/mon.out" 2>&1 &
  echo $! >>"$dir/pids"
  wait_for 30 ceph -c "$dir/ceph.conf" --connect-timeout 2 mon stat ||
    die "the monitor did not start (see $dir/log)"
  local id; id=$(ceph -c "$dir/ceph.conf" osd create)
  [ "$id" = 0 ] || die "osd create gave $id"
  ceph-osd -c "$dir/ceph.conf" -i 0 --mkfs >"$dir/log/mkfs-osd.out" 2>&1 ||
    die "ceph-osd --mkfs failed: $(cat "$dir/log/mkfs-osd.out")"
  ceph-osd -c "$dir/ceph.conf" -i 0 -f >"$dir/log/osd.out" 2>&1 &
  echo $! >>"$dir/pids"
  wait_for 60 sh -c "ceph -c '$dir/ceph.conf' osd stat | grep -q '1 up'" ||
    die "the OSD did not come up (see $dir/log)"
  start_rgw "$dir"
  local access secret
  access=$(python3 -c 'import secrets; print("UPAGER" + secrets.token_hex(7).upper())')
  secret=$(python3 -c 'import secrets; print(secrets.token_urlsafe(30))')
  radosgw-admin -c "$dir/ceph.conf" user create --uid=upager --display-name=upager \
    --access-key="$access" --secret-key="$secret" >"$dir/log/user.out" 2>&1 ||
    die "radosgw-admin user create failed: $(cat "$dir/log/user.out")"
  local endpoint="http://127.0.0.1:$rgw_port"
  curl -sf --aws-sigv4 "aws:amz:us-east-1:s3" --user "$access:$secret" \
    -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" -X PUT "$endpoint/upager-test" >/dev/null ||
    die "cannot create the bucket"
  # Temporary credentials (key, secret, session token) for the same user: allow it
  # GetSessionToken (a user policy, set through the IAM API), then ask for them.
  radosgw-admin -c "$dir/ceph.conf" caps add --uid=upager --caps="user-policy=*" \
    >>"$dir/log/user.out" 2>&1 || die "radosgw-admin caps add failed"
  python3 - "$dir" <<'PY' >"$dir/policy.body"
import sys, urllib.parse
doc = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["sts:GetSessionToken"],"Resource":"*"}]}'
print(urllib.parse.urlencode({"Action": "PutUserPolicy", "UserName": "upager",
                              "PolicyName": "session", "PolicyDocument": doc}), end="")
PY
  printf 'Action=GetSessionToken&Version=2011-06-15&DurationSeconds=43200' >"$dir/session.body"
  signed_post() {  # SERVICE BODY-FILE: a SigV4-signed form POST (the payload's hash signed too)
    curl -sf --aws-sigv4 "aws:amz:us-east-1:$1" --user "$access:$secret" \
      -H "x-amz-content-sha256: $(sha256sum <"$2" | cut -d' ' -f1)" \
      -H "Content-Type: application/x-www-form-urlencoded" --data-binary "@$2" "$endpoint/"
  }
  signed_post iam "$dir/policy.body" >/dev/null || die "PutUserPolicy failed"
  signed_post sts "$dir/session.body" >"$dir/session.xml" || die "GetSessionToken failed"
  local session
  session=$(python3 -c '
import re, sys
xml = open(sys.argv[1]).read()
print(" ".join(re.search("<%s>([^<]*)</%s>" % (t, t), xml).group(1)
               for t in ("AccessKeyId", "SecretAccessKey", "SessionToken")))' "$dir/session.xml") ||
    die "no credentials in the GetSessionToken answer"
  read -r session_access session_secret session_token <<<"$session"
  cat >"$dir/env" <<ENV
UPAGER_S3_ENDPOINT=$endpoint
UPAGER_S3_REGION=us-east-1
UPAGER_S3_BUCKET=upager-test
UPAGER_S3_ACCESS_KEY=$access
UPAGER_S3_SECRET_KEY=$secret
UPAGER_S3_SESSION_ACCESS_KEY=$session_access
UPAGER_S3_SESSION_SECRET_KEY=$session_secret
UPAGER_S3_SESSION_TOKEN=$session_token
UPAGER_S3_DIR=$dir
ENV
  echo "start-ceph-rgw: gateway at $endpoint, bucket upager-test, started in $((SECONDS - t0)) s"
}

stop() {
  local dir=$1
  [ -d "$dir" ] || return 0
  stop_rgw "$dir"
  if [ -f "$dir/pids" ]; then
    local pids; pids=$(tac "$dir/pids")
    for pid in $pids; do kill "$pid" 2>/dev/null || true; done
    # Nothing to keep (memstore): a short grace, then SIGKILL.
    for pid in $pids; do
      for _ in $(seq 10); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
    done
  fi
  if [ -f "$dir/rundir" ]; then rm -rf "$(cat "$dir/rundir")"; fi
  rm -rf "$dir"
}

[ $# -eq 2 ] || die "usage: $0 start|stop|stop-rgw|start-rgw DIR"
case $1 in
  start) start "$2" ;;
  stop) stop "$2" ;;
  stop-rgw) stop_rgw "$2" ;;
  start-rgw) start_rgw "$2" ;;
  *) die "unknown command $1" ;;
esac
