"""``f1-pipeline bootstrap``: make the bucket of ``F1_DATA_ROOT`` exist and be as
``infra/template.yaml`` declares its ``DataBucket`` and ``DataBucketPolicy``, idempotently.

The template is the one statement of the bucket's settings (versioning, encryption, public
access block, lifecycle rules, the TLS-only policy): bootstrap reads it, resolves its ``Ref``
and ``Fn::Sub`` for this bucket and prefix, and renames CloudFormation's property names to
the S3 API's. Lifecycle rules and policy statements are ours by their ``Id`` / ``Sid``; the
operator's others are kept.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped]  # no stubs in the locks (types-PyYAML)
from botocore.exceptions import ClientError

from f1_pipeline.cli.context import Cli
from f1_pipeline.cli.errors import usage_error
from f1_pipeline.core.storage import S3Root, parse_data_root

# The S3 API parameter a template property becomes -> its get_/put_<noun> calls and the IAM
# actions s3:Get/Put<noun> they need.
CALLS = {
    "VersioningConfiguration": ("bucket_versioning", "BucketVersioning"),
    "ServerSideEncryptionConfiguration": ("bucket_encryption", "EncryptionConfiguration"),
    "PublicAccessBlockConfiguration": ("public_access_block", "BucketPublicAccessBlock"),
    "LifecycleConfiguration": ("bucket_lifecycle_configuration", "LifecycleConfiguration"),
    "Policy": ("bucket_policy", "BucketPolicy"),
}
# CloudFormation's names in the bucket's properties -> the S3 API's ("a.b": nested in a).
RENAMES = {
    "BucketEncryption": "ServerSideEncryptionConfiguration",
    "ServerSideEncryptionConfiguration": "Rules",
    "ServerSideEncryptionByDefault": "ApplyServerSideEncryptionByDefault",
    "Id": "ID", "Prefix": "Filter.Prefix", "ExpirationInDays": "Expiration.Days",
}  # fmt: skip
# Lists whose items are ours by a key (or retired ones of ours); the operator's are kept.
OURS_BY = {"LifecycleConfiguration": ("Rules", "ID"), "Policy": ("Statement", "Sid")}
RETIRED = {"f1-expire-pipes", "f1-expire-cleaned-_staging", "f1-abort-incomplete-uploads"}
REQUIRED_ACTIONS = (  # all on arn:aws:s3:::<bucket>; s3:ListBucket is HeadBucket's
    "s3:CreateBucket",
    "s3:ListBucket",
    *(f"s3:{verb}{noun}" for _, noun in CALLS.values() for verb in ("Get", "Put")),
)
SUB = re.compile(r"\$\{([^}]*)\}")
NO_CHECKOUT = "bootstrap needs the project checkout's infra/template.yaml, or --template PATH"


def template_path(given: str | None = None) -> Path:
    from f1_pipeline.glue.deploy import project_root

    root = project_root()
    path = Path(given) if given else root and root / "infra" / "template.yaml"
    if path and path.is_file():
        return path
    raise usage_error(f"--template {given}: no such file" if given else NO_CHECKOUT)


def _api(value: Any, params: dict[str, Any], renames: dict[str, str] = RENAMES) -> Any:
    """``value`` from the template, its Ref and Fn::Sub resolved, in the S3 API's names."""
    if isinstance(value, list):
        return [_api(v, params, renames) for v in value]
    if not isinstance(value, dict):
        return value
    if list(value) == ["Ref"] and value["Ref"] in params:
        return params[value["Ref"]]
    sub = value.get("Fn::Sub") if len(value) == 1 else None
    if isinstance(sub, str) and set(SUB.findall(sub)) <= set(params):
        return SUB.sub(lambda m: str(params[m[1]]), sub)
    if any(k == "Ref" or k.startswith("Fn::") for k in value):
        raise usage_error(f"bootstrap cannot resolve the template's {json.dumps(value)}")
    out: dict[str, Any] = {}
    for key, item in value.items():
        outer, _, name = (renames.get(key) or key).rpartition(".")
        (out.setdefault(outer, {}) if outer else out)[name] = _api(item, params, renames)
    return out


def declared(template: Path, bucket: str, prefix: str = "", tls_only: bool = True) -> dict:
    """The S3 API's parameters for what ``template`` declares of the bucket and its policy
    (without TLS-only statements unless ``tls_only``)."""
    doc = yaml.safe_load(template.read_text())
    params = {k: p["Default"] for k, p in doc["Parameters"].items() if "Default" in p}
    params |= {"BucketName": bucket, "DataPrefix": prefix, "AWS::Partition": "aws"}
    props = doc["Resources"]["DataBucket"]["Properties"]
    wanted = _api({k: v for k, v in props.items() if RENAMES.get(k, k) in CALLS}, params)
    for rule in wanted["LifecycleConfiguration"]["Rules"]:  # no Prefix: every object
        rule.setdefault("Filter", {"Prefix": ""})
    # The bucket policy is the TLS-only one: on a plain-HTTP endpoint it would lock us out.
    policy = doc["Resources"]["DataBucketPolicy"]["Properties"]["PolicyDocument"]
    return {**wanted, "Policy": _api(policy, params, {})} if tls_only else wanted


