#!/usr/bin/env bash
# The gwprobe network lab: four network namespaces (client, edge, dns, cloud) joined by veth
# pairs, with real middleboxes started per scenario (nftables, squid, tinyproxy, haproxy,
# dnsmasq, PostgreSQL) and TLS/WebSocket servers on lab host names. Nothing is linked to the
# root namespace and the edge has no default route, so no packet can leave the lab.
# Run `scripts/lab.sh help` for commands and knobs; README "The network lab" has the diagram.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
readonly SCRIPT_DIR
readonly SYSTEM_PYTHON=/usr/bin/python3  # python3-websockets lives here, not in a pyenv python
readonly LAB_PREFIX="${GWLAB_PREFIX:-gwl}"
readonly GWLAB_ROOT="${GWLAB_ROOT:-/tmp/gwlab}"
readonly READY_TIMEOUT_S=20       # longest a component may take to listen
readonly STOP_TIMEOUT_S=5         # longest a killed component may take to disappear
readonly POLL_S=0.02
KEEP_DIR=${GWLAB_KEEP_DIR:-0}     # 1: teardown keeps the run directory's logs and configs

# Addressing (fixed: every lab lives in its own namespaces, so labs never clash on addresses).
readonly EDGE_CLIENT_IP=10.77.1.1 CLIENT_IP=10.77.1.2 CLIENT_NET=10.77.1.0/24
readonly EDGE_DNS_IP=10.77.2.1 DNS_IP=10.77.2.2 REFERENCE_DNS_IP=10.77.2.3 DNS_NET=10.77.2.0/24
readonly EDGE_CLOUD_IP=10.77.3.1 RELAY_IP=10.77.3.10 LOGIN_IP=10.77.3.11 DB_IP=10.77.3.20
readonly HC_IP=10.77.3.30 CLOUD_NET=10.77.3.0/24
readonly DEAD_UPSTREAM_IP=10.77.3.99  # routed to the edge, which drops it: a silent upstream
readonly SQUID_PORT=3128 STRIPPER_PORT=8888 INTERCEPT_PORT_BASE=20000 DB_PORT=5432
readonly LAB_ZONE=lab.test

# Lab host names -> addresses (the system and reference resolvers serve these by default).
declare -A LAB_HOSTS=(
  [proxy.lab.test]=$EDGE_CLIENT_IP [client.lab.test]=$CLIENT_IP
  [ns1.lab.test]=$DNS_IP [ns2.lab.test]=$REFERENCE_DNS_IP
  [relay.lab.test]=$RELAY_IP [login.lab.test]=$LOGIN_IP [db.lab.test]=$DB_IP
  [hc.lab.test]=$HC_IP
)
# Short aliases accepted wherever a knob names a host or network.
declare -A HOST_ALIASES=(
  [relay]=$RELAY_IP [login]=$LOGIN_IP [db]=$DB_IP [hc]=$HC_IP [proxy]=$EDGE_CLIENT_IP
  [ns1]=$DNS_IP [ns2]=$REFERENCE_DNS_IP [client]=$CLIENT_NET [dns]=$DNS_NET [cloud]=$CLOUD_NET
)

# Knobs and their defaults (a healthy lab). Order here is the order `help` prints.
readonly KNOB_ORDER=(firewall direct dns dns_nxdomain dns_records dns_cnames dns_dead_zones
  reference reference_records reference_nxdomain reference_cnames servers relay_listen login_listen squid
  squid_auth squid_deny_connect squid_websocket squid_bump stripper stripper_ports idle_cut
  idle_cutter idle_ports intercept_host postgres cloud_command cloud_command_wait)
declare -A KNOB=(
  [firewall]="" [direct]=allow
  [dns]=on [dns_nxdomain]="" [dns_records]="" [dns_cnames]="" [dns_dead_zones]=""
  [reference]=on [reference_records]="" [reference_nxdomain]="" [reference_cnames]=""
  [servers]=on [relay_listen]="80:web 443:web-tls 5671:tls 5672:tcp 9350-9354:tcp"
  [login_listen]="443:web-tls"
  [squid]=off [squid_auth]=none [squid_deny_connect]="" [squid_websocket]=allow [squid_bump]=off
  [stripper]=off [stripper_ports]=80
  [idle_cut]=0 [idle_cutter]=haproxy [idle_ports]=443 [intercept_host]=relay.lab.test
  [postgres]=off [cloud_command]="" [cloud_command_wait]=""
)
declare -A KNOB_HELP=(
  [firewall]="';'-separated edge rules: ACTION [tcp|udp] PORTS [to HOST] [from HOST]; ACTION = drop | reset | refuse | host-unreachable | admin-prohibited | net-unreachable | accept; PORTS = 443 | 9350-9354 | 443,5671 | any"
  [direct]="allow | drop | reject: client -> cloud forwarding (reject = ICMP admin-prohibited); proxies on the edge are not affected"
  [dns]="on | off: the system resolver (dnsmasq on ns1 $DNS_IP, in every namespace's resolv.conf)"
  [dns_nxdomain]="zones the system resolver answers NXDOMAIN (e.g. relay.lab.test)"
  [dns_records]="NAME=IP records added to / overriding the system resolver's"
  [dns_cnames]="ALIAS=TARGET CNAMEs on the system resolver (list several for a chain; ALIAS loses its own address record)"
  [dns_dead_zones]="zones the system resolver forwards to a dead upstream (queries time out)"
  [reference]="on | off: the reference resolver (dnsmasq on ns2 $REFERENCE_DNS_IP), same records as ns1 unless overridden"
  [reference_records]="NAME=IP overrides on the reference resolver (split DNS)"
  [reference_nxdomain]="zones the reference resolver answers NXDOMAIN"
  [reference_cnames]="ALIAS=TARGET CNAMEs on the reference resolver"
  [servers]="on | off: the cloud's TCP/TLS/HTTP/WebSocket echo servers"
  [relay_listen]="PORTS:MODE listeners of relay.lab.test (MODE = tcp | tls | web | web-tls)"
  [login_listen]="PORTS:MODE listeners of login.lab.test"
  [squid]="off | on: squid-openssl CONNECT proxy on $EDGE_CLIENT_IP:$SQUID_PORT"
  [squid_auth]="none | basic: Basic auth (user and random password in the env file)"
  [squid_deny_connect]="ports squid refuses to CONNECT to (403), e.g. 9350-9354"
  [squid_websocket]="allow | strip: http_upgrade_request_protocols websocket allow all, or squid's default"
  [squid_bump]="off | on: ssl-bump every CONNECT with the lab's inspection CA"
  [stripper]="off | tinyproxy | haproxy: a proxy that strips WebSocket upgrades (tinyproxy: forward proxy on $EDGE_CLIENT_IP:$STRIPPER_PORT; haproxy: transparent on stripper_ports of intercept_host)"
  [stripper_ports]="ports the haproxy stripper intercepts"
  [idle_cut]="N seconds of idleness after which the idle cutter ends a connection; 0 = no cutter"
  [idle_cutter]="haproxy (FIN, transparent) | squid (read_timeout, proxied) | conntrack-drop (silent blackhole) | conntrack-reset (RST)"
  [idle_ports]="ports of intercept_host whose connections the cutter watches"
  [intercept_host]="host whose traffic the transparent haproxy / conntrack cutters intercept"
  [postgres]="off | running | stopped: throwaway PostgreSQL cluster on db.lab.test:$DB_PORT (stopped = initialised, not running)"
  [cloud_command]="a shell command started in the cloud namespace (hook for the bundled relay/gateway); LAB_* variables, LAB_SCRIPTS (scripts/lab) and GWPROBE (when the caller set it) are exported"
  [cloud_command_wait]="ADDR:PORT the cloud_command must listen on before up returns, or file:NAME it must write (non-empty) under \$LAB_DIR/cloud"
)

log() { printf 'lab: %s\n' "$*" >&2; }
die() { printf 'lab: error: %s\n' "$*" >&2; exit 2; }
fail() { printf 'lab: error: %s\n' "$*" >&2; exit 1; }

