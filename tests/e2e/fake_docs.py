"""A local stand-in for the AWS documentation services, for the documentation tool tests.

Three services on one port, shaped like the real ones:

* `POST /search` - the documentation search API (`textQuery.input` in, `suggestions` out),
  answered from a small set of fixture documents by word overlap. Phrases containing
  `trigger-500`, `trigger-slow` or `trigger-badjson` make it fail, stall for 15 s or
  answer with a body that is not JSON.
* `GET /v1/recommendations?path=<url>` - the content recommendations API.
* `GET /<host>/<path>` - documentation pages. The server under test is configured to fetch
  `https://<host>/<path>` as `<base>/<host>/<path>`, so pages are keyed by host and path.

Every search body, recommendation query and page path received is recorded on the server
object (`search_requests`, `recommend_requests`, `page_requests`) so tests can check what
was and was not fetched.

Run it alone with `python fake_docs.py --port 8080`, or import it and call `start()`.
"""

import argparse
import html
import json
import re
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

DOCS = "https://docs.aws.amazon.com"
SLOW_SECONDS = 15

# ---------------------------------------------------------------------------------------------
# Search fixtures: realistic documentation pages with a summary and a longer body excerpt.
# ---------------------------------------------------------------------------------------------

SEARCH_DOCS = [
    {
        "link": f"{DOCS}/lambda/latest/dg/welcome.html",
        "title": "What is AWS Lambda?",
        "summary": "Lambda runs your code on high-availability compute without servers to provision or manage.",
        "body": "AWS Lambda is a compute service that runs your code in response to events and automatically "
                "manages the compute resources for you. You organize code into Lambda functions, which run only "
                "when needed and scale automatically from a few requests per day to thousands per second. You "
                "pay only for the compute time that you consume. Functions can be invoked directly, through "
                "function URLs, or by event sources such as Amazon S3, Amazon SQS and Amazon EventBridge.",
    },
    {
        "link": f"{DOCS}/lambda/latest/dg/configuration-timeout.html",
        "title": "Configure Lambda function timeout",
        "summary": "The timeout is the maximum amount of time in seconds that a Lambda function can run.",
        "body": "Lambda runs your code for a set amount of time before timing out. The default timeout for a "
                "new function is 3 seconds and the maximum allowed value is 900 seconds (15 minutes). When the "
                "timeout is reached, the invocation stops and Lambda reports a Task timed out error in the "
                "function logs. Set the timeout higher than the slowest expected downstream call, and check "
                "the Duration metric in Amazon CloudWatch to find invocations that run close to the limit.",
    },
    {
        "link": f"{DOCS}/lambda/latest/dg/lambda-concurrency.html",
        "title": "Understanding Lambda function scaling",
        "summary": "Concurrency is the number of in-flight requests that your Lambda function is handling at the same time.",
        "body": "For each concurrent request, Lambda provisions a separate instance of your execution "
                "environment. As your functions receive more requests, Lambda automatically handles scaling the "
                "number of execution environments until you reach your account's concurrency limit. Reserved "
                "concurrency sets both the maximum and the guaranteed concurrency for a function, and "
                "provisioned concurrency initializes environments ahead of time to avoid cold starts.",
    },
    {
        "link": f"{DOCS}/AmazonS3/latest/userguide/Versioning.html",
        "title": "Retaining multiple versions of objects with S3 Versioning",
        "summary": "Versioning keeps multiple variants of an object in the same bucket.",
        "body": "Versioning in Amazon S3 is a means of keeping multiple variants of an object in the same "
                "bucket. You can use S3 Versioning to preserve, retrieve, and restore every version of every "
                "object stored in your buckets, and to recover from unintended user actions and application "
                "failures. A bucket is unversioned, versioning-enabled or versioning-suspended; once you enable "
                "versioning on a bucket it can never return to the unversioned state, only be suspended.",
    },
    {
        "link": f"{DOCS}/AmazonS3/latest/userguide/manage-versioning-examples.html",
        "title": "Enabling versioning on buckets",
        "summary": "Enable S3 Versioning with the console, the AWS CLI or the REST API.",
        "body": "You can enable versioning on an existing bucket with the console, the AWS CLI, the AWS SDKs "
                "or the PutBucketVersioning REST API. With the AWS CLI, run aws s3api put-bucket-versioning "
                "with --versioning-configuration Status=Enabled. It can take a short time for the change to "
                "propagate, so wait about 15 minutes after enabling versioning before issuing write "
                "operations that depend on it. MFA delete can only be configured by the root user.",
    },
    {
        "link": f"{DOCS}/AmazonS3/latest/userguide/object-lifecycle-mgmt.html",
        "title": "Managing the lifecycle of objects",
        "summary": "Lifecycle configuration rules transition or expire objects automatically.",
        "body": "An S3 Lifecycle configuration is a set of rules that define actions that Amazon S3 applies "
                "to a group of objects. Transition actions move objects to another storage class, such as S3 "
                "Standard-IA after 30 days or S3 Glacier Flexible Retrieval after 90 days. Expiration actions "
                "delete objects when they reach a given age. In a versioned bucket, rules can also expire "
                "noncurrent versions and clean up expired object delete markers.",
    },
    {
        "link": f"{DOCS}/amazondynamodb/latest/developerguide/HowItWorks.CoreComponents.html",
        "title": "Core components of Amazon DynamoDB",
        "summary": "Tables, items and attributes are the core building blocks of DynamoDB.",
        "body": "In DynamoDB, a table is a collection of items, and each item is a collection of attributes. "
                "DynamoDB uses primary keys to uniquely identify each item in a table. A primary key is either "
                "a simple partition key or a composite of a partition key and a sort key. Secondary indexes let "
                "you query the data in a table with an alternate key, and DynamoDB Streams capture a time-ordered "
                "sequence of item-level modifications.",
    },
    {
        "link": f"{DOCS}/amazondynamodb/latest/developerguide/Query.html",
        "title": "Querying tables in DynamoDB",
        "summary": "Use the Query operation to find items based on primary key values.",
        "body": "The Query operation in Amazon DynamoDB finds items based on primary key values. You must "
                "provide the name of the partition key attribute and a single value for that attribute, and you "
                "can optionally narrow the results with a sort key condition such as begins_with or between. A "
                "single Query returns at most 1 MB of data; use LastEvaluatedKey as ExclusiveStartKey to "
                "retrieve the next page of results.",
    },
    {
        "link": f"{DOCS}/amazondynamodb/latest/developerguide/TTL.html",
        "title": "Using time to live (TTL) in DynamoDB",
        "summary": "TTL deletes items automatically after a timestamp you set.",
        "body": "Time to Live (TTL) for DynamoDB lets you define a per-item timestamp that determines when an "
                "item is no longer needed. Shortly after the date and time of the specified timestamp, DynamoDB "
                "deletes the item from your table without consuming any write throughput. The TTL attribute "
                "must hold a number that represents a Unix epoch time in seconds. Deleted items appear in "
                "DynamoDB Streams as service deletions.",
    },
    {
        "link": f"{DOCS}/IAM/latest/UserGuide/access_policies.html",
        "title": "Policies and permissions in AWS Identity and Access Management",
        "summary": "Manage access in AWS by creating policies and attaching them to IAM identities or resources.",
        "body": "A policy is an object in AWS that, when associated with an identity or resource, defines its "
                "permissions. AWS evaluates these policies when a principal makes a request, and the "
                "permissions in the policies determine whether the request is allowed or denied. Identity-based "
                "policies attach to users, groups and roles; resource-based policies attach to resources such as "
                "S3 buckets. An explicit deny in any policy overrides an allow.",
    },
    {
        "link": f"{DOCS}/IAM/latest/UserGuide/best-practices.html",
        "title": "Security best practices in IAM",
        "summary": "Recommendations for securing access to AWS resources with IAM.",
        "body": "Require human users to use federation with an identity provider to access AWS with temporary "
                "credentials, and require workloads to use IAM roles. Apply least-privilege permissions by "
                "granting only the actions and resources a task needs, use IAM Access Analyzer to generate and "
                "validate policies, regularly review and remove unused users, roles, permissions and "
                "credentials, and use conditions in policies to further restrict access.",
    },
    {
        "link": f"{DOCS}/IAM/latest/UserGuide/id_roles.html",
        "title": "IAM roles",
        "summary": "An IAM role is an identity with permissions that can be assumed by anyone who needs it.",
        "body": "An IAM role is an identity you can create in your account that has specific permissions. A "
                "role is similar to an IAM user, but instead of being uniquely associated with one person it is "
                "intended to be assumable by anyone who needs it, and it does not have long-term credentials. "
                "When you assume a role, AWS STS provides temporary security credentials for the session. The "
                "role's trust policy defines which principals can assume it.",
    },
    {
        "link": f"{DOCS}/AWSCloudFormation/latest/UserGuide/troubleshooting.html",
        "title": "Troubleshooting CloudFormation",
        "summary": "Find and fix the cause of failed stack operations.",
        "body": "When a stack operation fails, view the stack events to find the first resource that reported "
                "a failure status; later events are usually consequences of that one. Common causes include "
                "missing IAM permissions, resources that already exist with the same name, exceeded service "
                "quotas and invalid property values. A stack left in ROLLBACK_COMPLETE after a failed creation "
                "cannot be updated and has to be deleted before you try again.",
    },
    {
        "link": f"{DOCS}/AWSCloudFormation/latest/UserGuide/using-cfn-updating-stacks-continueupdaterollback.html",
        "title": "Continue rolling back an update",
        "summary": "Recover a stack that is stuck in UPDATE_ROLLBACK_FAILED.",
        "body": "A stack goes into the UPDATE_ROLLBACK_FAILED state when CloudFormation cannot roll back all "
                "changes during an update. Fix the error that caused the failure, for example by restoring a "
                "resource that was changed outside of CloudFormation, and then continue the rollback. If a "
                "resource cannot be fixed, you can skip it with the resources-to-skip option, after which "
                "CloudFormation treats it as successfully rolled back.",
    },
    {
        "link": f"{DOCS}/vpc/latest/userguide/what-is-amazon-vpc.html",
        "title": "What is Amazon VPC?",
        "summary": "Launch AWS resources in a logically isolated virtual network that you define.",
        "body": "With Amazon Virtual Private Cloud (Amazon VPC), you can launch AWS resources in a logically "
                "isolated virtual network that you have defined. A VPC spans all of the Availability Zones in "
                "its Region; subnets live in a single Availability Zone. Route tables control where network "
                "traffic is directed, an internet gateway connects the VPC to the internet, and a NAT gateway "
                "lets instances in private subnets reach the internet without accepting inbound connections.",
    },
    {
        "link": f"{DOCS}/AWSEC2/latest/APIReference/API_DescribeVpcs.html",
        "title": "DescribeVpcs - Amazon Elastic Compute Cloud",
        "summary": "Describes your VPCs. The default is to describe all your VPCs.",
        "body": "DescribeVpcs describes your VPCs. By default it describes all of your VPCs; pass VpcIds or "
                "Filters such as cidr, is-default, state or tag:key to narrow the answer. The response contains "
                "a Vpcs list with each VPC's ID, CIDR block associations, DHCP options set, tenancy and state, "
                "and a NextToken when more results are available. Use MaxResults between 5 and 1000 to page "
                "through large accounts.",
    },
]

