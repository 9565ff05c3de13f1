#!/usr/bin/env bash
# Fails when the test suite left berth test resources behind: mounts under
# /tmp/berth-t* or /tmp/berth-reg*, cgroups named berth-t*, or berth
# processes on those paths, network links (bt-*, br-*, veth*, berth*),
# berth's nft tables, and a changed IPv4 forwarding or added binfmt_misc
# entry.
set -uo pipefail
left=0
m=$(awk '$5 ~ "^/tmp/berth-(t|reg)" {print $5}' /proc/self/mountinfo)
[ -n "$m" ] && { echo "leaked mounts:"; echo "$m"; left=1; }
c=$(find /sys/fs/cgroup -maxdepth 2 -type d -name 'berth-t*' 2>/dev/null)
[ -n "$c" ] && { echo "leaked cgroups:"; echo "$c"; left=1; }
p=$(ps -eo pid,args | grep -E '/tmp/berth-(t|reg)' | grep -v -E 'grep|check-leaks' || true)
[ -n "$p" ] && { echo "leaked processes:"; echo "$p"; left=1; }
# Network resources of test daemons: their default bridges (bt-*), user
# network bridges (br-*), veths, and berth's nft tables for test bridges.
# Links and tables that existed before the suite (named in the file $1, as
# scripts/net-state.sh wrote it: a running berthd's or dockerd's) are not
# the suite's.
before=${1:-/dev/null}
l=$("$(dirname "$0")/net-state.sh" | grep -E '^link (bt-|br-|veth|berth)' | grep -vxF -f "$before" || true)
[ -n "$l" ] && { echo "leaked network links:"; echo "$l"; left=1; }
t=$("$(dirname "$0")/net-state.sh" | grep -E '^table .*berth' | grep -vxF -f "$before" || true)
[ -n "$t" ] && { echo "leaked nft tables:"; echo "$t"; left=1; }
# Host settings: IPv4 forwarding as before, no binfmt_misc entry added.
h=$("$(dirname "$0")/net-state.sh" | grep -E '^(ip_forward|binfmt) ' | grep -vxF -f "$before" || true)
[ -n "$h" ] && { echo "changed host settings:"; echo "$h"; left=1; }
[ $left -eq 0 ] && echo "no leaked test resources"
exit $left
