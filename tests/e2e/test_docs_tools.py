"""The documentation tools (`aws___search_documentation`, `aws___read_documentation`,
`aws___recommend`) over stdio with the official client, against `fake_docs.py`: a local fake
of the documentation search, recommendation and page services. Covers live answers, the
offline fallbacks (skills, API reference from the service models), paging, HTML to markdown
conversion, the URL allow list and redirect checks, and bad input. The first tests check the
fake itself."""

import http.client
import json
import re
import time
import urllib.error
import urllib.request
from datetime import timedelta

import pytest

import fake_docs
from conftest import AWS_MCP, base_env, free_port
from mcpclient import with_stdio_session

SEARCH = "aws___search_documentation"
READ = "aws___read_documentation"
RECOMMEND = "aws___recommend"
DOCS_TOOLS = {SEARCH, READ, RECOMMEND}
TOPICS = ["reference_documentation", "current_awareness", "troubleshooting", "amplify_docs", "cdk_docs",
          "cdk_constructs", "cloudformation", "strands_docs", "agent_skills", "general"]
ERROR_CODES = {"not_found", "invalid_url", "throttled", "downstream_error", "validation_error"}
CALL_TIMEOUT = timedelta(seconds=60)

DOCS = "https://docs.aws.amazon.com"
WELCOME = f"{DOCS}/lambda/latest/dg/welcome.html"
LONG_GUIDE = f"{DOCS}/lambda/latest/dg/long-guide.html"
LONG_TABLE = f"{DOCS}/AmazonS3/latest/userguide/long-table.html"
REPOST = "https://repost.aws/knowledge-center/lambda-function-timeout"
BLOG = "https://aws.amazon.com/blogs/compute/some-post/"
API_DESCRIBE_VPCS = f"{DOCS}/AWSEC2/latest/APIReference/API_DescribeVpcs.html"
GOTO_DESCRIBE_VPCS = f"{DOCS}/goto/WebAPI/ec2-2016-11-15/DescribeVpcs"
API_UNKNOWN = f"{DOCS}/AWSEC2/latest/APIReference/API_DescribeUnicorns.html"


# ---------------------------------------------------------------------------------------------
# Fixtures and helpers.
# ---------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def fake():
    server, _ = fake_docs.start()
    try:
        yield server
    finally:
        fake_docs.stop(server)


@pytest.fixture(autouse=True)
def _fresh_records(request):
    """Every test starts with empty request records on the fake."""
    if "fake" in request.fixturenames:
        request.getfixturevalue("fake").reset()


def docs_env(fake, **extra):
    """The environment pointing the server's documentation clients at the fake."""
    base = fake.base_url
    env = {"AWS_MCP_DOCS_SEARCH_URL": f"{base}/search",
           "AWS_MCP_DOCS_RECOMMEND_URL": f"{base}/v1/recommendations",
           "AWS_MCP_DOCS_UPSTREAM": base}
    env.update(extra)
    return env


def offline(fake, **extra):
    return docs_env(fake, AWS_MCP_DOCS_LIVE="false", **extra)


def dead_url():
    """A loopback URL nothing listens on (connections are refused)."""
    return f"http://127.0.0.1:{free_port()}"


def session(body, env):
    return with_stdio_session(AWS_MCP, ["stdio"], base_env(**env), body)


def call_all(calls, env):
    """Makes the (tool, arguments) calls in order in one session; returns the results."""
    async def body(s, init):
        return [await s.call_tool(name, args, read_timeout_seconds=CALL_TIMEOUT) for name, args in calls]

    return session(body, env)


def call(name, args, env):
    return call_all([(name, args)], env)[0]


def structured(result):
    assert not result.isError, result.content[0].text
    # Structured results are also given as JSON text.
    assert json.loads(result.content[0].text) == result.structuredContent
    return result.structuredContent


def read(env, *requests):
    """Calls aws___read_documentation; requests are URLs or request objects."""
    reqs = [r if isinstance(r, dict) else {"url": r} for r in requests]
    out = structured(call(READ, {"requests": reqs}, env))
    results = out["results"]
    assert [r["url"] for r in results] == [r["url"] for r in reqs]
    for r in results:
        assert r["status"] in ("success", "error"), r
        if r["status"] == "error":
            assert r["error_code"] in ERROR_CODES, r
            assert r["error"], r
    return results


def page_path(url):
    """The path under which the server under test fetches `url` from the fake."""
    return "/" + url.split("://", 1)[1]


