#!/usr/bin/env bash
# kill -9 in the middle of a 1,000,000-record ingestion job: the node is restarted and the job
# resumes from its checkpoint on its own; prints where it was killed, how long the rest took, and
# that exactly 1,000,000 records are stored with no duplicates. (The suite runs the same test on
# 40,000 records.) Usage: scripts/kill9-batch.sh [records]
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$(dirname "$0")/.."
records="${1:-1000000}"
./mvnw -B -ntp -pl node -am test -Dtest=BatchCrashResumeTest -Dsurefire.failIfNoSpecifiedTests=false -Dmysimbdp.crash.records="$records" >&2
grep -hE "killed|resumed|stored" node/target/surefire-reports/io.mysimbdp.node.batch.BatchCrashResumeTest-output.txt
