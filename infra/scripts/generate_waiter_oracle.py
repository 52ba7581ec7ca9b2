#!/usr/bin/env python3
"""What botocore's waiters do on canned answers, for the engine's waiter parity test.

Writes shared/engine/tests/data/waiter_oracle.json.gz:
  {"source": {...},
   "names": {"<service> <WaiterName>": "<cli-name>", ...}   every waiter of the newest API
            version of every service, named as `aws <service> wait <cli-name>` (botocore's
            xform_name with "-", which is what awscli's WaiterStateCommandBuilder uses),
   "cases": [{"service", "waiter", "max_attempts",
              "responses": [{"output": {...}} | {"error": {"code", "message", "status"}}],
              "matched": [<index of the first matching acceptor, or null>, ...],
              "calls": <how many responses botocore consumed>,
              "outcome": "success" | "<str(WaiterError)>"}]}

Each case runs botocore's own `Waiter.wait` (Delay 0, MaxAttempts as given) over the canned
answers: a successful answer is the parsed dict with ResponseMetadata.HTTPStatusCode 200, an
error is what botocore's NormalizedOperationMethod hands the waiter ({"Error": {"Code",
"Message"}, "ResponseMetadata": {"HTTPStatusCode"}}). "matched" is computed per answer with
the acceptors' own matcher functions.

Rerun: python3 infra/scripts/generate_waiter_oracle.py   (botocore and jmespath pinned in
tests/requirements-tools.txt; pass --allow-version-mismatch to try other versions)
"""

import argparse
import gzip
import json
import sys
from pathlib import Path

from pins import pinned

PINNED = pinned("botocore", "jmespath")
ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "shared" / "engine" / "tests" / "data" / "waiter_oracle.json.gz"


def ok(output):
    return {"output": output}


def err(code, status, message="canned"):
    return {"error": {"code": code, "message": message, "status": status}}


def instances(*states):
    return ok({"Reservations": [{"Instances": [{"InstanceId": f"i-{n}", "State": {"Name": s}}
                                               for n, s in enumerate(states)]}]})


def stacks(*states):
    return ok({"Stacks": [{"StackName": "s", "StackStatus": s} for s in states]})


def table(status):
    return ok({"Table": {"TableName": "t", "TableStatus": status}})


# (service, waiter, max_attempts, responses): sequences chosen to reach every ending and
# the corner cases of each matcher.
CASES = [
    # path + error retry
    ("dynamodb", "TableExists", 5, [err("ResourceNotFoundException", 400), table("CREATING"), table("ACTIVE")]),
    ("dynamodb", "TableExists", 2, [table("CREATING"), table("CREATING")]),
    ("dynamodb", "TableExists", 3, [err("ResourceNotFoundException", 400), table("CREATING"), table("UPDATING")]),
    ("dynamodb", "TableExists", 4, [table("CREATING"), err("AccessDeniedException", 400, "no access")]),
    ("dynamodb", "TableExists", 1, [ok({})]),
    ("dynamodb", "TableNotExists", 3, [table("ACTIVE"), table("DELETING"), err("ResourceNotFoundException", 400)]),
    ("dynamodb", "TableNotExists", 2, [table("ACTIVE"), table("ACTIVE")]),
    # pathAll / pathAny, empty lists, an error retry before the instance is known
    ("ec2", "InstanceRunning", 4, [err("InvalidInstanceID.NotFound", 400), instances("pending"), instances("running", "running")]),
    ("ec2", "InstanceRunning", 3, [instances("running", "pending"), instances("running", "terminated")]),
    ("ec2", "InstanceRunning", 2, [ok({"Reservations": []}), ok({"Reservations": []})]),
    ("ec2", "InstanceRunning", 3, [instances("pending"), instances("stopping")]),
    ("ec2", "InstanceRunning", 2, [err("InvalidInstanceID.NotFound", 400), instances("pending")]),
    ("ec2", "InstanceRunning", 2, [err("InvalidInstanceID.NotFound", 400), instances()]),
    ("ec2", "InstanceStatusOk", 2, [ok({"InstanceStatuses": []}), ok({"InstanceStatuses": [{"InstanceStatus": {"Status": "ok"}}]})]),
    ("ec2", "VolumeAvailable", 2, [ok({"Volumes": [{"State": "creating"}]}), ok({"Volumes": [{"State": "deleted"}]})]),
    ("ec2", "InstanceExists", 3, [err("InvalidInstanceID.NotFound", 400), ok({"Reservations": []}), instances("pending")]),
    # status matchers
    ("s3", "BucketExists", 3, [err("404", 404, "Not Found"), err("403", 403, "Forbidden")]),
    ("s3", "BucketExists", 3, [err("404", 404, "Not Found"), ok({"BucketRegion": "us-east-1"})]),
    ("s3", "BucketExists", 2, [err("404", 404, "Not Found"), err("404", 404, "Not Found")]),
    ("s3", "BucketExists", 2, [err("400", 400, "Bad Request")]),
    ("s3", "BucketNotExists", 2, [ok({}), err("404", 404, "Not Found")]),
    ("s3", "ObjectExists", 3, [err("404", 404, "Not Found"), err("500", 500, "Internal"), ok({"ContentLength": 3})]),
    # error true/false
    ("lambda", "FunctionExists", 3, [err("ResourceNotFoundException", 404), ok({"Configuration": {}})]),
    ("lambda", "FunctionExists", 2, [err("TooManyRequestsException", 429, "slow down")]),
    ("acm-pca", "CertificateIssued", 3, [err("RequestInProgressException", 400), err("AccessDeniedException", 400, "denied")]),
    ("acm-pca", "CertificateIssued", 2, [err("RequestInProgressException", 400), ok({"Certificate": "x"})]),
    # path with a retry acceptor, a description, terminal failure
    ("lambda", "FunctionActiveV2", 3, [ok({"Configuration": {"State": "Pending"}}), ok({"Configuration": {"State": "Failed"}})]),
    ("lambda", "FunctionActiveV2", 2, [ok({"Configuration": {"State": "Pending"}}), ok({"Configuration": {"State": "Inactive"}})]),
    # many success acceptors, an error failure
    ("cloudformation", "StackCreateComplete", 3, [stacks("CREATE_IN_PROGRESS"), stacks("CREATE_COMPLETE")]),
    ("cloudformation", "StackCreateComplete", 3, [stacks("CREATE_IN_PROGRESS"), stacks("ROLLBACK_IN_PROGRESS"), stacks("ROLLBACK_COMPLETE")]),
    ("cloudformation", "StackCreateComplete", 2, [err("ValidationError", 400, "Stack with id s does not exist")]),
    ("cloudformation", "StackCreateComplete", 2, [stacks("CREATE_COMPLETE", "CREATE_IN_PROGRESS"), stacks("CREATE_COMPLETE", "UPDATE_COMPLETE")]),
    # "Previously accepted state" names the acceptor botocore looked at last in the final
    # attempt: the matched one, or the last of the list when none matched
    ("ec2", "SecurityGroupVpcAssociationAssociated", 2, [
        ok({"SecurityGroupVpcAssociations": [{"State": "associating"}]}),
        ok({"SecurityGroupVpcAssociations": []}),
    ]),
    ("ssm", "CommandExecuted", 2, [ok({"Status": "Pending"}), ok({"Status": "InProgress"})]),
    ("elbv2", "LoadBalancersDeleted", 3, [ok({"LoadBalancers": [{"State": {"Code": "active"}}]}), err("LoadBalancerNotFound", 400)]),
    # boolean expectation on a JMESPath expression with functions
    ("dynamodb", "KinesisStreamingDestinationActive", 3, [
        ok({"KinesisDataStreamDestinations": []}),
        ok({"KinesisDataStreamDestinations": [{"DestinationStatus": "ENABLING"}]}),
        ok({"KinesisDataStreamDestinations": [{"DestinationStatus": "DISABLED"}, {"DestinationStatus": "ENABLE_FAILED"}]}),
    ]),
    ("dynamodb", "KinesisStreamingDestinationActive", 2, [
        ok({"KinesisDataStreamDestinations": [{"DestinationStatus": "DISABLED"}, {"DestinationStatus": "ACTIVE"}]}),
    ]),
]


