#!/usr/bin/env bash
# Build (and optionally push) the gdeltflow image where a Docker engine exists:
# a release job or a build machine. The image must print the version it was
# given, or the build fails.
#
#   deploy/build.sh [-p]          (-p: push after the check)
#   GDELTFLOW_IMAGE    repository (default gdeltflow/gdeltflow)
#   GDELTFLOW_VERSION  tag and the binary's version (default: git describe)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
push=false
[[ ${1:-} == -p ]] && push=true
image=${GDELTFLOW_IMAGE:-gdeltflow/gdeltflow}
version=${GDELTFLOW_VERSION:-$(git -C "$root" describe --tags --always --dirty)}

docker build -f "$root/deploy/Dockerfile" --build-arg VERSION="$version" -t "$image:$version" "$root"
printed=$(docker run --rm "$image:$version" --version)
grep -qF "$version" <<<"$printed" || { echo "build.sh: the image prints '$printed', not $version" >&2; exit 1; }
echo "built $image:$version ($printed)"
if $push; then
  docker push "$image:$version"
fi
