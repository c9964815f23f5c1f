#!/usr/bin/env bash
# upager.sh: build, test and CI entry point for upager.
#
#   ./upager.sh demo      build (Release) and run `upager demo` (extra arguments go to it)
#   ./upager.sh bench     build (Release) and run `upager bench` (extra arguments go to it)
#   ./upager.sh test      build (RelWithDebInfo) and run every test with ctest
#   ./upager.sh ci        everything CI checks (see cmd_ci below); .ci/run calls this.
#                         `./upager.sh ci asan tsan` runs only the named steps
#                         (checks gcc asan tsan install demo fuzz; clang on request)
#   ./upager.sh format    check clang-format on the tree (--fix to rewrite files)
#   ./upager.sh tidy      run clang-tidy on src/ and examples/
#   ./upager.sh deps      only install missing Debian packages
#
# Every command first installs the Debian packages it needs if any are missing (as root, or
# through sudo). Builds go to build/<name>/ with Ninja. Environment: UPAGER_JOBS (parallel
# jobs, default: number of CPUs).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$ROOT"
JOBS="${UPAGER_JOBS:-$(nproc 2>/dev/null || echo 2)}"
DEB_PACKAGES=(cmake ninja-build g++ clang libboost-dev libgtest-dev libgmock-dev
              libbenchmark-dev pkg-config
              # the repository checks (tools/check_*.py)
              python3
              # the providers and the upager command
              liburing-dev libzstd-dev libxxhash-dev libcurl4-openssl-dev libcli11-dev
              # HttpProvider's tests serve files with nginx; `upager bench` compares with
              # zstd and curl
              nginx zstd curl
              # S3Provider's tests run against a one-node Ceph object gateway
              # (tests/s3/start-ceph-rgw.sh)
              radosgw ceph-mon ceph-osd ceph-common)

log() { printf '\n==> %s\n' "$*"; }
die() {
  printf '\nupager.sh: FAILED: %s\n' "$*" >&2
  exit 1
}

as_root() {
  if [[ "$(id -u)" -eq 0 ]]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    die "need root (or sudo) to run: $*"
  fi
}