# ---------------------------------------------------------------------------------------------
# Recommendation fixtures, shaped like the content recommendations API.
# ---------------------------------------------------------------------------------------------

RECOMMENDATIONS = {
    "highlyRated": {"items": [
        {"url": f"{DOCS}/lambda/latest/dg/getting-started.html", "assetTitle": "Create your first Lambda function",
         "abstract": "Create a function in the console, invoke it with a test event and read its logs."},
        {"url": f"{DOCS}/lambda/latest/dg/lambda-permissions.html", "assetTitle": "Managing permissions in AWS Lambda",
         "abstract": "Use an execution role for what the function can do and resource-based policies for who can invoke it."},
        {"url": f"{DOCS}/lambda/latest/dg/gettingstarted-limits.html", "assetTitle": "Lambda quotas",
         "abstract": "Memory, timeout, payload, deployment package and concurrency limits for Lambda."},
    ]},
    "journey": {"items": [
        {"intent": "Deploy functions", "urls": [
            {"url": f"{DOCS}/lambda/latest/dg/configuration-function-zip.html", "assetTitle": "Deploying Lambda functions as .zip file archives"},
            {"url": f"{DOCS}/lambda/latest/dg/images-create.html", "assetTitle": "Create a Lambda function using a container image"},
        ]},
        {"intent": "Monitor functions", "urls": [
            {"url": f"{DOCS}/lambda/latest/dg/monitoring-cloudwatchlogs.html", "assetTitle": "Sending Lambda function logs to CloudWatch Logs"},
        ]},
    ]},
    "new": {"items": [
        {"url": f"{DOCS}/lambda/latest/dg/snapstart.html", "assetTitle": "Improving startup performance with Lambda SnapStart",
         "dateCreated": "2024-11-18"},
        {"url": f"{DOCS}/lambda/latest/dg/lambda-runtimes.html", "assetTitle": "Lambda runtimes",
         "dateCreated": "2025-06-02"},
    ]},
    "similar": {"items": [
        {"url": f"{DOCS}/lambda/latest/dg/invocation-async.html", "assetTitle": "Invoking a Lambda function asynchronously",
         "abstract": "Lambda queues asynchronous events and retries failed invocations twice."},
        {"url": f"{DOCS}/lambda/latest/dg/invocation-eventsourcemapping.html", "assetTitle": "How Lambda processes records from stream and queue-based event sources",
         "abstract": "Event source mappings read from SQS, Kinesis, DynamoDB Streams and Kafka and invoke your function in batches."},
    ]},
}


