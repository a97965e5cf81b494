#!/usr/bin/env bash
# linux-optimize.sh: check, apply or revert the Linux tuning a tickwire trading host wants.
#
#   scripts/linux-optimize.sh [--check] [--cores LIST]   (default) print every setting: current value, recommended
#                                                        value and why. Changes nothing. Exit 0 when every available
#                                                        setting matches, 1 when at least one does not, 2 on misuse.
#   scripts/linux-optimize.sh --apply  [--cores LIST]    (root) set them; previous values go to the state file first,
#                                                        so a second --apply keeps the values from before the first.
#   scripts/linux-optimize.sh --revert                   (root) restore what the state file recorded, then delete it.
#
# LIST is the trading core(s), e.g. "1", "2,3" or "2-3" (default: $TICKWIRE_CORES, else 1). Every other online CPU is a
# housekeeping CPU: IRQs, the kernel's own threads and everything that is not the engine go there.
# --isolate LIST widens the set kept free of IRQs and isolated on the kernel command line, typically the trading core
# plus its idle hyperthread sibling (default: $TICKWIRE_ISOLATE, else the trading cores).
#
# Options:
#   --cores LIST    trading cores (see above)
#   --isolate LIST  cores to isolate: trading cores plus idle siblings (see above)
#   --state FILE    state file (default: /var/lib/tickwire/linux-optimize.state)
#   --root DIR      prefix for /proc, /sys and /etc (tests only: a fake tree; services and swap are skipped)
#   -h, --help      this text
#
# Never touched: boot files (GRUB, /etc/fstab, kernel command line). The kernel arguments that only a reboot can set
# (isolcpus, nohz_full, rcu_nocbs, C-state limits) are printed for you to add. A setting that does not exist on this
# kernel or machine (a VM without cpufreq, an old sysctl) is reported as "n/a" and does not count as a mismatch.
set -euo pipefail

MODE=check
CORES="${TICKWIRE_CORES:-1}"
ISOLATE_ARG="${TICKWIRE_ISOLATE:-}"
ROOT=""
STATE=""

usage() { sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; }

while [ $# -gt 0 ]; do
  case "$1" in
    --check) MODE=check ;;
    --apply) MODE=apply ;;
    --revert) MODE=revert ;;
    --cores) [ $# -ge 2 ] || { echo "linux-optimize: --cores needs a value" >&2; exit 2; }; CORES="$2"; shift ;;
    --cores=*) CORES="${1#--cores=}" ;;
    --isolate) [ $# -ge 2 ] || { echo "linux-optimize: --isolate needs a value" >&2; exit 2; }; ISOLATE_ARG="$2"; shift ;;
    --isolate=*) ISOLATE_ARG="${1#--isolate=}" ;;
    --state) [ $# -ge 2 ] || { echo "linux-optimize: --state needs a value" >&2; exit 2; }; STATE="$2"; shift ;;
    --state=*) STATE="${1#--state=}" ;;
    --root) [ $# -ge 2 ] || { echo "linux-optimize: --root needs a value" >&2; exit 2; }; ROOT="${2%/}"; shift ;;
    --root=*) ROOT="${1#--root=}"; ROOT="${ROOT%/}" ;;
    -h|--help) usage; exit 0 ;;
    *) echo "linux-optimize: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
  shift
done
STATE="${STATE:-$ROOT/var/lib/tickwire/linux-optimize.state}"

if [ "$MODE" != check ] && [ -z "$ROOT" ] && [ "$(id -u)" -ne 0 ]; then
  echo "linux-optimize: --$MODE needs root (sudo $0 --$MODE ...)" >&2
  exit 2
fi

# ---------------------------------------------------------------------------------------------------------------
# CPU lists
# ---------------------------------------------------------------------------------------------------------------

