# Sourced by run-true.sh and port-throughput.sh: a private berthd and a
# private dockerd, both with their default bridge network, side by side
# without clashing, and a cleanup (EXIT trap) that removes everything they
# made, even after a failure:
#   berthd:  bridge bbench0, bip 10.199.0.1/24, nft table `ip berth_bbench0`,
#            no ip-forward, no masquerade, no DNS forwarding.
#   dockerd: bridge docker0, bip 10.198.0.1/24, --iptables=true (its DOCKER*
#            chains and the rules it adds to nat/filter), --ip-forward=false,
#            --ip-masq=false, its own data-root, exec-root, pidfile, socket
#            and cgroup parent.
# The scripts refuse to start when bbench0, berth_bbench0 or docker0 already
# exist (another run, or someone else's dockerd), so cleanup only ever
# deletes what this run made.
# Expects: the caller's cwd is the repository root.

B_BRIDGE=bbench0
B_BIP=10.199.0.1/24
B_TABLE=berth_$B_BRIDGE
D_BIP=10.198.0.1/24
docker=/usr/local/bin/docker
export PATH=$PATH:/usr/sbin:/sbin

tmp=$(mktemp -d /tmp/berth-bench.XXXXXX)
cg=/$(basename "$tmp" | tr -d .)
bin=$PWD/target/release
export DOCKER_CONFIG=$tmp/docker-config
B="unix://$tmp/b.sock"; D="unix://$tmp/d.sock"
bpid=""; dpid=""; made_bbridge=0; made_docker0=0; ipt_saved=0

die() { echo "$*" >&2; exit 1; }

bench_preflight() { # with_dockerd(0|1)
  ip link show "$B_BRIDGE" >/dev/null 2>&1 && die "$B_BRIDGE exists already (another bench run?): not touching it"
  nft list table ip "$B_TABLE" >/dev/null 2>&1 && die "nft table ip $B_TABLE exists already: not touching it"
  if [ "$1" = 1 ]; then
    ip link show docker0 >/dev/null 2>&1 && die "docker0 exists already (someone's dockerd?): not touching it"
  fi
  return 0
}

wait_sock() { for _ in $(seq 1 300); do curl -sf --unix-socket "$1" http://x/_ping >/dev/null 2>&1 && return 0; sleep 0.1; done; echo "daemon on $1 did not start" >&2; return 1; }

start_berthd() {
  printf '{"bridge": "%s", "bip": "%s", "ip-forward": false, "ip-masq": false, "dns-forward": false, "emulation": false}\n' \
    "$B_BRIDGE" "$B_BIP" > "$tmp/berthd.json"
  made_bbridge=1
  "$bin/berthd" --data-root "$tmp/b/data" --exec-root "$tmp/b/exec" -H "$B" \
    --config-file "$tmp/berthd.json" --pidfile "$tmp/b.pid" --cgroup-parent "$cg" --log-level warn >>"$tmp/berthd.log" 2>&1 &
  bpid=$!
  wait_sock "$tmp/b.sock" || { tail -20 "$tmp/berthd.log" >&2; return 1; }
}

# Saves the iptables state once, before the first dockerd, so cleanup can
# tell dockerd's chains and rules from everyone else's.
save_iptables() {
  [ $ipt_saved = 1 ] && return 0
  iptables-save -t nat > "$tmp/ipt-nat.before" 2>/dev/null || true
  iptables-save -t filter > "$tmp/ipt-filter.before" 2>/dev/null || true
  nft list tables > "$tmp/nft-tables.before"
  ipt_saved=1
}

start_dockerd() { # extra dockerd flags...
  save_iptables
  made_docker0=1
  dockerd --ip-forward=false --ip-masq=false --iptables=true --bip "$D_BIP" --cgroup-parent "${cg}-d" \
    --data-root "$tmp/d/data" --exec-root "$tmp/d/exec" --pidfile "$tmp/d.pid" -H "$D" "$@" >>"$tmp/dockerd.log" 2>&1 &
  dpid=$!
  wait_sock "$tmp/d.sock" || { tail -20 "$tmp/dockerd.log" >&2; return 1; }
}

rm_all_containers() { # socket url
  local ids
  ids=$(DOCKER_HOST=$1 timeout 30 $docker ps -aq 2>/dev/null) || return 0
  [ -n "$ids" ] && DOCKER_HOST=$1 timeout 60 $docker rm -f $ids >/dev/null 2>&1
  return 0
}

stop_dockerd() {
  [ -n "$dpid" ] || return 0
  rm_all_containers "$D"
  kill "$dpid" 2>/dev/null; wait "$dpid" 2>/dev/null
  dpid=""
  return 0
}

# Removes the rules and DOCKER* chains dockerd added (those not in the saved
# state), restores FORWARD's policy, and drops the iptables-nft tables
# `ip nat` / `ip filter` if they did not exist before and are empty now.
iptables_cleanup() {
  [ $ipt_saved = 1 ] || return 0
  local t line c chain n
  local -a args
  for t in nat filter; do
    touch "$tmp/ipt-$t.before"
    # Jumps to DOCKER* chains and docker0 rules in other chains first.
    while read -r line; do
      grep -qxF -- "$line" "$tmp/ipt-$t.before" && continue
      chain=$(awk '{print $2}' <<<"$line")
      case $chain in DOCKER*) continue ;; esac
      read -ra args <<<"${line#-A }"
      iptables -t "$t" -D "${args[@]}"
    done < <(iptables-save -t "$t" 2>/dev/null | grep '^-A' | grep -E 'DOCKER|docker0')
    for c in $(iptables-save -t "$t" 2>/dev/null | sed -n 's/^:\(DOCKER[^ ]*\) .*/\1/p'); do
      grep -q "^:$c " "$tmp/ipt-$t.before" || iptables -t "$t" -F "$c"
    done
    for c in $(iptables-save -t "$t" 2>/dev/null | sed -n 's/^:\(DOCKER[^ ]*\) .*/\1/p'); do
      grep -q "^:$c " "$tmp/ipt-$t.before" || iptables -t "$t" -X "$c"
    done
  done
  local pol
  pol=$(sed -n 's/^:FORWARD \([A-Z]*\) .*/\1/p' "$tmp/ipt-filter.before")
  [ -n "$pol" ] && [ "$(iptables-save -t filter | sed -n 's/^:FORWARD \([A-Z]*\) .*/\1/p')" != "$pol" ] && iptables -P FORWARD "$pol"
  for t in nat filter; do
    grep -qx "table ip $t" "$tmp/nft-tables.before" && continue
    nft list table ip "$t" >/dev/null 2>&1 || continue
    # Only the built-in chains, no rules: the table is an empty shell dockerd's iptables made.
    if ! iptables-save -t "$t" 2>/dev/null | grep -q '^-A' \
       && ! iptables-save -t "$t" 2>/dev/null | grep -q '^:[^ ]* - '; then
      nft delete table ip "$t"
    fi
  done
  return 0
}

