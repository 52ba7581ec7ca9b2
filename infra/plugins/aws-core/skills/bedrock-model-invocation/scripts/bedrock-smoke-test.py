#!/usr/bin/env python3
"""One Converse call to check Bedrock access, model ID, Region and latency.

Usage: bedrock-smoke-test.py <model-or-inference-profile-id> [region]
Exit code 0 on success, 1 on failure (prints the error code).
"""
import sys
import time

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError


def main() -> int:
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    model_id = sys.argv[1]
    region = sys.argv[2] if len(sys.argv) > 2 else None
    client = boto3.client("bedrock-runtime", region_name=region,
                          config=Config(read_timeout=120, retries={"mode": "standard", "total_max_attempts": 3}))
    started = time.monotonic()
    try:
        resp = client.converse(
            modelId=model_id,
            messages=[{"role": "user", "content": [{"text": "Reply with the single word: pong"}]}],
            inferenceConfig={"maxTokens": 20, "temperature": 0},
        )
    except ClientError as err:
        error = err.response["Error"]
        print(f"FAILED {error['Code']}: {error.get('Message', '')}")
        return 1
    elapsed = time.monotonic() - started
    text = "".join(block.get("text", "") for block in resp["output"]["message"]["content"])
    print(f"OK model={model_id} region={client.meta.region_name} latency={elapsed:.2f}s "
          f"stop={resp['stopReason']} usage={resp['usage']}")
    print(f"reply: {text.strip()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
