#!/usr/bin/env bash
# Several mysimbdp nodes on one machine, each its own process of node/target/mysimbdp-node.jar
# configured by cluster-config's local<i>.conf (ports: API 808<i-1>, management 855<7+i>,
# remoting 255<i>), forming one cluster through cluster bootstrap with config discovery.
#
#   scripts/cluster.sh start [N]   start nodes 1..N (default 3), wait until each is ready (/ready on
#                                  its management port), check they are one cluster, print the URLs
#   scripts/cluster.sh add         start one more node (the next free of 1..4) and wait until ready
#   scripts/cluster.sh stop [i]    SIGTERM to node i (all: highest first), by PID; wait until it exits
#   scripts/cluster.sh restart i   stop node i, start it again, wait until ready
#   scripts/cluster.sh kill i      SIGKILL to node i, by PID (a crash)
#   scripts/cluster.sh status      each node: PID, alive, ready; the members node 1..4 sees
#   scripts/cluster.sh autoscale   the local autoscaler: every AUTOSCALE_INTERVAL seconds (5) reads the
#                                  nodes the balancer wants (GET /platform/nodes-wanted on a running
#                                  node's management port); starts one more node when it is above the
#                                  nodes running, stops one (SIGTERM by PID, drained: its tenants hand
#                                  off first; the highest-numbered, never node 1) when below. Runs until
#                                  SIGTERM/Ctrl-C (its PID in $RUN_DIR/autoscale.pid) or AUTOSCALE_FOR s.
#
# Store and broker: with MONGODB_URI / AMQP_URI set, every node uses those; unset, node 1 starts the
# embedded MongoDB-wire store (127.0.0.1:27117) and AMQP broker (127.0.0.1:5682) and the others use
# them (so stopping node 1 takes them away from the others). The admin token is shared: yours
# (MYSIMBDP_ADMIN_TOKEN or MYSIMBDP_ADMIN_TOKEN_FILE), or one generated into $RUN_DIR/admin-token.
#
# Environment: CLUSTER_RUN_DIR (default data/cluster: per node its DATA_DIR node<i>/, node<i>.log,
# node<i>.pid), MIN_NODES / MAX_NODES (1 / 4: the bounds of the nodes the balancer asks for),
# NODE_JAVA_OPTS (default -Xmx512m), READY_WAIT / STOP_WAIT seconds (120 / 120),
# JAR (default node/target/mysimbdp-node.jar; built with Maven, offline, when missing).
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$(dirname "$0")/.."
ROOT="$(pwd)"
RUN_DIR="$(realpath -m "${CLUSTER_RUN_DIR:-data/cluster}")"
JAR="${JAR:-$ROOT/node/target/mysimbdp-node.jar}"
NODE_JAVA_OPTS="${NODE_JAVA_OPTS:--Xmx512m}"
READY_WAIT="${READY_WAIT:-120}"
STOP_WAIT="${STOP_WAIT:-120}"
LOCAL_NODES=4
# The balancer's bounds of the nodes it asks for (mysimbdp.balancer.min-nodes/max-nodes): here at
# most the nodes that have a local<i>.conf.
export MIN_NODES="${MIN_NODES:-1}"
export MAX_NODES="${MAX_NODES:-$LOCAL_NODES}"
(( MAX_NODES <= LOCAL_NODES )) || { echo "cluster.sh: MAX_NODES $MAX_NODES: only $LOCAL_NODES local nodes" >&2; exit 1; }
EMBEDDED_MONGODB_URI="mongodb://127.0.0.1:27117"
EMBEDDED_AMQP_PORT=5682

http_port() { echo $((8079 + $1)); }
management_port() { echo $((8557 + $1)); }
akka_port() { echo $((2550 + $1)); }
pid_file() { echo "$RUN_DIR/node$1.pid"; }
log_file() { echo "$RUN_DIR/node$1.log"; }

die() { echo "cluster.sh: $*" >&2; exit 1; }

# The PID of node i if that process still runs this node (guards against a recycled PID).
live_pid() {
  local f pid
  f="$(pid_file "$1")"
  [[ -f "$f" ]] || return 1
  pid="$(cat "$f")"
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 1
  # Not "tr | grep -q": under pipefail, grep leaving at the first match can fail the pipeline (SIGPIPE).
  [[ "$(tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null)" == *"-Dconfig.resource=local$1.conf"* ]] || return 1
  echo "$pid"
}

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

http_code() { curl -s -o /dev/null -m 5 -w '%{http_code}' "$1" 2>/dev/null || true; }

