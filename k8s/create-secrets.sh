#!/usr/bin/env bash
# Creates the Secrets listed in k8s/secrets.example.yaml with random values, in namespace
# ${NAMESPACE:-mysimbdp}. A Secret that already exists is left alone (rotating one is a
# deliberate act: delete it, run this again, restart what uses it).
set -euo pipefail
ns=${NAMESPACE:-mysimbdp}
kubectl get namespace "$ns" >/dev/null 2>&1 || kubectl create namespace "$ns"

hex() { openssl rand -hex "$1"; }
create() { # name, then --from-literal / --from-file arguments
  local name=$1; shift
  if kubectl -n "$ns" get secret "$name" >/dev/null 2>&1; then
    echo "secret $name exists; left alone"
  else
    kubectl -n "$ns" create secret generic "$name" "$@"
  fi
}

create mysimbdp-admin --from-literal=token="$(hex 32)"
create mongo-credentials \
  --from-literal=root-username=root --from-literal=root-password="$(hex 24)" \
  --from-literal=app-username=mysimbdp --from-literal=app-password="$(hex 24)"
keyfile=$(mktemp); trap 'rm -f "$keyfile"' EXIT
openssl rand -base64 756 > "$keyfile"
create mongo-keyfile --from-file=keyfile="$keyfile"
create rabbitmq-credentials --from-literal=username=mysimbdp --from-literal=password="$(hex 24)"
echo "admin token: kubectl -n $ns get secret mysimbdp-admin -o jsonpath='{.data.token}' | base64 -d"