def recommendation_urls():
    """Every URL in the recommendation fixture, with the group it belongs to."""
    out = {}
    for group, block in RECOMMENDATIONS.items():
        for item in block["items"]:
            if group == "journey":
                for u in item["urls"]:
                    out[u["url"]] = group
            else:
                out[item["url"]] = group
    return out


# ---------------------------------------------------------------------------------------------
# Pages.
# ---------------------------------------------------------------------------------------------

# Text that only appears in the page chrome (outside the main content, or hidden inside it):
# none of it may reach the markdown the server under test produces.
CHROME_MARKERS = [
    "Sign In to the Console",          # header
    "Search in this guide",            # header search box
    "Lambda quotas and limits",        # left navigation
    "Document history for the guide",  # left navigation
    "Documentation home",              # breadcrumbs
    "Did this page help you?",         # feedback widget
    "Thanks for letting us know",      # feedback widget answer
    "Select your cookie preferences",  # cookie banner
    "Accept all cookies",              # cookie banner
    "All rights reserved",             # footer
    "Site terms",                      # footer
    "Javascript is disabled",          # noscript warning
    "Document Conventions",            # prev/next block
    "awsDocsConfig",                   # inline script
    "trackPageView",                   # inline script
    "awsdocs-container",               # inline style
    "font-family",                     # inline style
]

