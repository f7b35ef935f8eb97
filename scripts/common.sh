# Sourced first by every script here: strict mode, and a failure always says which command failed
# (and where) instead of ending with a bare exit code. Builds go through the Maven wrapper (./mvnw),
# online, so a fresh clone resolves what it needs from Maven Central.
set -Eeuo pipefail
trap 'rc=$?; echo "$(basename "$0"): failed (exit $rc) at line $LINENO: $BASH_COMMAND" >&2' ERR
