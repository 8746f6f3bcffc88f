# Shared by scripts/test, scripts/demo and bench/run: installs what a fresh Debian 12
# machine lacks, then builds and installs the extension. Source it from the repo root.

PG_MAJOR=${PG_MAJOR:-15}
export PATH="/usr/lib/postgresql/$PG_MAJOR/bin:$PATH"

SP_PACKAGES=(
  "postgresql-$PG_MAJOR" "postgresql-server-dev-$PG_MAJOR" postgresql-common
  make g++ cmake libgtest-dev clang-14 llvm-14 libclang-rt-14-dev libxxhash-dev liblz4-dev
  libipc-run-perl perl "postgresql-$PG_MAJOR-cron"
)

log() { printf '\n==> %s\n' "$*"; }

ensure_packages() {
  local missing=()
  for p in "${SP_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then
    echo "missing packages (${missing[*]}); run as root or install them" >&2
    return 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  # another apt (unattended-upgrades, a second checkout) holding the dpkg lock is waited for
  apt-get -o DPkg::Lock::Timeout=600 install -y -q "${missing[@]}" >/dev/null 2>&1 \
    || { apt-get -o DPkg::Lock::Timeout=600 update -q >/dev/null && apt-get -o DPkg::Lock::Timeout=600 install -y -q "${missing[@]}" >/dev/null; }
}

# Several checkouts on one machine share PostgreSQL's lib directory; the lock keeps one
# checkout's install (and the tests that load it) from interleaving with another's.
lock_install() {
  exec 9>/tmp/session_persist-install.lock
  flock 9
}

build_and_install() {
  log "building and installing session_persist"
  make -s -j"$(nproc)" PG_CONFIG="/usr/lib/postgresql/$PG_MAJOR/bin/pg_config" >/dev/null \
    && make -s install PG_CONFIG="/usr/lib/postgresql/$PG_MAJOR/bin/pg_config" >/dev/null
}

# Counting, for scripts/test and scripts/test-versions: each count adds to passed/failed and
# prints one "    what: N passed, N failed" line.
passed=0
failed=0
count() { passed=$((passed + $1)); failed=$((failed + $2)); printf '    %s: %d passed, %d failed\n' "$3" "$1" "$2"; }

# pg_regress and pg_isolation_regress print one line per test (PG 15: "... ok"/"... FAILED";
# PG 16+: "ok N - name"/"not ok N - name").
count_regress() {
  local ok bad
  ok=$(grep -cE '\.\.\. ok|^ok [0-9]+ ' "$1")
  bad=$(grep -cE '\.\.\. FAILED|\.\.\. failed|^not ok [0-9]+ ' "$1")
  count "$ok" "$bad" "$2"
}

# prove's summary: Tests=N, and "Failed N/M subtests" per failed script; a script that died
# before its plan counts as one failure.
count_tap() {
  local tests bad
  tests=$(grep -oE 'Tests=[0-9]+' "$1" | grep -oE '[0-9]+' || echo 0)
  bad=$(grep -oE 'Failed [0-9]+/[0-9]+ subtests' "$1" | awk '{split($2,a,"/"); s+=a[1]} END {print s+0}')
  if grep -q 'Result: FAIL' "$1" && [ "$bad" -eq 0 ]; then bad=1; fi
  count $((tests - bad)) "$bad" "$2"
}