# expand "0-2,5" -> "0 1 2 5"
expand_cpus() {
  local out="" part a b i
  local IFS=,
  for part in $1; do
    [ -n "$part" ] || continue
    if [[ "$part" =~ ^([0-9]+)-([0-9]+)$ ]]; then
      a="${BASH_REMATCH[1]}"; b="${BASH_REMATCH[2]}"
      for ((i = a; i <= b; i++)); do out="$out $i"; done
    elif [[ "$part" =~ ^[0-9]+$ ]]; then
      out="$out $part"
    else
      return 1
    fi
  done
  echo "${out# }"
}

# "1 2 3" -> "1,2,3"
join_cpus() { local IFS=,; echo "$*"; }

# "0 2" -> hex mask "5" (CPUs < 64, which covers every box we deploy on)
cpu_mask() {
  local m=0 c
  for c in "$@"; do m=$((m | (1 << c))); done
  printf '%x' "$m"
}

if ! TRADING="$(expand_cpus "$CORES")" || [ -z "$TRADING" ]; then
  echo "linux-optimize: --cores '$CORES' is not a CPU list like 1, 2,3 or 2-3" >&2
  exit 2
fi
if ! ISOLATE="$(expand_cpus "${ISOLATE_ARG:-$CORES}")" || [ -z "$ISOLATE" ]; then
  echo "linux-optimize: --isolate '$ISOLATE_ARG' is not a CPU list like 2,10" >&2
  exit 2
fi
for c in $TRADING; do
  case " $ISOLATE " in *" $c "*) ;; *) echo "linux-optimize: --isolate must include the trading cores ($CORES)" >&2; exit 2 ;; esac
done
ONLINE_LIST="$(cat "$ROOT/sys/devices/system/cpu/online" 2>/dev/null || echo 0)"
ONLINE="$(expand_cpus "$ONLINE_LIST" || echo 0)"
HOUSE=""
for c in $ONLINE; do
  case " $ISOLATE " in *" $c "*) ;; *) HOUSE="$HOUSE $c" ;; esac
done
HOUSE="${HOUSE# }"
for c in $ISOLATE; do
  case " $ONLINE " in *" $c "*) ;; *) echo "linux-optimize: trading core $c is not online here (online: $ONLINE_LIST)" >&2; exit 2 ;; esac
done
# shellcheck disable=SC2086 # word splitting of the CPU lists is intended
TRADING_CSV="$(join_cpus $TRADING)"
# shellcheck disable=SC2086
ISOLATE_CSV="$(join_cpus $ISOLATE)"
# shellcheck disable=SC2086
HOUSE_CSV="$(join_cpus $HOUSE)"

# ---------------------------------------------------------------------------------------------------------------
# Reporting
# ---------------------------------------------------------------------------------------------------------------

MISMATCH=0
report() { # status setting current recommended why
  printf '%-6s %-44s current=%-24s recommended=%-24s %s\n' "$1" "$2" "\"$3\"" "\"$4\"" "$5"
  if [ "$1" = "CHANGE" ]; then MISMATCH=$((MISMATCH + 1)); fi
}

rd() { local v; v="$(cat "$ROOT$1" 2>/dev/null)" || return 1; echo "$v" | tr -s ' \t' ' '; }

# ---------------------------------------------------------------------------------------------------------------
# State file (apply/revert)
# ---------------------------------------------------------------------------------------------------------------

# record KIND KEY VALUE, once per KIND+KEY: the first apply's "before" wins
record() {
  mkdir -p "$(dirname "$STATE")"
  touch "$STATE"
  chmod 600 "$STATE"
  if ! awk -F'\t' -v k="$1" -v p="$2" '$1 == k && $2 == p { found = 1 } END { exit found ? 0 : 1 }' "$STATE"; then
    printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$STATE"
  fi
}

# "always [madvise] never" -> "madvise"; anything else unchanged
selected() {
  local re='\[([^]]*)\]'
  if [[ "$1" =~ $re ]]; then echo "${BASH_REMATCH[1]}"; else echo "$1"; fi
}

