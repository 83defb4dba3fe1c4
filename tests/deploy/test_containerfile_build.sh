#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The Containerfile cannot be built here (no container engine), so this test
# runs its build stage outside a container: the COPY and RUN lines between
# BUILD-STEPS-BEGIN and BUILD-STEPS-END, verbatim, with SRC, BUILD and DESTDIR
# in a scratch directory. The installed binary must run, sit where ENTRYPOINT
# and the runtime stage's COPY expect it, and link only libraries that the
# runtime stage installs; it must pass the hardening check
# (tests/hardening/test_hardening.sh). The image's promises that need no build
# are checked from the text: multi-stage, ENTRYPOINT, numeric non-root USER,
# OCI labels (documentation an absolute URL), a build stage without test-only
# packages, a runtime stage that installs shared libraries only.
source "$(dirname "$0")/lib.sh"

need_bin # the binary under test gives the expected --version
cf="$OSW_SRC/Containerfile"
[ -f "$cf" ] || fail "$cf missing"

# Logical lines of the Containerfile (continuations joined, comments dropped).
mapfile -t lines < <(awk '
  /^# BUILD-STEPS-(BEGIN|END)$/ { print; next }
  /^[[:space:]]*#/ { next }
  { line = line $0 }
  /\\$/ { sub(/\\$/, "", line); next }
  { print line; line = "" }' "$cf")

# ---- static checks -----------------------------------------------------------
nfrom=$(printf '%s\n' "${lines[@]}" | grep -c '^FROM ' || true)
[ "$nfrom" -ge 2 ] || fail "Containerfile is not multi-stage ($nfrom FROM lines)"
last_stage=$(printf '%s\n' "${lines[@]}" | awk '/^FROM /{n=NR} {a[NR]=$0} END{for(i=n;i<=NR;i++) print a[i]}')
grep -qx 'ENTRYPOINT \["/usr/bin/osstream-webhook", "serve"\]' <<<"$last_stage" ||
  fail 'runtime stage: ENTRYPOINT must be ["/usr/bin/osstream-webhook", "serve"]'
user=$(grep '^USER ' <<<"$last_stage" | tail -1 | awk '{print $2}')
[[ "$user" =~ ^([0-9]+)(:[0-9]+)?$ ]] && [ "${BASH_REMATCH[1]}" != 0 ] ||
  fail "runtime stage: USER must be a numeric non-root UID, got '${user:-none}'"
for l in title description version revision licenses documentation source; do
  grep -q "org.opencontainers.image.$l=" <<<"$last_stage" || fail "runtime stage: label org.opencontainers.image.$l missing"
done
grep -q 'org.opencontainers.image.documentation="https://[^"]*"' <<<"$last_stage" ||
  fail "runtime stage: label org.opencontainers.image.documentation must be an https:// URL"
grep -q '^COPY --from=build /out/usr/bin/osstream-webhook /usr/bin/osstream-webhook$' <<<"$last_stage" ||
  fail "runtime stage must copy the installed binary from the build stage to /usr/bin/osstream-webhook"
grep -q '^ENV .*DESTDIR=/out' < <(printf '%s\n' "${lines[@]}") || fail "build stage must set DESTDIR=/out"
runtime_pkgs=$(grep -o 'apt-get install .*' <<<"$last_stage" | sed 's/&&.*//' | tr ' ' '\n' | grep -v -e '^-' -e '^apt-get$' -e '^install$' -e '^$' || true)
[ -n "$runtime_pkgs" ] || fail "runtime stage installs no libraries"
# Runtime: shared libraries only (Debian names them lib*), no -dev, no tools.
bad_runtime=$(grep -v -e '^lib' -e '-dev$' <<<"$runtime_pkgs" || true)$(grep -e '-dev$' <<<"$runtime_pkgs" || true)
[ -z "$bad_runtime" ] || fail "runtime stage installs more than runtime libraries: $bad_runtime"
first_stage=$(printf '%s\n' "${lines[@]}" | awk '/^FROM /{n++} n==1')
build_pkgs=$(grep -o 'apt-get install .*' <<<"$first_stage" | sed 's/&&.*//' | tr ' ' '\n' | grep -v -e '^-' -e '^apt-get$' -e '^install$' -e '^$' || true)
[ -n "$build_pkgs" ] || fail "build stage installs no packages"
test_only=$(grep -x -e 'libcmocka-dev' -e 'python3' -e 'curl' -e 'valgrind' -e 'clang' -e 'clang-tidy' -e 'cppcheck' \
  -e 'prometheus' -e 'nodejs' -e 'npm' -e 'wrk' -e 'libclang-rt-.*' <<<"$build_pkgs" || true)
[ -z "$test_only" ] || fail "build stage installs test-only packages: $(tr '\n' ' ' <<<"$test_only")"
echo "ok static: multi-stage, ENTRYPOINT, USER $user, OCI labels, no test-only build packages"

# ---- the build steps, outside a container -------------------------------------
mapfile -t steps < <(printf '%s\n' "${lines[@]}" | sed -n '/^# BUILD-STEPS-BEGIN$/,/^# BUILD-STEPS-END$/p' |
  grep -v -e '^# BUILD-STEPS-' -e '^[[:space:]]*$')
((${#steps[@]})) || fail "no build steps between BUILD-STEPS-BEGIN and BUILD-STEPS-END"

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
export SRC="$scratch/src" BUILD="$scratch/build" DESTDIR="$scratch/out"
mkdir -p "$SRC"
start=$(date +%s)
for step in "${steps[@]}"; do
  read -r verb rest <<<"$step"
  case "$verb" in
    COPY)
      read -r -a words <<<"$rest"
      dest=${words[-1]}
      [[ "$dest" == /src* ]] || fail "build step copies outside /src: $step"
      dest="$SRC${dest#/src}"
      for s in "${words[@]:0:${#words[@]}-1}"; do
        [[ "$s" != -* ]] || fail "build step COPY with flags is not supported here: $step"
        if [[ "$dest" == */ ]]; then mkdir -p "$dest" && cp -a "$OSW_SRC/$s" "$dest"
        else mkdir -p "$(dirname "$dest")" && cp -a "$OSW_SRC/$s" "$dest"; fi
      done
      ;;
    RUN)
      echo "+ $rest" >&2
      (cd "$SRC" && bash -euo pipefail -c "$rest") >"$scratch/step.log" 2>&1 ||
        { tail -40 "$scratch/step.log" >&2; fail "build step failed: $step"; }
      ;;
    *) fail "unsupported build step (only COPY and RUN): $step" ;;
  esac
done
bin="$DESTDIR/usr/bin/osstream-webhook"
[ -x "$bin" ] || fail "the build steps did not install $bin"
echo "ok build steps ran in $(($(date +%s) - start)) s"

# ---- the installed binary ------------------------------------------------------
want=$("$OSW_BIN" --version) || fail "$OSW_BIN --version failed"
got=$("$bin" --version) || fail "installed binary: --version failed"
[ "$got" = "$want" ] || fail "installed binary says '$got', the build under test says '$want'"
# Outputs are read whole before grep looks: under pipefail, `cmd | grep -q`
# takes the writer's SIGPIPE for the pipeline's status when grep stops early.
help=$("$bin" serve --help) || fail "installed binary: serve --help failed"
grep -q -- '--listen' <<<"$help" || fail "installed binary: serve --help lists no --listen"
[ "$(stat -c %a "$bin")" = 755 ] || fail "installed binary mode $(stat -c %a "$bin"), want 755 (any UID must run it)"
command -v readelf >/dev/null || fail "readelf not found (binutils)"
sections=$(readelf -SW "$bin") || fail "readelf -S $bin failed"
! grep -q '\.symtab' <<<"$sections" || fail "installed binary is not stripped"
bash "$OSW_SRC/tests/hardening/test_hardening.sh" "$bin" RelWithDebInfo cc >"$scratch/hardening.log" 2>&1 ||
  { cat "$scratch/hardening.log" >&2; fail "the installed binary is not hardened"; }
echo "ok installed binary: $got"

# Every library it links comes from a package the runtime stage installs (or
# one of their dependencies, or libc): nothing is missing from the image.
command -v dpkg-query >/dev/null || fail "dpkg-query not found (this check needs Debian)"
# shellcheck disable=SC2086
closure=$(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks \
  --no-replaces --no-enhances --no-pre-depends $runtime_pkgs 2>/dev/null | grep -v '^ ' | sed 's/:.*//' | sort -u)
closure=$(printf '%s\nlibc6\nlibgcc-s1\n%s\n' "$closure" "$runtime_pkgs" | sort -u)
missing=()
while read -r lib; do
  pkg=$(dpkg-query -S "$(readlink -f "$lib")" 2>/dev/null || dpkg-query -S "$lib" 2>/dev/null) || pkg=
  pkg=${pkg%%:*}
  [ -n "$pkg" ] || fail "no Debian package owns $lib"
  grep -qx "$pkg" <<<"$closure" || missing+=("$lib ($pkg)")
done < <(ldd "$bin" | awk '$2 == "=>" && $3 ~ /^\// {print $3}')
((${#missing[@]} == 0)) || fail "linked but not installed by the runtime stage: ${missing[*]}"
echo "ok every linked library comes from: $(tr '\n' ' ' <<<"$runtime_pkgs")"
