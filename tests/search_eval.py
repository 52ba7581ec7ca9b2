#!/usr/bin/env python3
"""Search quality report for `aws___search_documentation`, offline.

Starts `aws-mcp stdio` with the live documentation search switched off
(AWS_MCP_DOCS_LIVE=false), sends every query of tests/data/search_queries.json with
`limit` 10 and `topics` ["general"], and prints hit@1, hit@3, hit@10 and the mean reciprocal
rank, followed by the misses. A result matches a query when it has the expected
`skill_name`, or the expected `service` and `operation`.

It reports and never gates: the exit status is always 0.

    python tests/search_eval.py [--bin target/release/aws-mcp] [--queries FILE] [-v]
"""

import argparse
import json
import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_BIN = ROOT / "target" / "release" / "aws-mcp"
DEFAULT_QUERIES = ROOT / "tests" / "data" / "search_queries.json"
TOOL = "aws___search_documentation"
CUTOFFS = (1, 3, 10)


class StdioSession:
    """Newline-delimited JSON-RPC over a child's stdin/stdout."""

    def __init__(self, argv, env):
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, env=env, text=True, bufsize=1)
        self.inbox = queue.Queue()
        self.stderr_tail = []
        self.next_id = 0
        threading.Thread(target=self._pump_stdout, daemon=True).start()
        threading.Thread(target=self._pump_stderr, daemon=True).start()

    def _pump_stdout(self):
        for line in self.proc.stdout:
            line = line.strip()
            if not line:
                continue
            try:
                self.inbox.put(json.loads(line))
            except ValueError:
                self.stderr_tail.append(f"[non-JSON on stdout] {line}\n")
        self.inbox.put(None)

    def _pump_stderr(self):
        for line in self.proc.stderr:
            self.stderr_tail.append(line)
            del self.stderr_tail[:-40]

    def _write(self, message):
        self.proc.stdin.write(json.dumps(message) + "\n")
        self.proc.stdin.flush()

    def request(self, method, params, timeout=60.0):
        self.next_id += 1
        rid = self.next_id
        self._write({"jsonrpc": "2.0", "id": rid, "method": method, "params": params})
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no answer to {method} within {timeout}s")
            try:
                msg = self.inbox.get(timeout=left)
            except queue.Empty:
                continue
            if msg is None:
                raise EOFError("the server closed its output:\n" + "".join(self.stderr_tail))
            if msg.get("id") == rid and ("result" in msg or "error" in msg):
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg["result"]
            if "method" in msg and "id" in msg:  # a request from the server (e.g. ping)
                self._write({"jsonrpc": "2.0", "id": msg["id"], "result": {}})

    def initialize(self):
        result = self.request("initialize", {"protocolVersion": "2025-06-18", "capabilities": {},
                                              "clientInfo": {"name": "search-eval", "version": "1"}})
        self._write({"jsonrpc": "2.0", "method": "notifications/initialized"})
        return result

    def close(self):
        try:
            self.proc.stdin.close()
            self.proc.wait(timeout=10)
        except Exception:  # noqa: BLE001 - best effort shutdown
            self.proc.kill()
            self.proc.wait()


def server_env():
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update({
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_MCP_DOCS_LIVE": "false",
    })
    for key in ("AWS_MCP_SKILLS_DIR",):  # keep an organisation skills folder if one is set
        if key in os.environ:
            env[key] = os.environ[key]
    return env


def matches(hit, expected):
    if "skill_name" in expected:
        return hit.get("skill_name") == expected["skill_name"] or hit.get("url") == f"skill://{expected['skill_name']}"
    return hit.get("service") == expected.get("service") and hit.get("operation") == expected.get("operation")


def describe(hit):
    if hit.get("skill_name"):
        return f"skill {hit['skill_name']}"
    if hit.get("operation"):
        return f"api {hit.get('service')}.{hit['operation']}"
    return f"{hit.get('source', '?')} {hit.get('url', '?')}"


def expected_label(expected):
    if "skill_name" in expected:
        return f"skill {expected['skill_name']}"
    return f"api {expected['service']}.{expected['operation']}"