admin_token_env() {
  if [[ -n "${MYSIMBDP_ADMIN_TOKEN:-}" ]]; then
    TOKEN_SOURCE="MYSIMBDP_ADMIN_TOKEN (your environment)"
  elif [[ -n "${MYSIMBDP_ADMIN_TOKEN_FILE:-}" ]]; then
    TOKEN_SOURCE="$MYSIMBDP_ADMIN_TOKEN_FILE (MYSIMBDP_ADMIN_TOKEN_FILE)"
  else
    export MYSIMBDP_ADMIN_TOKEN_FILE="$RUN_DIR/admin-token"
    if [[ ! -s "$MYSIMBDP_ADMIN_TOKEN_FILE" ]]; then
      (umask 077; printf 'mat_%s\n' "$(head -c 32 /dev/urandom | base64 | tr -d '/+=\n' | head -c 40)" > "$MYSIMBDP_ADMIN_TOKEN_FILE")
    fi
    TOKEN_SOURCE="$MYSIMBDP_ADMIN_TOKEN_FILE (shared by every node: ADMIN=\$(cat $MYSIMBDP_ADMIN_TOKEN_FILE))"
  fi
}

ensure_jar() {
  if [[ ! -f "$JAR" ]]; then
    echo "building $JAR (./mvnw package, no tests)" >&2
    ./mvnw -q -B -ntp -DskipTests package -pl node -am >&2
  fi
}

# Starts node i in the background (does not wait); fails if it already runs or a port is taken.
# With a second argument (akka://... comma list) it joins those seed nodes instead of bootstrapping.
start_node() {
  local i="$1" pid port
  (( i >= 1 && i <= LOCAL_NODES )) || die "node $i: only nodes 1..$LOCAL_NODES have a local<i>.conf"
  if pid="$(live_pid "$i")"; then die "node $i already runs (PID $pid)"; fi
  for port in "$(http_port "$i")" "$(management_port "$i")" "$(akka_port "$i")"; do
    port_free "$port" || die "node $i: port $port is in use"
  done
  local env=(DATA_DIR="$RUN_DIR/node$i")
  # A restarted node joins the running ones as seed nodes: node 1 through bootstrap could form a
  # second cluster beside them if their answers to its probes came late.
  if [[ -n "${2:-}" ]]; then
    env+=(CLUSTER_JOIN=seed-nodes SEED_NODES="$2")
  fi
  if [[ -z "${MONGODB_URI:-}" && "$i" != 1 ]]; then
    env+=(MONGODB_URI="$EMBEDDED_MONGODB_URI")
  fi
  if [[ -z "${AMQP_URI:-}" && "$i" != 1 ]]; then
    local password_file="$RUN_DIR/node1/amqp/amqp-password"
    [[ -s "$password_file" ]] || die "node $i needs node 1's embedded broker, but $password_file is missing (start node 1 first, or set AMQP_URI)"
    env+=(AMQP_URI="amqp://mysimbdp:$(cat "$password_file")@127.0.0.1:$EMBEDDED_AMQP_PORT/default")
  fi
  mkdir -p "$RUN_DIR/node$i"
  # Ports come from local<i>.conf; a HTTP_PORT etc. in the caller's environment must not override them.
  # shellcheck disable=SC2086
  env -u HTTP_PORT -u MANAGEMENT_PORT -u AKKA_PORT -u CLUSTER_JOIN -u SEED_NODES "${env[@]}" \
    nohup java $NODE_JAVA_OPTS -Dconfig.resource="local$i.conf" -jar "$JAR" >>"$(log_file "$i")" 2>&1 </dev/null &
  echo $! > "$(pid_file "$i")"
}

await_ready() {
  local i="$1" url deadline pid
  url="http://127.0.0.1:$(management_port "$i")/ready"
  deadline=$((SECONDS + READY_WAIT))
  while (( SECONDS < deadline )); do
    if ! pid="$(live_pid "$i")"; then
      echo "node $i exited before it was ready; the end of $(log_file "$i"):" >&2
      tail -n 30 "$(log_file "$i")" >&2
      exit 1
    fi
    [[ "$(http_code "$url")" == 200 ]] && return 0
    sleep 1
  done
  die "node $i (PID $pid) not ready within ${READY_WAIT}s: see $(log_file "$i")"
}

# "akka://mysimbdp@127.0.0.1:2551 Up" per member, as node i sees them.
members() {
  curl -s -m 5 "http://127.0.0.1:$(management_port "$1")/cluster/members" 2>/dev/null \
    | grep -o '{[^{}]*"node":"[^"]*"[^{}]*}' \
    | sed -E 's/.*"node":"([^"]*)".*"status":"([^"]*)".*/\1 \2/; s/.*"status":"([^"]*)".*"node":"([^"]*)".*/\2 \1/' || true
}

