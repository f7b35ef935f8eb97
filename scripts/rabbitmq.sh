#!/usr/bin/env bash
# A throwaway RabbitMQ node for tests and for users, run as a plain background process (no systemd).
#
#   scripts/rabbitmq.sh install              apt-get install rabbitmq-server when it is missing
#   scripts/rabbitmq.sh start [--port N]     start a node on 127.0.0.1:N (default 5673), print AMQP_URI=...
#   scripts/rabbitmq.sh stop  [--port N]     stop that node (and only that node)
#   scripts/rabbitmq.sh uri   [--port N]     print the stored URI of that node
#
# Each node has its own state directory, ${TMPDIR:-/tmp}/mysimbdp-rabbitmq-<port> (override with
# MYSIMBDP_RABBITMQ_STATE_DIR): Erlang cookie (HOME), database, logs, pid file, config, and the URI (amqp_uri,
# 0600). The node name is mysimbdp-<port>@localhost; the Erlang distribution port is <port>+20000, the CLI's
# <port>+30000..+30010; AMQP and distribution listen on 127.0.0.1 only. No plugins.
# The user is mysimbdp with a random password, administrator, full permissions on vhost "/"; guest is never
# created. A second `start` on a running node just prints its URI again; a restart reuses the stored password.
#
# stdout carries only the result: `start` prints one line AMQP_URI=amqp://mysimbdp:<pw>@127.0.0.1:<port>/%2F
# (use: eval "$(scripts/rabbitmq.sh start)"), `uri` prints the bare URI. Everything else goes to stderr.
set -euo pipefail

RABBITMQ_BIN=/usr/lib/rabbitmq/bin
DEFAULT_PORT=5673
START_TIMEOUT_S=90
USER_NAME=mysimbdp

log() { echo "rabbitmq.sh: $*" >&2; }
die() { log "error: $*"; exit 1; }

