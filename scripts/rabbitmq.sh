#!/usr/bin/env bash
# A RabbitMQ (Debian's rabbitmq-server) on loopback for tests and for people who want a real broker.
#
#   scripts/rabbitmq.sh install     apt-get install rabbitmq-server (needs root)
#   scripts/rabbitmq.sh start       start in the background (idempotent), print the env lines
#   scripts/rabbitmq.sh stop        stop it (rabbitmqctl stop, then the PID)
#   scripts/rabbitmq.sh restart     stop, then start (the data survives)
#   scripts/rabbitmq.sh uri         print the env lines of a running broker
#   scripts/rabbitmq.sh status      exit 0 when it runs
#
# Prints (eval-able):
#   AMQP_URI=amqp://mysimbdp-admin:<pw>@127.0.0.1:<port>/%2F
#   AMQP_MANAGEMENT_URI=http://mysimbdp-admin:<pw>@127.0.0.1:<management port>
#
# Settings (env): RABBITMQ_PORT (5673), RABBITMQ_DIST_PORT (25673), RABBITMQ_MANAGEMENT_PORT (15673),
# RABBITMQ_NODE (mysimbdp@localhost), RABBITMQ_BASE (/tmp/mysimbdp-rabbitmq: data, logs, pid,
# password), RABBITMQ_MAX_MESSAGE_BYTES (16777216: larger publishes are refused by the broker).
# The management plugin is enabled: the node creates per-tenant broker users through its HTTP API.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

PORT="${RABBITMQ_PORT:-5673}"
DIST_PORT="${RABBITMQ_DIST_PORT:-25673}"
MGMT_PORT="${RABBITMQ_MANAGEMENT_PORT:-15673}"
NODE="${RABBITMQ_NODE:-mysimbdp@localhost}"
BASE="${RABBITMQ_BASE:-/tmp/mysimbdp-rabbitmq}"
MAX_MESSAGE_BYTES="${RABBITMQ_MAX_MESSAGE_BYTES:-16777216}"
ADMIN=mysimbdp-admin
SBIN=/usr/lib/rabbitmq/bin

env_for_rabbit() {
  export HOME="$BASE/home"
  export RABBITMQ_NODENAME="$NODE"
  export RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
  export RABBITMQ_NODE_PORT="$PORT"
  export RABBITMQ_DIST_PORT="$DIST_PORT"
  export RABBITMQ_MNESIA_BASE="$BASE/mnesia"
  export RABBITMQ_LOG_BASE="$BASE/log"
  export RABBITMQ_PID_FILE="$BASE/rabbitmq.pid"
  export RABBITMQ_ENABLED_PLUGINS_FILE="$BASE/enabled_plugins"
  export RABBITMQ_CONFIG_FILE="$BASE/rabbitmq"   # rabbitmq.conf
  export ERL_EPMD_ADDRESS=127.0.0.1
}

ctl() { "$SBIN/rabbitmqctl" -n "$NODE" "$@"; }

# Whether the admin user exists. Not "list_users | grep -q": under pipefail, grep leaving at the
# first match makes a long listing (hundreds of tenant users) fail the pipeline with SIGPIPE.
has_admin() {
  local users
  users="$(ctl -q list_users 2>/dev/null)" || return 1
  grep -q "^$ADMIN" <<<"$users"
}

running() {
  [ -f "$BASE/rabbitmq.pid" ] && kill -0 "$(cat "$BASE/rabbitmq.pid")" 2>/dev/null && ctl -q status >/dev/null 2>&1
}

print_uri() {
  local pw
  pw="$(cat "$BASE/admin-password")"
  echo "AMQP_URI=amqp://$ADMIN:$pw@127.0.0.1:$PORT/%2F"
  echo "AMQP_MANAGEMENT_URI=http://$ADMIN:$pw@127.0.0.1:$MGMT_PORT"
}

install() {
  if [ -x "$SBIN/rabbitmq-server" ]; then
    echo "rabbitmq-server is installed" >&2
    return 0
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq rabbitmq-server >&2 \
    || { apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq rabbitmq-server >&2; }
}