write_value() { # path value
  local p="$ROOT$1"
  local before
  before="$(cat "$p" 2>/dev/null)" || return 1
  # THP files print "always [madvise] never": keep the selected word
  before="$(selected "$before")"
  record file "$1" "$before"
  if printf '%s\n' "$2" >"$p" 2>/dev/null; then return 0; fi
  echo "  could not write $1 (read-only here?)" >&2
  return 1
}

# ---------------------------------------------------------------------------------------------------------------
# Settings
# ---------------------------------------------------------------------------------------------------------------

# sysctl NAME RECOMMENDED CMP WHY ; CMP: eq | min (current >= rec) | max (current <= rec) | min3 (each of 3 fields >=)
sysctl_setting() {
  local name="$1" rec="$2" cmp="$3" why="$4"
  local path="/proc/sys/${name//.//}"
  local cur ok=0
  if ! cur="$(rd "$path")"; then
    report "n/a" "$name" "not available here" "$rec" "$why"
    return 0
  fi
  case "$cmp" in
    eq) [ "$cur" = "$rec" ] && ok=1 ;;
    min) [ "$cur" -ge "$rec" ] 2>/dev/null && ok=1 ;;
    max) [ "$cur" -le "$rec" ] 2>/dev/null && ok=1 ;;
    min3) awk -v c="$cur" -v r="$rec" 'BEGIN { n = split(c, a, " "); split(r, b, " ");
            for (i = 1; i <= 3; i++) if (a[i] + 0 < b[i] + 0) exit 1; exit n == 3 ? 0 : 1 }' && ok=1 ;;
  esac
  if [ "$ok" = 1 ]; then
    report ok "$name" "$cur" "$rec" "$why"
  elif [ "$MODE" = apply ]; then
    # min3: raise each field to at least the recommendation, never lower one that is already higher
    if [ "$cmp" = min3 ]; then
      rec="$(awk -v c="$cur" -v r="$rec" 'BEGIN { split(c, a, " "); split(r, b, " ");
             for (i = 1; i <= 3; i++) printf "%s%d", (i > 1 ? " " : ""), (a[i] + 0 > b[i] + 0 ? a[i] : b[i]) }')"
    fi
    if write_value "$path" "$rec"; then
      SYSCTL_CONF="$SYSCTL_CONF$name = $rec"$'\n'
      report set "$name" "$cur" "$rec" "$why"
    else
      report CHANGE "$name" "$cur" "$rec" "$why"
    fi
  else
    report CHANGE "$name" "$cur" "$rec" "$why"
  fi
}

SYSCTL_CONF=""

sysctls() {
  sysctl_setting fs.file-max 2097152 min "system-wide open files: sockets, journal, logs never hit ENFILE"
  sysctl_setting fs.nr_open 1048576 min "ceiling for a process's RLIMIT_NOFILE (the unit asks LimitNOFILE=1048576)"
  sysctl_setting net.core.rmem_max 16777216 min "let a socket's receive buffer grow to 16 MB: a depth burst is never dropped by the kernel"
  sysctl_setting net.core.wmem_max 16777216 min "same for send buffers"
  sysctl_setting net.ipv4.tcp_rmem "4096 262144 16777216" min3 "TCP autotuning range (min default max): start at 256 KB, allow 16 MB"
  sysctl_setting net.ipv4.tcp_wmem "4096 262144 16777216" min3 "same for sends"
  sysctl_setting net.core.netdev_max_backlog 10000 min "packets queued per CPU before the kernel drops during a burst"
  sysctl_setting net.core.busy_poll 50 min "poll the NIC queue 50 us in poll/epoll before sleeping: lower wake-up latency for a few hot sockets"
  sysctl_setting net.core.busy_read 50 min "busy-poll 50 us on a blocking read (SO_BUSY_POLL default)"
  sysctl_setting net.ipv4.tcp_slow_start_after_idle 0 eq "a quiet order connection keeps its congestion window: the first order after a lull is not throttled"
  sysctl_setting net.ipv4.tcp_keepalive_time 60 max "detect a dead exchange connection in ~2 minutes, not 2 hours (the default 7200 s)"
  sysctl_setting net.ipv4.tcp_keepalive_intvl 10 max "seconds between keepalive probes once idle"
  sysctl_setting net.ipv4.tcp_keepalive_probes 6 max "probes before the connection is declared dead"
  sysctl_setting net.ipv4.tcp_low_latency 1 eq "pre-4.14 kernels: prefer latency over throughput in TCP receive (a no-op on newer kernels)"
  sysctl_setting net.ipv4.tcp_autocorking 0 eq "never hold back a small write hoping to coalesce it (Node sets TCP_NODELAY too)"
  sysctl_setting vm.swappiness 1 max "keep the engine's heap in RAM: a page-in on the hot path costs milliseconds"
  sysctl_setting kernel.numa_balancing 0 eq "no NUMA hinting faults and page migrations under the running engine"
}