# Installs whichever of DEB_PACKAGES (plus "$@") are missing; apt-get update only if needed.
ensure_deps() {
  if ! command -v dpkg-query >/dev/null 2>&1; then
    echo "upager.sh: not a Debian system; assuming build dependencies are installed" >&2
    return 0
  fi
  local missing=() pkg
  for pkg in "${DEB_PACKAGES[@]}" "$@"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
      missing+=("$pkg")
    fi
  done
  if ((${#missing[@]} == 0)); then
    return 0
  fi
  log "installing missing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get update -qq </dev/null || die "apt-get update"
  as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null ||
    die "apt-get install ${missing[*]}"
}

# configure_and_build <build dir> [cmake args...]
configure_and_build() {
  local dir="$1"
  shift
  log "configure $dir ($*)"
  cmake -S "$ROOT" -B "$dir" -G Ninja "$@" </dev/null || die "configuring $dir"
  log "build $dir"
  cmake --build "$dir" -j "$JOBS" </dev/null || die "building $dir"
}

# Command prefix for running sanitized binaries (set by prepare_sanitizer_runs).
RUN_PREFIX=()
RESTORE_RND_BITS=""

# Writes vm.mmap_rnd_bits (without needing procps' sysctl).
set_rnd_bits() {
  as_root sh -c "echo $1 > /proc/sys/vm/mmap_rnd_bits" 2>/dev/null
}

restore_rnd_bits() {
  if [[ -n "$RESTORE_RND_BITS" ]]; then
    set_rnd_bits "$RESTORE_RND_BITS" || true
    RESTORE_RND_BITS=""
  fi
}
trap restore_rnd_bits EXIT

# The sanitizer runtimes of g++ 12 / clang 14 predate kernels that randomize mmap with
# more than 28 bits: TSan dies with "unexpected memory mapping", ASan with a shadow
# overlap. Probe with the demo; if that is what happens, run without ASLR (setarch -R),
# and failing that lower vm.mmap_rnd_bits for the duration of this script.
# prepare_sanitizer_runs <build dir>
prepare_sanitizer_runs() {
  local probe="$1/examples/page_source_demo" out
  local layout_re='unexpected memory mapping|memory layout is incompatible|Shadow memory range interleaves|mmap_rnd_bits'
  RUN_PREFIX=()
  [[ -x "$probe" ]] || die "$probe was not built (UPAGER_BUILD_EXAMPLES=OFF?)"
  if out="$(timeout 120 "$probe" 2>&1 </dev/null)"; then
    return 0
  fi
  if ! grep -qE "$layout_re" <<<"$out"; then
    printf '%s\n' "$out" >&2
    die "page_source_demo failed in $1"
  fi
  log "sanitizer runtime rejects this kernel's memory layout; retrying with ASLR off (setarch -R)"
  local arch
  arch="$(uname -m)"
  if command -v setarch >/dev/null 2>&1 &&
    timeout 120 setarch "$arch" -R "$probe" >/dev/null 2>&1 </dev/null; then
    RUN_PREFIX=(setarch "$arch" -R)
    return 0
  fi
  local bits
  bits="$(cat /proc/sys/vm/mmap_rnd_bits 2>/dev/null || echo "")"
  if [[ -n "$bits" ]] && ((bits > 28)); then
    log "setarch -R did not help; lowering vm.mmap_rnd_bits from $bits to 28 until exit"
    if set_rnd_bits 28; then
      RESTORE_RND_BITS="$bits"
      if timeout 120 "$probe" >/dev/null 2>&1 </dev/null; then
        return 0
      fi
    fi
  fi
  printf '%s\n' "$out" >&2
  die "sanitized binaries cannot run on this kernel (tried setarch -R and vm.mmap_rnd_bits=28)"
}

# run_ctest <build dir> [ctest args...]: runs the tests, then repeats ctest's summary line.
run_ctest() {
  local dir="$1"
  shift
  local logfile="$dir/ctest.log" rc=0
  log "ctest in $dir"
  "${RUN_PREFIX[@]}" ctest --test-dir "$dir" --output-on-failure --no-tests=error -j "$JOBS" \
    "$@" </dev/null 2>&1 | tee "$logfile" || rc=$?
  local summary
  summary="$(grep -E '^[0-9]+% tests passed' "$logfile" | tail -n 1 || true)"
  echo "ctest ($dir): ${summary:-no summary line}"
  # Skips are counted and named; with CI=true a skipped test fails the run.
  local skip_rc=0
  "$ROOT/tools/ctest_summary.sh" "$logfile" || skip_rc=$?
  ((rc == 0)) || die "tests failed in $dir (log: $logfile)"
  ((skip_rc == 0)) || die "tests skipped or no summary in $dir (CI=true forbids skips; log: $logfile)"
}

run_demo() {
  local demo exe
  for demo in page_source_demo mapping_demo; do
    exe="$1/examples/$demo"
    log "run $exe"
    "${RUN_PREFIX[@]}" "$exe" </dev/null || die "$demo exited with $?"
  done
  log "run $1/tools/upager/upager demo"
  "${RUN_PREFIX[@]}" "$1/tools/upager/upager" demo </dev/null || die "upager demo exited with $?"
}

build_release() {
  ensure_deps
  configure_and_build build/release -DCMAKE_BUILD_TYPE=Release -DUPAGER_BUILD_EXAMPLES=ON \
    -DUPAGER_BUILD_TESTS=OFF -DUPAGER_BUILD_BENCHMARKS=OFF
}

cmd_demo() {
  build_release
  log "run build/release/tools/upager/upager demo $*"
  build/release/tools/upager/upager demo "$@" </dev/null
}

cmd_bench() {
  build_release
  log "run build/release/tools/upager/upager bench $*"
  build/release/tools/upager/upager bench "$@" </dev/null
}

cmd_test() {
  ensure_deps
  configure_and_build build/test -DCMAKE_BUILD_TYPE=RelWithDebInfo -DUPAGER_BUILD_TESTS=ON \
    -DUPAGER_BUILD_EXAMPLES=ON
  RUN_PREFIX=()
  run_ctest build/test
}

# What CI runs. Fails at the first broken step.
cmd_ci() {
  ensure_deps
  local start=$SECONDS step_start
  local -a timings=()
  step() {  # step <name> <function...>
    local name="$1"
    shift
    step_start=$SECONDS
    log "CI step: $name"
    "$@"
    timings+=("$(printf '%-44s %4ds' "$name" $((SECONDS - step_start)))")
  }
  # Sanitizer builds keep assertions on (-O1 -g, no NDEBUG) and skip the benchmarks.
  local -a san_flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g"
                      -DUPAGER_BUILD_BENCHMARKS=OFF -DUPAGER_BUILD_EXAMPLES=ON)

  build_gcc() {
    configure_and_build build/ci-gcc -DCMAKE_CXX_COMPILER=g++ -DUPAGER_WERROR=ON \
      -DCMAKE_BUILD_TYPE=RelWithDebInfo -DUPAGER_BUILD_BENCHMARKS=ON -DUPAGER_BUILD_EXAMPLES=ON
  }
  ci_gcc() {
    build_gcc
    RUN_PREFIX=()
    run_ctest build/ci-gcc
  }
  ci_clang() {
    # The thread-safety analysis and clang's warnings, as errors, over everything (tests
    # included), without running anything: `./upager.sh ci clang`. CI itself gets the same
    # from the ASan step, which builds everything with clang++ and -DUPAGER_WERROR=ON (CI time).
    configure_and_build build/ci-clang -DCMAKE_CXX_COMPILER=clang++ -DUPAGER_WERROR=ON \
      -DCMAKE_BUILD_TYPE=RelWithDebInfo -DUPAGER_BUILD_BENCHMARKS=OFF
  }
  ci_asan() {
    configure_and_build build/ci-asan -DCMAKE_CXX_COMPILER=clang++ -DUPAGER_SANITIZE=address \
      -DUPAGER_WERROR=ON "${san_flags[@]}"
    export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:detect_stack_use_after_return=1:strict_string_checks=1}"
    export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
    prepare_sanitizer_runs build/ci-asan
    run_ctest build/ci-asan
  }
  ci_tsan() {
    configure_and_build build/ci-tsan -DCMAKE_CXX_COMPILER=g++ -DUPAGER_SANITIZE=thread \
      "${san_flags[@]}"
    export TSAN_OPTIONS="${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1}"
    prepare_sanitizer_runs build/ci-tsan
    run_ctest build/ci-tsan
  }
  ci_install() {
    # A library-only build, as a packager would make, installed into a scratch prefix and
    # consumed through find_package(upager) and pkg-config.
    configure_and_build build/ci-install -DCMAKE_CXX_COMPILER=g++ -DCMAKE_BUILD_TYPE=Release \
      -DUPAGER_BUILD_TESTS=OFF -DUPAGER_BUILD_BENCHMARKS=OFF -DUPAGER_BUILD_EXAMPLES=OFF
    cmake -DUPAGER_BUILD_DIR=build/ci-install -DWORK_DIR=build/ci-install/install-test \
      -DCXX=g++ -DUPAGER_REQUIRE_PKG_CONFIG=ON -P tests/install/run_install_test.cmake \
      </dev/null || die "install test"
  }
  ci_checks() {
    # The repository's own rules: the layers (no folder includes a higher one), no source
    # file over 600 lines, every spec citation resolves in docs/.
    log "layers (tools/check_layers.py)"
    python3 tools/check_layers.py || die "an include crosses the layers"
    log "file sizes (tools/check_file_sizes.sh 600)"
    bash tools/check_file_sizes.sh 600 || die "a source file is over 600 lines"
    log "spec citations (tools/check_spec_refs.py)"
    python3 tools/check_spec_refs.py || die "a spec citation does not resolve"
  }
  ci_fuzz() {
    # What crosses the process boundary (docs/processes.md), fuzzed for a bounded time
    # each: the owner's handle service and the holder's channel and reply decoding.
    configure_and_build build/ci-fuzz -DCMAKE_CXX_COMPILER=clang++ -DUPAGER_SANITIZE=address \
      -DUPAGER_BUILD_FUZZERS=ON -DUPAGER_BUILD_TESTS=OFF -DUPAGER_BUILD_PROVIDERS=OFF \
      "${san_flags[@]}"
    local fuzzer
    for fuzzer in handle_service_fuzz channel_read_fuzz vmo_service_fuzz; do
      log "fuzz $fuzzer for ${UPAGER_FUZZ_SECONDS:-20} s"
      mkdir -p "build/ci-fuzz/corpus/$fuzzer"
      # Committed seeds (tests/fuzz/seeds/) reach paths the fuzzer does not find in time.
      local seeds=()
      [[ -d "tests/fuzz/seeds/$fuzzer" ]] && seeds=("tests/fuzz/seeds/$fuzzer")
      "build/ci-fuzz/tests/fuzz/$fuzzer" -max_total_time="${UPAGER_FUZZ_SECONDS:-20}" \
        -print_final_stats=1 "build/ci-fuzz/corpus/$fuzzer" "${seeds[@]}" </dev/null 2>&1 |
        tail -n 12 || die "$fuzzer found a failure"
    done
  }
  ci_demo() {
    [[ -x build/ci-gcc/examples/mapping_demo ]] || build_gcc
    RUN_PREFIX=()
    run_demo build/ci-gcc
  }

  # `./upager.sh ci` runs every step; `./upager.sh ci asan tsan` only those named.
  local -a selected=("$@")
  ((${#selected[@]})) || selected=(checks gcc asan tsan install demo fuzz)
  local name
  for name in "${selected[@]}"; do
    case "$name" in
      checks) step "(0) repository checks" ci_checks ;;
      gcc) step "(a) g++ -Werror build + ctest" ci_gcc ;;
      clang) step "(b) clang++ -Werror -Wthread-safety build" ci_clang ;;
      asan) step "(c) ASan+UBSan (clang++ -Werror -Wthread-safety) + ctest" ci_asan ;;
      tsan) step "(d) TSan (g++) + ctest" ci_tsan ;;
      install) step "(e) install + find_package/pkg-config" ci_install ;;
      demo) step "(f) demos (page_source_demo, mapping_demo, upager demo)" ci_demo ;;
      fuzz) step "(g) fuzz the process boundary (libFuzzer, ASan)" ci_fuzz ;;
      *) die "unknown CI step '$name' (steps: checks gcc clang asan tsan install demo fuzz)" ;;
    esac
  done
  restore_rnd_bits

  log "CI passed in $((SECONDS - start))s"
  printf '  %s\n' "${timings[@]}"
}

