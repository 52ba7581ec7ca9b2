#!/usr/bin/env python3
"""Serialise every valid case of the parameter oracle with botocore, for request parity.

Reads shared/engine/tests/data/param_oracle.json.gz (the parameters the AWS CLI built for each
command, from generate_param_oracle.py) and writes shared/engine/tests/data/request_oracle.json.gz:
  {"source": {...}, "cases": [{"command", "service", "operation", "protocol", "method",
    "url_path", "query_string", "headers": [[k, v], ...], "body_base64", "host_prefix"} |
    {"command", "error"}]}
using botocore's own serializer (no validation, no endpoint, no signature): what the engine's
serialisers must reproduce byte for byte. Query-protocol bodies and rest query strings are
percent-encoded exactly as botocore's request preparation does.

Refresh (after the parameter oracle): python3 infra/scripts/generate_request_oracle.py
Deterministic (gzip mtime 0, sorted top-level keys).
"""

import base64
import gzip
import io
import json
import sys
from pathlib import Path

from pins import pinned

PINNED = pinned("botocore")
ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "shared" / "engine" / "tests" / "data"


def restore_bytes(value):
    if isinstance(value, dict):
        if set(value) == {"__bytes_base64__"}:
            return base64.b64decode(value["__bytes_base64__"])
        return {k: restore_bytes(v) for k, v in value.items()}
    if isinstance(value, list):
        return [restore_bytes(v) for v in value]
    return value


def main() -> int:
    import botocore
    import botocore.session
    from botocore.serialize import create_serializer
    from botocore.utils import percent_encode_sequence

    if botocore.__version__ != PINNED["botocore"] and "--allow-version-mismatch" not in sys.argv:
        print(f"botocore {botocore.__version__} installed, {PINNED['botocore']} pinned", file=sys.stderr)
        return 2
    oracle = json.loads(gzip.decompress((DATA / "param_oracle.json.gz").read_bytes()))
    session = botocore.session.get_session()
    cases = []
    for case in oracle["cases"]:
        if not case.get("ok"):
            continue
        service, operation = case["service"], case["operation"]
        try:
            model = session.get_service_model(service)
            op = model.operation_model(operation)
            protocol = model.resolved_protocol if hasattr(model, "resolved_protocol") else model.protocol
            serializer = create_serializer(protocol, include_validation=False)
            request = serializer.serialize_to_request(restore_bytes(case["params"]), op)
        except Exception as e:  # noqa: BLE001 - recorded as the oracle's answer
            cases.append({"command": case["command"], "error": f"{type(e).__name__}: {e}"})
            continue
        body = request["body"]
        if isinstance(body, dict):
            body = percent_encode_sequence(body).encode()
        elif isinstance(body, str):
            body = body.encode()
        elif not isinstance(body, (bytes, bytearray)):
            body = b"" if body is None else bytes(body.read())
        query = request.get("query_string", "")
        if isinstance(query, dict):
            query = percent_encode_sequence(query)
        cases.append({
            "command": case["command"],
            "service": service,
            "operation": operation,
            "protocol": protocol,
            "method": request["method"],
            "url_path": request["url_path"],
            "query_string": query,
            "headers": [[k, str(v)] for k, v in request["headers"].items()],
            "body_base64": base64.b64encode(body).decode(),
            "host_prefix": request.get("host_prefix"),
        })
    doc = {"source": {"generator": "infra/scripts/generate_request_oracle.py",
                      "packages": {"botocore": botocore.__version__}},
           "cases": cases}
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", compresslevel=9, mtime=0) as f:
        f.write(json.dumps(doc, sort_keys=True, separators=(",", ":")).encode())
    (DATA / "request_oracle.json.gz").write_bytes(buf.getvalue())
    by_protocol = {}
    for c in cases:
        by_protocol[c.get("protocol", "error")] = by_protocol.get(c.get("protocol", "error"), 0) + 1
    print(f"{len(cases)} requests: {by_protocol}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