persist_sysctls() {
  [ -n "$SYSCTL_CONF" ] || return 0
  local f="/etc/sysctl.d/90-tickwire.conf"
  mkdir -p "$ROOT/etc/sysctl.d"
  if [ ! -e "$ROOT$f" ]; then record created "$f" "-"; fi
  {
    echo "# written by tickwire scripts/linux-optimize.sh --apply; removed by --revert"
    printf '%s' "$SYSCTL_CONF"
  } >>"$ROOT$f"
}

thp() {
  local name="$1" path="$2" rec="$3" accept="$4" why="$5" cur
  if ! cur="$(rd "$path")"; then report "n/a" "$name" "not available here" "$rec" "$why"; return 0; fi
  local sel
  sel="$(selected "$cur")"
  if [[ " $accept " == *" $sel "* ]]; then
    report ok "$name" "$sel" "$rec" "$why"
  elif [ "$MODE" = apply ] && write_value "$path" "$rec"; then
    report set "$name" "$sel" "$rec" "$why"
  else
    report CHANGE "$name" "$sel" "$rec" "$why"
  fi
}

governor() {
  local c path cur bad="" seen=0 changed=0 why="no frequency ramp-up delay when a burst arrives after a quiet spell"
  for c in $ONLINE; do
    path="/sys/devices/system/cpu/cpu$c/cpufreq/scaling_governor"
    cur="$(rd "$path")" || continue
    seen=1
    if [ "$cur" != performance ]; then
      if [ "$MODE" = apply ] && write_value "$path" performance; then changed=1; else bad="$bad cpu$c=$cur"; fi
    fi
  done
  if [ "$seen" = 0 ]; then
    report "n/a" "cpu.governor" "not available here (no cpufreq: VM or BIOS-controlled)" performance "$why"
  elif [ -n "$bad" ]; then
    report CHANGE "cpu.governor" "${bad# }" performance "$why"
  elif [ "$changed" = 1 ]; then
    report set "cpu.governor" "was not performance" performance "$why"
  else
    report ok "cpu.governor" performance performance "$why"
  fi
}

cstates() {
  # Deep C-states take tens to hundreds of microseconds to leave. On the trading cores, keep only states whose exit
  # latency is at most 2 us (POLL and C1). The lasting fix is a kernel argument (printed under kernel.cmdline).
  local c d lat name dis deep="" seen=0 changed=0 why="exit latency of deep C-states (10-200 us) lands on the first packet after idle"
  local driver
  driver="$(rd /sys/devices/system/cpu/cpuidle/current_driver || echo none)"
  for c in $TRADING; do
    for d in "$ROOT"/sys/devices/system/cpu/cpu"$c"/cpuidle/state*; do
      [ -d "$d" ] || continue
      seen=1
      d="${d#"$ROOT"}"
      lat="$(rd "$d/latency" || echo 0)"
      name="$(rd "$d/name" || echo "?")"
      dis="$(rd "$d/disable" || echo 0)"
      if [ "$lat" -gt 2 ] && [ "$dis" != 1 ]; then
        if [ "$MODE" = apply ] && write_value "$d/disable" 1; then changed=1; else deep="$deep cpu$c:$name(${lat}us)"; fi
      fi
    done
  done
  if [ "$seen" = 0 ]; then
    report "n/a" "cpu.cstates[$TRADING_CSV]" "not available here (driver: $driver)" "only states <= 2 us" "$why"
  elif [ -n "$deep" ]; then
    report CHANGE "cpu.cstates[$TRADING_CSV]" "enabled:${deep}" "only states <= 2 us" "$why"
  elif [ "$changed" = 1 ]; then
    report set "cpu.cstates[$TRADING_CSV]" "deep states were enabled" "only states <= 2 us" "$why"
  else
    report ok "cpu.cstates[$TRADING_CSV]" "deep states disabled (driver: $driver)" "only states <= 2 us" "$why"
  fi
}