# What cleanup could not remove (printed at the end of every run).
report_leftovers() {
  local l
  l=$( { ip -o link show | awk -F': ' '{print $2}' | grep -E "^($B_BRIDGE|docker0)(@|$)"
         nft list tables | grep -E "$B_TABLE"
         [ $ipt_saved = 1 ] && nft list tables | grep -E '^table ip (nat|filter)$' | grep -vxFf "$tmp/nft-tables.before"
         iptables-save 2>/dev/null | grep -E 'DOCKER|docker0'
         awk -v t="$tmp" 'index($5, t) == 1' /proc/self/mountinfo; } 2>/dev/null)
  if [ -n "$l" ]; then echo "LEFT BEHIND:"; echo "$l"; else echo "cleanup: nothing left behind"; fi
}

bench_cleanup() {
  set +e
  trap - EXIT INT TERM
  [ -n "$bpid" ] && rm_all_containers "$B"
  stop_dockerd
  [ -n "$bpid" ] && kill "$bpid" 2>/dev/null && wait "$bpid" 2>/dev/null
  # Leftovers if a daemon died: container processes in our cgroups, then
  # shims (their command lines name our temp dir).
  local p d h m
  for h in /sys/fs/cgroup/*/; do
    for d in "$h${cg#/}" "$h${cg#/}-d"; do
      [ -d "$d" ] && find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null
    done
  done | sort -u | while read -r p; do kill -9 "$p" 2>/dev/null; done
  for p in /proc/[0-9]*; do
    grep -qF "$tmp" "$p/cmdline" 2>/dev/null && kill -9 "${p#/proc/}" 2>/dev/null
  done
  for m in $(awk -v t="$tmp" 'index($5, t) == 1 {print $5}' /proc/self/mountinfo | sort -r); do umount -l "$m"; done
  for h in /sys/fs/cgroup/*/; do
    for d in "$h${cg#/}" "$h${cg#/}-d"; do
      [ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
    done
  done
  local br
  for br in $([ $made_bbridge = 1 ] && echo "$B_BRIDGE") $([ $made_docker0 = 1 ] && echo docker0); do
    for p in $(ip -o link show master "$br" 2>/dev/null | awk -F': ' '{print $2}' | cut -d@ -f1); do ip link del "$p"; done
    ip link show "$br" >/dev/null 2>&1 && ip link del "$br"
  done
  [ $made_bbridge = 1 ] && nft list table ip "$B_TABLE" >/dev/null 2>&1 && nft delete table ip "$B_TABLE"
  iptables_cleanup
  report_leftovers
  rm -rf "$tmp"
  return 0
}
trap bench_cleanup EXIT
trap 'exit 130' INT TERM

