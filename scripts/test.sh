#!/usr/bin/env bash
# Install the runtime and test requirements, then run the whole test suite.
# Browser tests use Debian's /usr/bin/chromium (`apt-get install chromium`).
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install -q -r requirements-test.txt
export MEDMODELS_DATA="${MEDMODELS_DATA:-$(cd .. && pwd)/shared/data}"
exec python3 -m pytest -q "$@"