clocksource() {
  local cur avail why="TSC is read in user space via the vDSO (~20 ns); hpet/xen/acpi_pm make every clock read a syscall or worse"
  local path=/sys/devices/system/clocksource/clocksource0/current_clocksource
  if ! cur="$(rd "$path")"; then report "n/a" "clocksource" "not available here" tsc "$why"; return 0; fi
  avail="$(rd /sys/devices/system/clocksource/clocksource0/available_clocksource || echo "")"
  if [ "$cur" = tsc ]; then
    report ok clocksource "$cur" tsc "$why"
  elif [[ " $avail " != *" tsc "* ]]; then
    report "n/a" clocksource "$cur (tsc not offered: $avail)" tsc "$why; on EC2 Nitro use tsc-capable instance types"
  elif [ "$MODE" = apply ] && write_value "$path" tsc; then
    report set clocksource "$cur" tsc "$why"
  else
    report CHANGE clocksource "$cur" tsc "$why"
  fi
}

swap() {
  local n why="swapped-out engine pages cost ms to fault back; swappiness alone does not forbid it"
  if [ ! -r "$ROOT/proc/swaps" ]; then report "n/a" swap "not available here" "none" "$why"; return 0; fi
  n="$(awk 'NR > 1' "$ROOT/proc/swaps" | wc -l)"
  if [ "$n" -eq 0 ]; then
    report ok swap "none" "none" "$why"
  elif [ "$MODE" = apply ] && [ -z "$ROOT" ] && command -v swapoff >/dev/null; then
    local dev
    while read -r dev _; do record swap "$dev" on; done < <(awk 'NR > 1' /proc/swaps)
    if swapoff -a; then
      report set swap "$n device(s)" none "$why (remove them from /etc/fstab yourself: boot files are never edited)"
    else
      report CHANGE swap "$n device(s)" none "$why (swapoff failed: not enough free RAM?)"
    fi
  else
    report CHANGE swap "$n device(s)" none "$why"
  fi
}

fd_limits() {
  local f=/etc/security/limits.d/90-tickwire.conf why="login sessions (tickwire CLI, tools) get 1M descriptors; the service sets LimitNOFILE itself"
  if [ -e "$ROOT$f" ]; then
    report ok "limits.nofile" "$f present" "1048576" "$why"
  elif [ "$MODE" = apply ]; then
    mkdir -p "$ROOT/etc/security/limits.d"
    record created "$f" "-"
    printf '%s\n' "# written by tickwire scripts/linux-optimize.sh --apply; removed by --revert" \
      "*    soft nofile 1048576" "*    hard nofile 1048576" >"$ROOT$f"
    report set "limits.nofile" "no limits file (shell: $(ulimit -n))" "1048576" "$why"
  else
    report CHANGE "limits.nofile" "no $f (shell: $(ulimit -n))" "1048576" "$why"
  fi
}

irqbalance() {
  local why="irqbalance would move NIC and other IRQs back onto the trading core" state=""
  if [ -n "$ROOT" ] || ! command -v systemctl >/dev/null; then
    report "n/a" irqbalance "not available here (no systemctl)" inactive "$why"; return 0
  fi
  state="$(systemctl is-active irqbalance 2>/dev/null || true)"
  case "$state" in
    active)
      if [ "$MODE" = apply ] && systemctl stop irqbalance; then
        record service irqbalance active
        report set irqbalance active inactive "$why"
      else
        report CHANGE irqbalance active inactive "$why"
      fi ;;
    inactive|failed|unknown) report ok irqbalance "$state" inactive "$why" ;;
    *) report "n/a" irqbalance "not available here (${state:-no systemd})" inactive "$why" ;;
  esac
}