_STYLE = """
.awsdocs-container { max-width: 1200px; margin: 0 auto; font-family: "Amazon Ember", Arial, sans-serif; }
#left-column { width: 280px; float: left; }
.code-tabs .tab-panel { display: none; } .code-tabs .tab-panel.active { display: block; }
"""

_SCRIPT = """
window.awsDocsConfig = { locale: "en_us", feedbackEndpoint: "/feedback", guide: "%s" };
document.addEventListener("DOMContentLoaded", function () { window.trackPageView && window.trackPageView(location.pathname); });
"""

_TAB_SCRIPT = """
document.querySelectorAll('.code-tabs [role=tab]').forEach(function (t) { t.addEventListener('click', function () { /* switch panel */ }); });
"""


def _chrome(title, guide, main_html, use_article_div=False):
    """Wraps main content in the header, navigation, breadcrumbs, feedback, cookie banner and footer
    of a documentation page."""
    nav = "\n".join(f'<li><a href="./{slug}.html">{html.escape(text)}</a></li>' for slug, text in [
        ("welcome", "What is Lambda?"), ("getting-started", "Getting started"),
        ("gettingstarted-limits", "Lambda quotas and limits"), ("doc-history", "Document history for the guide"),
    ])
    hidden_feedback = (
        '<awsdocs-thumb-feedback></awsdocs-thumb-feedback>\n'
        '<div id="quick-feedback-yes" style="display: none;"><div class="title">Did this page help you? - Yes</div>'
        '<div class="content"><p>Thanks for letting us know we are doing a good job!</p></div></div>\n'
        '<div id="quick-feedback-no" style="display: none;"><div class="title">Did this page help you? - No</div>'
        '<div class="content"><p>Thanks for letting us know this page needs work.</p></div></div>\n'
        '<noscript><div id="js_error_message"><p><strong>Javascript is disabled or is unavailable in your browser.'
        '</strong></p></div></noscript>\n'
    )
    if use_article_div:
        main = f'<div class="awsui-article" id="main-col-body">\n{main_html}\n{hidden_feedback}</div>'
    else:
        main = f'<main id="main-content" class="awsui-util-container">\n{main_html}\n{hidden_feedback}</main>'
    return f"""<!DOCTYPE html>
<html lang="en-US">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)} - {html.escape(guide)}</title>
<link rel="stylesheet" href="/assets/css/awsdocs.css">
<style>{_STYLE}</style>
<script>{_SCRIPT % html.escape(guide)}</script>
<script src="/assets/js/awsdocs-boot.js" defer></script>
</head>
<body class="awsdocs-container">
<div id="cookie-banner" role="region" aria-label="Cookie banner">
  <h2>Select your cookie preferences</h2>
  <p>We use essential cookies and similar tools that are necessary to provide our site and services.</p>
  <button>Accept all cookies</button> <button>Decline</button> <button>Customize</button>
</div>
<header id="aws-nav">
  <a class="logo" href="https://aws.amazon.com">AWS</a>
  <form role="search"><input type="search" placeholder="Search in this guide"></form>
  <a href="https://console.aws.amazon.com/">Sign In to the Console</a>
  <a href="https://aws.amazon.com/contact-us/">Contact Us</a>
</header>
<div id="left-column"><nav aria-label="Guide navigation"><h2>{html.escape(guide)}</h2><ul>
{nav}
</ul></nav></div>
<div id="breadcrumbs" class="breadcrumb"><a href="/">Documentation home</a> &rsaquo; <a href="../index.html">{html.escape(guide)}</a></div>
{main}
<div id="main-col-footer"><div id="doc-conventions"><a href="/general/latest/gr/docconventions.html">Document Conventions</a></div>
<div class="prev-next"><a id="previous" href="./previous.html">Previous topic</a> <a id="next" href="./next.html">Next topic</a></div></div>
<div id="feedback-widget" class="awsdocs-page-utilities">
  <h3>Did this page help you?</h3> <button>Yes</button> <button>No</button>
  <a href="https://docs.aws.amazon.com/forms/aws-doc-feedback">Provide feedback</a>
</div>
<footer id="aws-footer">
  <a href="https://aws.amazon.com/privacy/">Privacy</a> | <a href="https://aws.amazon.com/terms/">Site terms</a> |
  <a href="#" id="cookie-prefs">Cookie preferences</a>
  <p>&copy; 2025, Amazon Web Services, Inc. or its affiliates. All rights reserved.</p>
</footer>
<script>window.trackPageView = function (p) {{ navigator.sendBeacon && navigator.sendBeacon('/metrics', p); }};</script>
</body>
</html>
"""


