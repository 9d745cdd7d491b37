# Shared by scripts/fuzz and tests/fuzz/run-bounded: build the fuzz
# targets and run one for a bounded time. Sourced, not run.
#
#   FUZZ_BUILD   the build directory (default: ROOT/build-fuzz; env
#                ROSTRUM_FUZZ_BUILD overrides)
#   FUZZ_TARGETS every target, in the order they are run

. "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib.sh"

FUZZ_DIR="$ROOT/tests/fuzz"
FUZZ_BUILD=${ROSTRUM_FUZZ_BUILD:-$ROOT/build-fuzz}
FUZZ_TARGETS="cmd jwt admin journal event session api realip record keyring revoke"
FUZZ_DICT="$FUZZ_DIR/corpus/rostrum.dict"

# UBSan stops at its first report (the targets are also built with
# -fno-sanitize-recover); ASan aborts so that libFuzzer saves the input.
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}

# fuzz_check_target NAME: exits with a message for an unknown target.
fuzz_check_target() {
    case " $FUZZ_TARGETS " in
    *" $1 "*) ;;
    *) echo "unknown fuzz target '$1' (targets: $FUZZ_TARGETS)" >&2; exit 2 ;;
    esac
}

# fuzz_build: installs clang and its libFuzzer runtime when missing,
# configures FUZZ_BUILD once and builds the targets (only them: the rest of
# the project is not held to clang's warnings here).
fuzz_build() {
    apt_ensure $BUILD_PACKAGES
    command -v clang >/dev/null || apt_ensure clang
    local probe
    probe=$(mktemp -d)
    echo 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { return d && n; }' \
        >"$probe/p.c"
    if ! clang -fsanitize=fuzzer "$probe/p.c" -o "$probe/p" 2>/dev/null; then
        apt_ensure libclang-rt-14-dev
    fi
    rm -rf "$probe"
    if [ ! -f "$FUZZ_BUILD/build.ninja" ]; then
        CC=clang meson setup "$FUZZ_BUILD" "$ROOT" -Dfuzz=true \
            -Db_sanitize=address,undefined -Db_lundef=false >&2 || return 1
    fi
    local t targets=("tests/fuzz/gen-corpus")
    for t in $FUZZ_TARGETS; do
        targets+=("tests/fuzz/fuzz_$t")
    done
    ninja -C "$FUZZ_BUILD" "${targets[@]}" >&2
}

# fuzz_run TARGET SECONDS ARTIFACTS [LIBFUZZER_ARGS...]: fuzzes TARGET for
# SECONDS, starting from its seed corpus, the inputs it found before
# (FUZZ_BUILD/fuzz-work/TARGET, where new ones go) and the saved crashes
# (regressions). A crashing input is written under ARTIFACTS/. Sets
# FUZZ_EXECS, FUZZ_EXECS_PER_S, FUZZ_COV, FUZZ_FT, FUZZ_CORPUS, FUZZ_RSS,
# FUZZ_LOG and FUZZ_RESULT (ok, CRASH, TIMEOUT, OOM or LEAK); returns 0 only
# for ok.
fuzz_run() {
    local t=$1 secs=$2 art=$3
    shift 3
    local work="$FUZZ_BUILD/fuzz-work/$t"
    local seeds=("$FUZZ_DIR/corpus/$t")
    mkdir -p "$work" "$art"
    # Saved crashes are regressions: replayed first, unless FUZZ_WITH_CRASHES
    # is 0 (scripts/fuzz --keep-going, where they would only be found again).
    if [ "${FUZZ_WITH_CRASHES:-1}" = 1 ] && [ -d "$FUZZ_DIR/crashes/$t" ]; then
        seeds+=("$FUZZ_DIR/crashes/$t")
    fi
    FUZZ_LOG="$FUZZ_BUILD/fuzz-$t.log"
    "$FUZZ_BUILD/tests/fuzz/fuzz_$t" -max_total_time="$secs" -print_final_stats=1 \
        -timeout=10 -rss_limit_mb=4096 -dict="$FUZZ_DICT" -artifact_prefix="$art/" \
        "$@" "$work" "${seeds[@]}" >"$FUZZ_LOG" 2>&1
    local rc=$?
    # The last status line: "#N DONE cov: C ft: F corp: K/S ..." (or, with
    # -fork, "#N: cov: C ft: F corp: K ...").
    local last
    last=$(grep -E '^#[0-9]+:?[[:space:]].*cov: ' "$FUZZ_LOG" | tail -1)
    FUZZ_COV=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
    FUZZ_FT=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
    FUZZ_CORPUS=$(sed -n 's/.* corp: \([0-9]*\).*/\1/p' <<<"$last")
    FUZZ_EXECS=$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\)/\1/p' "$FUZZ_LOG" | tail -1)
    [ -n "$FUZZ_EXECS" ] || FUZZ_EXECS=$(sed -n 's/^#\([0-9]*\).*/\1/p' <<<"$last")
    FUZZ_EXECS_PER_S=$(sed -n 's/^stat::average_exec_per_sec: *\([0-9]*\)/\1/p' "$FUZZ_LOG" | tail -1)
    FUZZ_RSS=$(sed -n 's/^stat::peak_rss_mb: *\([0-9]*\)/\1/p' "$FUZZ_LOG" | tail -1)
    : "${FUZZ_COV:=0}" "${FUZZ_FT:=0}" "${FUZZ_CORPUS:=0}" "${FUZZ_EXECS:=0}"
    : "${FUZZ_EXECS_PER_S:=0}" "${FUZZ_RSS:=0}"
    FUZZ_RESULT=ok
    if grep -q 'ERROR: libFuzzer: timeout' "$FUZZ_LOG"; then
        FUZZ_RESULT=TIMEOUT
    elif grep -qE 'ERROR: libFuzzer: out-of-memory|ERROR: libFuzzer: malloc' "$FUZZ_LOG"; then
        FUZZ_RESULT=OOM
    elif grep -q 'ERROR: LeakSanitizer' "$FUZZ_LOG"; then
        FUZZ_RESULT=LEAK
    elif [ $rc != 0 ] || grep -qE 'oom/timeout/crash: [0-9]+/[0-9]+/[1-9]' "$FUZZ_LOG"; then
        FUZZ_RESULT=CRASH
    fi
    [ "$FUZZ_RESULT" = ok ]
}

