#!/bin/bash
# Benchmark of issue 5: `medseal protect --scheme cms --to CERT` and
# `medseal unprotect` of the 512x512x1000 series, against, in the same run:
#   - the AES-256-GCM limit of one core (`openssl speed -elapsed -bytes 16384
#     -evp aes-256-gcm`; for all cores: times the number of CPUs),
#   - `openssl cms -encrypt -aes-256-gcm` (and `-decrypt`) per file, a shell loop,
#   - `gdcmanon -e -c CERT` per file, a shell loop (GDCM: RSA recipients only),
#   - seed 001 in Python (bench/seed001_python.py: pydicom + cryptography,
#     AES-256-GCM of the Pixel Data of each file),
#   - `cp -r` of the series (the cost of writing the bytes, nothing else) and
#     `dd conv=fsync` of as many bytes (what the disk takes to store them durably).
# A benchmark, not a test: it prints figures, appends them to bench/RESULTS.md,
# and never fails on time.
#
# usage: bench/protect.sh [SERIES_DIR]
#   SERIES_DIR  default: the 512x512x1000 series of bench/make_series.sh
# environment:
#   RUNS=3        timed runs of the medseal cases, cp, dd and openssl speed (best kept)
#   PEER_RUNS=1   timed runs of the per-file peers (slow: one is the default)
#   OUT_DIR=bench/work/protect-out   where outputs go (same file system as the series
#                 by default); every run writes a fresh directory (re-creating files
#                 over just-deleted inodes costs ext4 more than a first run), all
#                 removed at the end
#   RESULTS=bench/RESULTS.md   where the section is appended ("-" for none)
#   MEDSEAL_BUILD=build        the Release build directory (built if needed)
#   QUIET=0.5     wait (at most 15 minutes) until the 1-minute load average is below
#                 this before measuring; 0 = do not wait
#
# Wall time: best of the runs; CPU: user + system time of that run (cores used =
# CPU / wall); peak memory: largest maximum RSS over the runs (/usr/bin/time %M;
# for a shell loop, its largest child). MB = 10^6 bytes, as openssl speed counts.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
runs=${RUNS:-3}
peer_runs=${PEER_RUNS:-1}
results=${RESULTS:-$root/bench/RESULTS.md}
bdir=${MEDSEAL_BUILD:-build}
out=${OUT_DIR:-$root/bench/work/protect-out}
py=/usr/bin/python3
invocation="${RUNS:+RUNS=$RUNS }${PEER_RUNS:+PEER_RUNS=$PEER_RUNS }bench/protect.sh${1:+ $1}"

# shellcheck source=bench/lib.sh
. bench/lib.sh
bench_series protect.sh "${1:-}"
ncpu=$(nproc)

tools/build.sh "$bdir" >/dev/null
medseal=$root/$bdir/medseal
tmp=$(mktemp -d)
rm -rf "$out"
mkdir -p "$out"
trap 'rm -rf "$tmp" "$out"' EXIT

# ---- keys -------------------------------------------------------------------------------
"$medseal" -q keygen --type rsa3072 --cn bench-rsa -o "$tmp/rsa" >/dev/null
"$medseal" -q keygen --type p256 --cn bench-ec -o "$tmp/ec" >/dev/null
openssl rand -out "$tmp/aes.key" 32
have_gdcm=0; command -v gdcmanon >/dev/null && have_gdcm=1
have_py=0; $py -c 'import pydicom, cryptography' 2>/dev/null && have_py=1