# The welcome page: every kind of block the converter has to handle.
WELCOME_PYTHON = 'def lambda_handler(event, context):\n    name = event.get("name", "world")\n    return {"statusCode": 200, "body": f"Hello, {name}!"}'
WELCOME_NODE = 'export const handler = async (event) => {\n  const name = event.name ?? "world";\n  return { statusCode: 200, body: `Hello, ${name}!` };\n};'
WELCOME_BASH = ("aws lambda invoke --function-name my-function \\\n"
                "    --cli-binary-format raw-in-base64-out --payload '{\"name\": \"Ana\"}' response.json && cat response.json")

_WELCOME_MAIN = f"""
<h1 class="topictitle" id="welcome">What is AWS Lambda?</h1>
<p>AWS Lambda is a compute service that runs code without requiring you to provision or manage servers.
Lambda runs your code on a high-availability compute infrastructure and manages all of the compute
resources, including server and operating system maintenance, capacity provisioning, automatic scaling
and logging.</p>
<p>You write the code as a <em>Lambda function</em>, and callers need the <code class="code">lambda:InvokeFunction</code>
permission to run it. For details on the ways to run a function, see
<a href="./lambda-invocation.html">Invoking Lambda functions</a>.</p>
<h2 id="welcome-when">When to use Lambda</h2>
<p>Lambda is a good fit for file processing triggered by <a href="https://docs.aws.amazon.com/AmazonS3/latest/userguide/Welcome.html">Amazon S3</a>
uploads, stream processing, web and mobile backends, and scheduled jobs. Choose a different service when
a task needs to run longer than 15 minutes or needs specialised hardware.</p>
<h2 id="welcome-handler">Writing a handler</h2>
<p>The handler is the method in your function code that processes events. Pick a runtime:</p>
<div class="code-tabs" data-tabs="runtime">
  <ul role="tablist">
    <li role="tab" aria-selected="true" data-tab="python">Python</li>
    <li role="tab" aria-selected="false" data-tab="nodejs">Node.js</li>
  </ul>
  <div role="tabpanel" class="tab-panel active" data-tab="python"><pre class="programlisting"><code class="language-python">{html.escape(WELCOME_PYTHON)}</code></pre></div>
  <div role="tabpanel" class="tab-panel" data-tab="nodejs"><pre class="programlisting"><code class="language-javascript">{html.escape(WELCOME_NODE)}</code></pre></div>
</div>
<script>{_TAB_SCRIPT}</script>
<h2 id="welcome-invoke">Invoking a function from the AWS CLI</h2>
<p>Run the following command to invoke the function synchronously and print its response:</p>
<pre class="programlisting"><code class="language-bash">{html.escape(WELCOME_BASH)}</code></pre>
<h2 id="welcome-limits">Default settings and limits</h2>
<div class="table-container"><table>
  <thead><tr><th>Setting</th><th>Default</th><th>Maximum</th></tr></thead>
  <tbody>
    <tr><td>Memory</td><td>128 MB</td><td>10,240 MB</td></tr>
    <tr><td>Timeout</td><td>3 seconds</td><td>900 seconds (15 minutes)</td></tr>
    <tr><td>Ephemeral storage (<code>/tmp</code>)</td><td>512 MB</td><td>10,240 MB</td></tr>
  </tbody>
</table></div>
<div class="awsdocs-note"><div class="awsdocs-note-title"><h6>Note</h6></div>
<div class="awsdocs-note-text"><p>Lambda scales each function independently, so one busy function can use up the
concurrency that the other functions in your account and Region share.</p></div></div>
"""

WELCOME_TABLE_ROWS = [
    ("Memory", "128 MB", "10,240 MB"),
    ("Timeout", "3 seconds", "900 seconds (15 minutes)"),
]