usage() {
  sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

# --- arguments and per-node environment --------------------------------------------------------------------

PORT=$DEFAULT_PORT
parse_port() {
  while [ $# -gt 0 ]; do
    case "$1" in
      --port) [ $# -ge 2 ] || die "--port needs a value"; PORT=$2; shift 2 ;;
      --port=*) PORT=${1#--port=}; shift ;;
      *) die "unknown argument: $1" ;;
    esac
  done
  [[ "$PORT" =~ ^[0-9]+$ ]] || die "port must be a number: $PORT"
  # dist = port+20000, CLI dist = port+30000..+30010: all must stay below 65536.
  [ "$PORT" -ge 1024 ] && [ "$PORT" -le 35000 ] || die "port must be 1024..35000 (was $PORT)"
}

node_env() {
  STATE_DIR=${MYSIMBDP_RABBITMQ_STATE_DIR:-${TMPDIR:-/tmp}/mysimbdp-rabbitmq-$PORT}
  NODE=mysimbdp-$PORT@localhost
  DIST_PORT=$((PORT + 20000))
  PID_FILE=$STATE_DIR/rabbitmq.pid
  URI_FILE=$STATE_DIR/amqp_uri
  LOG_DIR=$STATE_DIR/log

  export HOME=$STATE_DIR                      # the Erlang cookie ($HOME/.erlang.cookie) lives here, root or not
  export RABBITMQ_NODENAME=$NODE
  export RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
  export RABBITMQ_NODE_PORT=$PORT
  export RABBITMQ_DIST_PORT=$DIST_PORT
  export RABBITMQ_CTL_DIST_PORT_MIN=$((DIST_PORT + 10000))
  export RABBITMQ_CTL_DIST_PORT_MAX=$((DIST_PORT + 10010))
  export RABBITMQ_MNESIA_BASE=$STATE_DIR/mnesia
  export RABBITMQ_LOG_BASE=$LOG_DIR
  export RABBITMQ_PID_FILE=$PID_FILE
  export RABBITMQ_ENABLED_PLUGINS_FILE=$STATE_DIR/enabled_plugins
  export RABBITMQ_CONFIG_FILE=$STATE_DIR/rabbitmq.conf
  export RABBITMQ_ADVANCED_CONFIG_FILE=$STATE_DIR/advanced.config
  export RABBITMQ_CONF_ENV_FILE=$STATE_DIR/rabbitmq-env.conf   # not /etc/rabbitmq/rabbitmq-env.conf
  # Erlang distribution (server and CLI) and epmd on loopback only, like AMQP.
  export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
  export RABBITMQ_CTL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
  export ERL_EPMD_ADDRESS=127.0.0.1
  export ERL_CRASH_DUMP=$STATE_DIR/erl_crash.dump            # not in the caller's working directory
}

ctl() { "$RABBITMQ_BIN/rabbitmqctl" -n "$NODE" "$@"; }

# --- helpers ------------------------------------------------------------------------------------------------

node_pid() {
  [ -s "$PID_FILE" ] || return 1
  local pid
  pid=$(tr -dc '0-9' < "$PID_FILE")
  [ -n "$pid" ] || return 1
  # Only a live Erlang VM of THIS node counts (a stale pid file may name a recycled pid).
  # The node name is not on the VM's command line (the prelaunch reads it from the environment).
  [ -r "/proc/$pid/environ" ] || return 1
  tr '\0' '\n' < "/proc/$pid/environ" 2>/dev/null | grep -qxF "RABBITMQ_NODENAME=$NODE" || return 1
  echo "$pid"
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

log_tail() {
  local f
  for f in "$LOG_DIR/$NODE.log" "$STATE_DIR/server.out"; do
    [ -s "$f" ] && { log "--- last lines of $f"; tail -n 40 "$f" >&2; }
  done
  return 0
}

new_password() {
  # 24 random bytes, base64url without padding: 32 characters that need no escaping in a URI.
  head -c 24 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n'
}

stored_password() {
  [ -s "$URI_FILE" ] || return 1
  sed -n 's#^amqp://[^:]*:\([^@]*\)@.*#\1#p' "$URI_FILE" | head -n 1
}

write_private() { # file content
  (umask 077; printf '%s\n' "$2" > "$1.tmp")
  mv -f "$1.tmp" "$1"
}

print_uri() {
  [ -s "$URI_FILE" ] || die "no stored URI in $URI_FILE (is the node started?)"
  echo "AMQP_URI=$(head -n 1 "$URI_FILE")"
}

# --- subcommands ------------------------------------------------------------------------------------------

cmd_install() {
  if [ -x "$RABBITMQ_BIN/rabbitmq-server" ]; then
    log "rabbitmq-server already installed"
    return 0
  fi
  command -v apt-get >/dev/null || die "apt-get not found: install rabbitmq-server by other means"
  export DEBIAN_FRONTEND=noninteractive
  # Update the package lists once (only when they look absent or when the first install attempt fails).
  if ! ls /var/lib/apt/lists/*_Packages >/dev/null 2>&1; then
    apt-get update >&2
  fi
  if ! apt-get install -y --no-install-recommends rabbitmq-server >&2; then
    apt-get update >&2
    apt-get install -y --no-install-recommends rabbitmq-server >&2
  fi
  [ -x "$RABBITMQ_BIN/rabbitmq-server" ] || die "rabbitmq-server still missing after apt-get install"
  # Debian may start a system node through invoke-rc.d where an init system exists; we never use it.
  log "rabbitmq-server installed"
}

cmd_start() {
  [ -x "$RABBITMQ_BIN/rabbitmq-server" ] || die "rabbitmq-server is not installed: run $0 install"
  node_env
  local started_at=$SECONDS pid

  if pid=$(node_pid); then
    if ctl await_startup --timeout 10 >/dev/null 2>&1 && [ -s "$URI_FILE" ]; then
      log "node $NODE already running (pid $pid)"
      print_uri
      return 0
    fi
    die "node $NODE has a live process (pid $pid) that does not answer; run $0 stop --port $PORT"
  fi
  if port_in_use "$PORT"; then
    die "127.0.0.1:$PORT is already in use by another process"
  fi
  if port_in_use "$DIST_PORT"; then
    die "127.0.0.1:$DIST_PORT (Erlang distribution port) is already in use by another process"
  fi

  mkdir -p "$STATE_DIR" "$LOG_DIR" "$RABBITMQ_MNESIA_BASE"
  chmod 700 "$STATE_DIR"
  echo '[].' > "$RABBITMQ_ENABLED_PLUGINS_FILE"
  : > "$RABBITMQ_CONF_ENV_FILE"

  local password fresh_db=yes
  [ -d "$RABBITMQ_MNESIA_BASE/$NODE" ] && fresh_db=no
  if password=$(stored_password) && [ -n "$password" ]; then
    :
  else
    password=$(new_password)
  fi
  # The default user is created only when the database is new: guest never exists.
  (umask 077; cat > "$RABBITMQ_CONFIG_FILE" <<EOF
# Written by scripts/rabbitmq.sh
default_vhost = /
default_user = $USER_NAME
default_pass = $password
default_user_tags.administrator = true
default_permissions.configure = .*
default_permissions.read = .*
default_permissions.write = .*
EOF
  )

  log "starting $NODE on 127.0.0.1:$PORT (state in $STATE_DIR)"
  # setsid: the node outlives this script and the caller's terminal; it is stopped by its pid file only.
  setsid "$RABBITMQ_BIN/rabbitmq-server" > "$STATE_DIR/server.out" 2>&1 < /dev/null &
  local launcher=$!

  local deadline=$((SECONDS + START_TIMEOUT_S))
  until ctl await_startup --timeout 10 >/dev/null 2>&1; do
    if ! kill -0 "$launcher" 2>/dev/null && ! node_pid >/dev/null; then
      log "the node exited during start-up"
      log_tail
      exit 1
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      log "the node did not start within ${START_TIMEOUT_S}s"
      log_tail
      if pid=$(node_pid); then kill "$pid" 2>/dev/null || true; fi
      kill "$launcher" 2>/dev/null || true
      exit 1
    fi
    sleep 1
  done

  if [ "$fresh_db" = no ] && ! ctl authenticate_user "$USER_NAME" "$password" >/dev/null 2>&1; then
    # An existing database whose password we do not know (URI file lost): reset the user.
    log "resetting the password of $USER_NAME"
    ctl add_user "$USER_NAME" "$password" >&2 2>/dev/null || ctl change_password "$USER_NAME" "$password" >&2
    ctl set_user_tags "$USER_NAME" administrator >&2
    ctl set_permissions -p / "$USER_NAME" '.*' '.*' '.*' >&2
  fi
  ctl delete_user guest >/dev/null 2>&1 || true

  write_private "$URI_FILE" "amqp://$USER_NAME:$password@127.0.0.1:$PORT/%2F"
  log "node $NODE ready in $((SECONDS - started_at))s (pid $(node_pid || echo '?'))"
  print_uri
}

cmd_stop() {
  node_env
  local pid
  if ! pid=$(node_pid); then
    log "node $NODE is not running"
    return 0
  fi
  log "stopping $NODE (pid $pid)"
  # With the pid file, rabbitmqctl stop also waits for the OS process to exit.
  timeout 60 "$RABBITMQ_BIN/rabbitmqctl" -n "$NODE" stop "$PID_FILE" >&2 || log "rabbitmqctl stop failed"
  local i
  for i in $(seq 1 20); do
    node_pid >/dev/null || break
    sleep 0.5
  done
  if pid=$(node_pid); then
    log "still alive: SIGTERM to $pid"
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 1 20); do
      node_pid >/dev/null || break
      sleep 0.5
    done
  fi
  if pid=$(node_pid); then
    log "still alive: SIGKILL to $pid"
    kill -KILL "$pid" 2>/dev/null || true
    sleep 0.5
  fi
  if node_pid >/dev/null; then
    die "could not stop $NODE"
  fi
  log "node $NODE stopped"
}

cmd_uri() {
  node_env
  [ -s "$URI_FILE" ] || die "no stored URI in $URI_FILE (start the node first)"
  head -n 1 "$URI_FILE"
}

[ $# -ge 1 ] || usage
command=$1
shift
case "$command" in
  install) [ $# -eq 0 ] || die "install takes no arguments"; cmd_install ;;
  start) parse_port "$@"; cmd_start ;;
  stop) parse_port "$@"; cmd_stop ;;
  uri) parse_port "$@"; cmd_uri ;;
  -h|--help|help) usage ;;
  *) log "unknown command: $command"; usage ;;
esac