# ---- cases: name|runs|function [ARG]|input case; each function gets OUT IN ARG -------------
export S=$series R=$tmp/rsa E=$tmp/ec MEDSEAL=$medseal PY=$py AESKEY=$tmp/aes.key
export ROOT=$root DD_MB=$((bytes / 1048576))
ms_protect() { "$MEDSEAL" -q protect --scheme cms --to "$3" "$S" -o "$1"; } # OUT _ CERT
ms_unprotect() { "$MEDSEAL" -q unprotect --key "$3" "$2" -o "$1"; } # OUT IN KEY
ms_protect_nosync() { "$MEDSEAL" -q protect --sync none --scheme cms --to "$3" "$S" -o "$1"; }
ms_unprotect_nosync() { "$MEDSEAL" -q unprotect --sync none --key "$3" "$2" -o "$1"; }
ossl_enc() { # OUT _ CERT [keyopt...]
    local o=$1 cert=$3 f; shift 3
    mkdir -p "$o"
    for f in "$S"/*.dcm; do
        openssl cms -encrypt -binary -outform DER -aes-256-gcm -recip "$cert" "$@" \
            -in "$f" -out "$o/${f##*/}.p7m" || return 1
    done
}
ossl_enc_rsa() { ossl_enc "$1" "" "$R.cert.pem" -keyopt rsa_padding_mode:oaep -keyopt rsa_oaep_md:sha256; }
ossl_enc_ec() { ossl_enc "$1" "" "$E.cert.pem" -keyopt ecdh_kdf_md:sha256; }
ossl_dec_rsa() {
    local f
    mkdir -p "$1"
    for f in "$2"/*.p7m; do
        openssl cms -decrypt -inform DER -binary -inkey "$R.key.pem" -in "$f" \
            -out "$1/$(basename "$f" .p7m)" || return 1
    done
}
gdcm_enc() {
    local f
    mkdir -p "$1"
    for f in "$S"/*.dcm; do gdcmanon -e -c "$R.cert.pem" -i "$f" -o "$1/${f##*/}" || return 1; done
}
py_seed001() { "$PY" "$ROOT/bench/seed001_python.py" "$AESKEY" "$S" "$1"; }
copy() { cp -r "$S" "$1"; }
dd_sync() { mkdir -p "$1" && dd if=/dev/zero of="$1/dd" bs=1M count="$DD_MB" conv=fsync status=none; }
export -f ms_protect ms_protect_nosync ms_unprotect ms_unprotect_nosync ossl_enc ossl_enc_rsa ossl_enc_ec ossl_dec_rsa gdcm_enc \
    py_seed001 copy dd_sync

