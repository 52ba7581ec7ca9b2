#!/usr/bin/env bash
# Deploy a new image tag to an existing ECS service by cloning its current task definition.
# Usage: deploy-new-image.sh <cluster> <service> <container-name> <new-image-uri>
# Works with bash 3.2 (macOS) and newer; needs the AWS CLI and python3.
set -euo pipefail
case "${1:-}" in
  -h|--help) sed -n '2,3p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
esac
cluster="${1:?cluster (see --help)}"; service="${2:?service}"; container="${3:?container name}"
image="${4:?image uri}"
taskdef="$(mktemp)"
trap 'rm -f "$taskdef"' EXIT

current="$(aws ecs describe-services --cluster "$cluster" --services "$service" \
  --query 'services[0].taskDefinition' --output text)"
echo "current task definition: $current"

aws ecs describe-task-definition --task-definition "$current" --query taskDefinition --output json |
python3 -c '
import json, sys
container, image = sys.argv[1], sys.argv[2]
td = json.load(sys.stdin)
# Drop read-only fields returned by DescribeTaskDefinition that RegisterTaskDefinition rejects.
for key in ("taskDefinitionArn", "revision", "status", "requiresAttributes", "compatibilities",
            "registeredAt", "registeredBy", "deregisteredAt"):
    td.pop(key, None)
found = False
for c in td["containerDefinitions"]:
    if c["name"] == container:
        c["image"] = image
        found = True
if not found:
    sys.exit(f"container {container} not found in task definition")
json.dump(td, open(sys.argv[3], "w"))
' "$container" "$image" "$taskdef"

new="$(aws ecs register-task-definition --cli-input-json "file://$taskdef" \
  --query 'taskDefinition.taskDefinitionArn' --output text)"
echo "registered: $new"

aws ecs update-service --cluster "$cluster" --service "$service" --task-definition "$new" \
  --query 'service.deployments[0].[id,rolloutState]' --output text
echo "waiting for the service to become stable..."
aws ecs wait services-stable --cluster "$cluster" --services "$service"
aws ecs describe-services --cluster "$cluster" --services "$service" \
  --query 'services[0].deployments[0].[taskDefinition,rolloutState,runningCount,desiredCount]' --output text
