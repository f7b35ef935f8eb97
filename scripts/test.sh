#!/usr/bin/env bash
# The whole test suite, on a fresh machine as it is (README's Test section; .ci/run runs exactly this):
#
#   scripts/test.sh                      installs what the suite needs, then ./mvnw -B -ntp verify
#   scripts/test.sh -pl cli -Dtest=X     extra arguments go to Maven (a part of the suite)
#
# What it sets up first, each only when missing:
#   - headless Chromium (the dashboard's and the browser upload's tests): Debian's `chromium`,
#     installed with apt-get (root), unless `chromium` is on the PATH or CHROMIUM names a browser;
#   - Node.js and npm (the browser upload test fetches tus-js-client with npm): Debian's packages;
#   - a real RabbitMQ on loopback (the stream suite runs against it and the embedded broker):
#     Debian's rabbitmq-server through scripts/rabbitmq.sh install|start, on ports of its own
#     (5683, 25683, 15683; node mysimbdp-test@localhost; data under $TMPDIR/mysimbdp-test-rabbitmq),
#     stopped when this script exits (rabbitmqctl stop, then its PID). With TEST_AMQP_URI (and
#     TEST_AMQP_MANAGEMENT_URI) already set, that broker is used and nothing is started.
# Needs JDK 17; Maven comes through ./mvnw.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$(dirname "$0")/.."

apt_install() {
  if [[ $(id -u) -ne 0 ]]; then
    echo "test.sh: $* missing and not root: install it (apt-get install -y $*) and run again" >&2
    exit 1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >&2 \
    || { apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >&2; }
}

if [[ -z "${CHROMIUM:-}" ]] && ! command -v chromium >/dev/null 2>&1; then
  echo "test.sh: installing Chromium (headless browser tests)" >&2
  apt_install chromium
fi

# The browser upload test loads tus-js-client from the npm registry.
if ! command -v npm >/dev/null 2>&1; then
  echo "test.sh: installing Node.js and npm (the browser upload test's tus-js-client)" >&2
  apt_install nodejs npm
fi

if [[ -z "${TEST_AMQP_URI:-}" ]]; then
  export RABBITMQ_PORT="${RABBITMQ_PORT:-5683}" RABBITMQ_DIST_PORT="${RABBITMQ_DIST_PORT:-25683}"
  export RABBITMQ_MANAGEMENT_PORT="${RABBITMQ_MANAGEMENT_PORT:-15683}"
  export RABBITMQ_NODE="${RABBITMQ_NODE:-mysimbdp-test@localhost}"
  export RABBITMQ_BASE="${RABBITMQ_BASE:-${TMPDIR:-/tmp}/mysimbdp-test-rabbitmq}"
  scripts/rabbitmq.sh install
  if scripts/rabbitmq.sh status; then
    echo "test.sh: a RabbitMQ already runs as $RABBITMQ_NODE under $RABBITMQ_BASE: using it, not stopping it" >&2
  else
    # A broker of the suite's own starts empty: no queues or users left by an earlier run.
    rm -rf "$RABBITMQ_BASE/mnesia"
    trap 'scripts/rabbitmq.sh stop' EXIT
  fi
  env_lines="$(scripts/rabbitmq.sh start)"
  TEST_AMQP_URI="$(sed -n 's/^AMQP_URI=//p' <<<"$env_lines")"
  TEST_AMQP_MANAGEMENT_URI="$(sed -n 's/^AMQP_MANAGEMENT_URI=//p' <<<"$env_lines")"
  export TEST_AMQP_URI TEST_AMQP_MANAGEMENT_URI
fi

./mvnw -B -ntp verify "$@"