# The long guide: ~25 sections with distinct titles, ~40,000 characters of text.
LONG_GUIDE_SECTIONS = [
    (2, "Overview of the execution environment"),
    (3, "The init phase"),
    (3, "The invoke phase"),
    (3, "The shutdown phase"),
    (2, "Choosing memory and compute"),
    (3, "How CPU power follows memory"),
    (3, "Measuring duration against cost"),
    (2, "Handling timeouts"),
    (3, "Timeouts around downstream calls"),
    (3, "Timeouts in event source mappings"),
    (2, "Concurrency controls"),
    (3, "Reserved concurrency"),
    (3, "Provisioned concurrency"),
    (3, "Burst scaling behaviour"),
    (2, "Packaging and deployment"),
    (3, "Archives and layers"),
    (3, "Container images"),
    (2, "Networking"),
    (3, "Attaching a function to a VPC"),
    (3, "Reaching the internet from private subnets"),
    (2, "Observability"),
    (3, "Structured logging"),
    (3, "Metrics worth alarming on"),
    (3, "Tracing requests across services"),
    (2, "Security practices"),
    (3, "Scoping the execution role"),
]

_SENTENCES = [
    "Plan for {t} early, because changing it after the function is in production usually means a new deployment and a careful rollout.",
    "Most teams start with the defaults for {t}, measure a week of real traffic, and only then decide whether a change is worth the extra cost.",
    "When {t} goes wrong, the first signal is normally in the function's log group, so keep the log retention long enough to look back at an incident.",
    "Write down the decision you make about {t} next to the function's infrastructure code so that reviewers can see why it was chosen.",
    "Load tests are the cheapest way to learn how {t} behaves under pressure; run them against a copy of the stack rather than production.",
    "The console shows the current settings for {t}, but the command line and infrastructure as code are the only reliable way to keep environments in step.",
    "Remember that {t} interacts with retries: an event that fails may be delivered again, so handlers should be safe to run more than once.",
    "For functions that serve users directly, {t} has a visible effect on latency, while for batch work it mostly shows up in the bill.",
    "A short checklist for {t} helps on-call engineers: what normal looks like, which metric moves first, and which setting to change.",
    "Keep {t} consistent across the functions of one application unless a measurement shows that a single function needs something different.",
]


def _long_guide_sections():
    """Yields (level, title, html) for each section; the text is generated, not copied."""
    for i, (level, title) in enumerate(LONG_GUIDE_SECTIONS):
        topic = title[0].lower() + title[1:]
        paragraphs = []
        for p in range(3 if level == 2 else 2):
            sentences = [_SENTENCES[(i * 3 + p * 4 + k) % len(_SENTENCES)].format(t=topic) for k in range(4)]
            paragraphs.append(f"<p>{' '.join(sentences)} (Section {i + 1}, part {p + 1}.)</p>")
        if i % 5 == 2:
            paragraphs.append(f'<pre><code class="language-bash">aws lambda get-function-configuration '
                              f'--function-name section-{i + 1}-demo --query "[Timeout, MemorySize]"</code></pre>')
        if i % 6 == 4:
            paragraphs.append("<ul><li>Check the current value.</li><li>Change one setting at a time.</li>"
                              "<li>Compare the metrics before and after.</li></ul>")
        anchor = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
        yield level, title, f'<h{level} id="{anchor}">{html.escape(title)}</h{level}>\n' + "\n".join(paragraphs)


LONG_GUIDE_LAST_SENTENCE = "This is the end of the operations guide."

_LONG_GUIDE_MAIN = (
    '<h1 id="long-guide">Operating Lambda functions: a long guide</h1>\n'
    "<p>This guide collects practical advice for running Lambda functions in production. Each section "
    "stands on its own, so jump to the part you need.</p>\n"
    + "\n".join(h for _, _, h in _long_guide_sections())
    + f"\n<p>{LONG_GUIDE_LAST_SENTENCE}</p>"
)

# The long table: 300 rows of 4 columns.
LONG_TABLE_ROWS = 300
LONG_TABLE_HEADER = ("Object key", "Storage class", "Size (bytes)", "Last modified")
_CLASSES = ["STANDARD", "STANDARD_IA", "INTELLIGENT_TIERING", "GLACIER_IR", "DEEP_ARCHIVE"]


def long_table_row(i):
    """Row i (1-based) of the long table."""
    return (f"logs/2024/app-{i:04d}.log.gz", _CLASSES[i % len(_CLASSES)], str(1024 * (i * 37 % 977 + 1)),
            f"2024-{(i % 12) + 1:02d}-{(i % 28) + 1:02d}")


_LONG_TABLE_MAIN = (
    '<h1 id="inventory">Example S3 Inventory report</h1>\n'
    "<p>The following table shows the objects listed by an example S3 Inventory report for a logging bucket.</p>\n"
    "<table><thead><tr>" + "".join(f"<th>{h}</th>" for h in LONG_TABLE_HEADER) + "</tr></thead><tbody>\n"
    + "\n".join("<tr>" + "".join(f"<td>{c}</td>" for c in long_table_row(i)) + "</tr>"
                for i in range(1, LONG_TABLE_ROWS + 1))
    + "\n</tbody></table>\n<p>Inventory reports are delivered daily or weekly as CSV, ORC or Parquet files.</p>"
)