def squash(text):
    return " ".join(text.split())


def fenced_blocks(md):
    return re.findall(r"^ *(?:```|~~~)[^\n]*\n(.*?)\n *(?:```|~~~) *$", md, re.S | re.M)


def table_lines(md):
    return [line.strip() for line in md.splitlines() if line.strip().startswith("|")]


def assert_no_chrome(md):
    for marker in fake_docs.CHROME_MARKERS:
        assert marker not in md, f"page chrome leaked into the markdown: {marker!r}"
    assert "<script" not in md and "<style" not in md and "<div" not in md


# ---------------------------------------------------------------------------------------------
# The fake itself (runs without the server under test).
# ---------------------------------------------------------------------------------------------

def http_get(fake, path):
    """GET without following redirects: (status, headers, body)."""
    host, port = fake.server_address[:2]
    conn = http.client.HTTPConnection(host, port, timeout=10)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        return resp.status, dict(resp.getheaders()), resp.read().decode()
    finally:
        conn.close()


def post_search(fake, body, timeout=10):
    req = urllib.request.Request(fake.base_url + "/search", data=json.dumps(body).encode(),
                                 headers={"content-type": "application/json"}, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def real_search_body(phrase):
    return {"textQuery": {"input": phrase},
            "contextAttributes": [{"key": "domain", "value": "docs.aws.amazon.com"}],
            "acceptSuggestionBody": "RawText", "locales": ["en_us"]}


def test_fake_search_answers_like_the_real_service(fake):
    status, text = post_search(fake, real_search_body("enable S3 bucket versioning"))
    assert status == 200
    suggestions = json.loads(text)["suggestions"]
    assert 1 <= len(suggestions) <= 10
    first = suggestions[0]["textExcerptSuggestion"]
    assert first["title"] == "Retaining multiple versions of objects with S3 Versioning"
    assert all(s["textExcerptSuggestion"]["link"].startswith(DOCS + "/") for s in suggestions)
    assert all(len(s["textExcerptSuggestion"]["suggestionBody"]) >= 300 for s in suggestions)
    assert {"link", "title", "summary", "suggestionBody"} <= set(first)
    assert fake.search_requests == [real_search_body("enable S3 bucket versioning")]
    # A phrase sharing no word of three letters or more finds nothing.
    assert json.loads(post_search(fake, real_search_body("zq xy"))[1])["suggestions"] == []
    assert len(fake_docs.SEARCH_DOCS) >= 15


def test_fake_search_errors_and_triggers(fake):
    assert post_search(fake, {"textQuery": {}})[0] == 400
    assert post_search(fake, {"locales": ["en_us"]})[0] == 400
    assert post_search(fake, real_search_body("trigger-500 lambda"))[0] == 500
    status, text = post_search(fake, real_search_body("trigger-badjson lambda"))
    assert status == 200
    with pytest.raises(ValueError):
        json.loads(text)
    fake.slow_seconds = 0.5
    try:
        started = time.monotonic()
        status, _ = post_search(fake, real_search_body("trigger-slow lambda"))
        assert status == 200 and time.monotonic() - started >= 0.5
    finally:
        fake.slow_seconds = fake_docs.SLOW_SECONDS
    assert len(fake.search_requests) == 5


def test_fake_recommendations(fake):
    status, _, text = http_get(fake, "/v1/recommendations?path=" + urllib.request.quote(WELCOME, safe=""))
    assert status == 200
    body = json.loads(text)
    assert set(body) == {"highlyRated", "journey", "new", "similar"}
    for group in body.values():
        assert 2 <= len(group["items"]) <= 3
    assert all({"url", "assetTitle", "abstract"} <= set(i) for i in body["highlyRated"]["items"])
    assert all(i["intent"] and i["urls"] for i in body["journey"]["items"])
    assert all("dateCreated" in i for i in body["new"]["items"])
    assert fake.recommend_requests == [WELCOME]
    assert http_get(fake, "/v1/recommendations?path=" + urllib.request.quote(f"{DOCS}/missing-x.html"))[0] == 404
    assert http_get(fake, "/v1/recommendations")[0] == 400


def test_fake_pages_redirects_and_errors(fake):
    status, headers, page = http_get(fake, page_path(WELCOME))
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert '<main id="main-content"' in page and "<script>" in page and "Did this page help you?" in page
    assert page.count("<pre") >= 3
    _, _, table = http_get(fake, page_path(LONG_TABLE))
    assert 'class="awsui-article"' in table and "<main" not in table
    assert table.count("<tr>") == fake_docs.LONG_TABLE_ROWS + 1
    _, _, guide = http_get(fake, page_path(LONG_GUIDE))
    main = guide.split('<main id="main-content"', 1)[1].split("</main>", 1)[0]
    text = re.sub(r"<[^>]+>", "", main)
    assert 35_000 <= len(text) <= 50_000
    assert len(re.findall(r"<h[23] ", main)) == len(fake_docs.LONG_GUIDE_SECTIONS) >= 25
    for url in (REPOST, BLOG):
        assert http_get(fake, page_path(url))[0] == 200

    expected = {
        "/docs.aws.amazon.com/lambda/latest/dg/old-page.html": (301, WELCOME),
        "/docs.aws.amazon.com/redirect-to-metadata.html": (302, "http://169.254.169.254/latest/meta-data/"),
        "/docs.aws.amazon.com/redirect-to-private.html": (302, "http://10.0.0.5/internal"),
        "/docs.aws.amazon.com/redirect-offsite.html": (302, "https://evil.example.com/phish"),
        "/docs.aws.amazon.com/redirect-loop.html": (302, f"{DOCS}/redirect-loop.html"),
    }
    for path, (code, location) in expected.items():
        status, headers, _ = http_get(fake, path)
        assert (status, headers["Location"]) == (code, location), path
    assert http_get(fake, "/docs.aws.amazon.com/missing.html")[0] == 404
    assert "Page Not Found" in http_get(fake, "/docs.aws.amazon.com/missing.html")[2]
    assert http_get(fake, "/docs.aws.amazon.com/throttled.html")[0] == 429
    assert http_get(fake, "/docs.aws.amazon.com/broken.html")[0] == 500
    assert http_get(fake, "/docs.aws.amazon.com/nothing/here.html")[0] == 404
    assert fake.page_requests[0] == page_path(WELCOME)
    assert "/docs.aws.amazon.com/nothing/here.html" in fake.page_requests


# ---------------------------------------------------------------------------------------------
# tools/list
# ---------------------------------------------------------------------------------------------

def test_docs_tools_are_listed_with_schemas_and_annotations(fake):
    async def body(s, init):
        return (await s.list_tools()).tools

    by_name = {t.name: t for t in session(body, docs_env(fake))}
    assert DOCS_TOOLS <= set(by_name)
    for name in DOCS_TOOLS:
        t = by_name[name]
        assert t.description
        assert t.inputSchema["type"] == "object" and t.outputSchema["type"] == "object"
        assert t.annotations.readOnlyHint is True
        assert t.annotations.destructiveHint is False
        assert t.annotations.openWorldHint is True
    search = by_name[SEARCH].inputSchema
    assert search["required"] == ["search_phrase"]
    assert set(search["properties"]["topics"]["items"]["enum"]) == set(TOPICS)
    assert {"limit", "topics"} <= set(search["properties"])
    assert by_name[READ].inputSchema["required"] == ["requests"]
    assert by_name[RECOMMEND].inputSchema["required"] == ["url"]


# ---------------------------------------------------------------------------------------------
# aws___search_documentation
# ---------------------------------------------------------------------------------------------

def check_results(out):
    results = out["results"]
    assert [r["rank_order"] for r in results] == list(range(1, len(results) + 1))
    for r in results:
        assert r["source"] in ("live", "skill", "api_reference"), r
        assert r["url"] and r["title"] and r["context"], r
        if r["source"] == "skill":
            assert r["url"] == f"skill://{r['skill_name']}"
        if r["source"] == "api_reference":
            assert r["service"] and r["operation"], r
    return results


def test_search_live_results_come_first_class_with_context(fake):
    phrase = "enable S3 bucket versioning"
    out = structured(call(SEARCH, {"search_phrase": phrase, "limit": 10}, docs_env(fake)))
    assert out["sources"] == {"live": "ok", "offline": "ok"}
    results = check_results(out)
    assert 1 <= len(results) <= 10
    live = [r for r in results if r["source"] == "live"]
    fixture = {d["link"]: d for d in fake_docs.search(phrase)}
    assert live and {r["url"] for r in live} <= set(fixture)
    assert fake_docs.search(phrase)[0]["link"] in {r["url"] for r in live}
    for r in live:
        assert r["title"] == fixture[r["url"]]["title"]
        assert len(r["context"]) >= 200, r
    # The request had the shape the real service expects.
    assert fake.search_requests == [real_search_body(phrase)]


def test_search_default_limit_is_4_and_limit_is_honoured(fake):
    phrase = "lambda function timeout concurrency"
    default, two, fifty = call_all([
        (SEARCH, {"search_phrase": phrase}),
        (SEARCH, {"search_phrase": phrase, "limit": 2}),
        (SEARCH, {"search_phrase": phrase, "limit": 50}),
    ], docs_env(fake))
    assert len(check_results(structured(default))) == 4
    assert len(check_results(structured(two))) == 2
    assert 4 < len(check_results(structured(fifty))) <= 50


def test_search_agent_skills_returns_only_skills_without_live_search(fake):
    out = structured(call(SEARCH, {"search_phrase": "my lambda function keeps timing out",
                                   "topics": ["agent_skills"], "limit": 5}, docs_env(fake)))
    results = check_results(out)
    assert results and all(r["source"] == "skill" for r in results)
    assert "lambda-troubleshooting" in [r["skill_name"] for r in results[:3]]
    assert all(len(r["context"]) >= 150 for r in results)
    assert out["sources"]["live"] == "not_used"
    assert fake.search_requests == []


def test_search_reference_documentation_favours_api_reference(fake):
    out = structured(call(SEARCH, {"search_phrase": "describe vpcs in ec2 api",
                                   "topics": ["reference_documentation"]}, docs_env(fake)))
    results = check_results(out)
    top = results[0]
    assert top["source"] == "api_reference"
    assert (top["service"], top["operation"]) == ("ec2", "DescribeVpcs")
    assert top["url"].startswith(DOCS + "/")
    assert len(top["context"]) >= 100


def test_search_general_merges_live_skills_and_api_reference(fake):
    out = structured(call(SEARCH, {"search_phrase": "invoke lambda function timeout",
                                   "topics": ["general"], "limit": 10}, docs_env(fake)))
    results = check_results(out)
    assert {"live", "skill", "api_reference"} <= {r["source"] for r in results}
    assert out["sources"] == {"live": "ok", "offline": "ok"}
    urls = [r["url"] for r in results]
    assert len(urls) == len(set(urls)), "duplicate hits"


def test_search_every_topic_is_accepted(fake):
    results = call_all([(SEARCH, {"search_phrase": "create an s3 bucket", "topics": [t]}) for t in TOPICS]
                       + [(SEARCH, {"search_phrase": "create an s3 bucket", "topics": TOPICS[:3]})],
                       offline(fake))
    for topic, r in zip(TOPICS + ["three"], results):
        assert not r.isError, (topic, r.content[0].text)
        check_results(structured(r))


@pytest.mark.parametrize("trigger", ["trigger-500", "trigger-badjson", "trigger-slow"])
def test_search_live_failure_still_answers_from_offline_sources(fake, trigger):
    phrase = f"{trigger} lambda function task timed out"

    async def body(s, init):
        return await s.call_tool(SEARCH, {"search_phrase": phrase, "limit": 5}, read_timeout_seconds=CALL_TIMEOUT)

    result = session(body, docs_env(fake))
    out = structured(result)
    results = check_results(out)
    assert results, "a failed live search must not give an empty answer"
    assert all(r["source"] != "live" for r in results)
    assert out["sources"]["live"].startswith("failed"), out["sources"]
    assert out["sources"]["offline"] == "ok"
    assert "live" in out["note"].lower() and "fail" in out["note"].lower()
    assert len(fake.search_requests) == 1
    if trigger == "trigger-slow":
        # The fake stalls for 15 s; the search gives up on its own timeout and says so (how
        # long that took is a benchmark's business, not a test's: a debug build's first search
        # also builds the offline index on the same runtime).
        assert "timed out" in out["sources"]["live"], out["sources"]


def test_search_live_disabled_never_calls_the_service(fake):
    out = structured(call(SEARCH, {"search_phrase": "lambda function timeout", "limit": 10}, offline(fake)))
    results = check_results(out)
    assert results and all(r["source"] != "live" for r in results)
    assert out["sources"] == {"live": "disabled", "offline": "ok"}
    assert fake.search_requests == []


def test_search_unreachable_service_is_a_failed_source(fake):
    env = docs_env(fake, AWS_MCP_DOCS_SEARCH_URL=dead_url() + "/search")
    out = structured(call(SEARCH, {"search_phrase": "dynamodb time to live"}, env))
    assert check_results(out)
    assert out["sources"]["live"].startswith("failed")
    assert out["note"]


@pytest.mark.parametrize("args, needles", [
    ({"search_phrase": ""}, ["search_phrase"]),
    ({"search_phrase": "   "}, ["search_phrase"]),
    ({}, ["search_phrase"]),
    ({"search_phrase": "s3", "limit": 0}, ["limit", "50"]),
    ({"search_phrase": "s3", "limit": 51}, ["limit", "50"]),
    ({"search_phrase": "s3", "topics": ["general", "cdk_docs", "cloudformation", "troubleshooting"]},
     ["topics", "3"]),
    ({"search_phrase": "s3", "topics": ["nope"]}, ["reference_documentation", "agent_skills", "general"]),
])
def test_search_bad_input_gets_a_clear_error(fake, args, needles):
    result = call(SEARCH, args, offline(fake))
    assert result.isError
    text = result.content[0].text
    for needle in needles:
        assert needle in text, text
    assert fake.search_requests == []


# ---------------------------------------------------------------------------------------------
# aws___read_documentation: conversion
# ---------------------------------------------------------------------------------------------

def test_read_converts_the_main_content_to_markdown(fake):
    (r,) = read(docs_env(fake), WELCOME)
    assert r["status"] == "success" and r["source"] == "live"
    md = r["content"]
    assert r["truncated"] is False
    assert (r["start_index"], r["end_index"], r["total_length"]) == (0, len(md), len(md))
    assert fake.page_requests == [page_path(WELCOME)]

    assert re.search(r"^# What is AWS Lambda\?\s*$", md, re.M), md[:300]
    for h2 in ("When to use Lambda", "Writing a handler", "Invoking a function from the AWS CLI",
               "Default settings and limits"):
        assert re.search(rf"^## {re.escape(h2)}\s*$", md, re.M), h2
    flat = squash(md)
    assert "runs code without requiring you to provision or manage servers" in flat
    assert "`lambda:InvokeFunction`" in md
    assert "[Invoking Lambda functions](" in md
    assert "one busy function can use up the concurrency" in flat  # the note box

    # Every code block is fenced, both code tabs included, entities decoded.
    blocks = fenced_blocks(md)
    for snippet in (fake_docs.WELCOME_PYTHON, fake_docs.WELCOME_NODE, fake_docs.WELCOME_BASH):
        assert any(snippet in b for b in blocks), f"missing fenced code block:\n{snippet}\n--- in ---\n{md}"
    assert "&amp;" not in md and "&gt;" not in md and "&quot;" not in md

    # The table is a markdown table.
    rows = table_lines(md)
    assert re.fullmatch(r"\|\s*Setting\s*\|\s*Default\s*\|\s*Maximum\s*\|", rows[0])
    assert re.fullmatch(r"\|(\s*:?-{3,}:?\s*\|){3}", rows[1])
    for setting, default, maximum in fake_docs.WELCOME_TABLE_ROWS:
        assert any(re.fullmatch(rf"\|\s*{re.escape(setting)}\s*\|\s*{re.escape(default)}\s*\|\s*"
                                rf"{re.escape(maximum)}\s*\|", row) for row in rows), setting

    assert_no_chrome(md)


def test_read_awsui_article_page_and_long_table_cut_with_a_note(fake):
    (r,) = read(docs_env(fake), {"url": LONG_TABLE, "max_length": 100000})
    assert r["status"] == "success"
    md = r["content"]
    assert_no_chrome(md)
    assert re.search(r"^# Example S3 Inventory report\s*$", md, re.M)
    assert "Inventory reports are delivered daily or weekly" in squash(md)
    rows = table_lines(md)
    assert re.fullmatch(r"\|\s*Object key\s*\|\s*Storage class\s*\|\s*Size \(bytes\)\s*\|\s*Last modified\s*\|",
                        rows[0])
    data = rows[2:]
    assert 0 < len(data) < fake_docs.LONG_TABLE_ROWS
    assert fake_docs.long_table_row(1)[0] in data[0]
    assert fake_docs.long_table_row(fake_docs.LONG_TABLE_ROWS)[0] not in md
    left_out = str(fake_docs.LONG_TABLE_ROWS - len(data))
    notes = [line for line in md.splitlines() if not line.strip().startswith("|") and left_out in line]
    assert notes and any("row" in n.lower() for n in notes), f"no note saying {left_out} rows were left out"


def test_read_repost_and_blog_pages_and_keeps_request_order(fake):
    results = read(docs_env(fake), REPOST, f"{DOCS}/missing.html", "https://evil.example.com/x", BLOG, WELCOME)
    assert [r["status"] for r in results] == ["success", "error", "error", "success", "success"]
    assert [r.get("error_code") for r in results] == [None, "not_found", "invalid_url", None, None]
    repost, _, _, blog, welcome = results
    assert re.search(r"^# Why does my Lambda function time out\?\s*$", repost["content"], re.M)
    assert "Task timed out after N seconds" in repost["content"]
    assert "batchItemFailures" in blog["content"]
    assert "What is AWS Lambda?" in welcome["content"]
    for r in (repost, blog, welcome):
        assert_no_chrome(r["content"])
    assert page_path("https://evil.example.com/x") not in fake.page_requests


# ---------------------------------------------------------------------------------------------
# aws___read_documentation: paging
# ---------------------------------------------------------------------------------------------

def test_read_pages_through_a_long_guide_exactly(fake):
    async def body(s, init):
        async def one(**req):
            res = await s.call_tool(READ, {"requests": [{"url": LONG_GUIDE, **req}]},
                                    read_timeout_seconds=CALL_TIMEOUT)
            return structured(res)["results"][0]

        full = await one(max_length=100000)
        pages, start = [], 0
        for _ in range(40):
            page = await one(max_length=5000, start_index=start)
            pages.append(page)
            if not page.get("truncated"):
                break
            start = page["end_index"]
        return full, pages

    full, pages = session(body, docs_env(fake))
    assert full["status"] == "success" and full["truncated"] is False
    text = full["content"]
    total = full["total_length"]
    assert total == len(text) and 30_000 < total < 60_000
    assert fake_docs.LONG_GUIDE_LAST_SENTENCE in text

    assert len(pages) >= total // 5000
    start = 0
    for i, page in enumerate(pages):
        assert page["status"] == "success", page
        assert page["start_index"] == start
        assert page["total_length"] == total
        content = page["content"]
        assert 0 < len(content) <= 5000
        assert page["end_index"] == page["start_index"] + len(content)
        assert content == text[page["start_index"]:page["end_index"]], f"page {i} differs from the full text"
        last = i == len(pages) - 1
        assert page["truncated"] is (not last)
        if not last:
            assert page["table_of_contents"], "a truncated page lists the table of contents"
        start = page["end_index"]
    assert start == total
    assert "".join(p["content"] for p in pages) == text

    toc = pages[0]["table_of_contents"]
    starts = [e["start_index"] for e in toc]
    assert starts == sorted(starts) and len(set(starts)) == len(starts)
    by_title = {e["title"].strip(): e for e in toc}
    for level, title in fake_docs.LONG_GUIDE_SECTIONS:
        assert title in by_title, f"{title!r} missing from the table of contents"
        entry = by_title[title]
        assert entry["level"] == level
        # The start_index points at the section: its title follows within a heading marker.
        at = text.find(title, entry["start_index"])
        assert 0 <= at - entry["start_index"] <= 8, (title, entry, text[entry["start_index"]:][:60])


def test_read_start_index_past_the_end_is_a_validation_error(fake):
    (full,) = read(docs_env(fake), {"url": WELCOME, "max_length": 100000})
    (r,) = read(docs_env(fake), {"url": WELCOME, "start_index": full["total_length"] + 100})
    assert r["status"] == "error" and r["error_code"] == "validation_error"
    assert "start_index" in r["error"]


def test_read_default_max_length_is_10000(fake):
    (r,) = read(docs_env(fake), LONG_GUIDE)
    assert r["status"] == "success" and r["truncated"] is True
    assert r["start_index"] == 0 and 0 < len(r["content"]) <= 10000
    assert r["end_index"] == len(r["content"])


# ---------------------------------------------------------------------------------------------
# aws___read_documentation: redirects, upstream errors, the allow list
# ---------------------------------------------------------------------------------------------

def test_read_follows_an_allowed_redirect(fake):
    old = f"{DOCS}/lambda/latest/dg/old-page.html"
    (r,) = read(docs_env(fake), old)
    assert r["status"] == "success"
    assert r["url"] == old and r["redirected_url"] == WELCOME
    assert re.search(r"^# What is AWS Lambda\?\s*$", r["content"], re.M)
    assert fake.page_requests == [page_path(old), page_path(WELCOME)]


@pytest.mark.parametrize("page, code", [
    ("redirect-to-metadata.html", "invalid_url"),
    ("redirect-to-private.html", "invalid_url"),
    ("redirect-offsite.html", "invalid_url"),
    ("redirect-loop.html", "downstream_error"),
    ("missing.html", "not_found"),
    ("throttled.html", "throttled"),
    ("broken.html", "downstream_error"),
])
def test_read_redirect_and_upstream_errors_are_per_request(fake, page, code):
    url = f"{DOCS}/{page}"
    out = structured(call(READ, {"requests": [{"url": url}, {"url": WELCOME}]}, docs_env(fake)))
    r, ok = out["results"]
    assert r["status"] == "error" and r["error_code"] == code, r
    assert r["error"]
    assert ok["status"] == "success"
    # Nothing but the documentation host was asked for: refused targets are never fetched.
    assert all(p.startswith("/docs.aws.amazon.com/") for p in fake.page_requests), fake.page_requests
    if page.startswith("redirect-") and page != "redirect-loop.html":
        assert fake.page_requests.count(page_path(url)) == 1
    if page == "redirect-loop.html":
        assert fake.page_requests.count(page_path(url)) <= 20


INVALID_URLS = [
    "http://docs.aws.amazon.com/lambda/latest/dg/welcome.html",
    "https://example.com/lambda/latest/dg/welcome.html",
    "https://evil.example.com/docs.aws.amazon.com/lambda/latest/dg/welcome.html",
    "https://169.254.169.254/latest/meta-data/",
    "https://10.0.0.5/internal",
    "https://127.0.0.1/docs.aws.amazon.com/lambda/latest/dg/welcome.html",
    "https://2852039166/latest/meta-data/",
    "https://[::1]/",
    "https://localhost/",
    "https://docs.aws.amazon.com@evil.com/",
    "https://docs.aws.amazon.com:443@evil.com/lambda/",
    "https://evil.com\\@docs.aws.amazon.com/",
    "https://docs.aws.amazon.com.evil.com/",
    "https://docs.aws.amazon.com%2eevil.com/",
    "https://aws.amazon.com/marketplace/pp/prodview-abc123",
    "https://repost.aws/questions/QU1234567890",
    "https://signin.aws.amazon.com/",
    "ftp://docs.aws.amazon.com/lambda/latest/dg/welcome.html",
    "file:///etc/passwd",
    "docs.aws.amazon.com/lambda/latest/dg/welcome.html",
]


@pytest.mark.parametrize("url", INVALID_URLS)
def test_read_refuses_urls_outside_the_allow_list_without_fetching(fake, url):
    out = structured(call(READ, {"requests": [{"url": url}]}, docs_env(fake)))
    (r,) = out["results"]
    assert r["url"] == url
    assert r["status"] == "error" and r["error_code"] == "invalid_url", r
    assert r["error"]
    assert fake.page_requests == []


def test_read_every_request_failing_is_still_not_a_tool_error(fake):
    result = call(READ, {"requests": [{"url": f"{DOCS}/missing.html"}, {"url": "http://10.0.0.5/"}]},
                  docs_env(fake))
    out = structured(result)
    assert [r["error_code"] for r in out["results"]] == ["not_found", "invalid_url"]


@pytest.mark.parametrize("args, needle", [
    ({}, "requests"),
    ({"requests": []}, "requests"),
    ({"requests": [{"url": WELCOME}] * 6}, "5"),
    ({"requests": [{"url": WELCOME, "max_length": 0}]}, "max_length"),
    ({"requests": [{"url": WELCOME, "max_length": 100001}]}, "max_length"),
    ({"requests": [{"url": WELCOME, "start_index": -1}]}, "start_index"),
    ({"requests": [{"max_length": 100}]}, "url"),
    ({"requests": WELCOME}, "requests"),
])
def test_read_malformed_call_is_a_tool_error(fake, args, needle):
    result = call(READ, args, docs_env(fake))
    assert result.isError
    assert needle in result.content[0].text
    assert fake.page_requests == []


# ---------------------------------------------------------------------------------------------
# aws___read_documentation: offline API reference from the service models
# ---------------------------------------------------------------------------------------------

def check_describe_vpcs(r):
    assert r["status"] == "success", r
    assert r["source"] == "offline_model"
    md = r["content"]
    assert "DescribeVpcs" in md
    assert "service model" in md.lower()
    req, resp = md.index("Request Parameters"), md.index("Response Elements")
    assert req < resp
    assert "VpcIds" in md[req:resp]
    assert "Vpcs" in md[resp:]


def test_read_api_reference_offline_renders_from_the_service_model(fake):
    results = read(offline(fake), API_DESCRIBE_VPCS, GOTO_DESCRIBE_VPCS)
    for r in results:
        check_describe_vpcs(r)
    assert fake.page_requests == []


def test_read_api_reference_falls_back_to_the_model_when_the_fetch_fails(fake):
    (r,) = read(docs_env(fake, AWS_MCP_DOCS_UPSTREAM=dead_url()), API_DESCRIBE_VPCS)
    check_describe_vpcs(r)


def test_read_unknown_operation_offline_is_not_found(fake):
    (r,) = read(offline(fake), API_UNKNOWN)
    assert r["status"] == "error" and r["error_code"] == "not_found", r
    assert fake.page_requests == []


def test_read_guide_page_offline_is_a_per_request_error(fake):
    (r,) = read(offline(fake), WELCOME)
    assert r["status"] == "error", r
    assert fake.page_requests == []


# ---------------------------------------------------------------------------------------------
# aws___recommend
# ---------------------------------------------------------------------------------------------

def check_recommendations(out):
    recs = out["recommendations"]
    for r in recs:
        assert r["url"].startswith("https://") and r["title"], r
        assert r["group"] in ("highlyRated", "journey", "new", "similar", "related_operations"), r
        assert "context" in r
    return recs


def test_recommend_live_flattens_the_four_groups(fake):
    out = structured(call(RECOMMEND, {"url": WELCOME}, docs_env(fake)))
    assert out["source"] == "live"
    recs = check_recommendations(out)
    expected = fake_docs.recommendation_urls()
    assert {r["url"]: r["group"] for r in recs} == expected
    assert len(recs) == len(expected)
    titles = {r["url"]: r["title"] for r in recs}
    assert titles[f"{DOCS}/lambda/latest/dg/snapstart.html"] == "Improving startup performance with Lambda SnapStart"
    assert fake.recommend_requests == [WELCOME]


def check_related_operations(out):
    assert out["source"] == "offline_model"
    recs = check_recommendations(out)
    assert recs and all(r["group"] == "related_operations" for r in recs)
    named = " ".join(r["url"] + " " + r["title"] for r in recs)
    for op in ("CreateVpc", "DeleteVpc", "ModifyVpcAttribute"):
        assert op in named, op
    note = out["note"].lower()
    assert "model" in note or "offline" in note


def test_recommend_offline_gives_related_operations(fake):
    out = structured(call(RECOMMEND, {"url": API_DESCRIBE_VPCS}, offline(fake)))
    check_related_operations(out)
    assert fake.recommend_requests == []


def test_recommend_falls_back_to_related_operations_when_live_fails(fake):
    env = docs_env(fake, AWS_MCP_DOCS_RECOMMEND_URL=dead_url() + "/v1/recommendations")
    out = structured(call(RECOMMEND, {"url": GOTO_DESCRIBE_VPCS}, env))
    check_related_operations(out)


def test_recommend_for_a_page_without_recommendations_does_not_break(fake):
    result = call(RECOMMEND, {"url": f"{DOCS}/lambda/latest/dg/missing-topic.html"}, docs_env(fake))
    if not result.isError:
        check_recommendations(structured(result))
    assert fake.recommend_requests == [f"{DOCS}/lambda/latest/dg/missing-topic.html"]


@pytest.mark.parametrize("url", [
    "https://evil.example.com/lambda/latest/dg/welcome.html",
    "http://docs.aws.amazon.com/lambda/latest/dg/welcome.html",
    "https://docs.aws.amazon.com@evil.com/",
    "https://169.254.169.254/latest/meta-data/",
    "https://aws.amazon.com/marketplace/pp/prodview-abc123",
])
def test_recommend_refuses_urls_outside_the_allow_list(fake, url):
    result = call(RECOMMEND, {"url": url}, docs_env(fake))
    assert result.isError
    assert "docs.aws.amazon.com" in result.content[0].text
    assert fake.recommend_requests == [] and fake.page_requests == []