start() {
  [ -x "$SBIN/rabbitmq-server" ] || { echo "rabbitmq-server is not installed: run $0 install" >&2; exit 2; }
  env_for_rabbit
  mkdir -p "$HOME" "$RABBITMQ_MNESIA_BASE" "$RABBITMQ_LOG_BASE"
  chmod 700 "$BASE"
  if running; then
    print_uri
    return 0
  fi
  echo "[rabbitmq_management]." > "$RABBITMQ_ENABLED_PLUGINS_FILE"
  cat > "$BASE/rabbitmq.conf" <<CONF
listeners.tcp.default = 127.0.0.1:$PORT
management.tcp.ip = 127.0.0.1
management.tcp.port = $MGMT_PORT
max_message_size = $MAX_MESSAGE_BYTES
loopback_users = none
log.console = false
log.file.level = warning
CONF
  [ -f "$BASE/admin-password" ] || { head -c 18 /dev/urandom | base64 | tr '+/' '-_' > "$BASE/admin-password"; chmod 600 "$BASE/admin-password"; }
  setsid nohup "$SBIN/rabbitmq-server" > "$RABBITMQ_LOG_BASE/stdout.log" 2>&1 < /dev/null &
  local deadline=$((SECONDS + 90))
  until ctl -q await_startup >/dev/null 2>&1; do
    if [ $SECONDS -ge $deadline ]; then
      echo "RabbitMQ did not start within 90 s; see $RABBITMQ_LOG_BASE" >&2
      tail -20 "$RABBITMQ_LOG_BASE/stdout.log" >&2 || true
      exit 1
    fi
    sleep 1
  done
  local pw
  pw="$(cat "$BASE/admin-password")"
  # list_users can fail right after a restart while the user is there (seen: "already exists"):
  # add it when missing, and set its tags and permissions either way (both are idempotent).
  if ! has_admin; then
    ctl -q add_user "$ADMIN" "$pw" >/dev/null 2>&1 || true  # the loop below checks and retries
  fi
  # Right after boot rabbitmqctl can still fail (exit 70, seen in CI): retry for a while.
  local attempt
  for attempt in $(seq 1 20); do
    if { has_admin || ctl -q add_user "$ADMIN" "$pw" >/dev/null 2>&1; } \
      && ctl -q set_user_tags "$ADMIN" administrator >/dev/null 2>&1 \
      && ctl -q set_permissions -p / "$ADMIN" '.*' '.*' '.*' >/dev/null 2>&1; then
      break
    fi
    [ "$attempt" -eq 20 ] && { echo "could not set up the broker user $ADMIN" >&2; exit 1; }
    sleep 1
  done
  # The management listener comes up a moment after the broker.
  local deadline2=$((SECONDS + 30))
  until curl -fsS -u "$ADMIN:$pw" "http://127.0.0.1:$MGMT_PORT/api/overview" >/dev/null 2>&1; do
    [ $SECONDS -ge $deadline2 ] && { echo "the management API did not answer on $MGMT_PORT" >&2; exit 1; }
    sleep 1
  done
  echo "RabbitMQ $NODE on 127.0.0.1:$PORT (management $MGMT_PORT), PID $(cat "$RABBITMQ_PID_FILE" 2>/dev/null || echo ?), data in $BASE" >&2
  print_uri
}

stop() {
  env_for_rabbit
  [ -f "$RABBITMQ_PID_FILE" ] || { echo "RabbitMQ is not running" >&2; return 0; }
  local pid
  pid="$(cat "$RABBITMQ_PID_FILE")"
  ctl -q stop >/dev/null 2>&1 || true
  for _ in $(seq 1 60); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.5
  done
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
  fi
  rm -f "$RABBITMQ_PID_FILE"
  echo "RabbitMQ stopped" >&2
}

case "${1:-}" in
  install) install ;;
  start) start ;;
  stop) stop ;;
  restart) stop; start ;;
  uri) env_for_rabbit; running && print_uri || { echo "RabbitMQ is not running" >&2; exit 1; } ;;
  status) env_for_rabbit; running || exit 1 ;;
  *) sed -n '2,20p' "$0" >&2; exit 2 ;;
esac
