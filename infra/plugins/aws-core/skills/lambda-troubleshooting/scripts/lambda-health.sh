#!/usr/bin/env bash
# One-shot health report for a Lambda function: configuration, last-hour metrics, recent errors.
# Usage: lambda-health.sh <function-name> [minutes=60]
# Works with bash 3.2 and BSD date (macOS) as well as GNU date; needs the AWS CLI.
set -euo pipefail
case "${1:-}" in
  -h|--help) sed -n '2,3p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
esac
fn="${1:?function name required (see --help)}"
minutes="${2:-60}"
case "$minutes" in
  ''|*[!0-9]*) echo "minutes must be a positive integer, got '$minutes'" >&2; exit 2 ;;
esac

# ISO 8601 UTC time of a Unix epoch second: GNU date takes -d @SECONDS, BSD date -r SECONDS.
if date --version >/dev/null 2>&1; then
  iso_utc() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }
else
  iso_utc() { date -u -r "$1" +%Y-%m-%dT%H:%M:%SZ 2>/dev/null || date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }
fi
now="$(date -u +%s)"
start_epoch=$((now - minutes * 60))
start_iso="$(iso_utc "$start_epoch")"
end_iso="$(iso_utc "$now")"

echo "== configuration"
aws lambda get-function-configuration --function-name "$fn" \
  --query '{Runtime:Runtime,Timeout:Timeout,Memory:MemorySize,State:State,LastUpdate:LastUpdateStatus,Vpc:VpcConfig.SubnetIds,LogGroup:LoggingConfig.LogGroup}' \
  --output table
echo "reserved concurrency: $(aws lambda get-function-concurrency --function-name "$fn" --query ReservedConcurrentExecutions --output text)"

echo "== metrics (last ${minutes} min)"
for metric in Invocations Errors Throttles; do
  value="$(aws cloudwatch get-metric-statistics --namespace AWS/Lambda --metric-name "$metric" \
    --dimensions Name=FunctionName,Value="$fn" --statistics Sum --period $((minutes * 60)) \
    --start-time "$start_iso" --end-time "$end_iso" --query 'Datapoints[0].Sum' --output text)"
  printf '%-12s %s\n' "$metric" "$value"
done
aws cloudwatch get-metric-statistics --namespace AWS/Lambda --metric-name Duration \
  --dimensions Name=FunctionName,Value="$fn" --statistics Maximum Average --period $((minutes * 60)) \
  --start-time "$start_iso" --end-time "$end_iso" \
  --query 'Datapoints[0].{MaxMs:Maximum,AvgMs:Average}' --output text

log_group="$(aws lambda get-function-configuration --function-name "$fn" --query LoggingConfig.LogGroup --output text)"
if [ -z "$log_group" ] || [ "$log_group" = "None" ]; then log_group="/aws/lambda/$fn"; fi
echo "== recent errors in $log_group"
aws logs filter-log-events --log-group-name "$log_group" \
  --start-time $((start_epoch * 1000)) \
  --filter-pattern '?ERROR ?Error ?Exception ?"Task timed out"' --max-items 20 \
  --query 'events[].message' --output text | cut -c1-300 || echo "(no log group or no matches)"