# Files we own and format: C++ sources and headers outside build/.
cxx_files() {
  if git -C "$ROOT" rev-parse --git-dir >/dev/null 2>&1; then
    git -C "$ROOT" ls-files --cached --others --exclude-standard -- '*.cc' '*.h' |
      grep -v '^build/' || true
  else
    find include src tests bench examples -name '*.cc' -o -name '*.h' | sort
  fi
}

cmd_format() {
  local fix=0
  [[ "${1:-}" == "--fix" ]] && fix=1
  ensure_deps clang-format
  local files
  mapfile -t files < <(cxx_files)
  if ((fix)); then
    clang-format -i "${files[@]}"
    echo "formatted ${#files[@]} files"
  else
    clang-format --dry-run --Werror "${files[@]}" || die "clang-format: run ./upager.sh format --fix"
    echo "clang-format: ${#files[@]} files clean"
  fi
}

cmd_tidy() {
  ensure_deps clang-tidy
  configure_and_build build/tidy -DCMAKE_CXX_COMPILER=clang++ -DUPAGER_BUILD_BENCHMARKS=OFF
  local files
  mapfile -t files < <(cxx_files | grep -E '^(src|examples)/.*\.cc$')
  log "clang-tidy on ${#files[@]} files"
  local rc=0
  clang-tidy -p build/tidy --quiet "${files[@]}" </dev/null 2>&1 |
    { grep -vE '^[0-9]+ warnings? generated\.$' || true; } || rc=$?
  ((rc == 0)) || die "clang-tidy exited with $rc"
}

usage() {
  sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'
}

main() {
  local cmd="${1:-help}"
  shift || true
  case "$cmd" in
    demo) cmd_demo "$@" ;;
    bench) cmd_bench "$@" ;;
    test) cmd_test "$@" ;;
    ci) cmd_ci "$@" ;;
    format) cmd_format "$@" ;;
    tidy) cmd_tidy "$@" ;;
    deps) ensure_deps ;;
    help | -h | --help) usage ;;
    *)
      usage >&2
      die "unknown command: $cmd"
      ;;
  esac
}

main "$@"
