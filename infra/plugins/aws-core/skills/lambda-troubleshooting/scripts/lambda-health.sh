#!/usr/bin/env bash
# One-shot health report for a Lambda function: configuration, last-hour metrics, recent errors.
# Usage: lambda-health.sh <function-name> [minutes=60]
set -euo pipefail
fn="${1:?function name required}"
minutes="${2:-60}"
start_iso="$(date -u -d "-${minutes} min" +%Y-%m-%dT%H:%M:%SZ)"
end_iso="$(date -u +%Y-%m-%dT%H:%M:%SZ)"

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
[[ -z "$log_group" || "$log_group" == "None" ]] && log_group="/aws/lambda/$fn"
echo "== recent errors in $log_group"
aws logs filter-log-events --log-group-name "$log_group" \
  --start-time $(( ($(date +%s) - minutes * 60) * 1000 )) \
  --filter-pattern '?ERROR ?Error ?Exception ?"Task timed out"' --max-items 20 \
  --query 'events[].message' --output text | cut -c1-300 || echo "(no log group or no matches)"
