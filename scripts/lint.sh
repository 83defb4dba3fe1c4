#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Static checks, one per argument, run by ctest (label "lint") and `make lint`:
#   format     clang-format --dry-run --Werror on every C file
#   cppcheck   cppcheck with warnings, performance and portability
#   tidy BUILD clang-tidy (.clang-tidy) with BUILD's compile_commands.json
#   banned     no sprintf/strcpy/strcat/strtok/atoi/sscanf/gets in src/; no
#              `cmd | grep -q` in shell scripts that set pipefail (grep stops at
#              its first match, the writer may then die of SIGPIPE and fail the
#              pipeline at random; under `!` the check can no longer fail)
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t all < <(git ls-files '*.c' '*.h')
mapfile -t srcs < <(git ls-files 'src/*.c')
case "${1:-}" in
  format)
    clang-format --dry-run --Werror "${all[@]}"
    echo "format: ${#all[@]} files clean" ;;
  cppcheck)
    cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability \
      --inline-suppr --std=c11 -D_GNU_SOURCE -Iinclude -Isrc "${srcs[@]}"
    echo "cppcheck: ${#srcs[@]} files clean" ;;
  tidy)
    build=${2:?usage: lint.sh tidy BUILD_DIR}
    # One file per call: clang-tidy 14 carries analyzer state across files.
    printf '%s\n' "${srcs[@]}" | xargs -P "$(nproc)" -n 1 clang-tidy -p "$build" --quiet
    echo "clang-tidy: ${#srcs[@]} files clean" ;;
  banned)
    if grep -nE '\b(sprintf|strcpy|strcat|strtok|atoi|sscanf|gets)\s*\(' "${srcs[@]}"; then
      echo "banned function used (see above)" >&2; exit 1
    fi
    mapfile -t shs < <(git ls-files '*.sh' '.ci/*' | grep -v '^scripts/lint.sh$' |
      xargs grep -l 'pipefail' 2>/dev/null || true)
    if ((${#shs[@]})) && grep -nE '\|[[:space:]]*grep[[:space:]]+(-[a-zA-Z]*q|--quiet)' "${shs[@]}" |
      grep -vE '^[^:]+:[0-9]+:[[:space:]]*#'; then
      echo "'| grep -q' under pipefail (see above): read the output whole, then grep it" >&2
      exit 1
    fi
    echo "banned: none in ${#srcs[@]} files, ${#shs[@]} pipefail scripts" ;;
  *) echo "usage: lint.sh format|cppcheck|tidy BUILD|banned" >&2; exit 2 ;;
esac
