#!/usr/bin/env bash
# test_netns.sh — discovery across hosts: four network namespaces (h1..h4)
# joined by veth pairs to a bridge that lives in a fifth namespace, so
# nothing touches the host's own network.  Root only; SKIP (exit 77)
# otherwise.
#
#   1. multicast: a probe from any host finds the VMs of all four;
#   2. multicast blocked at the bridge (mcast_flood off on every port, with
#      snooping off so every multicast frame is subject to it): a probe
#      finds only its own host, and seed peers find everyone through one
#      seed, even a seed that is not the hub.
set -u
if [ "$(id -u)" != 0 ]; then
    echo "SKIP: test_netns.sh needs root (network namespaces, veth pairs, a bridge)"
    exit 77
fi
if ! command -v ip >/dev/null || ! command -v bridge >/dev/null; then
    echo "SKIP: test_netns.sh needs iproute2 (ip, bridge)"
    exit 77
fi
. "$(dirname "$0")/disc_lib.sh"
P="rvd$$"
NS="${P}br ${P}h1 ${P}h2 ${P}h3 ${P}h4"
cleanup_ns() { for n in $NS; do ip netns del "$n" 2>/dev/null; done; }
trap 'cleanup_procs; cleanup_ns; [ -n "${KEEP:-}" ] || rm -rf "$WORK"' EXIT
trap 'exit 1' INT TERM

. "$(dirname "$0")/../netns_lib.sh"
netns_hosts "$P" 10.77.0 h1 h2 h3 h4
# nsenter, not "ip netns exec": the latter remounts / and /sys, which fails
# where / is not a mount point (a chroot, as on a fresh CI root).
in_h() { echo nsenter --net=/run/netns/"${P}h$1"; }
MC=(--mcast-if eth0 --mcast-group 239.255.77.77 --mcast-port 7077)
T=$((SAFETY * 1000))

# --- 1. multicast across hosts --------------------------------------------------
for i in 1 2 3; do start "m$i" $(in_h $i) -- "${MC[@]}" --advertise "10.77.0.$i:7001" --label "name=h$i"; done
# h4 advertises no host: receivers use the source address of its replies.
start m4 $(in_h 4) -- "${MC[@]}" --advertise ":7001" --label name=h4
vms "$WORK/all" $(in_h 1) -- "${MC[@]}" --count 4 --timeout $T
check "multicast from h1: 4 VMs on 4 hosts" test "$(nvms "$WORK/all")" = 4
check "multicast: h1..h4 by name" eval 'has "$WORK/all" h1 && has "$WORK/all" h2 && has "$WORK/all" h3 && has "$WORK/all" h4'
check "multicast: h4 reached at its source address" has_addr "$WORK/all" 10.77.0.4:7001
vms "$WORK/h3" $(in_h 2) -- "${MC[@]}" --filter name=h3 --count 1 --timeout $T
check "multicast from h2 with filter name=h3" eval 'has_addr "$WORK/h3" 10.77.0.3:7001 && [ "$(nvms "$WORK/h3")" = 1 ]'

# --- 2. multicast blocked: seed peers --------------------------------------------
for i in 1 2 3 4; do nsenter --net=/run/netns/"${P}br" bridge link set dev "ph$i" mcast_flood off; done
# The VMs above have no peers, so nothing but multicast could find them.
vms "$WORK/blocked" $(in_h 3) -- "${MC[@]}" --timeout 2000
check "blocked: multicast from h3 finds only h3's VM" eval '[ "$(nvms "$WORK/blocked")" = 1 ] && has "$WORK/blocked" h3'
check "clean stop of the multicast VMs" eval 'stop m1 && stop m2 && stop m3 && stop m4'
start s1 $(in_h 1) -- "${MC[@]}" --advertise 10.77.0.1:7002 --label name=s1
start s2 $(in_h 2) -- "${MC[@]}" --advertise 10.77.0.2:7002 --label name=s2 --peer 10.77.0.1:7002
start s3 $(in_h 3) -- "${MC[@]}" --advertise 10.77.0.3:7002 --label name=s3 --peer 10.77.0.1:7002
start s4 $(in_h 4) -- "${MC[@]}" --advertise 10.77.0.4:7002 --label name=s4 --peer 10.77.0.2:7002
vms "$WORK/seed" $(in_h 3) -- "${MC[@]}" --peer 10.77.0.1:7002 --count 4 --timeout $T
check "blocked: seed h1 finds all 4" test "$(nvms "$WORK/seed")" = 4
vms "$WORK/seed4" $(in_h 4) -- --mcast-group off --peer 10.77.0.3:7002 --count 4 --timeout $T
check "blocked: seed h3 (a leaf) finds all 4" eval '[ "$(nvms "$WORK/seed4")" = 4 ] && has "$WORK/seed4" s2 && has "$WORK/seed4" s4'
check "blocked: addresses are the hosts'" eval 'for i in 1 2 3 4; do has_addr "$WORK/seed4" 10.77.0.$i:7002 || exit 1; done'
check "clean stop of the seed VMs" eval 'stop s1 && stop s2 && stop s3 && stop s4'

finish
