# shellcheck shell=sh
# Sourced by the floating-ip hooks (with here= their folder): settings and what they share.
# shellcheck source=../lib/recipe.sh disable=SC2154 # here: set by the hook
. "$here/../lib/recipe.sh"
# shellcheck source=../lib/epoch.sh
. "$here/../lib/epoch.sh"
recipe_init floating-ip
need FLOATING_IP FLOATING_IP_INTERFACE
case $FLOATING_IP in
  */*) ;;
  *) die "FLOATING_IP must carry its prefix length, e.g. 192.168.1.10/24 (got $FLOATING_IP)" ;;
esac
address=${FLOATING_IP%/*}
interface=$FLOATING_IP_INTERFACE
# How many gratuitous ARP packets promote sends (one a second).
arp_count=${FLOATING_IP_ARP_COUNT:-3}

interface_exists() {
  ip link show dev "$interface" >/dev/null 2>&1
}

# present: the address is on the interface.
present() {
  ip -o -4 addr show dev "$interface" | grep -q " inet $address/"
}

# announce: gratuitous ARP for the address, so that the switch and the neighbours send its
# traffic here now rather than when their caches expire. Either arping works: iputils' (Debian's
# iputils-arping) or Thomas Habets' (Debian's arping).
announce() {
  command -v arping >/dev/null 2>&1 || die "arping is not installed (apt-get install iputils-arping): clients would keep sending to the old primary"
  if arping -V 2>&1 | grep -q iputils; then
    # -U: unsolicited ARP (gratuitous), from and about the address itself. Exits 0 once sent.
    arping -q -U -c "$arp_count" -I "$interface" -s "$address" "$address" || die "arping failed for $address on $interface"
  else
    # Habets' arping exits 1 when no reply came, and an unsolicited ARP gets none: its exit code
    # says nothing here. -P sends ARP replies, which some old switches need to learn.
    arping -q -U -P -c "$arp_count" -i "$interface" -S "$address" "$address" || true
  fi
}