def _covers(have: Any, want: Any) -> bool:
    """``have`` says all ``want`` says, whatever the lists' order (S3 adds defaults)."""
    if isinstance(want, dict):
        return isinstance(have, dict) and all(_covers(have.get(k), v) for k, v in want.items())
    if isinstance(want, list):
        same_length = isinstance(have, list) and len(have) == len(want)
        return same_length and all(any(_covers(h, w) for h in have) for w in want)
    return have == want


def _get(call: Any, bucket: str) -> Any:
    """``call``'s answer, or None for a 404: no such bucket, or nothing of that kind set."""
    try:
        return call(Bucket=bucket)
    except ClientError as err:
        if err.response.get("ResponseMetadata", {}).get("HTTPStatusCode") != 404:
            raise
        return None


def _apply(client: Any, bucket: str, param: str, wanted: Any) -> str | None:
    noun = CALLS[param][0]
    answer = _get(getattr(client, f"get_{noun}"), bucket) or {}
    current = answer.get(param, answer)
    current = json.loads(current) if isinstance(current, str) else current
    if param in OURS_BY:
        items, key = OURS_BY[param]
        ours = {w[key] for w in wanted[items]} | RETIRED
        kept = [h for h in current.get(items, []) if h.get(key) not in ours]
        wanted = {**wanted, items: kept + wanted[items]}
    if _covers(current, wanted):
        return None
    value = json.dumps(wanted) if param == "Policy" else wanted
    getattr(client, f"put_{noun}")(Bucket=bucket, **{param: value})
    return f"set {noun.removeprefix('bucket_').replace('_', ' ')}"


def bootstrap_bucket(
    client: Any, bucket: str, *, prefix: str = "", tls_only: bool = True,
    template: Path | None = None,
) -> list[str]:  # fmt: skip
    """Create ``bucket`` if missing and make it as the template declares for a data root at
    ``prefix``; return what changed (nothing when it already was)."""
    wanted = declared(template or template_path(), bucket, prefix, tls_only)
    changes = []
    if _get(client.head_bucket, bucket) is None:
        region = client.meta.region_name
        where = {"CreateBucketConfiguration": {"LocationConstraint": region}}
        client.create_bucket(Bucket=bucket, **({} if region in (None, "us-east-1") else where))
        changes.append(f"created bucket {bucket}")
    return changes + [c for p, w in wanted.items() if (c := _apply(client, bucket, p, w))]


def tls_policy_applies(endpoint_url: str | None) -> bool:
    """A TLS-only policy locks out every client of a plain-HTTP endpoint (a local
    S3-compatible server), this one included; it applies to HTTPS endpoints and AWS."""
    return not (endpoint_url or "").lower().startswith("http://")


def add_parser(commands: argparse._SubParsersAction, parents: list) -> None:
    about = "create or update the bucket of F1_DATA_ROOT as infra/template.yaml declares it"
    parser = commands.add_parser("bootstrap", parents=parents, help=about)
    parser.add_argument("--template", metavar="PATH", help="default: the checkout's")


def command(cli: Cli, args: argparse.Namespace) -> int:
    from f1_pipeline.core.aws import aws_client

    value = cli.env.get("F1_DATA_ROOT", "")
    try:
        root = parse_data_root(value) if value else None
    except ValueError as err:
        raise usage_error(f"F1_DATA_ROOT={value!r}: {err}") from None
    if not isinstance(root, S3Root):
        raise usage_error(f"bootstrap needs F1_DATA_ROOT=s3://bucket[/prefix], not {value!r}")
    template, client = template_path(args.template), aws_client("s3")
    # botocore's endpoint, wherever it came from (AWS_ENDPOINT_URL[_S3], the config file).
    endpoint = client.meta.endpoint_url
    if not (tls_only := tls_policy_applies(endpoint)):
        warning = "the TLS-only bucket policy is not applied (it would deny every request)"
        print(f"warning: {endpoint} is plain HTTP: {warning}", file=sys.stderr)
    changes = bootstrap_bucket(
        client, root.bucket, prefix=root.prefix, tls_only=tls_only, template=template
    )
    for change in changes or ["already compliant, nothing changed"]:
        print(f"s3://{root.bucket}: {change}")
    return 0