# name|runs|function [ARG]|input case|compared with (medseal case; "=" medseal itself,
# "-" not encryption: no comparison, no share of the GCM limit)
P_RSA="medseal protect (RSA-3072)"
P_EC="medseal protect (EC P-256)"
U_RSA="medseal unprotect (RSA-3072)"
PN_RSA="medseal protect --sync none (RSA-3072)"
UN_RSA="medseal unprotect --sync none (RSA-3072)"
cases=(
    "$P_RSA|$runs|ms_protect $R.cert.pem||="
    "$U_RSA|$runs|ms_unprotect $R.key.pem|$P_RSA|="
    "$P_EC|$runs|ms_protect $E.cert.pem||="
    "medseal unprotect (EC P-256)|$runs|ms_unprotect $E.key.pem|$P_EC|="
    "$PN_RSA|$runs|ms_protect_nosync $R.cert.pem||="
    "$UN_RSA|$runs|ms_unprotect_nosync $R.key.pem|$PN_RSA|="
    "medseal protect --sync none (EC P-256)|$runs|ms_protect_nosync $E.cert.pem||="
    "openssl cms -encrypt per file (RSA-3072)|$peer_runs|ossl_enc_rsa||$P_RSA"
    "openssl cms -decrypt per file (RSA-3072)|$peer_runs|ossl_dec_rsa|$P_RSA|$U_RSA"
    "openssl cms -encrypt per file (EC P-256)|$peer_runs|ossl_enc_ec||$P_EC"
)
[ "$have_gdcm" = 1 ] && cases+=("gdcmanon -e per file (RSA-3072)|$peer_runs|gdcm_enc||$P_RSA")
[ "$have_py" = 1 ] && cases+=("Python seed 001 (pydicom + cryptography)|$peer_runs|py_seed001||$P_RSA")
cases+=(
    "cp -r (copy, no encryption, no fsync)|$runs|copy||-"
    "dd conv=fsync (same bytes, durable)|$runs|dd_sync||-"
)
ncases=${#cases[@]}

declare -A last_out
run_case() { # index run -> wall cpu rss in globals
    local spec=${cases[$1]} name fn arg from o in=""
    IFS='|' read -r name _ fn from _ <<<"$spec"
    o=$out/c$1-r$2
    if [ -n "$from" ]; then
        in=${last_out[$from]:-}
        [ -n "$in" ] || { echo "protect.sh: '$name' needs '$from' first" >&2; exit 5; }
    fi
    read -r fn arg <<<"$fn" # the function and its one extra argument (certificate, key)
    s=$EPOCHREALTIME
    if ! /usr/bin/time -f '%U %S %M' -o "$tmp/time" bash -c "$fn \"\$@\"" _ "$o" "$in" "$arg" \
            >/dev/null 2>"$tmp/err"; then
        echo "protect.sh: '$name' failed:" >&2
        tail -n 5 "$tmp/err" >&2
        exit 5
    fi
    e=$EPOCHREALTIME
    wall=$(awk -v s="$s" -v e="$e" 'BEGIN { printf "%.4f", e - s }')
    read -r usr sys rss < <(tail -n 1 "$tmp/time")
    cpu=$(awk -v u="$usr" -v s="$sys" 'BEGIN { printf "%.2f", u + s }')
    last_out[$name]=$o
}

gcm_limit() { # best of RUNS, bytes/s of one core
    local best=0 v i
    for ((i = 0; i < runs; i++)); do
        v=$(openssl speed -elapsed -bytes 16384 -evp aes-256-gcm 2>/dev/null |
            awk '/^AES-256-GCM/ { sub(/k$/, "", $2); printf "%.0f", $2 * 1000 }')
        [ "${v:-0}" -gt "$best" ] && best=$v
    done
    echo "$best"
}

echo "protect.sh: $nfiles files, $((bytes / 1000000)) MB in $series; outputs in $out" >&2
quiet=${QUIET:-0.5}
for ((waited = 0; waited < 900; waited += 15)); do
    awk -v l="$(cut -d' ' -f1 /proc/loadavg)" -v q="$quiet" 'BEGIN { exit !(q == 0 || l < q) }' && break
    [ "$waited" = 0 ] && echo "protect.sh: waiting for the load average to drop below $quiet" >&2
    sleep 15
done
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
cat "${files[@]}" >/dev/null
limit=$(gcm_limit)
declare -a best bcpu peak nrun
for ((i = 0; i < ncases; i++)); do best[i]=999999; bcpu[i]=0; peak[i]=0; done
maxruns=$runs; [ "$peer_runs" -gt "$maxruns" ] && maxruns=$peer_runs
for ((r = 1; r <= maxruns; r++)); do
    echo "protect.sh: run $r/$maxruns" >&2
    for ((i = 0; i < ncases; i++)); do
        n=${cases[i]#*|}; n=${n%%|*}
        [ "$r" -le "$n" ] || continue
        run_case "$i" "$r"
        if awk -v a="$wall" -v b="${best[i]}" 'BEGIN { exit !(a < b) }'; then
            best[i]=$wall; bcpu[i]=$cpu
        fi
        [ "$rss" -gt "${peak[i]}" ] && peak[i]=$rss
    done
done
limit2=$(gcm_limit)
[ "$limit2" -gt "$limit" ] && limit=$limit2
# the private-key operation every file of an unprotect needs, per second of one core
rsa_ops=$(openssl speed -elapsed -seconds 2 rsa3072 2>/dev/null | awk '/^rsa 3072 bits/ { print $6 }')
ec_ops=$(openssl speed -elapsed -seconds 2 ecdhp256 2>/dev/null | awk '/ecdh \(nistp256\)/ { print $(NF) }')
load_end=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- checks: bit-exact round trips ---------------------------------------------------------
check() { diff -r -x .complete "$series" "${last_out[$1]}" >/dev/null && echo "bit-exact" || echo "DIFFERS"; }
chk_rsa=$(check "medseal unprotect (RSA-3072)")
chk_ec=$(check "medseal unprotect (EC P-256)")
chk_ossl=$(check "openssl cms -decrypt per file (RSA-3072)")
# openssl opens medseal's files and medseal's run opens openssl's: shown by the two rows above

# ---- report ---------------------------------------------------------------------------------
idx() { local i; for ((i = 0; i < ncases; i++)); do [ "${cases[i]%%|*}" = "$1" ] && echo "$i" && return; done; echo -1; }
t() { local i; i=$(idx "$1"); [ "$i" -ge 0 ] && echo "${best[i]}" || echo ""; }
c() { local i; i=$(idx "$1"); [ "$i" -ge 0 ] && echo "${bcpu[i]}" || echo ""; }
m() { local i; i=$(idx "$1"); [ "$i" -ge 0 ] && echo "${peak[i]}" || echo ""; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b == 0) print "n/a"; else printf "%.1fx", a / b }'; }
verdict() { awk -v v="$1" -v op="$2" -v lim="$3" 'BEGIN { if (v == "n/a" || v == "") { print "n/a"; exit } v += 0; ok = (op == ">=") ? v >= lim : v < lim; print ok ? "met" : "MISSED" }'; }
# share of the GCM limit: per core used (MB/s / cores used / limit) and of all CPUs
per_core() { awk -v b="$bytes" -v w="$1" -v cpu="$2" -v l="$limit" 'BEGIN { printf "%.0f", 100 * (b / cpu) / l }'; }
all_cpus() { awk -v b="$bytes" -v w="$1" -v n="$ncpu" -v l="$limit" 'BEGIN { printf "%.0f", 100 * (b / w) / (n * l) }'; }
cores() { awk -v w="$1" -v cpu="$2" 'BEGIN { printf "%.2f", cpu / w }'; }

cpu_model=$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')
fs=$(df -T "$out" | awk 'NR == 2 { print $2 }')
tp=$(t "medseal protect (RSA-3072)"); cp_=$(c "medseal protect (RSA-3072)")
tu=$(t "medseal unprotect (RSA-3072)"); cu=$(c "medseal unprotect (RSA-3072)")
tpe=$(t "medseal protect (EC P-256)"); cpe=$(c "medseal protect (EC P-256)")
tue=$(t "medseal unprotect (EC P-256)"); cue=$(c "medseal unprotect (EC P-256)")
mem=0
for n in "medseal protect (RSA-3072)" "medseal unprotect (RSA-3072)" "medseal protect (EC P-256)" "medseal unprotect (EC P-256)"; do
    k=$(m "$n"); [ "$k" -gt "$mem" ] && mem=$k
done
section=$(
    echo
    echo "## protect / unprotect (cms) — $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo
    echo "- command: \`$invocation\` (commit $(git rev-parse --short HEAD 2>/dev/null || echo '?'))"
    echo "- machine: $ncpu CPUs, $cpu_model, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo) RAM, $(uname -sr); outputs on $fs ($out)"
    echo "- load average: $load_start at the start, $load_end at the end (other jobs share the CPUs when it is above 0)"
    echo "- input: $nfiles files, $((bytes / 1000000)) MB ($series), warm page cache"
    echo "- peers: $(openssl version | cut -d' ' -f1-2), $(gdcmanon --version 2>/dev/null | head -n 1 | cut -d' ' -f2-3 | tr -d '$'), pydicom $($py -c 'import pydicom; print(pydicom.__version__)' 2>/dev/null || echo -), cryptography $($py -c 'import cryptography; print(cryptography.__version__)' 2>/dev/null || echo -), Python $($py -c 'import platform; print(platform.python_version())')"
    echo "- AES-256-GCM limit (\`openssl speed -elapsed -bytes 16384 -evp aes-256-gcm\`, best of $((2 * runs))): $((limit / 1000000)) MB/s per core, $((ncpu * limit / 1000000)) MB/s for the $ncpu CPUs"
    echo "- method: medseal, cp and dd best of $runs runs, per-file peers $peer_runs run(s), interleaved; each run writes a fresh directory; medseal with its defaults (\`--sync file\`: every output fsync'ed before its rename, 4 workers per CPU) and with \`--sync none\` (renamed without fsync, as the peers, cp and Python write; 2 workers per CPU)"
    echo "- round trips: medseal RSA $chk_rsa, medseal EC $chk_ec, \`openssl cms -decrypt\` of medseal's files $chk_ossl"
    awk -v b="$bytes" -v l="$limit" -v cpc="$(c 'cp -r (copy, no encryption, no fsync)')" -v n="$nfiles" \
        -v rsa="${rsa_ops:-0}" -v ec="${ec_ops:-0}" 'BEGIN {
        aes = b / l;
        printf "- ceilings on this machine, CPU per byte: AES-256-GCM at the limit (%.2f s) plus what `cp -r` spends to write the same files (%.2f s) gives at most %.0f%% of the limit per core used for any file-to-file encryption; ", aes, cpc, 100 * aes / (aes + cpc);
        if (rsa > 0) printf "an RSA-3072 private-key operation per file (openssl speed: %.0f/s, %.2f s for %d files) caps unprotect with RSA at %.0f%%; ", rsa, n / rsa, n, 100 * aes / (aes + cpc + n / rsa);
        if (ec > 0) printf "ECDH P-256 (%.0f/s, %.2f s) caps unprotect with EC at %.0f%%", ec, n / ec, 100 * aes / (aes + cpc + n / ec);
        printf "\n" }'
    echo
    echo "| case | wall s | MB/s | CPU s | cores used | per core used, of the GCM limit | of the $ncpu-CPU GCM limit | peak RSS MiB | medseal faster by |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
    for ((i = 0; i < ncases; i++)); do
        ref=${cases[i]##*|}
        case $ref in "=") tr=""; cr=1 ;; "-") tr=""; cr=0 ;; *) tr=$(t "$ref"); cr=1 ;; esac
        awk -v n="${cases[i]%%|*}" -v w="${best[i]}" -v u="${bcpu[i]}" -v k="${peak[i]}" \
            -v b="$bytes" -v tr="$tr" -v cr="$cr" -v l="$limit" -v nc="$ncpu" 'BEGIN {
                pc = (cr && u > 0) ? sprintf("%.0f%%", 100 * (b / u) / l) : "-";
                pa = cr ? sprintf("%.0f%%", 100 * (b / w) / (nc * l)) : "-";
                vs = (tr != "") ? sprintf("%.1fx", w / tr) : "-";
                printf "| %s | %.3f | %.0f | %.2f | %.2f | %s | %s | %.1f | %s |\n",
                       n, w, b / 1e6 / w, u, u / w, pc, pa, k / 1024, vs }'
    done
    echo
    echo "| target | figure | verdict |"
    echo "|---|---:|---|"
    v=$(per_core "$tp" "$cp_"); echo "| protect (RSA) ≥ 70% of the GCM limit per core used | $v% | $(verdict "$v" '>=' 70) |"
    v=$(per_core "$tpe" "$cpe"); echo "| protect (EC) ≥ 70% of the GCM limit per core used | $v% | $(verdict "$v" '>=' 70) |"
    v=$(per_core "$tu" "$cu"); echo "| unprotect (RSA) ≥ 70% of the GCM limit per core used | $v% | $(verdict "$v" '>=' 70) |"
    v=$(per_core "$tue" "$cue"); echo "| unprotect (EC) ≥ 70% of the GCM limit per core used | $v% | $(verdict "$v" '>=' 70) |"
    v=$(cores "$tp" "$cp_"); echo "| protect (RSA) uses both cores (cores used ≥ 1.5 of $ncpu) | $v | $(verdict "$v" '>=' 1.5) |"
    v=$(cores "$tu" "$cu"); echo "| unprotect (RSA) uses both cores (cores used ≥ 1.5 of $ncpu) | $v | $(verdict "$v" '>=' 1.5) |"
    v=$(awk -v k="$mem" 'BEGIN { printf "%.1f", k / 1024 }'); echo "| peak RSS of every medseal run < 64 MiB | $v MiB | $(verdict "$v" '<' 64) |"
    tpn=$(t "$PN_RSA"); tun=$(t "$UN_RSA")
    for pair in "openssl cms -encrypt per file (RSA-3072)|5|protect" "gdcmanon -e per file (RSA-3072)|5|protect" \
                "openssl cms -decrypt per file (RSA-3072)|5|unprotect" "Python seed 001 (pydicom + cryptography)|10|protect"; do
        IFS='|' read -r peer want op <<<"$pair"
        if [ "$op" = protect ]; then a=$tp; b=$tpn; else a=$tu; b=$tun; fi
        r=$(ratio "$(t "$peer")" "$a"); rn=$(ratio "$(t "$peer")" "$b")
        echo "| $op ≥ ${want}x $peer (medseal default; --sync none as the peer writes) | $r; $rn | $(verdict "${r%x}" '>=' "$want"); $(verdict "${rn%x}" '>=' "$want") |"
    done
)
echo "$section"
[ "$results" = "-" ] || echo "$section" >>"$results"