def botocore_response(r):
    if "error" in r:
        e = r["error"]
        return {"Error": {"Code": e["code"], "Message": e["message"]},
                "ResponseMetadata": {"HTTPStatusCode": e["status"]}}
    out = json.loads(json.dumps(r["output"]))
    out["ResponseMetadata"] = {"HTTPStatusCode": 200}
    return out


def run_case(waiter_model, service, name, max_attempts, responses):
    from botocore.exceptions import WaiterError
    from botocore.waiter import Waiter

    config = waiter_model.get_waiter(name)
    matched = []
    for r in responses:
        resp = botocore_response(r)
        idx = next((i for i, a in enumerate(config.acceptors) if a.matcher_func(resp)), None)
        matched.append(idx)
    calls = 0

    def operation(**_kwargs):
        nonlocal calls
        resp = botocore_response(responses[min(calls, len(responses) - 1)])
        calls += 1
        return resp

    try:
        Waiter(name, config, operation).wait(WaiterConfig={"Delay": 0, "MaxAttempts": max_attempts})
        outcome = "success"
    except WaiterError as e:
        outcome = str(e)
    if calls > len(responses):
        raise SystemExit(f"{service} {name}: botocore wanted {calls} answers, the case has {len(responses)}")
    return {"service": service, "waiter": name, "max_attempts": max_attempts, "responses": responses,
            "matched": matched[:calls], "calls": calls, "outcome": outcome}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--allow-version-mismatch", action="store_true")
    args = ap.parse_args()
    import botocore
    import botocore.session
    import jmespath
    from botocore import xform_name

    installed = {"botocore": botocore.__version__, "jmespath": jmespath.__version__}
    if installed != PINNED and not args.allow_version_mismatch:
        print(f"installed {installed}, pinned {PINNED}; pass --allow-version-mismatch", file=sys.stderr)
        return 1
    session = botocore.session.get_session()
    loader = session.get_component("data_loader")
    names = {}
    models = {}
    for service in loader.list_available_services("service-2"):
        try:
            model = session.get_waiter_model(service)
        except Exception:  # services without waiters-2.json
            continue
        models[service] = model
        for w in model.waiter_names:
            names[f"{service} {w}"] = xform_name(w, "-")
    cases = [run_case(models[s], s, w, n, rs) for s, w, n, rs in CASES]
    doc = {"source": {"generator": "infra/scripts/generate_waiter_oracle.py", "packages": installed,
                      "notice": "derived from botocore waiter models (Apache-2.0)"},
           "names": names, "cases": cases}
    OUT.write_bytes(gzip.compress(json.dumps(doc, sort_keys=True, separators=(",", ":")).encode(), mtime=0))
    endings = sorted({c["outcome"].split(":")[1].strip() if ":" in c["outcome"] else c["outcome"] for c in cases})
    print(f"{OUT.relative_to(ROOT)}: {len(names)} waiter names, {len(cases)} cases; endings: {endings}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
