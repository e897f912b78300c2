#!/usr/bin/env bash
# MinIO for the S3 tests of plugins/delta/... and plugins/deltalake.
#
#   tests/minio.sh install        build the pinned MinIO server into .cache/bin/minio (skipped when present; ~4 min cold)
#   tests/minio.sh start <dir> [bucket...]   run it on 127.0.0.1 (free port) with data in <dir>, create the buckets
#                                 (default: lake); prints a comment line, then export lines for the pipelines
#                                 (S3_ENDPOINT=http://127.0.0.1:<port>, S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY) and
#                                 their AWS_* equivalents:  eval "$(bash tests/minio.sh start .cache/minio-data)"
#   tests/minio.sh stop  <dir>    stop the server started with that <dir>
#
# Go tests do not need start/stop: package tests/miniotest starts its own server per test.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

MINIO_VERSION=v0.0.0-20260212201848-7aac2a2c5b7c
bin="$root/.cache/bin/minio"

free_port() {
  python3 - <<'EOF' 2>/dev/null || echo $((20000 + RANDOM % 20000))
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()
EOF
}

case "${1:-}" in
install)
  if [ -x "$bin" ]; then
    echo "minio already built: $bin"
    exit 0
  fi
  mkdir -p "$root/.cache/bin"
  echo "building github.com/minio/minio@$MINIO_VERSION into .cache/bin (about 4 minutes cold)"
  start=$(date +%s)
  GOBIN="$root/.cache/bin" go install "github.com/minio/minio@$MINIO_VERSION"
  echo "built $bin in $(($(date +%s) - start)) s"
  ;;
start)
  dir=${2:?usage: tests/minio.sh start <dir>}
  [ -x "$bin" ] || { echo "no $bin: run tests/minio.sh install first" >&2; exit 1; }
  mkdir -p "$dir/data"
  port=$(free_port)
  cport=$(free_port)
  user=${MINIO_ROOT_USER:-minioadmin}
  pass=${MINIO_ROOT_PASSWORD:-minioadmin}
  MINIO_ROOT_USER=$user MINIO_ROOT_PASSWORD=$pass MINIO_BROWSER=off \
    nohup "$bin" server "$dir/data" --address "127.0.0.1:$port" --console-address "127.0.0.1:$cport" \
    >"$dir/minio.log" 2>&1 &
  echo $! >"$dir/minio.pid"
  for _ in $(seq 1 200); do
    if curl -fsS -o /dev/null "http://127.0.0.1:$port/minio/health/ready" 2>/dev/null; then
      shift 2
      for bucket in "${@:-lake}"; do
        # A signed PUT creates the bucket (curl signs with --aws-sigv4); an existing one answers 409.
        code=$(curl -sS -o /dev/null -w '%{http_code}' -X PUT --aws-sigv4 "aws:amz:us-east-1:s3" \
          --user "$user:$pass" "http://127.0.0.1:$port/$bucket")
        case $code in 200|409) ;; *) echo "creating bucket $bucket: HTTP $code" >&2 ;; esac
      done
      # A full URL: pasted without http:// the S3 clients speak HTTPS to
      # MinIO's plain HTTP and retry for ever.
      url="http://127.0.0.1:$port"
      echo "# MinIO on $url, data in $dir, buckets: ${*:-lake}, pid $(cat "$dir/minio.pid") (stop: tests/minio.sh stop $dir)"
      printf 'export S3_ENDPOINT=%q\n' "$url"
      printf 'export S3_ACCESS_KEY_ID=%q\n' "$user"
      printf 'export S3_SECRET_ACCESS_KEY=%q\n' "$pass"
      printf 'export AWS_ENDPOINT_URL=%q\n' "$url"
      printf 'export AWS_ACCESS_KEY_ID=%q\n' "$user"
      printf 'export AWS_SECRET_ACCESS_KEY=%q\n' "$pass"
      exit 0
    fi
    sleep 0.1
  done
  echo "minio did not become ready in 20 s; log: $dir/minio.log" >&2
  kill "$(cat "$dir/minio.pid")" 2>/dev/null || true
  exit 1
  ;;
stop)
  dir=${2:?usage: tests/minio.sh stop <dir>}
  if [ -f "$dir/minio.pid" ]; then
    pid=$(cat "$dir/minio.pid")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$dir/minio.pid"
  fi
  ;;
*)
  echo "usage: tests/minio.sh install | start <dir> | stop <dir>" >&2
  exit 2
  ;;
esac
