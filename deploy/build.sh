#!/usr/bin/env bash
# Build (and optionally push) the gdeltflow image where a Docker engine exists:
# a release job or a build machine. The image must print the version it was
# given, or the build fails.
#
#   deploy/build.sh [-p]          (-p: push after the check)
#   GDELTFLOW_IMAGE    repository (default gdeltflow/gdeltflow)
#   GDELTFLOW_VERSION  tag and the binary's version (default: git describe)
#
# Steps: 1. an engine answers (docker version), 2. docker build with
# deploy/Dockerfile and the repository as the context, 3. docker run IMAGE
# --version prints the version, 4. with -p, docker push (refused for a
# version git describe marks -dirty: a pushed tag must name a commit).
# go test ./deploy/ (TestBuildScript) runs these steps against a stub docker.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
push=false
case ${1:-} in
  -p) push=true ;;
  "") ;;
  *) echo "usage: deploy/build.sh [-p]" >&2; exit 2 ;;
esac
image=${GDELTFLOW_IMAGE:-gdeltflow/gdeltflow}
version=${GDELTFLOW_VERSION:-$(git -C "$root" describe --tags --always --dirty)}

if $push && [[ $version == *-dirty ]]; then
  echo "build.sh: version $version has uncommitted changes; commit them (or set GDELTFLOW_VERSION) before pushing" >&2
  exit 1
fi
if ! docker version --format '{{.Server.Version}}' >/dev/null 2>&1; then
  echo "build.sh: no Docker engine answers here (docker version); run it where one does (a release job, a build machine)" >&2
  exit 1
fi
docker build -f "$root/deploy/Dockerfile" --build-arg VERSION="$version" -t "$image:$version" "$root"
printed=$(docker run --rm "$image:$version" --version)
grep -qF "$version" <<<"$printed" || { echo "build.sh: the image prints '$printed', not $version" >&2; exit 1; }
echo "built $image:$version ($printed)"
if $push; then
  docker push "$image:$version"
fi