irq_affinity() {
  local why="every IRQ serviced on housekeeping CPUs [$HOUSE_CSV]: none interrupts the trading loop" d n=0 bad=0 moved=0 cur c irq
  if [ -z "$HOUSE" ]; then
    report CHANGE "irq.affinity" "no housekeeping CPU left" "trading != all CPUs" "keep at least one CPU for IRQs and the kernel"
    return 0
  fi
  for d in "$ROOT"/proc/irq/[0-9]*; do
    [ -r "$d/smp_affinity_list" ] || continue
    irq="${d##*/}"
    n=$((n + 1))
    cur="$(cat "$d/smp_affinity_list" 2>/dev/null || echo "")"
    local hit=0
    for c in $(expand_cpus "$cur" 2>/dev/null || echo ""); do
      case " $ISOLATE " in *" $c "*) hit=1 ;; esac
    done
    if [ "$hit" = 1 ]; then
      if [ "$MODE" = apply ] && write_value "/proc/irq/$irq/smp_affinity_list" "$HOUSE_CSV" 2>/dev/null; then moved=$((moved + 1)); else bad=$((bad + 1)); fi
    fi
  done
  if [ "$n" = 0 ]; then
    report "n/a" "irq.affinity" "not available here" "cpus $HOUSE_CSV" "$why"
  elif [ "$bad" -gt 0 ]; then
    report CHANGE "irq.affinity" "$bad of $n IRQs may run on [$ISOLATE_CSV]" "cpus $HOUSE_CSV" "$why (some IRQs, e.g. per-CPU timers, cannot move)"
  elif [ "$moved" -gt 0 ]; then
    report set "irq.affinity" "$moved of $n IRQs moved off [$ISOLATE_CSV]" "cpus $HOUSE_CSV" "$why"
  else
    report ok "irq.affinity" "$n IRQs off [$ISOLATE_CSV]" "cpus $HOUSE_CSV" "$why"
  fi
  # new IRQs (a NIC reset allocates them) start with this mask
  local p=/proc/irq/default_smp_affinity rec
  # shellcheck disable=SC2086
  rec="$(cpu_mask $HOUSE)"
  if cur="$(rd "$p")"; then
    if [ "$((16#${cur//,/}))" = "$((16#$rec))" ]; then
      report ok "irq.default_smp_affinity" "$cur" "$rec" "IRQs created later land on housekeeping CPUs too"
    elif [ "$MODE" = apply ] && write_value "$p" "$rec"; then
      report set "irq.default_smp_affinity" "$cur" "$rec" "IRQs created later land on housekeeping CPUs too"
    else
      report CHANGE "irq.default_smp_affinity" "$cur" "$rec" "IRQs created later land on housekeeping CPUs too"
    fi
  else
    report "n/a" "irq.default_smp_affinity" "not available here" "$rec" "IRQs created later land on housekeeping CPUs too"
  fi
}

KERNEL_ARGS="isolcpus=managed_irq,domain,$ISOLATE_CSV nohz_full=$ISOLATE_CSV rcu_nocbs=$ISOLATE_CSV irqaffinity=$HOUSE_CSV intel_idle.max_cstate=1 processor.max_cstate=1 clocksource=tsc tsc=reliable transparent_hugepage=madvise skew_tick=1"

