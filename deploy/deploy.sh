#!/usr/bin/env bash
# Roll out gdeltflow on a Docker Swarm: check the stack, create the secrets it
# needs that do not exist yet, name the configs by content hash, deploy.
#
#   deploy/deploy.sh [-n] [-s SECRETS_FILE] [STACK_NAME]     (default name: gdeltflow)
#
# Run on a manager node, from a checkout of the release to deploy.
#   GDELTFLOW_VERSION  the image tag to run (required; e.g. the release's git tag)
#   GDELTFLOW_IMAGE    the image's repository (default gdeltflow/gdeltflow), pushed to a
#                      registry every node can pull from
#   BRONZE_REPLICAS (2), SILVER_SHARDS (2, at most 6)
#   SECRET_<NAME>      a secret's Swarm name, to rotate it (deploy/README.md)
# -s FILE  takes missing secrets from FILE, lines `name=value` with the names below
#          (s3_access_key_id, s3_secret_access_key, postgres_password,
#          grafana_admin_password, mart_dsn); without it, a missing secret is asked
#          for on the terminal (not echoed). Existing secrets are never changed.
#          mart_dsn is the gold stage's PostgreSQL DSN, with postgres_password in it:
#          postgres://gdeltflow:<password, URL-encoded>@postgres:5432/mart?sslmode=disable
# -n       check only: print the resolved stack, create nothing, deploy nothing.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
stack_file="$here/stack.yml"
secrets_file=""
dry_run=false

usage() { sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; }

while getopts "ns:h" opt; do
  case $opt in
    n) dry_run=true ;;
    s) secrets_file=$OPTARG ;;
    h) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
stack_name=${1:-gdeltflow}

die() { echo "deploy.sh: $*" >&2; exit 1; }

[[ -n ${GDELTFLOW_VERSION:-} ]] || die "set GDELTFLOW_VERSION to the image tag to run"
[[ -z $secrets_file || -r $secrets_file ]] || die "cannot read the secrets file $secrets_file"

# The configs' names: the first 12 hex digits of each file's sha256.
hash_of() { sha256sum "$1" | cut -c1-12; }
CFG_INGEST=$(hash_of "$root/pipelines/ingest.yaml")
CFG_BRONZE=$(hash_of "$root/pipelines/bronze.yaml")
CFG_SILVER=$(hash_of "$root/pipelines/silver.yaml")
CFG_GOLD=$(hash_of "$root/pipelines/gold.yaml")
CFG_TOPICS=$(hash_of "$root/resources/topics.yaml")
CFG_PROMETHEUS=$(hash_of "$here/prometheus/prometheus.yml")
CFG_GRAFANA_DATASOURCES=$(hash_of "$here/grafana/provisioning/datasources/prometheus.yml")
CFG_GRAFANA_MART_DATASOURCE=$(hash_of "$here/grafana/provisioning/datasources/mart.yml")
CFG_PROMETHEUS_RULES=$(hash_of "$here/prometheus/rules/gdeltflow.yml")
CFG_PROMETHEUS_SETTINGS=$(hash_of "$here/prometheus/rules/settings.yml")
CFG_ALERTMANAGER=$(hash_of "$here/alertmanager/alertmanager.yml")
CFG_GRAFANA_DASHBOARDS=$(hash_of "$here/grafana/provisioning/dashboards/gdeltflow.yml")
CFG_GRAFANA_DATA_TRUST=$(hash_of "$here/grafana/dashboards/data-trust.json")
CFG_GRAFANA_THROUGHPUT=$(hash_of "$here/grafana/dashboards/throughput.json")
CFG_GRAFANA_GLOBAL_EVENTS=$(hash_of "$here/grafana/dashboards/global-events.json")
export CFG_INGEST CFG_BRONZE CFG_SILVER CFG_GOLD CFG_TOPICS CFG_PROMETHEUS CFG_GRAFANA_DATASOURCES \
  CFG_GRAFANA_MART_DATASOURCE CFG_PROMETHEUS_RULES CFG_PROMETHEUS_SETTINGS CFG_ALERTMANAGER CFG_GRAFANA_DASHBOARDS CFG_GRAFANA_DATA_TRUST CFG_GRAFANA_THROUGHPUT \
  CFG_GRAFANA_GLOBAL_EVENTS

# 1. The stack must resolve (schema, variables) before anything is changed.
resolved=$(docker stack config -c "$stack_file") || die "deploy/stack.yml does not resolve (see above)"
if $dry_run; then
  printf '%s\n' "$resolved"
  exit 0
fi

# 2. Secrets: each the stack names, created when missing.
secret_value() { # name -> value on stdout, from the file or the terminal
  local name=$1 line value=""
  if [[ -n $secrets_file ]]; then
    while IFS= read -r line || [[ -n $line ]]; do
      if [[ $line == "$name="* ]]; then value=${line#*=}; break; fi
    done <"$secrets_file"
    [[ -n $value ]] || die "secret $name is missing and $secrets_file has no line $name=..."
  else
    [[ -t 0 ]] || die "secret $name is missing: pass -s FILE or run on a terminal"
    read -r -s -p "value of secret $name: " value </dev/tty
    echo >&2
    [[ -n $value ]] || die "secret $name: empty value"
  fi
  printf '%s' "$value"
}

ensure_secret() { # logical name, Swarm name
  local name=$1 swarm_name=$2
  if docker secret inspect "$swarm_name" >/dev/null 2>&1; then
    echo "secret $swarm_name exists"
    return
  fi
  secret_value "$name" | docker secret create --label gdeltflow.secret="$name" "$swarm_name" - >/dev/null
  echo "secret $swarm_name created"
}

ensure_secret s3_access_key_id "${SECRET_S3_ACCESS_KEY_ID:-gdeltflow_s3_access_key_id_v1}"
ensure_secret s3_secret_access_key "${SECRET_S3_SECRET_ACCESS_KEY:-gdeltflow_s3_secret_access_key_v1}"
ensure_secret postgres_password "${SECRET_POSTGRES_PASSWORD:-gdeltflow_postgres_password_v1}"
ensure_secret grafana_admin_password "${SECRET_GRAFANA_ADMIN_PASSWORD:-gdeltflow_grafana_admin_password_v1}"
ensure_secret mart_dsn "${SECRET_MART_DSN:-gdeltflow_mart_dsn_v1}"

# 3. Deploy. --prune removes services no longer in the file; --with-registry-auth lets
# every node pull a private image.
docker stack deploy --prune --with-registry-auth --detach=true -c "$stack_file" "$stack_name"
echo "deployed $stack_name at $GDELTFLOW_VERSION; watch: docker stack ps $stack_name"