_REPOST_MAIN = """
<h1>Why does my Lambda function time out?</h1>
<p class="kc-meta">Last updated 2024-08-12</p>
<h2>Short description</h2>
<p>A Lambda function times out when an invocation runs longer than the function's configured timeout.
The invocation ends and the logs show a <code>Task timed out after N seconds</code> message.</p>
<h2>Resolution</h2>
<ol>
<li>Check the <strong>Duration</strong> metric to see how close invocations run to the timeout.</li>
<li>Add timeouts to every network call the function makes so that a slow dependency fails fast.</li>
<li>If the function runs in a VPC, confirm that it has a route to the services it calls, for example
through a NAT gateway or a VPC endpoint.</li>
<li>Raise the timeout only after you understand why the invocation is slow.</li>
</ol>
<h2>Related information</h2>
<p><a href="https://docs.aws.amazon.com/lambda/latest/dg/configuration-timeout.html">Configure Lambda function timeout</a></p>
"""

_BLOG_MAIN = """
<h1>Building resilient event-driven workloads with AWS Lambda</h1>
<p class="blog-meta">by Example Author on 03 MAR 2025 in AWS Lambda, Compute</p>
<p>Event-driven architectures let teams build services that react to change instead of polling for it.
In this post we walk through a small order-processing system that uses Amazon SQS, AWS Lambda and
Amazon DynamoDB, and show how partial batch responses keep one bad message from blocking a queue.</p>
<h2>Partial batch responses</h2>
<p>Return the identifiers of the failed messages in <code>batchItemFailures</code> so that only those
messages become visible again.</p>
<pre><code class="language-python">return {"batchItemFailures": [{"itemIdentifier": m} for m in failed]}</code></pre>
<h2>Conclusion</h2>
<p>Small, idempotent handlers and explicit failure reporting make event-driven systems easier to run.</p>
"""

ERROR_404_HTML = """<!DOCTYPE html>
<html><head><title>404 - Page Not Found</title></head>
<body><h1>Page Not Found</h1><p>The page you requested could not be found.</p>
<p><a href="https://docs.aws.amazon.com/">Return to the documentation home page</a></p></body></html>
"""

WELCOME_URL = f"{DOCS}/lambda/latest/dg/welcome.html"

PAGES = {
    "/docs.aws.amazon.com/lambda/latest/dg/welcome.html":
        _chrome("What is AWS Lambda?", "AWS Lambda Developer Guide", _WELCOME_MAIN),
    "/docs.aws.amazon.com/lambda/latest/dg/long-guide.html":
        _chrome("Operating Lambda functions", "AWS Lambda Developer Guide", _LONG_GUIDE_MAIN),
    "/docs.aws.amazon.com/AmazonS3/latest/userguide/long-table.html":
        _chrome("Example S3 Inventory report", "Amazon S3 User Guide", _LONG_TABLE_MAIN, use_article_div=True),
    "/repost.aws/knowledge-center/lambda-function-timeout":
        _chrome("Why does my Lambda function time out?", "AWS re:Post Knowledge Center", _REPOST_MAIN),
    "/aws.amazon.com/blogs/compute/some-post/":
        _chrome("Building resilient event-driven workloads with AWS Lambda", "AWS Compute Blog", _BLOG_MAIN),
}

REDIRECTS = {
    "/docs.aws.amazon.com/lambda/latest/dg/old-page.html": (301, WELCOME_URL),
    "/docs.aws.amazon.com/redirect-to-metadata.html": (302, "http://169.254.169.254/latest/meta-data/"),
    "/docs.aws.amazon.com/redirect-to-private.html": (302, "http://10.0.0.5/internal"),
    "/docs.aws.amazon.com/redirect-offsite.html": (302, "https://evil.example.com/phish"),
    "/docs.aws.amazon.com/redirect-loop.html": (302, f"{DOCS}/redirect-loop.html"),
}

ERRORS = {
    "/docs.aws.amazon.com/missing.html": 404,
    "/docs.aws.amazon.com/throttled.html": 429,
    "/docs.aws.amazon.com/broken.html": 500,
}


# ---------------------------------------------------------------------------------------------
# Search logic.
# ---------------------------------------------------------------------------------------------

def words(text):
    """Lower-case words of three letters or more."""
    return {w for w in re.findall(r"[a-z0-9]+", text.lower()) if len(w) >= 3}


def search(phrase, limit=10):
    """The fixture documents sharing a word with the phrase, best overlap first."""
    q = words(phrase)
    scored = []
    for i, doc in enumerate(SEARCH_DOCS):
        score = len(q & words(doc["title"] + " " + doc["body"]))
        if score:
            scored.append((-score, i, doc))
    scored.sort(key=lambda t: (t[0], t[1]))
    return [d for _, _, d in scored[:limit]]


