# netns_lib.sh — sourced by the multi-host tests (net/test_hosts.sh,
# disc/test_netns.sh, deploy/test_netns_deploy.sh): "hosts" that are network
# namespaces joined by veth pairs to a bridge in a namespace of its own.
#
# nsenter, not "ip -n NS" or "ip netns exec": those remount / and /sys,
# which fails where / is not a mount point (a chroot); nsenter only switches
# the network namespace.

# nsip NS args...: ip(8) in namespace NS.
nsip() { local n=$1; shift; nsenter --net=/run/netns/"$n" ip "$@"; }

# netns_hosts PREFIX SUBNET HOST...: namespaces PREFIXbr and PREFIX<HOST>,
# a bridge br0 (multicast snooping off) in PREFIXbr, and for the k-th HOST
# (from 1) eth0 = SUBNET.k/24 on a veth pair whose bridge end is p<HOST>.
# Exits 77 (SKIP) when namespaces cannot be made; the caller's cleanup
# deletes them.
netns_hosts() {
    local p=$1 net=$2 h k=0
    shift 2
    for h in br "$@"; do
        ip netns add "$p$h" || { echo "SKIP: cannot create network namespaces"; exit 77; }
        nsip "$p$h" link set lo up
    done
    nsip "${p}br" link add br0 type bridge mcast_snooping 0
    nsip "${p}br" link set br0 up
    for h in "$@"; do
        k=$((k + 1))
        nsip "${p}br" link add "p$h" type veth peer name eth0 netns "$p$h"
        nsip "${p}br" link set "p$h" master br0 up
        nsip "$p$h" addr add "$net.$k/24" dev eth0
        nsip "$p$h" link set eth0 up
    done
}
