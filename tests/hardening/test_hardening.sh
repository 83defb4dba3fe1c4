#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Reads the built binary with readelf and fails when a hardening measure of
# CMakeLists.txt is missing: PIE, full RELRO (GNU_RELRO + BIND_NOW), a
# non-executable stack, the stack protector, _FORTIFY_SOURCE (optimised,
# non-sanitizer builds only: glibc ignores it at -O0), and, from the options
# every compilation unit recorded (-frecord-gcc-switches), stack-clash
# protection and, where the compiler has it, -fcf-protection.
#
# Usage: test_hardening.sh BINARY BUILD_TYPE C_COMPILER [SANITIZE]
set -euo pipefail

bin=${1:?usage: test_hardening.sh BINARY BUILD_TYPE C_COMPILER [SANITIZE]}
build_type=${2:?build type}
cc=${3:?C compiler}
sanitize=${4:-}
fails=0
fail() {
  echo "FAIL: $*" >&2
  fails=$((fails + 1))
}
ok() { echo "ok $*"; }

command -v readelf >/dev/null || { echo "FAIL: readelf not found (binutils)" >&2; exit 1; }
[ -x "$bin" ] || { echo "FAIL: $bin is not an executable" >&2; exit 1; }

header=$(readelf -hW "$bin")
segments=$(readelf -lW "$bin")
dynamic=$(readelf -dW "$bin")
dynsyms=$(readelf --dyn-syms -W "$bin")

# PIE: a position-independent executable is ET_DYN with DF_1_PIE.
if grep -q 'Type:[[:space:]]*DYN' <<<"$header" && grep -q 'FLAGS_1.*PIE' <<<"$dynamic"; then
  ok "PIE"
else
  fail "not a PIE (ELF type $(sed -n 's/.*Type:[[:space:]]*//p' <<<"$header"), FLAGS_1: $(grep FLAGS_1 <<<"$dynamic" || echo none))"
fi

# Full RELRO: a GNU_RELRO segment and immediate binding (-z now).
grep -q 'GNU_RELRO' <<<"$segments" || fail "no GNU_RELRO segment (-z relro)"
if grep -qE '\(BIND_NOW\)|\(FLAGS\).*BIND_NOW|\(FLAGS_1\).*NOW' <<<"$dynamic"; then
  grep -q 'GNU_RELRO' <<<"$segments" && ok "full RELRO"
else
  fail "no BIND_NOW / DF_1_NOW: partial RELRO only (-z now)"
fi

# Non-executable stack: GNU_STACK present and without E.
stack=$(grep 'GNU_STACK' <<<"$segments" || true)
if [ -z "$stack" ]; then
  fail "no GNU_STACK segment: the loader would make the stack executable"
elif [[ "$(awk '{print $(NF-1), $NF}' <<<"$stack")" == *E* ]]; then
  fail "executable stack: $stack"
else
  ok "non-executable stack"
fi

# Stack protector: the canary check calls __stack_chk_fail.
grep -q '__stack_chk_fail' <<<"$dynsyms" && ok "stack protector" ||
  fail "__stack_chk_fail not imported: no stack protector"

# _FORTIFY_SOURCE: the checked variants of the libc calls (__snprintf_chk,
# __memcpy_chk, ...) are imported.
if [ "$build_type" = Debug ] || [ -n "$sanitize" ]; then
  echo "skip _FORTIFY_SOURCE: $build_type${sanitize:+ with $sanitize} (needs optimisation, left out under sanitizers)"
else
  n=$(grep -cE ' __[a-z_]+_chk(@|$)' <<<"$dynsyms" || true)
  [ "$n" -ge 1 ] && ok "_FORTIFY_SOURCE ($n checked libc functions)" ||
    fail "no __*_chk function imported: _FORTIFY_SOURCE is not in effect"
fi

# Options that leave no mark of their own in the ELF: every compilation unit
# of ours recorded its switches (identical sets are stored once). The C
# runtime's objects record none, so every recorded set is one of ours.
switches=$(readelf -p .GCC.command.line "$bin" 2>/dev/null | sed -n 's/^ *\[ *[0-9a-f]*\] *//p' || true)
sets=$(grep -c . <<<"$switches" || true)
if [ "$sets" -eq 0 ]; then
  fail "no .GCC.command.line section (-frecord-gcc-switches): cannot see the compile options"
else
  for want in -fstack-protector-strong -fstack-clash-protection -fcf-protection; do
    # -fcf-protection exists on x86 only; the others are required.
    if [ "$want" = -fcf-protection ] &&
      ! echo 'int x;' | "$cc" -x c -fcf-protection=full -Werror -fsyntax-only - 2>/dev/null; then
      echo "skip $want: $cc does not have it on this target"
      continue
    fi
    missing=$(grep -vc -- "$want" <<<"$switches" || true)
    if [ "$missing" -eq 0 ]; then
      ok "$want in all $sets recorded option sets"
    else
      fail "$want missing in $missing of $sets recorded option sets: $(grep -v -- "$want" <<<"$switches" | head -1)"
    fi
  done
fi
# The x86 CET property survives only when every linked object (the C
# runtime's included) has it; report it, do not require it.
if grep -q 'x86 feature:.*IBT' <<<"$(readelf -nW "$bin")"; then echo "info: IBT/SHSTK property set"; fi

[ "$fails" -eq 0 ] || { echo "$fails hardening check(s) failed for $bin" >&2; exit 1; }
echo "hardening: all checks passed for $bin ($build_type${sanitize:+, $sanitize})"
