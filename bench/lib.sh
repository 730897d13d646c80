# Shared by the benchmark scripts (sourced, bash).

# bench_series NAME [DIR]: the series to measure (DIR, default the one
# bench/make_series.sh builds) as series, files[] (sorted .dcm paths), nfiles
# and bytes; exits 5 when /usr/bin/time or the files are missing.
bench_series() {
    local name=$1
    [ -x /usr/bin/time ] || { echo "$name: /usr/bin/time missing (tools/install-deps.sh)" >&2; exit 5; }
    series=${2:-$(bench/make_series.sh)}
    mapfile -t files < <(find "$series" -maxdepth 1 -name '*.dcm' | sort)
    nfiles=${#files[@]}
    [ "$nfiles" -gt 0 ] || { echo "$name: no .dcm files in $series" >&2; exit 5; }
    bytes=$(cat "${files[@]}" | wc -c)
}