cmdline() {
  local cur missing="" arg key val have c why="only a reboot can isolate a core: no scheduler load balancing, no tick, no RCU callbacks on it"
  cur="$(rd /proc/cmdline || echo "")"
  for arg in isolcpus nohz_full rcu_nocbs; do
    key="$(tr ' ' '\n' <<<"$cur" | grep "^$arg=" | tail -n 1 || true)"
    # isolcpus may carry flags before the list (managed_irq,domain,1): keep the numeric parts
    val="$(tr ',' '\n' <<<"${key#*=}" | grep -E '^[0-9]+(-[0-9]+)?$' | paste -sd, - || true)"
    have=" $(expand_cpus "$val" 2>/dev/null || echo "") "
    for c in $ISOLATE; do
      if [[ -z "$key" || "$have" != *" $c "* ]]; then missing="$missing $arg"; break; fi
    done
  done
  local isolated
  isolated="$(rd /sys/devices/system/cpu/isolated || echo "")"
  if [ -z "$missing" ]; then
    report ok "kernel.cmdline" "isolated=[${isolated}]" "isolcpus/nohz_full/rcu_nocbs=$ISOLATE_CSV" "$why"
  else
    report CHANGE "kernel.cmdline" "missing:${missing} (isolated=[${isolated}])" "isolcpus/nohz_full/rcu_nocbs=$ISOLATE_CSV" "$why"
  fi
}

revert() {
  if [ ! -s "$STATE" ]; then
    echo "linux-optimize: nothing to revert (no state file at $STATE)"
    return 0
  fi
  local kind key val failed=0
  # newest first
  while IFS=$'\t' read -r kind key val; do
    case "$kind" in
      file)
        if printf '%s\n' "$val" >"$ROOT$key" 2>/dev/null; then echo "restored $key = $val"; else echo "could not restore $key" >&2; failed=1; fi ;;
      created)
        rm -f "$ROOT$key" && echo "removed $key" ;;
      service)
        if [ "$val" = active ] && command -v systemctl >/dev/null; then systemctl start "$key" && echo "started $key"; fi ;;
      swap)
        if command -v swapon >/dev/null && swapon "$key"; then echo "swapon $key"; else echo "could not swapon $key" >&2; failed=1; fi ;;
    esac
  done < <(tac "$STATE")
  if [ "$failed" = 0 ]; then rm -f "$STATE"; else echo "linux-optimize: some values were not restored; state kept at $STATE" >&2; fi
  return "$failed"
}

# ---------------------------------------------------------------------------------------------------------------

if [ "$MODE" = revert ]; then
  revert
  exit $?
fi

echo "# tickwire linux-optimize --$MODE: trading cores [$TRADING_CSV], isolated [$ISOLATE_CSV], housekeeping [$HOUSE_CSV], kernel $(uname -r)"
echo "# status: ok = matches, CHANGE = differs, set = changed now (--apply), n/a = not available here (not counted)"
sysctls
thp thp.enabled /sys/kernel/mm/transparent_hugepage/enabled madvise "madvise never" \
  "'always' lets khugepaged compact and collapse the V8 heap under the engine (ms stalls); madvise keeps huge pages opt-in (node --use-largepages)"
thp thp.defrag /sys/kernel/mm/transparent_hugepage/defrag never "never defer defer+madvise" \
  "no direct compaction stall inside a page fault on the hot path"
governor
cstates
clocksource
swap
fd_limits
irqbalance
irq_affinity
cmdline
if [ "$MODE" = apply ]; then persist_sysctls; fi

echo "#"
echo "# kernel command line for this layout (add it yourself, then reboot; this script never edits boot files):"
echo "#   $KERNEL_ARGS"
echo "#   Debian: GRUB_CMDLINE_LINUX_DEFAULT in /etc/default/grub (or a file in /etc/default/grub.d/), then update-grub."
echo "#   Deepest latency: add idle=poll (the trading core never sleeps; burns power). EC2: C-state control needs a"
echo "#   metal or full-socket instance type (c7i.metal-24xl, z1d.metal); on smaller sizes the hypervisor owns it."
if [ "$MODE" = apply ]; then
  echo "# previous values saved in $STATE (restore with --revert)."
fi
if [ "$MISMATCH" -gt 0 ]; then
  echo "# $MISMATCH setting(s) differ from the recommendation."
  exit 1
fi
echo "# every available setting matches."
exit 0