def tool_payload(result):
    if result.get("structuredContent") is not None:
        return result["structuredContent"]
    text = next((c.get("text") for c in result.get("content", []) if c.get("type") == "text"), "")
    try:
        return json.loads(text)
    except ValueError:
        return {"results": [], "_text": text}


def main():
    ap = argparse.ArgumentParser(description="Offline search quality report for aws___search_documentation.")
    ap.add_argument("--bin", default=str(DEFAULT_BIN), help=f"aws-mcp binary (default {DEFAULT_BIN})")
    ap.add_argument("--queries", default=str(DEFAULT_QUERIES), help="query set (JSON)")
    ap.add_argument("-v", "--verbose", action="store_true", help="print every query with its top hits")
    args = ap.parse_args()

    queries = json.loads(Path(args.queries).read_text())
    binary = Path(args.bin)
    if not binary.exists():
        print(f"search_eval: {binary} does not exist; build it first (cargo build --release)", file=sys.stderr)
        return 0

    client = StdioSession([str(binary), "stdio"], server_env())
    ranks, misses, errors = [], [], []
    started = time.monotonic()
    try:
        client.initialize()
        for q in queries:
            try:
                result = client.request("tools/call", {"name": TOOL, "arguments": {
                    "search_phrase": q["query"], "limit": 10, "topics": ["general"]}})
            except (RuntimeError, TimeoutError) as e:
                if "Unknown tool" in str(e):
                    print(f"search_eval: the server has no {TOOL} tool: {e}", file=sys.stderr)
                    client.close()
                    return 0
                errors.append((q, str(e)))
                ranks.append(None)
                continue
            payload = tool_payload(result)
            if result.get("isError"):
                errors.append((q, payload.get("_text") or json.dumps(payload)[:300]))
                ranks.append(None)
                continue
            hits = sorted(payload.get("results", []), key=lambda h: h.get("rank_order", 0))
            rank = next((i + 1 for i, h in enumerate(hits) if matches(h, q["expected"])), None)
            ranks.append(rank)
            if rank is None or rank > 1:
                misses.append((q, rank, hits[:3]))
            if args.verbose:
                top = ", ".join(describe(h) for h in hits[:3]) or "(no results)"
                print(f"[{rank or '-':>2}] {q['query']}\n      -> {top}")
    except (EOFError, TimeoutError, OSError) as e:
        print(f"search_eval: the server failed: {e}", file=sys.stderr)
        client.close()
        return 0
    client.close()

    n = len(ranks)
    elapsed = time.monotonic() - started
    print(f"\n{n} queries against {binary} (offline, limit 10, topics [general]) in {elapsed:.1f}s")
    for k in CUTOFFS:
        hit = sum(1 for r in ranks if r is not None and r <= k)
        print(f"  hit@{k:<2} {hit / n:6.3f}  ({hit}/{n})")
    mrr = sum(1 / r for r in ranks if r is not None) / n if n else 0.0
    print(f"  MRR    {mrr:6.3f}")
    for label, kind in (("skills", "skill_name"), ("API operations", "operation")):
        sub = [r for q, r in zip(queries, ranks) if kind in q["expected"]]
        if sub:
            h1 = sum(1 for r in sub if r == 1)
            sub_mrr = sum(1 / r for r in sub if r is not None) / len(sub)
            print(f"  {label:<15} hit@1 {h1}/{len(sub)}  MRR {sub_mrr:.3f}")

    if misses:
        print("\nNot ranked first:")
        for q, rank, top in misses:
            where = f"rank {rank}" if rank else "not in top 10"
            got = "; ".join(describe(h) for h in top) or "(no results)"
            print(f"  - {q['query']!r}\n      expected {expected_label(q['expected'])} ({where}); top: {got}")
    if errors:
        print("\nErrors:")
        for q, message in errors:
            print(f"  - {q['query']!r}: {message}")
    return 0


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # noqa: BLE001 - a report, never a gate
        print(f"search_eval: {type(e).__name__}: {e}", file=sys.stderr)
    sys.exit(0)