running_nodes() {
  local i
  for ((i = 1; i <= LOCAL_NODES; i++)); do
    if live_pid "$i" >/dev/null; then echo "$i"; fi
  done
}

# Waits until every running node sees exactly the running nodes, all Up.
await_one_cluster() {
  local expected deadline i seen
  expected="$(for i in $(running_nodes); do echo "akka://mysimbdp@127.0.0.1:$(akka_port "$i") Up"; done | sort)"
  deadline=$((SECONDS + READY_WAIT))
  while (( SECONDS < deadline )); do
    local all=1
    for i in $(running_nodes); do
      seen="$(members "$i" | sort)"
      [[ "$seen" == "$expected" ]] || { all=0; break; }
    done
    (( all )) && return 0
    sleep 1
  done
  die "the nodes do not form one cluster within ${READY_WAIT}s: node $i sees: $(members "$i" | tr '\n' ';')"
}

print_node() {
  local i="$1" pid
  pid="$(live_pid "$i" || echo '-')"
  printf '  node %d  PID %-7s API http://127.0.0.1:%d/v1   management http://127.0.0.1:%d (/ready /alive /cluster/members)   log %s\n' \
    "$i" "$pid" "$(http_port "$i")" "$(management_port "$i")" "$(log_file "$i")"
}

print_summary() {
  local i
  echo "cluster of $(running_nodes | wc -l) node(s), run dir $RUN_DIR:"
  for i in $(running_nodes); do print_node "$i"; done
  if [[ -n "${MONGODB_URI:-}" ]]; then echo "  store: MONGODB_URI (yours)"; else echo "  store: node 1's embedded MongoDB-wire server, $EMBEDDED_MONGODB_URI"; fi
  if [[ -n "${AMQP_URI:-}" ]]; then echo "  broker: AMQP_URI (yours)"; else echo "  broker: node 1's embedded AMQP broker, 127.0.0.1:$EMBEDDED_AMQP_PORT (password in $RUN_DIR/node1/amqp/amqp-password)"; fi
  echo "  admin token: $TOKEN_SOURCE"
  echo "  members (node 1..4 agree):"
  members "$(running_nodes | head -n 1)" | sed 's/^/    /'
}

cmd_start() {
  local n="${1:-3}" i
  (( n >= 1 && n <= LOCAL_NODES )) || die "start N: N is 1..$LOCAL_NODES"
  [[ -z "$(running_nodes)" ]] || die "nodes already run ($(running_nodes | tr '\n' ' ')); stop them first, or add one"
  ensure_jar
  mkdir -p "$RUN_DIR"
  admin_token_env
  # Node 1 first: it owns the embedded store and broker, and (lowest contact point) forms the cluster.
  start_node 1
  await_ready 1
  echo "node 1 ready" >&2
  for ((i = 2; i <= n; i++)); do start_node "$i"; done
  for ((i = 2; i <= n; i++)); do await_ready "$i"; echo "node $i ready" >&2; done
  await_one_cluster
  print_summary
}

cmd_add() {
  local i
  for ((i = 1; i <= LOCAL_NODES; i++)); do
    if ! live_pid "$i" >/dev/null; then break; fi
  done
  (( i <= LOCAL_NODES )) || die "all $LOCAL_NODES local nodes run"
  [[ -n "$(running_nodes)" ]] || die "no cluster runs: start one first"
  ensure_jar
  admin_token_env
  start_node "$i"
  await_ready "$i"
  await_one_cluster
  echo "node $i joined:"
  print_summary
}

stop_node() {
  local i="$1" signal="$2" pid start
  if ! pid="$(live_pid "$i")"; then
    echo "node $i is not running"
    rm -f "$(pid_file "$i")"
    return 0
  fi
  start=$(date +%s.%N)
  kill "-$signal" "$pid"
  local deadline=$((SECONDS + STOP_WAIT))
  while kill -0 "$pid" 2>/dev/null; do
    if (( SECONDS >= deadline )); then
      echo "node $i (PID $pid) still runs ${STOP_WAIT}s after SIG$signal: sending SIGKILL" >&2
      kill -KILL "$pid" 2>/dev/null || true
    fi
    sleep 0.2
  done
  rm -f "$(pid_file "$i")"
  printf 'node %d (PID %d) exited %s s after SIG%s\n' "$i" "$pid" "$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')" "$signal"
}