usage() {
  cat <<EOF
Usage: scripts/lab.sh COMMAND [options]

Commands:
  up [--name N] [--knobs FILE] [--set KNOB=VALUE]...   bring a lab up and leave it running
  down [--name N | --all] [--keep-dir]                  tear a lab down (idempotent)
  status [--name N]                                     what is up (every lab when no name)
  exec [--name N] NS CMD [ARG]...                       run CMD in a lab namespace (client|edge|dns|cloud)
                                                        with the lab's LAB_* variables exported
  env [--name N]                                        print the lab's LAB_* variables
  help                                                  this text

A lab is named $LAB_PREFIX + 4 hex digits unless --name is given ([a-z][a-z0-9]{0,11});
its state lives in \$LAB_DIR (default $GWLAB_ROOT/NAME): the PIDs it started, configs, logs,
certificates and the env file. --name may be omitted when exactly one lab is up.
Knob files hold KNOB = VALUE lines (# comments); --set overrides them. List knobs take values
separated by spaces or ';' (firewall: ';' only).

Knobs (default in brackets):
EOF
  local k
  for k in "${KNOB_ORDER[@]}"; do
    printf '  %-19s [%s]\n      %s\n' "$k" "${KNOB[$k]}" "${KNOB_HELP[$k]}"
  done
  cat <<EOF

Topology: client $CLIENT_IP --- $EDGE_CLIENT_IP edge $EDGE_DNS_IP --- dns $DNS_IP/$REFERENCE_DNS_IP
                                   edge $EDGE_CLOUD_IP --- cloud relay $RELAY_IP login $LOGIN_IP db $DB_IP hc $HC_IP
EOF
}

# ---------------------------------------------------------------------------------------------
# Names and state

set_lab_names() {  # NAME -> the namespace and interface names of that lab
  LAB_NAME=$1
  NS_CLIENT="$1-cli" NS_EDGE="$1-edge" NS_DNS="$1-dns" NS_CLOUD="$1-cloud"
  IF_CLIENT="$1-c0" IF_EDGE_CLIENT="$1-e0" IF_EDGE_DNS="$1-e1" IF_DNS="$1-d0"
  IF_EDGE_CLOUD="$1-e2" IF_CLOUD="$1-s0"
  ALL_NS=("$NS_CLIENT" "$NS_EDGE" "$NS_DNS" "$NS_CLOUD")
}

valid_name() { [[ $1 =~ ^[a-z][a-z0-9]{0,11}$ ]]; }

new_name() {
  local n i
  for i in 1 2 3 4 5 6 7 8; do
    n="$LAB_PREFIX$(od -An -N2 -tx1 /dev/urandom | tr -d ' \n')"
    if [ ! -e "$GWLAB_ROOT/$n" ] && ! ip netns list 2>/dev/null | grep -q "^$n-"; then
      echo "$n"; return 0
    fi
  done
  fail "could not find a free lab name"
}

lab_dir_for() { if [ -n "${LAB_DIR:-}" ]; then echo "$LAB_DIR"; else echo "$GWLAB_ROOT/$1"; fi; }

# Every lab with state under GWLAB_ROOT (plus $LAB_DIR), one name per line.
known_labs() {
  local d
  {
    if [ -n "${LAB_DIR:-}" ] && [ -f "$LAB_DIR/name" ]; then cat "$LAB_DIR/name"; fi
    for d in "$GWLAB_ROOT"/*/; do if [ -f "$d/name" ]; then cat "$d/name"; fi; done
  } 2>/dev/null | sort -u || true
}

# --name given, or the name in $LAB_DIR, or the only lab there is.
resolve_name() {
  local given=$1
  if [ -n "$given" ]; then
    valid_name "$given" || die "bad lab name '$given' (expected [a-z][a-z0-9]{0,11})"
    echo "$given"; return
  fi
  if [ -n "${LAB_DIR:-}" ] && [ -f "$LAB_DIR/name" ]; then cat "$LAB_DIR/name"; return; fi
  local labs
  labs=$(known_labs)
  case $(printf '%s' "$labs" | grep -c . || true) in
    0) die "no lab is up (give --name N)" ;;
    1) echo "$labs" ;;
    *) die "several labs are up (${labs//$'\n'/ }); give --name N" ;;
  esac
}

# /proc/PID/stat field 22 (start time): with the PID it identifies one process across reuse.
proc_starttime() {
  local s
  s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  s=${s##*) }
  set -- $s
  echo "${20}"
}
proc_state() {
  local s
  s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  s=${s##*) }
  echo "${s%% *}"
}
# Alive and still the process we recorded (a zombie counts as gone: it holds nothing).
proc_is() {
  local pid=$1 start=$2 st
  [ "$(proc_starttime "$pid" 2>/dev/null)" = "$start" ] || return 1
  st=$(proc_state "$pid") || return 1
  [ "$st" != Z ] && [ "$st" != X ]
}

record_pid() {  # LABEL PID
  local start
  # A process that is already gone is still recorded (start time 0) so start-up sees it died.
  start=$(proc_starttime "$2") || start=0
  printf '%s %s %s\n' "$1" "$2" "$start" >>"$LAB_DIR/pids"
}

# Starts CMD in namespace NS as its own session (so teardown can end it and its helpers as one
# process group), stdin from /dev/null and output to LOG (never our stdout: a caller reading our
# output must see EOF when we exit). GWLAB_RUN marks every process of this run.
start_daemon() {  # LABEL NS LOG CMD...
  local label=$1 ns=$2 out=$3
  shift 3
  GWLAB_RUN=$LAB_NAME ip netns exec "$ns" setsid "$@" </dev/null >>"$out" 2>&1 &
  record_pid "$label" "$!"
  disown "$!"  # no job-status noise when teardown kills it
}

# ---------------------------------------------------------------------------------------------
# Knobs

load_knob_file() {
  local file=$1 line n=0 key value
  [ -r "$file" ] || die "cannot read knob file $file"
  while IFS= read -r line || [ -n "$line" ]; do
    n=$((n + 1))
    line=${line%%#*}
    [[ $line =~ ^[[:space:]]*$ ]] && continue
    [[ $line == *=* ]] || die "$file:$n: expected KNOB = VALUE"
    key=${line%%=*} value=${line#*=}
    key=$(echo "$key" | tr -d '[:space:]')
    value=$(echo "$value" | sed -e 's/^[[:space:]]*//' -e 's/[[:space:]]*$//' -e 's/^"\(.*\)"$/\1/')
    set_knob "$key" "$value" "$file:$n"
  done <"$file"
}

set_knob() {  # KEY VALUE WHERE
  [ -n "${KNOB[$1]+set}" ] || die "$3: unknown knob '$1' (known: ${KNOB_ORDER[*]})"
  KNOB[$1]=$2
}

knob_list() {  # KEY -> its items, one per line
  if [ "$1" = firewall ]; then
    printf '%s' "${KNOB[$1]}" | tr ';' '\n' | sed -e 's/^[[:space:]]*//' -e 's/[[:space:]]*$//' | grep -v '^$' || true
  else
    printf '%s' "${KNOB[$1]}" | tr ';,' '  ' | tr -s ' \t' '\n\n' | grep -v '^$' || true
  fi
}

expect_one_of() {  # KEY ALLOWED...
  local key=$1 v
  shift
  for v in "$@"; do [ "${KNOB[$key]}" = "$v" ] && return 0; done
  die "knob $key: '${KNOB[$key]}' is not one of: $*"
}

valid_dns_name() { [[ $1 =~ ^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$ ]]; }
valid_ipv4() { [[ $1 =~ ^([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})$ ]] &&
  ((BASH_REMATCH[1] < 256 && BASH_REMATCH[2] < 256 && BASH_REMATCH[3] < 256 && BASH_REMATCH[4] < 256)); }
valid_port_spec() {  # 443 | 9350-9354 | 443,5671-5672
  local part a b
  [ -n "$1" ] || return 1
  for part in ${1//,/ }; do
    if [[ $part =~ ^([0-9]+)-([0-9]+)$ ]]; then a=${BASH_REMATCH[1]} b=${BASH_REMATCH[2]}
    elif [[ $part =~ ^[0-9]+$ ]]; then a=$part b=$part
    else return 1; fi
    ((a >= 1 && a <= b && b <= 65535)) || return 1
  done
}
expand_ports() {  # 443,9350-9352 -> 443 9350 9351 9352
  local part
  for part in ${1//,/ }; do
    if [[ $part == *-* ]]; then seq "${part%-*}" "${part#*-}"; else echo "$part"; fi
  done
}

# A host knob value -> address or network: alias (relay), lab name (relay.lab.test), IP or CIDR.
resolve_host() {
  local h=$1
  if [ -n "${HOST_ALIASES[$h]+set}" ]; then echo "${HOST_ALIASES[$h]}"
  elif [ -n "${LAB_HOSTS[$h]+set}" ]; then echo "${LAB_HOSTS[$h]}"
  elif valid_ipv4 "${h%/*}" && { [[ $h != */* ]] || [[ ${h#*/} =~ ^([0-9]|[12][0-9]|3[0-2])$ ]]; }; then echo "$h"
  else return 1; fi
}

validate_knobs() {
  local rule item
  while IFS= read -r rule; do fw_rule_to_nft "$rule" >/dev/null; done < <(knob_list firewall)
  expect_one_of direct allow drop reject
  expect_one_of dns on off
  expect_one_of reference on off
  expect_one_of servers on off
  expect_one_of squid on off
  expect_one_of squid_auth none basic
  expect_one_of squid_websocket allow strip
  expect_one_of squid_bump on off
  expect_one_of stripper off tinyproxy haproxy
  expect_one_of idle_cutter haproxy squid conntrack-drop conntrack-reset
  expect_one_of postgres off running stopped
  for k in dns_nxdomain dns_dead_zones reference_nxdomain; do
    while IFS= read -r item; do
      valid_dns_name "$item" || die "knob $k: '$item' is not a DNS name"
    done < <(knob_list $k)
  done
  for k in dns_records reference_records dns_cnames reference_cnames; do
    while IFS= read -r item; do
      [[ $item == *=* ]] || die "knob $k: '$item' is not NAME=VALUE"
      valid_dns_name "${item%%=*}" || die "knob $k: '${item%%=*}' is not a DNS name"
      if [[ $k == *_cnames ]]; then
        valid_dns_name "${item#*=}" || die "knob $k: '${item#*=}' is not a DNS name"
      else
        valid_ipv4 "${item#*=}" || die "knob $k: '${item#*=}' is not an IPv4 address"
      fi
    done < <(knob_list $k)
  done
  for k in relay_listen login_listen; do
    while IFS= read -r item; do
      [[ $item =~ ^([0-9,-]+):(tcp|tls|web|web-tls)$ ]] && valid_port_spec "${BASH_REMATCH[1]}" ||
        die "knob $k: '$item' is not PORTS:MODE (MODE = tcp | tls | web | web-tls)"
    done < <(knob_list $k)
  done
  for k in squid_deny_connect stripper_ports idle_ports; do
    while IFS= read -r item; do
      valid_port_spec "$item" || die "knob $k: '$item' is not a port or range"
    done < <(knob_list $k)
  done
  [[ ${KNOB[idle_cut]} =~ ^[0-9]+$ ]] && ((KNOB[idle_cut] <= 86400)) ||
    die "knob idle_cut: '${KNOB[idle_cut]}' is not a number of seconds (0 = off)"
  resolve_host "${KNOB[intercept_host]}" >/dev/null && [[ $(resolve_host "${KNOB[intercept_host]}") != */* ]] ||
    die "knob intercept_host: '${KNOB[intercept_host]}' is not a lab host or address"
  for item in $(intercepted_ports stripper) $(intercepted_ports idle); do
    ((item + INTERCEPT_PORT_BASE <= 65535)) || die "port $item is too high to intercept"
  done
  if [ -n "$(comm -12 <(intercepted_ports stripper | sort) <(intercepted_ports idle | sort))" ]; then
    die "knobs stripper_ports and idle_ports overlap: haproxy cannot do both on one port"
  fi
  if [ "${KNOB[idle_cutter]}" = squid ] && [ "${KNOB[idle_cut]}" != 0 ] && [ "${KNOB[squid]}" != on ]; then
    die "knob idle_cutter=squid needs squid=on"
  fi
  if [ -n "${KNOB[cloud_command_wait]}" ]; then
    [[ ${KNOB[cloud_command_wait]} =~ ^file:[A-Za-z0-9._-]+$ ]] ||
      { [[ ${KNOB[cloud_command_wait]} =~ ^([0-9.]+):([0-9]+)$ ]] && valid_ipv4 "${BASH_REMATCH[1]}" &&
        valid_port_spec "${BASH_REMATCH[2]}"; } ||
      die "knob cloud_command_wait: expected ADDR:PORT or file:NAME"
    [ -n "${KNOB[cloud_command]}" ] || die "knob cloud_command_wait needs cloud_command"
  fi
}

# Ports of intercept_host that haproxy intercepts for the stripper or the idle cutter.
intercepted_ports() {
  case $1 in
    stripper) [ "${KNOB[stripper]}" = haproxy ] || return 0
      local p; for p in $(knob_list stripper_ports); do expand_ports "$p"; done ;;
    idle) [ "${KNOB[idle_cut]}" != 0 ] && [ "${KNOB[idle_cutter]}" = haproxy ] || return 0
      local p; for p in $(knob_list idle_ports); do expand_ports "$p"; done ;;
  esac
}

# One firewall knob rule -> one nft rule (forward chain of the edge).
fw_rule_to_nft() {
  local rule=$1 w verdict proto=tcp ports i=1 match="" host net
  read -ra w <<<"$rule"
  [ ${#w[@]} -ge 2 ] || die "firewall rule '$rule': expected ACTION [tcp|udp] PORTS [to HOST] [from HOST]"
  case ${w[0]} in
    drop) verdict="drop" ;;
    reset) verdict="reject with tcp reset" ;;
    refuse | port-unreachable) verdict="reject with icmp type port-unreachable" ;;
    host-unreachable) verdict="reject with icmp type host-unreachable" ;;
    admin-prohibited) verdict="reject with icmp type admin-prohibited" ;;
    net-unreachable) verdict="reject with icmp type net-unreachable" ;;
    accept) verdict="accept" ;;
    *) die "firewall rule '$rule': unknown action '${w[0]}' (expected drop, reset, refuse, host-unreachable, admin-prohibited, net-unreachable, accept)" ;;
  esac
  if [ "${w[1]}" = tcp ] || [ "${w[1]}" = udp ]; then proto=${w[1]} i=2; fi
  [ "$proto" = udp ] && [ "${w[0]}" = reset ] && die "firewall rule '$rule': reset is for tcp only"
  ports=${w[$i]:-}
  [ -n "$ports" ] || die "firewall rule '$rule': missing PORTS (443, 9350-9354, 443,5671 or any)"
  i=$((i + 1))
  while [ $i -lt ${#w[@]} ]; do
    case ${w[$i]} in
      to | from)
        host=${w[$((i + 1))]:-}
        net=$(resolve_host "$host") || die "firewall rule '$rule': '$host' is not a lab host, alias or address"
        if [ "${w[$i]}" = to ]; then match+=" ip daddr $net"; else match+=" ip saddr $net"; fi
        i=$((i + 2)) ;;
      *) die "firewall rule '$rule': unexpected '${w[$i]}' (expected 'to HOST' or 'from HOST')" ;;
    esac
  done
  if [ "$ports" = any ]; then
    match+=" meta l4proto $proto"
  else
    valid_port_spec "$ports" || die "firewall rule '$rule': bad ports '$ports'"
    if [[ $ports == *,* ]]; then match+=" $proto dport { ${ports//,/, } }"; else match+=" $proto dport $ports"; fi
  fi
  echo "${match# } $verdict"
}

# ---------------------------------------------------------------------------------------------
# Bring-up pieces

preflight() {
  [ "$(id -u)" = 0 ] || fail "the lab needs root (network namespaces, nftables, port 53)"
  local c need=(ip nft openssl setsid ss)
  [ "${KNOB[dns]}" = on ] || [ "${KNOB[reference]}" = on ] && need+=(dnsmasq)
  [ "${KNOB[servers]}" = on ] && need+=("$SYSTEM_PYTHON")
  [ "${KNOB[squid]}" = on ] && need+=(squid)
  [ "${KNOB[squid_auth]}" = basic ] && need+=(htpasswd)
  [ "${KNOB[stripper]}" = tinyproxy ] && need+=(tinyproxy)
  [ -n "$(intercepted_ports stripper)$(intercepted_ports idle)" ] && need+=(haproxy)
  [ "${KNOB[postgres]}" != off ] && need+=(runuser)
  for c in "${need[@]}"; do
    command -v "$c" >/dev/null || fail "missing '$c': run scripts/setup.sh all"
  done
  if [ "${KNOB[servers]}" = on ]; then
    "$SYSTEM_PYTHON" -c 'import websockets' 2>/dev/null || fail "missing python3-websockets for $SYSTEM_PYTHON: run scripts/setup.sh all"
  fi
  if [ "${KNOB[squid_bump]}" = on ] && [ ! -x /usr/lib/squid/security_file_certgen ]; then
    fail "squid_bump needs squid-openssl (security_file_certgen): run scripts/setup.sh all"
  fi
  if [ "${KNOB[postgres]}" != off ] && [ -z "$(pg_bindir)" ]; then
    fail "postgres needs PostgreSQL server binaries: run scripts/setup.sh all"
  fi
}

pg_bindir() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1; }

make_namespaces() {
  local ns
  for ns in "${ALL_NS[@]}"; do
    ip netns add "$ns"
    ip -n "$ns" link set lo up
    mkdir -p "/etc/netns/$ns"
    printf 'nameserver %s\noptions timeout:1 attempts:2\n' "$DNS_IP" >"/etc/netns/$ns/resolv.conf"
    printf '127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\n' >"/etc/netns/$ns/hosts"
  done
  # veth pairs are created directly inside the namespaces: nothing ever sits in the root one.
  ip link add "$IF_CLIENT" netns "$NS_CLIENT" type veth peer name "$IF_EDGE_CLIENT" netns "$NS_EDGE"
  ip link add "$IF_DNS" netns "$NS_DNS" type veth peer name "$IF_EDGE_DNS" netns "$NS_EDGE"
  ip link add "$IF_CLOUD" netns "$NS_CLOUD" type veth peer name "$IF_EDGE_CLOUD" netns "$NS_EDGE"
  ip -n "$NS_CLIENT" addr add "$CLIENT_IP/24" dev "$IF_CLIENT"
  ip -n "$NS_EDGE" addr add "$EDGE_CLIENT_IP/24" dev "$IF_EDGE_CLIENT"
  ip -n "$NS_EDGE" addr add "$EDGE_DNS_IP/24" dev "$IF_EDGE_DNS"
  ip -n "$NS_EDGE" addr add "$EDGE_CLOUD_IP/24" dev "$IF_EDGE_CLOUD"
  ip -n "$NS_DNS" addr add "$DNS_IP/24" dev "$IF_DNS"
  ip -n "$NS_DNS" addr add "$REFERENCE_DNS_IP/24" dev "$IF_DNS"
  local a
  for a in $RELAY_IP $LOGIN_IP $DB_IP $HC_IP; do ip -n "$NS_CLOUD" addr add "$a/24" dev "$IF_CLOUD"; done
  local pair
  for pair in "$NS_CLIENT $IF_CLIENT" "$NS_EDGE $IF_EDGE_CLIENT" "$NS_EDGE $IF_EDGE_DNS" \
    "$NS_EDGE $IF_EDGE_CLOUD" "$NS_DNS $IF_DNS" "$NS_CLOUD $IF_CLOUD"; do
    set -- $pair
    ip netns exec "$1" sysctl -qw "net.ipv6.conf.$2.disable_ipv6=1"  # the lab is IPv4 only
    ip -n "$1" link set "$2" up
  done
  # Only the leaf namespaces have a default route (to the edge); the edge has none.
  ip -n "$NS_CLIENT" route add default via "$EDGE_CLIENT_IP"
  ip -n "$NS_DNS" route add default via "$EDGE_DNS_IP"
  ip -n "$NS_CLOUD" route add default via "$EDGE_CLOUD_IP"
  ip netns exec "$NS_EDGE" sysctl -qw net.ipv4.ip_forward=1
}

write_firewall() {
  local conf="$LAB_DIR/edge/nftables.conf" rule p host_ip ports
  host_ip=$(resolve_host "${KNOB[intercept_host]}")
  {
    echo "# edge firewall of lab $LAB_NAME (generated from the firewall/direct/idle knobs)"
    echo "table ip gwlab {"
    echo "  chain forward_filter {"
    echo "    type filter hook forward priority filter; policy accept;"
    echo "    ip daddr $DEAD_UPSTREAM_IP drop comment \"the dead DNS upstream\""
    while IFS= read -r rule; do
      echo "    $(fw_rule_to_nft "$rule") comment \"firewall: $rule\""
    done < <(knob_list firewall)
    case ${KNOB[direct]} in
      drop) echo "    iifname \"$IF_EDGE_CLIENT\" ip daddr $CLOUD_NET drop comment \"direct=drop\"" ;;
      reject) echo "    iifname \"$IF_EDGE_CLIENT\" ip daddr $CLOUD_NET reject with icmp type admin-prohibited comment \"direct=reject\"" ;;
    esac
    echo "  }"
    local intercepted
    intercepted=$( (intercepted_ports stripper; intercepted_ports idle) | sort -n)
    if [ -n "$intercepted" ]; then
      echo "  chain prerouting_nat {"
      echo "    type nat hook prerouting priority dstnat; policy accept;"
      for p in $intercepted; do
        echo "    iifname \"$IF_EDGE_CLIENT\" ip daddr $host_ip tcp dport $p dnat to $EDGE_CLIENT_IP:$((INTERCEPT_PORT_BASE + p))"
      done
      echo "  }"
    fi
    echo "}"
    if [ "${KNOB[idle_cut]}" != 0 ] && [[ ${KNOB[idle_cutter]} == conntrack-* ]]; then
      local cut verdict="drop"
      [ "${KNOB[idle_cutter]}" = conntrack-reset ] && verdict="reject with tcp reset"
      ports=$(knob_list idle_ports | paste -sd, -)
      cut=${KNOB[idle_cut]}
      # A flow idle for N s loses its conntrack entry; its next packet is then a mid-stream
      # "new" one, which is dropped (blackhole) or answered with a reset.
      echo "table ip gwlab_idle {"
      echo "  ct timeout idle_cut { protocol tcp; l3proto ip; policy = { established: $cut, close_wait: $cut, fin_wait: $cut, last_ack: $cut }; }"
      echo "  chain forward_idle {"
      echo "    type filter hook forward priority filter - 1; policy accept;"
      echo "    ct state new tcp flags & (syn | ack) == syn ip daddr $host_ip tcp dport { $ports } ct timeout set \"idle_cut\""
      echo "    ct state new,invalid tcp flags & (syn | ack) != syn ip daddr $host_ip tcp dport { $ports } $verdict"
      echo "    ct state new,invalid tcp flags & (syn | ack) != syn ip saddr $host_ip tcp sport { $ports } $verdict"
      echo "  }"
      echo "}"
    fi
  } >"$conf"
  ip netns exec "$NS_EDGE" nft -f "$conf" || fail "nft rejected $conf"
}

make_certificates() {
  local d="$LAB_DIR/ca" ec256=(-newkey ec -pkeyopt ec_paramgen_curve:P-256) ec384=(-newkey ec -pkeyopt ec_paramgen_curve:P-384)
  mkdir -p "$d"
  # A chain shaped like a public one (root -> issuing intermediate -> leaf), ECDSA as in
  # DigiCert Global Root G3 chains; ECDSA keys keep bring-up fast.
  openssl req -x509 -new -nodes "${ec384[@]}" -keyout "$d/root.key" -out "$d/root.pem" -days 3650 \
    -subj "/C=US/O=GWLab Trust Services/CN=GWLab Global Root G3" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -addext "subjectKeyIdentifier=hash" 2>>"$LAB_DIR/openssl.log"
  cat >"$d/ext.cnf" <<EOF
[intermediate]
basicConstraints=critical,CA:TRUE,pathlen:0
keyUsage=critical,digitalSignature,keyCertSign,cRLSign
extendedKeyUsage=serverAuth,clientAuth
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid:always
[leaf]
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid:always
subjectAltName=DNS:*.$LAB_ZONE,DNS:relay.$LAB_ZONE,DNS:login.$LAB_ZONE,DNS:hc.$LAB_ZONE,DNS:db.$LAB_ZONE
EOF
  openssl req -new -nodes "${ec384[@]}" -keyout "$d/intermediate.key" -out "$d/intermediate.csr" \
    -subj "/C=US/O=GWLab Corporation/CN=GWLab TLS ECC Issuing CA 01" 2>>"$LAB_DIR/openssl.log"
  openssl x509 -req -in "$d/intermediate.csr" -CA "$d/root.pem" -CAkey "$d/root.key" \
    -set_serial "0x$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')" -days 1825 \
    -extfile "$d/ext.cnf" -extensions intermediate -out "$d/intermediate.pem" 2>>"$LAB_DIR/openssl.log"
  openssl req -new -nodes "${ec256[@]}" -keyout "$d/leaf.key" -out "$d/leaf.csr" \
    -subj "/C=US/O=GWLab Relay/CN=*.$LAB_ZONE" 2>>"$LAB_DIR/openssl.log"
  openssl x509 -req -in "$d/leaf.csr" -CA "$d/intermediate.pem" -CAkey "$d/intermediate.key" \
    -set_serial "0x$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')" -days 365 \
    -extfile "$d/ext.cnf" -extensions leaf -out "$d/leaf.pem" 2>>"$LAB_DIR/openssl.log"
  cat "$d/leaf.pem" "$d/intermediate.pem" >"$d/chain.pem"
  if [ "${KNOB[squid_bump]}" = on ]; then
    # The TLS-inspection appliance's own CA, which a bumped client sees instead of the lab root.
    openssl req -x509 -new -nodes -newkey rsa:2048 -keyout "$d/bump-ca.key" -out "$d/bump-ca.pem" \
      -days 3650 -subj "/O=GWLab Corporate IT/CN=GWLab TLS Inspection CA" \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
      2>>"$LAB_DIR/openssl.log"
  fi
  rm -f "$d"/*.csr
  chmod 644 "$d"/*.pem
}

write_dnsmasq_conf() {  # ROLE ADDR RECORDS_KNOB NXDOMAIN_KNOB CNAMES_KNOB -> conf path on stdout
  local role=$1 addr=$2 conf="$LAB_DIR/dns/$1.conf" item zone name skip
  declare -A records=()
  for name in "${!LAB_HOSTS[@]}"; do records[$name]=${LAB_HOSTS[$name]}; done
  while IFS= read -r item; do records[${item%%=*}]=${item#*=}; done < <(knob_list "$3")
  # A CNAME owner has no other records (RFC 1034), so an alias drops its address record.
  while IFS= read -r item; do unset "records[${item%%=*}]"; done < <(knob_list "$5")
  local zones
  zones=$(knob_list "$4")
  {
    echo "# $role resolver of lab $LAB_NAME"
    echo "port=53"
    echo "listen-address=$addr"
    echo "bind-interfaces"
    echo "no-resolv"
    echo "no-hosts"
    echo "no-negcache"
    echo "user=root"
    echo "pid-file="
    echo "log-facility=$LAB_DIR/dns/$role.log"
    echo "log-queries"
    echo "local-ttl=60"
    echo "local=/$LAB_ZONE/"
    for zone in $zones; do echo "address=/$zone/"; done
    for name in $(printf '%s\n' "${!records[@]}" | sort); do
      skip=0
      for zone in $zones; do
        if [ "$name" = "$zone" ] || [[ $name == *".$zone" ]]; then skip=1; fi
      done
      [ $skip = 1 ] || echo "host-record=$name,${records[$name]}"
    done
    while IFS= read -r item; do echo "cname=${item%%=*},${item#*=}"; done < <(knob_list "$5")
    if [ "$role" = system ]; then
      while IFS= read -r zone; do echo "server=/$zone/$DEAD_UPSTREAM_IP"; done < <(knob_list dns_dead_zones)
    fi
  } >"$conf"
  echo "$conf"
}

start_dns() {
  mkdir -p "$LAB_DIR/dns"
  local conf
  if [ "${KNOB[dns]}" = on ]; then
    conf=$(write_dnsmasq_conf system "$DNS_IP" dns_records dns_nxdomain dns_cnames)
    start_daemon dnsmasq-system "$NS_DNS" "$LAB_DIR/dns/system.out" dnsmasq -k -C "$conf"
    WAITS+=("udp $NS_DNS $DNS_IP 53 dnsmasq-system")
  fi
  if [ "${KNOB[reference]}" = on ]; then
    conf=$(write_dnsmasq_conf reference "$REFERENCE_DNS_IP" reference_records reference_nxdomain reference_cnames)
    start_daemon dnsmasq-reference "$NS_DNS" "$LAB_DIR/dns/reference.out" dnsmasq -k -C "$conf"
    WAITS+=("udp $NS_DNS $REFERENCE_DNS_IP 53 dnsmasq-reference")
  fi
}

listen_args() {  # ADDR KNOB -> --listen ADDR:PORTS:MODE ...
  local item
  while IFS= read -r item; do printf -- '--listen\n%s:%s\n' "$1" "$item"; done < <(knob_list "$2")
}

start_servers() {
  [ "${KNOB[servers]}" = on ] || return 0
  mkdir -p "$LAB_DIR/cloud"
  local -a args
  mapfile -t args < <(listen_args "$RELAY_IP" relay_listen; listen_args "$LOGIN_IP" login_listen)
  [ ${#args[@]} -gt 0 ] || return 0
  start_daemon cloud-servers "$NS_CLOUD" "$LAB_DIR/cloud/servers.log" "$SYSTEM_PYTHON" \
    "$SCRIPT_DIR/lab/cloud_servers.py" --chain "$LAB_DIR/ca/chain.pem" --key "$LAB_DIR/ca/leaf.key" \
    --ready "$LAB_DIR/cloud/servers.ready" "${args[@]}"
  WAITS+=("file $LAB_DIR/cloud/servers.ready - - cloud-servers")
}

start_squid() {
  [ "${KNOB[squid]}" = on ] || return 0
  local d="$LAB_DIR/squid"
  mkdir -p "$d"
  : >"$d/hosts"
  {
    echo "# squid of lab $LAB_NAME"
    if [ "${KNOB[squid_bump]}" = on ]; then
      cp "$LAB_DIR/ca/bump-ca.pem" "$LAB_DIR/ca/bump-ca.key" "$d/"
      /usr/lib/squid/security_file_certgen -c -s "$d/ssl_db" -M 4MB >>"$d/certgen.log" 2>&1
      echo "http_port $EDGE_CLIENT_IP:$SQUID_PORT ssl-bump generate-host-certificates=on dynamic_cert_mem_cache_size=4MB tls-cert=$d/bump-ca.pem tls-key=$d/bump-ca.key"
      echo "sslcrtd_program /usr/lib/squid/security_file_certgen -s $d/ssl_db -M 4MB"
      echo "sslcrtd_children 2 startup=1 idle=1"
      echo "tls_outgoing_options cafile=$LAB_DIR/ca/root.pem"
      echo "acl step1 at_step SslBump1"
      echo "acl step2 at_step SslBump2"
      echo "ssl_bump peek step1"
      echo "ssl_bump stare step2"
      echo "ssl_bump bump all"
    else
      echo "http_port $EDGE_CLIENT_IP:$SQUID_PORT"
    fi
    echo "visible_hostname proxy.$LAB_ZONE"
    echo "pid_filename $d/squid.pid"
    echo "cache_log $d/cache.log"
    echo "access_log stdio:$d/access.log"
    echo "cache_store_log none"
    echo "netdb_filename none"
    echo "coredump_dir $d"
    echo "cache deny all"
    echo "pinger_enable off"
    echo "shutdown_lifetime 0 seconds"
    echo "hosts_file $d/hosts"
    echo "dns_nameservers $DNS_IP"
    echo "dns_timeout 5 seconds"
    if [ "${KNOB[idle_cut]}" != 0 ] && [ "${KNOB[idle_cutter]}" = squid ]; then
      echo "read_timeout ${KNOB[idle_cut]} seconds"
      echo "client_idle_pconn_timeout ${KNOB[idle_cut]} seconds"
    fi
    [ "${KNOB[squid_websocket]}" = allow ] && echo "http_upgrade_request_protocols websocket allow all"
    echo "acl lab_clients src $CLIENT_NET"
    echo "acl CONNECT method CONNECT"
    echo "acl Safe_ports port 80 443 5671 5672 9350-9354"
    echo "http_access deny !Safe_ports"
    echo "http_access deny CONNECT !Safe_ports"
    if [ -n "${KNOB[squid_deny_connect]}" ]; then
      echo "acl denied_connect_ports port $(knob_list squid_deny_connect | paste -sd' ' -)"
      echo "http_access deny CONNECT denied_connect_ports"
    fi
    if [ "${KNOB[squid_auth]}" = basic ]; then
      printf '%s' "$PROXY_PASSWORD" | htpasswd -ci "$d/passwd" "$PROXY_USER" 2>>"$d/htpasswd.log"
      echo "auth_param basic program /usr/lib/squid/basic_ncsa_auth $d/passwd"
      echo "auth_param basic children 2 startup=1"
      echo "auth_param basic realm gwlab-proxy"
      echo "acl authed proxy_auth REQUIRED"
      echo "http_access allow lab_clients authed"
    else
      echo "http_access allow lab_clients"
    fi
    echo "http_access deny all"
  } >"$d/squid.conf"
  chown -R proxy:proxy "$d"
  start_daemon squid "$NS_EDGE" "$d/squid.out" squid -N -f "$d/squid.conf"
  WAITS+=("tcp $NS_EDGE $EDGE_CLIENT_IP $SQUID_PORT squid")
}

start_tinyproxy() {
  [ "${KNOB[stripper]}" = tinyproxy ] || return 0
  local d="$LAB_DIR/tinyproxy"
  mkdir -p "$d"
  # tinyproxy forwards plain HTTP requests without their Upgrade header (its default), and
  # passes CONNECT tunnels untouched.
  cat >"$d/tinyproxy.conf" <<EOF
Port $STRIPPER_PORT
Listen $EDGE_CLIENT_IP
Timeout 600
Allow $CLIENT_NET
MaxClients 64
LogLevel Info
DisableViaHeader Yes
User nobody
Group nogroup
EOF
  start_daemon tinyproxy "$NS_EDGE" "$d/tinyproxy.log" tinyproxy -d -c "$d/tinyproxy.conf"
  WAITS+=("tcp $NS_EDGE $EDGE_CLIENT_IP $STRIPPER_PORT tinyproxy")
}

start_haproxy() {
  local strip idle p host_ip d="$LAB_DIR/haproxy"
  strip=$(intercepted_ports stripper) idle=$(intercepted_ports idle)
  [ -n "$strip$idle" ] || return 0
  host_ip=$(resolve_host "${KNOB[intercept_host]}")
  mkdir -p "$d"
  {
    echo "# haproxy of lab $LAB_NAME: transparent (DNAT) stripper / idle cutter for $host_ip"
    echo "global"
    echo "  maxconn 256"
    echo "defaults"
    echo "  timeout connect 5s"
    echo "  timeout client 1h"
    echo "  timeout server 1h"
    for p in $strip; do
      echo "frontend strip_$p"
      echo "  mode http"
      echo "  bind $EDGE_CLIENT_IP:$((INTERCEPT_PORT_BASE + p))"
      echo "  http-request del-header Upgrade"
      echo "  http-request del-header Connection"
      echo "  default_backend strip_$p"
      echo "backend strip_$p"
      echo "  mode http"
      echo "  server origin $host_ip:$p"
    done
    for p in $idle; do
      echo "frontend idle_$p"
      echo "  mode tcp"
      echo "  bind $EDGE_CLIENT_IP:$((INTERCEPT_PORT_BASE + p))"
      echo "  timeout client ${KNOB[idle_cut]}s"
      echo "  default_backend idle_$p"
      echo "backend idle_$p"
      echo "  mode tcp"
      echo "  timeout server ${KNOB[idle_cut]}s"
      echo "  timeout tunnel ${KNOB[idle_cut]}s"
      echo "  server origin $host_ip:$p"
    done
  } >"$d/haproxy.cfg"
  start_daemon haproxy "$NS_EDGE" "$d/haproxy.log" haproxy -db -f "$d/haproxy.cfg"
  for p in $strip $idle; do
    WAITS+=("tcp $NS_EDGE $EDGE_CLIENT_IP $((INTERCEPT_PORT_BASE + p)) haproxy")
  done
}

start_postgres() {
  [ "${KNOB[postgres]}" != off ] || return 0
  local d="$LAB_DIR/postgres" bin pid
  bin=$(pg_bindir)
  mkdir -p "$d"
  chown postgres:postgres "$d"
  printf '%s\n' "$DB_PASSWORD" >"$d/pwfile"
  chown postgres:postgres "$d/pwfile"
  chmod 600 "$d/pwfile"
  ip netns exec "$NS_CLOUD" runuser -u postgres -- "$bin/initdb" -D "$d/data" -U postgres \
    --pwfile="$d/pwfile" --auth-local=trust --auth-host=scram-sha-256 --no-sync -E UTF8 \
    --locale=C.UTF-8 >"$d/initdb.log" 2>&1 || fail "initdb failed: see $d/initdb.log"
  rm -f "$d/pwfile"
  echo "host all all 10.77.0.0/16 scram-sha-256" >>"$d/data/pg_hba.conf"
  [ "${KNOB[postgres]}" = running ] || return 0
  GWLAB_RUN=$LAB_NAME ip netns exec "$NS_CLOUD" runuser -u postgres -- "$bin/pg_ctl" -D "$d/data" \
    -l "$d/postgres.log" -w -t "$READY_TIMEOUT_S" \
    -o "-k $d -c listen_addresses=$DB_IP -p $DB_PORT -c fsync=off" start >"$d/pg_ctl.log" 2>&1 ||
    fail "PostgreSQL did not start: see $d/postgres.log"
  pid=$(head -n1 "$d/data/postmaster.pid")
  record_pid postgres "$pid"
  ip netns exec "$NS_CLOUD" runuser -u postgres -- "$bin/psql" -h "$d" -p "$DB_PORT" -d postgres \
    -v ON_ERROR_STOP=1 -q >"$d/seed.log" 2>&1 <<EOF || fail "seeding PostgreSQL failed: see $d/seed.log"
CREATE DATABASE gwlab;
\\connect gwlab
CREATE TABLE items (id integer PRIMARY KEY, name text NOT NULL, amount numeric(10,2) NOT NULL);
INSERT INTO items SELECT i, 'item-' || i, i * 1.25 FROM generate_series(1, 100) AS i;
EOF
}

start_cloud_command() {
  [ -n "${KNOB[cloud_command]}" ] || return 0
  mkdir -p "$LAB_DIR/cloud"
  printf '%s\n' "${KNOB[cloud_command]}" >"$LAB_DIR/cloud/command.sh"
  (export_lab_env; export LAB_SCRIPTS="$SCRIPT_DIR/lab"; start_daemon cloud-command "$NS_CLOUD" "$LAB_DIR/cloud/command.log" \
    bash "$LAB_DIR/cloud/command.sh")
  if [[ ${KNOB[cloud_command_wait]} == file:* ]]; then
    WAITS+=("file $LAB_DIR/cloud/${KNOB[cloud_command_wait]#file:} - - cloud-command")
  elif [ -n "${KNOB[cloud_command_wait]}" ]; then
    WAITS+=("tcp $NS_CLOUD ${KNOB[cloud_command_wait]%:*} ${KNOB[cloud_command_wait]##*:} cloud-command")
  fi
}

now_us() { echo "${EPOCHREALTIME/./}"; }

label_pid() { awk -v l="$1" '$1 == l { print $2 " " $3 }' "$LAB_DIR/pids" 2>/dev/null | tail -n1; }

# Waits for every WAITS entry ("tcp|udp NS ADDR PORT LABEL" or "file PATH - - LABEL"), failing
# at once with the component's log when its process has died.
wait_ready() {
  local entry kind a b c label deadline pidstart
  deadline=$(($(now_us) + READY_TIMEOUT_S * 1000000))
  for entry in "${WAITS[@]}"; do
    read -r kind a b c label <<<"$entry"
    while :; do
      case $kind in
        file) [ -s "$a" ] && break ;;
        tcp) [ -n "$(ip netns exec "$a" ss -Hltn "src $b:$c" 2>/dev/null)" ] && break ;;
        udp) [ -n "$(ip netns exec "$a" ss -Hlun "src $b:$c" 2>/dev/null)" ] && break ;;
      esac
      pidstart=$(label_pid "$label")
      if [ -n "$pidstart" ] && ! proc_is $pidstart; then
        log "$label exited during start-up; its log:"
        tail -n 20 "$(log_of "$label")" >&2 2>/dev/null || true
        fail "$label did not start"
      fi
      [ "$(now_us)" -lt "$deadline" ] || fail "$label not ready after ${READY_TIMEOUT_S}s (see $(log_of "$label"))"
      sleep "$POLL_S"
    done
  done
}

log_of() {
  case $1 in
    dnsmasq-system) echo "$LAB_DIR/dns/system.out" ;;
    dnsmasq-reference) echo "$LAB_DIR/dns/reference.out" ;;
    cloud-servers) echo "$LAB_DIR/cloud/servers.log" ;;
    squid) echo "$LAB_DIR/squid/cache.log" ;;
    tinyproxy) echo "$LAB_DIR/tinyproxy/tinyproxy.log" ;;
    haproxy) echo "$LAB_DIR/haproxy/haproxy.log" ;;
    cloud-command) echo "$LAB_DIR/cloud/command.log" ;;
    *) echo "$LAB_DIR" ;;
  esac
}

write_env() {
  local f="$LAB_DIR/env"
  {
    echo "LAB_NAME='$LAB_NAME'"
    echo "LAB_DIR='$LAB_DIR'"
    echo "LAB_NS_CLIENT='$NS_CLIENT'"
    echo "LAB_NS_EDGE='$NS_EDGE'"
    echo "LAB_NS_DNS='$NS_DNS'"
    echo "LAB_NS_CLOUD='$NS_CLOUD'"
    echo "LAB_CLIENT_IP='$CLIENT_IP'"
    echo "LAB_EDGE_IP='$EDGE_CLIENT_IP'"
    echo "LAB_DNS_IP='$DNS_IP'"
    echo "LAB_REFERENCE_DNS_IP='$REFERENCE_DNS_IP'"
    echo "LAB_RELAY_IP='$RELAY_IP'"
    echo "LAB_LOGIN_IP='$LOGIN_IP'"
    echo "LAB_DB_IP='$DB_IP'"
    echo "LAB_HC_IP='$HC_IP'"
    echo "LAB_CA='$LAB_DIR/ca/root.pem'"
    echo "LAB_INTERMEDIATE='$LAB_DIR/ca/intermediate.pem'"
    echo "LAB_CHAIN='$LAB_DIR/ca/chain.pem'"
    echo "LAB_LEAF_KEY='$LAB_DIR/ca/leaf.key'"
    [ "${KNOB[squid_bump]}" = on ] && echo "LAB_BUMP_CA='$LAB_DIR/ca/bump-ca.pem'"
    if [ "${KNOB[squid]}" = on ]; then
      echo "LAB_PROXY='http://$EDGE_CLIENT_IP:$SQUID_PORT'"
      echo "LAB_PROXY_HOST='proxy.$LAB_ZONE'"
      echo "LAB_PROXY_PORT='$SQUID_PORT'"
    fi
    if [ "${KNOB[squid_auth]}" = basic ]; then
      echo "LAB_PROXY_USER='$PROXY_USER'"
      echo "LAB_PROXY_PASSWORD='$PROXY_PASSWORD'"
      # For clients that take the password from a file (gwprobe --proxy-password-file).
      (umask 077; printf '%s\n' "$PROXY_PASSWORD" >"$LAB_DIR/proxy-password")
      echo "LAB_PROXY_PASSWORD_FILE='$LAB_DIR/proxy-password'"
    fi
    [ "${KNOB[stripper]}" = tinyproxy ] && echo "LAB_STRIPPER_PROXY='http://$EDGE_CLIENT_IP:$STRIPPER_PORT'"
    if [ "${KNOB[postgres]}" != off ]; then
      echo "LAB_DB_HOST='db.$LAB_ZONE'"
      echo "LAB_DB_PORT='$DB_PORT'"
      echo "LAB_DB_NAME='gwlab'"
      echo "LAB_DB_USER='postgres'"
      echo "LAB_DB_PASSWORD='$DB_PASSWORD'"
    fi
  } >"$f.tmp"
  chmod 600 "$f.tmp"
  mv "$f.tmp" "$f"
}

export_lab_env() {  # exports the LAB_* variables of the env file (written or being written)
  local line
  [ -f "$LAB_DIR/env" ] || write_env
  while IFS= read -r line; do
    line=${line/=\'/=}
    export "${line%\'}"
  done <"$LAB_DIR/env"
}

random_hex() { od -An -N"$1" -tx1 /dev/urandom | tr -d ' \n'; }

cmd_up() {
  local name="" knob_files=() sets=() arg
  while [ $# -gt 0 ]; do
    case $1 in
      --name) name=${2:-}; shift 2 || die "--name needs a value" ;;
      --knobs) knob_files+=("${2:-}"); shift 2 || die "--knobs needs a file" ;;
      --set) sets+=("${2:-}"); shift 2 || die "--set needs KNOB=VALUE" ;;
      --set=*) sets+=("${1#--set=}"); shift ;;
      *) die "up: unexpected argument '$1' (see scripts/lab.sh help)" ;;
    esac
  done
  for arg in "${knob_files[@]}"; do load_knob_file "$arg"; done
  for arg in "${sets[@]}"; do
    [[ $arg == *=* ]] || die "--set '$arg': expected KNOB=VALUE"
    set_knob "${arg%%=*}" "${arg#*=}" "--set"
  done
  validate_knobs
  preflight
  if [ -n "$name" ]; then valid_name "$name" || die "bad lab name '$name' (expected [a-z][a-z0-9]{0,11})"
  else name=$(new_name); fi
  set_lab_names "$name"
  LAB_DIR=$(lab_dir_for "$name")
  if [ -e "$LAB_DIR/name" ] || ip netns list | grep -q "^$name-"; then
    log "a lab named $name exists: tearing it down first"
    teardown "$name" "$LAB_DIR"
  fi
  # From here on, any exit before the lab is complete (error, Ctrl-C, SIGTERM) tears it down.
  # The bring-up runs in a child while this shell only waits for it: a trap that fires while
  # bash is expanding a word holding $(...) (here-documents, [[ ]]) runs in the middle of that
  # parse, and bash 5.2 then fails to parse the trap itself ("interrupt trap: unexpected EOF
  # while looking for matching `)'", exit 2 instead of 130). Waiting is the one safe place.
  UP_DONE=0
  UP_CHILD=""
  trap 'on_up_exit' EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  bring_up "$name" &
  UP_CHILD=$!
  local rc=0
  wait "$UP_CHILD" || rc=$?
  UP_CHILD=""
  [ "$rc" = 0 ] || exit "$rc"
  UP_DONE=1
}

bring_up() {  # NAME: everything `up` does after the traps are set; runs in a child of `up`
  local name=$1 arg
  # `up` stops this child with SIGTERM; the trap runs once the current command is done, so
  # nothing half-written (a key, a PID record) is left for the teardown to miss.
  trap 'exit 143' TERM
  mkdir -p "$LAB_DIR"
  chmod 755 "$LAB_DIR"
  echo "$name" >"$LAB_DIR/name"
  : >"$LAB_DIR/pids"
  local started
  started=$(now_us)
  for arg in "${KNOB_ORDER[@]}"; do printf '%s = %s\n' "$arg" "${KNOB[$arg]}"; done >"$LAB_DIR/knobs"
  mkdir -p "$LAB_DIR/edge"
  PROXY_USER=gwlab PROXY_PASSWORD=$(random_hex 12) DB_PASSWORD=$(random_hex 12)
  WAITS=()
  make_namespaces
  write_firewall
  make_certificates
  write_env
  start_dns
  start_servers
  start_squid
  start_tinyproxy
  start_haproxy
  start_postgres
  start_cloud_command
  wait_ready
  log "lab $name up in $(( ($(now_us) - started) / 1000 )) ms; state in $LAB_DIR"
  log "  try: scripts/lab.sh exec --name $name client dig +short relay.$LAB_ZONE"
  log "  stop: scripts/lab.sh down --name $name"
  echo "LAB_NAME=$name"
  echo "LAB_DIR=$LAB_DIR"
}

on_up_exit() {
  local rc=$?
  if [ "${UP_DONE:-0}" != 1 ]; then
    trap - INT TERM
    if [ -n "${UP_CHILD:-}" ]; then  # stop the bring-up first, so it starts nothing more
      kill -TERM "$UP_CHILD" 2>/dev/null || true
      wait "$UP_CHILD" 2>/dev/null || true
    fi
    log "up failed or was interrupted (exit $rc): tearing lab $LAB_NAME down"
    teardown "$LAB_NAME" "$LAB_DIR" || true
  fi
  exit "$rc"
}

# ---------------------------------------------------------------------------------------------
# Teardown: only what this lab recorded (PIDs with their start times, its namespaces).

run_pids() {  # NAME -> PIDs of live processes started by that lab's run (GWLAB_RUN marker)
  local p
  for p in /proc/[0-9]*; do
    p=${p#/proc/}
    [ "$p" = $$ ] && continue
    grep -qzx "GWLAB_RUN=$1" "/proc/$p/environ" 2>/dev/null && echo "$p"
  done
  return 0
}

teardown() {  # NAME DIR
  local name=$1 dir=$2 label pid start ns rc=0 left deadline
  set_lab_names "$name"
  if [ -f "$dir/pids" ]; then
    while read -r label pid start; do
      proc_is "$pid" "$start" || continue
      if [ "$label" = postgres ] && [ -d "$dir/postgres/data" ]; then
        # Immediate shutdown: the postmaster ends its backends itself.
        kill -QUIT "$pid" 2>/dev/null || true
      elif [ "$(ps -o pgid= -p "$pid" | tr -d ' ')" = "$pid" ]; then
        kill -KILL -- "-$pid" 2>/dev/null || true   # the daemon and its helpers (own session)
      else
        kill -KILL "$pid" 2>/dev/null || true
      fi
    done <"$dir/pids"
  fi
  # Anything of this run not yet recorded (an interrupted start-up) still carries the marker.
  for pid in $(run_pids "$name"); do kill -KILL "$pid" 2>/dev/null || true; done
  deadline=$(($(now_us) + STOP_TIMEOUT_S * 1000000))
  while :; do
    left=""
    if [ -f "$dir/pids" ]; then
      while read -r label pid start; do proc_is "$pid" "$start" && left+=" $label($pid)"; done <"$dir/pids"
    fi
    for pid in $(run_pids "$name"); do
      [ "$(proc_state "$pid" 2>/dev/null)" = Z ] || left+=" $pid"
    done
    [ -z "$left" ] && break
    if [ "$(now_us)" -ge "$deadline" ]; then
      log "warning: still running after ${STOP_TIMEOUT_S}s:$left"
      rc=1
      break
    fi
    sleep "$POLL_S"
  done
  for ns in "${ALL_NS[@]}"; do
    if ip netns list | awk '{print $1}' | grep -qx "$ns"; then
      for pid in $(ip netns pids "$ns" 2>/dev/null); do
        [ "$(proc_state "$pid" 2>/dev/null)" = Z ] && continue
        log "warning: pid $pid ($(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | cut -c1-80)) is in $ns and was not started by the lab: left alone"
        rc=1
      done
      ip netns del "$ns" || rc=1
    fi
    rm -rf "/etc/netns/$ns"
  done
  rmdir /etc/netns 2>/dev/null || true
  if [ "${KEEP_DIR:-0}" = 1 ]; then
    rm -f "$dir/name" "$dir/pids" "$dir/env"  # logs and configs stay for a post-mortem
  else
    rm -rf "$dir"
  fi
  return $rc
}

cmd_down() {
  local name="" all=0 n rc=0
  while [ $# -gt 0 ]; do
    case $1 in
      --name) name=${2:-}; shift 2 || die "--name needs a value" ;;
      --all) all=1; shift ;;
      --keep-dir) KEEP_DIR=1; shift ;;
      *) die "down: unexpected argument '$1'" ;;
    esac
  done
  [ "$(id -u)" = 0 ] || fail "the lab needs root"
  if [ $all = 1 ]; then
    for n in $(known_labs); do
      teardown "$n" "$(lab_dir_for "$n")" || rc=1
      log "lab $n down"
    done
    return $rc
  fi
  if [ -z "$name" ] && [ -z "$(known_labs)" ]; then log "no lab is up"; return 0; fi
  name=$(resolve_name "$name")
  teardown "$name" "$(lab_dir_for "$name")" || rc=1
  log "lab $name down"
  return $rc
}

cmd_status() {
  local name="" n dir ns label pid start state labs
  while [ $# -gt 0 ]; do
    case $1 in
      --name) name=${2:-}; shift 2 || die "--name needs a value" ;;
      *) die "status: unexpected argument '$1'" ;;
    esac
  done
  if [ -n "$name" ]; then labs=$name; else labs=$(known_labs); fi
  if [ -z "$labs" ]; then echo "no lab is up"; return 0; fi
  for n in $labs; do
    set_lab_names "$n"
    dir=$(lab_dir_for "$n")
    echo "lab $n  ($dir)"
    for ns in "${ALL_NS[@]}"; do
      if ip netns list | awk '{print $1}' | grep -qx "$ns"; then
        echo "  netns $ns: $(ip -n "$ns" -br addr show | awk '$1 != "lo" { line = $1; for (i = 3; i <= NF; i++) line = line " " $i; print line }' | paste -sd';' -)"
      else
        echo "  netns $ns: absent"
      fi
    done
    if [ -s "$dir/pids" ]; then
      while read -r label pid start; do
        if proc_is "$pid" "$start"; then state=running; else state=gone; fi
        printf '  %-18s pid %-7s %s\n' "$label" "$pid" "$state"
      done <"$dir/pids"
    fi
    if [ -f "$dir/knobs" ]; then
      local k v changed=""
      while IFS= read -r line; do
        k=${line%% = *} v=${line#* = }
        [ "$v" != "${KNOB[$k]}" ] && changed+="    $k = $v"$'\n'
      done <"$dir/knobs"
      if [ -n "$changed" ]; then printf '  knobs (not default):\n%s' "$changed"; fi
    fi
    ip netns list | awk '{print $1}' | grep -qx "$NS_CLIENT" || continue
    echo "  listening: $(for ns in "$NS_DNS" "$NS_EDGE" "$NS_CLOUD"; do ip netns exec "$ns" ss -Hltun | awk '{print $1"/"$5}'; done | sort -u | paste -sd' ' -)"
  done
}

cmd_exec() {
  local name="" where ns
  while [ $# -gt 0 ]; do
    case $1 in
      --name) name=${2:-}; shift 2 || die "--name needs a value" ;;
      *) break ;;
    esac
  done
  [ $# -ge 2 ] || die "exec: expected NS CMD [ARG]... (NS = client | edge | dns | cloud)"
  where=$1
  shift
  name=$(resolve_name "$name")
  set_lab_names "$name"
  LAB_DIR=$(lab_dir_for "$name")
  case $where in
    client) ns=$NS_CLIENT ;; edge) ns=$NS_EDGE ;; dns) ns=$NS_DNS ;; cloud) ns=$NS_CLOUD ;;
    *) die "exec: unknown namespace '$where' (expected client, edge, dns or cloud)" ;;
  esac
  [ -f "$LAB_DIR/env" ] || fail "lab $name has no env file in $LAB_DIR (is it up?)"
  export_lab_env
  exec ip netns exec "$ns" "$@"
}

cmd_env() {
  local name=""
  while [ $# -gt 0 ]; do
    case $1 in
      --name) name=${2:-}; shift 2 || die "--name needs a value" ;;
      *) die "env: unexpected argument '$1'" ;;
    esac
  done
  name=$(resolve_name "$name")
  LAB_DIR=$(lab_dir_for "$name")
  [ -f "$LAB_DIR/env" ] || fail "lab $name has no env file in $LAB_DIR (is it up?)"
  cat "$LAB_DIR/env"
}

main() {
  local cmd=${1:-help}
  shift || true
  case $cmd in
    up) cmd_up "$@" ;;
    down) cmd_down "$@" ;;
    status) cmd_status "$@" ;;
    exec) cmd_exec "$@" ;;
    env) cmd_env "$@" ;;
    help | -h | --help) usage ;;
    *) usage >&2; exit 2 ;;
  esac
}

main "$@"