# fuzz_report: the report of a failed run (the input's path, then the
# sanitizer's or the check's own lines), from FUZZ_LOG; says so when the
# input is one of the saved crashes (a regression that is not fixed yet).
fuzz_report() {
    local art f saved
    art=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$FUZZ_LOG" | tail -1)
    if [ -n "$art" ] && [ -f "$art" ]; then
        for f in "$FUZZ_DIR"/crashes/*/*; do
            [ -f "$f" ] && cmp -s "$f" "$art" && saved=${f#"$ROOT"/}
        done
        [ -n "${saved:-}" ] && echo "the saved crash $saved still crashes (not fixed yet)"
    fi
    grep -E 'Test unit written to|FUZZ_CHECK|runtime error|ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|^ *#[0-9]+ 0x[0-9a-f]+ in [a-z_]+ /' \
        "$FUZZ_LOG" | grep -vE ' in (fuzzer::|__sanitizer|__asan|__ubsan|__interceptor|abort|raise|__libc|__pthread)' \
        | sed -E 's/^ *#[0-9]+ 0x[0-9a-f]+ in /    in /; s/==[0-9]+== //' | awk '!seen[$0]++' | head -30
}

# The sources of the fuzz libraries (as tests/fuzz/meson.build reads them).
FUZZ_CORE_SRC="$("$FUZZ_DIR/sources" "$ROOT" core | tr '\n' ' ') tests/fuzz/fuzz_common.c"
FUZZ_SERVER_SRC="$("$FUZZ_DIR/sources" "$ROOT" server | tr '\n' ' ') tests/fuzz/fuzz_server.c"

# fuzz_coverage TARGET...: line coverage of the parsers reached by each
# target's whole corpus (seeds and what fuzzing found), with
# clang's source-based coverage in FUZZ_BUILD/coverage (saved crashes are
# not replayed: the first would end the run). Prints llvm-cov's
# per-file table for the server's sources and sets FUZZ_COV_LINES to the
# TOTAL line coverage ("85.12%").
fuzz_coverage() {
    local dir="$FUZZ_BUILD/coverage" t objs=() flags
    mkdir -p "$dir"
    rm -f "$dir"/*.profraw
    flags=$(pkg-config --cflags --libs jansson openssl hiredis)
    for t in "$@"; do
        local src="$FUZZ_CORE_SRC"
        case $t in session | api | journal) src="$src $FUZZ_SERVER_SRC" ;; esac
        (cd "$ROOT" && clang -std=c11 -O1 -g -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE \
            -fsanitize=fuzzer -fprofile-instr-generate -fcoverage-mapping \
            -Iprotocol -Iserver -Itests/fuzz "tests/fuzz/fuzz_$t.c" $src $flags -lm \
            -o "$dir/fuzz_$t") || return 1
        local inputs=("$FUZZ_DIR/corpus/$t")
        [ -d "$FUZZ_BUILD/fuzz-work/$t" ] && inputs+=("$FUZZ_BUILD/fuzz-work/$t")
        # Saved crashes are left out: the first would stop the run.
        LLVM_PROFILE_FILE="$dir/$t.profraw" "$dir/fuzz_$t" -runs=0 "${inputs[@]}" \
            >"$dir/$t.log" 2>&1 || echo "coverage run of $t stopped early (see $dir/$t.log)" >&2
        objs+=(-object "$dir/fuzz_$t")
    done
    llvm-profdata merge -sparse "$dir"/*.profraw -o "$dir/all.profdata" || return 1
    local report
    report=$(cd "$ROOT" && llvm-cov report "${objs[@]:1}" -instr-profile="$dir/all.profdata" \
        $(echo $FUZZ_CORE_SRC $FUZZ_SERVER_SRC | tr ' ' '\n' | grep -v '^tests/' | grep -vx 'server/log.c'))
    echo "$report"
    FUZZ_COV_LINES=$(awk '/^TOTAL/ {print $(NF-3)}' <<<"$report")
}