cmd_stop() {
  local i
  if [[ $# -gt 0 ]]; then
    stop_node "$1" TERM
  else
    # Highest first: node 1, which may hold the embedded store and broker, leaves last.
    for ((i = LOCAL_NODES; i >= 1; i--)); do
      if [[ -f "$(pid_file "$i")" ]]; then stop_node "$i" TERM; fi
    done
  fi
}

cmd_restart() {
  [[ $# -eq 1 ]] || die "restart i"
  ensure_jar
  admin_token_env
  stop_node "$1" TERM
  local seeds i
  seeds="$(for i in $(running_nodes); do echo "akka://mysimbdp@127.0.0.1:$(akka_port "$i")"; done | paste -sd, -)"
  start_node "$1" "$seeds"
  await_ready "$1"
  await_one_cluster
  echo "node $1 restarted and ready"
  print_node "$1"
}

cmd_status() {
  local i pid ready any=""
  for ((i = 1; i <= LOCAL_NODES; i++)); do
    if pid="$(live_pid "$i")"; then
      ready="$(http_code "http://127.0.0.1:$(management_port "$i")/ready")"
      printf 'node %d  PID %-7s alive  /ready %s  API http://127.0.0.1:%d/v1  management http://127.0.0.1:%d\n' \
        "$i" "$pid" "$ready" "$(http_port "$i")" "$(management_port "$i")"
      any="${any:-$i}"
    elif [[ -f "$(pid_file "$i")" ]]; then
      echo "node $i  not running (stale PID file $(pid_file "$i"))"
    fi
  done
  if [[ -z "$any" ]]; then
    echo "no node runs (run dir $RUN_DIR)"
    return 0
  fi
  echo "members as node $any sees them:"
  members "$any" | sed 's/^/  /'
}

# "wanted<TAB>reason" from the first running node that answers /platform/nodes-wanted.
nodes_wanted() {
  local i body
  for i in $(running_nodes); do
    body="$(curl -s -m 5 -f "http://127.0.0.1:$(management_port "$i")/platform/nodes-wanted" 2>/dev/null)" || continue
    [[ "$body" =~ \"nodesWanted\":([0-9]+) ]] || continue
    printf '%s\t%s\n' "${BASH_REMATCH[1]}" "$(sed -E 's/.*"reason":"(([^"\\]|\\.)*)".*/\1/' <<<"$body")"
    return 0
  done
  return 1
}

cmd_autoscale() {
  local interval="${AUTOSCALE_INTERVAL:-5}" until=$((SECONDS + ${AUTOSCALE_FOR:-315360000})) line wanted reason n i
  [[ -n "$(running_nodes)" ]] || die "no cluster runs: start one first"
  ensure_jar
  admin_token_env
  echo $$ > "$RUN_DIR/autoscale.pid"
  trap 'rm -f "$RUN_DIR/autoscale.pid"; echo "$(date -u +%T) autoscale: stopped"; exit 0' TERM INT
  echo "$(date -u +%T) autoscale: watching the nodes wanted every ${interval}s (nodes 1..$MAX_NODES)"
  while (( SECONDS < until )); do
    n="$(running_nodes | wc -l)"
    if line="$(nodes_wanted)"; then
      wanted="${line%%$'\t'*}"
      reason="${line#*$'\t'}"
      if (( wanted > n && n < MAX_NODES )); then
        for ((i = 1; i <= LOCAL_NODES; i++)); do live_pid "$i" >/dev/null || break; done
        echo "$(date -u +%T) autoscale: $wanted node(s) wanted, $n running: starting node $i ($reason)"
        # Joins the running nodes as seed nodes (as a restart does).
        start_node "$i" "$(for j in $(running_nodes); do echo "akka://mysimbdp@127.0.0.1:$(akka_port "$j")"; done | paste -sd, -)"
        await_ready "$i"
        await_one_cluster
        echo "$(date -u +%T) autoscale: node $i joined (PID $(live_pid "$i")); $(running_nodes | wc -l) node(s) running"
      elif (( wanted < n && n > 1 )); then
        i="$(running_nodes | tail -n 1)"
        echo "$(date -u +%T) autoscale: $wanted node(s) wanted, $n running: stopping node $i ($reason)"
        stop_node "$i" TERM | sed "s/^/$(date -u +%T) autoscale: /"
      fi
    fi
    sleep "$interval"
  done
  rm -f "$RUN_DIR/autoscale.pid"
}

case "${1:-}" in
  start) shift; cmd_start "$@" ;;
  add) cmd_add ;;
  stop) shift; cmd_stop "$@" ;;
  restart) shift; cmd_restart "$@" ;;
  kill) [[ $# -eq 2 ]] || die "kill i"; stop_node "$2" KILL ;;
  status) cmd_status ;;
  autoscale) cmd_autoscale ;;
  *) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 2 ;;
esac
