#!/usr/bin/env bash
# The README's test command: set up the machine, build everything (no warnings allowed),
# run the whole suite on every back end present, and end with one 'N passed, N failed' line.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet build RnnGpu.sln -c Release -warnaserror -nologo -v quiet
log=$(mktemp)
set +e
dotnet test tests/RnnGpu.Tests/RnnGpu.Tests.csproj -c Release --no-build -nologo 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
summary=$(grep -E "(Passed|Failed)! +- Failed: +[0-9]+, Passed: +[0-9]+, Skipped: +[0-9]+" "$log" | tail -n 1)
rm -f "$log"
if [ -z "$summary" ]; then
  echo "tests: no test summary found (exit $status)"
  exit $(( status == 0 ? 1 : status ))
fi
failed=$(sed -E 's/.*Failed: +([0-9]+).*/\1/' <<<"$summary")
passed=$(sed -E 's/.*Passed: +([0-9]+).*/\1/' <<<"$summary")
skipped=$(sed -E 's/.*Skipped: +([0-9]+).*/\1/' <<<"$summary")
echo "tests: $passed passed, $failed failed, $skipped skipped"
exit "$status"
