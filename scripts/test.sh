#!/usr/bin/env bash
# Installs everything the test suite needs (a venv with the `test` extra; Debian's chromium and nginx when
# running as root and they are missing) and runs the whole suite: ruff, mypy --strict, pytest.
# Extra arguments go to pytest, e.g. `bash scripts/test.sh --skip-slow` to leave out browser/server tests.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
[ -x /usr/bin/chromium ] || need_apt+=(chromium)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need_apt+=(nginx-light)
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "+ apt-get install ${need_apt[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
  else
    echo "note: not root, cannot install ${need_apt[*]}; the tests that need them will fail" >&2
  fi
fi

PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[test]'

echo "+ ruff check"
.venv/bin/ruff check jsonp2cors tests bench
echo "+ mypy --strict"
.venv/bin/mypy
echo "+ pytest"
set +e
.venv/bin/python -m pytest "$@"
rc=$?
set -e
if [ "$rc" = 5 ]; then
  echo "pytest collected no tests: failing on purpose" >&2
  exit 1
fi
exit "$rc"
