#!/usr/bin/env bash
# Gate a pull request on nerperf's floors and benchmarks: measure the base branch and the head in one job,
# on one machine, one after the other, so that the machine's speed cancels out of the comparison.
#
#   .github/scripts/pr-gate.sh BASE_REF [OUT_DIR] [-- PYTEST_ARGS...]
#
# PYTEST_ARGS (for example the test files of the suite) are passed to both runs.
# Fails (non-zero) when the head breaks an F1 floor or a nerperf test, or when a benchmark's median is
# slower than the base's by more than NERPERF_GATE_FAIL (pytest-benchmark's --benchmark-compare-fail
# expression; default median:25%, as run-to-run noise reached 15% on a 2-core machine). Writes the base's
# and head's pytest-benchmark JSON, the comparison and the head's `nerperf report` to OUT_DIR.
# NERPERF_* variables (checkpoints, sentences, ...) choose what runs, for both sides alike.
set -euo pipefail
base_ref="${1:?usage: pr-gate.sh BASE_REF [OUT_DIR] [-- PYTEST_ARGS...]}"
shift
out_arg=""
if [ $# -gt 0 ] && [ "$1" != "--" ]; then out_arg="$1"; shift; fi
if [ $# -gt 0 ] && [ "$1" = "--" ]; then shift; fi
pytest_args=("$@")
head_dir="$(git rev-parse --show-toplevel)"
out="$(realpath -m "${out_arg:-$head_dir/nerperf-gate}")"
fail="${NERPERF_GATE_FAIL:-median:25%}"
python="${PYTHON:-python3}"
work="$(mktemp -d)"
trap 'git -C "$head_dir" worktree remove --force "$work/base" 2>/dev/null || true; rm -rf "$work"' EXIT
rm -rf "$out/storage" && mkdir -p "$out"

install() {  # $1: checkout, $2: virtual environment
    "$python" -m venv "$2"
    "$2/bin/python" -m pip install --quiet --upgrade pip
    "$2/bin/python" -m pip install --quiet -e "$1[test]"
}

git -C "$head_dir" worktree add --quiet --detach "$work/base" "$base_ref"
install "$work/base" "$work/base-env"
install "$head_dir" "$work/head-env"

storage="file://$out/storage"
echo "== base ($base_ref, $(git -C "$work/base" rev-parse --short HEAD))"
if ! (cd "$work/base" && "$work/base-env/bin/pytest" --benchmark-only --benchmark-storage="$storage" \
        --benchmark-save=base --benchmark-json="$out/base.json" -p no:cacheprovider "${pytest_args[@]}"); then
    echo "the base branch itself fails its nerperf tests: comparing against what it measured anyway" >&2
fi
base_run="$(ls "$out"/storage/*/*_base.json 2>/dev/null | tail -n 1 || true)"
compare=()
if [ -n "$base_run" ]; then
    compare=(--benchmark-compare="$(basename "$base_run" | cut -c1-4)" --benchmark-compare-fail="$fail")
else
    echo "the base branch recorded no benchmarks: the head's floors gate alone" >&2
fi

echo "== head ($(git -C "$head_dir" rev-parse --short HEAD))"
status=0
(cd "$head_dir" && "$work/head-env/bin/pytest" --benchmark-only --benchmark-storage="$storage" \
    --benchmark-save=head --benchmark-json="$out/head.json" "${compare[@]}" -p no:cacheprovider "${pytest_args[@]}") \
    | tee "$out/head.log" || status=$?
"$work/head-env/bin/nerperf" report "$out/head.json" --out "$out/report" --title "nerperf: head of the pull request" \
    || echo "no report of the head's run (see the error above)" >&2
exit "$status"