def search_response(phrase):
    return {
        "suggestions": [{"textExcerptSuggestion": {
            "link": d["link"], "title": d["title"], "summary": d["summary"], "suggestionBody": d["body"],
        }} for d in search(phrase)],
        "queryId": str(uuid.uuid4()),
    }


# ---------------------------------------------------------------------------------------------
# The HTTP server.
# ---------------------------------------------------------------------------------------------

class Handler(BaseHTTPRequestHandler):
    server_version = "FakeAwsDocs/1.0"

    def log_message(self, fmt, *args):  # noqa: D401 - quiet unless asked
        if getattr(self.server, "verbose", False):
            super().log_message(fmt, *args)

    def _send(self, status, body, content_type="application/json", headers=None):
        data = body.encode() if isinstance(body, str) else body
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (e.g. after its own timeout)

    def _json(self, status, obj):
        self._send(status, json.dumps(obj))

    # --- search --------------------------------------------------------------------------------
    def do_POST(self):
        path = urlsplit(self.path).path
        if path != "/search":
            return self._json(404, {"message": "Not Found"})
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw or b"null")
        except ValueError:
            body = None
        with self.server.lock:
            self.server.search_requests.append(body if body is not None else raw.decode(errors="replace"))
        phrase = None
        if isinstance(body, dict) and isinstance(body.get("textQuery"), dict):
            phrase = body["textQuery"].get("input")
        if not isinstance(phrase, str):
            return self._json(400, {"message": "textQuery.input is required"})
        if "trigger-500" in phrase:
            return self._json(500, {"message": "Internal server error"})
        if "trigger-badjson" in phrase:
            return self._send(200, "<html><body>Service Unavailable</body></html>")
        if "trigger-slow" in phrase:
            self.server.stopping.wait(self.server.slow_seconds)
        return self._json(200, search_response(phrase))

    # --- recommendations and pages -------------------------------------------------------------
    def do_GET(self):
        parts = urlsplit(self.path)
        if parts.path == "/v1/recommendations":
            query = parse_qs(parts.query)
            target = query.get("path", [None])[0]
            with self.server.lock:
                self.server.recommend_requests.append(target)
            if not target:
                return self._json(400, {"message": "path is required"})
            if "missing" in target:
                return self._json(404, {"message": f"No recommendations for {target}"})
            return self._json(200, RECOMMENDATIONS)
        with self.server.lock:
            self.server.page_requests.append(parts.path)
        if parts.path in PAGES:
            return self._send(200, PAGES[parts.path], "text/html; charset=utf-8")
        if parts.path in REDIRECTS:
            status, location = REDIRECTS[parts.path]
            return self._send(status, f'<html><body>Moved to <a href="{location}">{location}</a></body></html>',
                              "text/html; charset=utf-8", {"Location": location})
        status = ERRORS.get(parts.path, 404)
        if status == 429:
            return self._send(429, "<html><body><h1>Too Many Requests</h1></body></html>",
                              "text/html; charset=utf-8", {"Retry-After": "1"})
        if status == 500:
            return self._send(500, "<html><body><h1>Internal Server Error</h1></body></html>",
                              "text/html; charset=utf-8")
        return self._send(404, ERROR_404_HTML, "text/html; charset=utf-8")

    do_HEAD = do_GET


class FakeDocsServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address, verbose=False):
        super().__init__(address, Handler)
        self.verbose = verbose
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.slow_seconds = SLOW_SECONDS
        self.search_requests = []
        self.recommend_requests = []
        self.page_requests = []

    @property
    def base_url(self):
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def reset(self):
        """Forgets every recorded request."""
        with self.lock:
            self.search_requests.clear()
            self.recommend_requests.clear()
            self.page_requests.clear()


def start(port=0, host="127.0.0.1", verbose=False):
    """Starts the fake on a daemon thread; returns (server, base_url)."""
    server = FakeDocsServer((host, port), verbose=verbose)
    threading.Thread(target=server.serve_forever, name="fake-docs", daemon=True).start()
    return server, server.base_url


def stop(server):
    """Stops the fake and releases any request stalled on `trigger-slow`."""
    server.stopping.set()
    server.shutdown()
    server.server_close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--port", type=int, default=8080)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--quiet", action="store_true", help="do not log requests")
    args = ap.parse_args()
    server = FakeDocsServer((args.host, args.port), verbose=not args.quiet)
    base = server.base_url
    print(f"fake AWS documentation services on {base}", flush=True)
    print(f"  AWS_MCP_DOCS_SEARCH_URL={base}/search", flush=True)
    print(f"  AWS_MCP_DOCS_RECOMMEND_URL={base}/v1/recommendations", flush=True)
    print(f"  AWS_MCP_DOCS_UPSTREAM={base}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stopping.set()
        server.server_close()


if __name__ == "__main__":
    main()
