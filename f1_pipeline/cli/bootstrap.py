"""``f1-pipeline bootstrap``: make the bucket exist and be compliant, idempotently.

Compliant: versioning enabled, default encryption, every public access blocked, a
bucket policy that denies requests not made over TLS, and lifecycle rules that expire
scratch space (Pipes messages, Glue staging) and incomplete multipart uploads.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from botocore.exceptions import ClientError

from f1_pipeline.cli.errors import usage_error
from f1_pipeline.core.storage import S3Root, layout
from f1_pipeline.settings import Settings

TLS_SID = "DenyInsecureTransport"
PUBLIC_ACCESS_BLOCK = {
    "BlockPublicAcls": True,
    "IgnorePublicAcls": True,
    "BlockPublicPolicy": True,
    "RestrictPublicBuckets": True,
}
DEFAULT_ENCRYPTION = {
    "Rules": [
        {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}, "BucketKeyEnabled": True}
    ]
}


def tls_only_statement(bucket: str) -> dict[str, Any]:
    return {
        "Sid": TLS_SID,
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def _error_code(err: ClientError) -> str:
    return err.response.get("Error", {}).get("Code", "")


def _ensure_bucket(client: Any, bucket: str, region: str | None) -> list[str]:
    try:
        client.head_bucket(Bucket=bucket)
        return []
    except ClientError as err:
        if _error_code(err) not in ("404", "NoSuchBucket", "NotFound"):
            raise
    args: dict[str, Any] = {"Bucket": bucket}
    if region and region != "us-east-1":
        args["CreateBucketConfiguration"] = {"LocationConstraint": region}
    client.create_bucket(**args)
    return [f"created bucket {bucket}"]


def _ensure_versioning(client: Any, bucket: str) -> list[str]:
    if client.get_bucket_versioning(Bucket=bucket).get("Status") == "Enabled":
        return []
    client.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    return ["enabled versioning"]


def _ensure_encryption(client: Any, bucket: str) -> list[str]:
    try:
        rules = client.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"][
            "Rules"
        ]
    except ClientError as err:
        if _error_code(err) != "ServerSideEncryptionConfigurationNotFoundError":
            raise
        rules = []
    algorithms = {
        r.get("ApplyServerSideEncryptionByDefault", {}).get("SSEAlgorithm") for r in rules
    }
    if algorithms & {"AES256", "aws:kms", "aws:kms:dsse"}:
        return []
    client.put_bucket_encryption(
        Bucket=bucket, ServerSideEncryptionConfiguration=DEFAULT_ENCRYPTION
    )
    return ["enabled default encryption (SSE-S3, AES256)"]


def _ensure_public_access_block(client: Any, bucket: str) -> list[str]:
    try:
        current = client.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    except ClientError as err:
        if _error_code(err) != "NoSuchPublicAccessBlockConfiguration":
            raise
        current = {}
    if all(current.get(k) is True for k in PUBLIC_ACCESS_BLOCK):
        return []
    client.put_public_access_block(
        Bucket=bucket, PublicAccessBlockConfiguration=PUBLIC_ACCESS_BLOCK
    )
    return ["blocked all public access"]


def _ensure_tls_policy(client: Any, bucket: str) -> list[str]:
    try:
        policy = json.loads(client.get_bucket_policy(Bucket=bucket)["Policy"])
    except ClientError as err:
        if _error_code(err) != "NoSuchBucketPolicy":
            raise
        policy = {"Version": "2012-10-17", "Statement": []}
    wanted = tls_only_statement(bucket)
    statements = [s for s in policy.get("Statement", []) if s.get("Sid") != TLS_SID]
    if [s for s in policy.get("Statement", []) if s.get("Sid") == TLS_SID] == [wanted]:
        return []
    # Other statements are the operator's: keep them.
    policy["Statement"] = [*statements, wanted]
    client.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))
    return ["set bucket policy: deny requests without TLS"]


def lifecycle_rules(prefix: str = "") -> list[dict[str, Any]]:
    """Our rules (IDs starting ``f1-``) for a data root at ``prefix`` in the bucket."""
    rules: list[dict[str, Any]] = [
        {
            "ID": f"f1-expire-{scratch.strip('/').replace('/', '-')}",
            "Filter": {"Prefix": f"{prefix}{scratch}"},
            "Status": "Enabled",
            "Expiration": {"Days": 1},
            "NoncurrentVersionExpiration": {"NoncurrentDays": 1},
        }
        for scratch in layout.SCRATCH_PREFIXES
    ]
    rules.append(
        {
            "ID": "f1-abort-incomplete-uploads",
            "Filter": {"Prefix": prefix},
            "Status": "Enabled",
            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1},
        }
    )
    return rules


def _ensure_lifecycle(client: Any, bucket: str, prefix: str) -> list[str]:
    try:
        current = client.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    except ClientError as err:
        if _error_code(err) != "NoSuchLifecycleConfiguration":
            raise
        current = []
    wanted = lifecycle_rules(prefix)
    ours = {r["ID"] for r in wanted}
    if all(rule in current for rule in wanted):
        return []
    # Other rules are the operator's: keep them.
    rules = [r for r in current if r.get("ID") not in ours] + wanted
    client.put_bucket_lifecycle_configuration(
        Bucket=bucket, LifecycleConfiguration={"Rules": rules}
    )
    return ["set lifecycle rules: scratch space and incomplete uploads expire after a day"]


def tls_policy_applies(endpoint_url: str | None) -> bool:
    """A TLS-only policy locks out every client of a plain-HTTP endpoint (a local
    S3-compatible server), this one included; it applies to HTTPS endpoints and AWS."""
    return not (endpoint_url or "").lower().startswith("http://")


# The IAM actions `bootstrap` needs, all on arn:aws:s3:::<bucket> (docs/operations.md).
REQUIRED_ACTIONS = (
    "s3:CreateBucket",
    "s3:ListBucket",  # HeadBucket
    "s3:GetBucketVersioning",
    "s3:PutBucketVersioning",
    "s3:GetEncryptionConfiguration",
    "s3:PutEncryptionConfiguration",
    "s3:GetBucketPublicAccessBlock",
    "s3:PutBucketPublicAccessBlock",
    "s3:GetLifecycleConfiguration",
    "s3:PutLifecycleConfiguration",
    "s3:GetBucketPolicy",
    "s3:PutBucketPolicy",
)


def bootstrap_bucket(
    client: Any, bucket: str, region: str | None, *, tls_only: bool = True, prefix: str = ""
) -> list[str]:
    """Create or update ``bucket`` (for a data root at ``prefix`` in it); return what changed
    (empty when already compliant)."""
    return [
        *_ensure_bucket(client, bucket, region),
        *_ensure_versioning(client, bucket),
        *_ensure_encryption(client, bucket),
        *_ensure_public_access_block(client, bucket),
        *_ensure_lifecycle(client, bucket, prefix),
        *(_ensure_tls_policy(client, bucket) if tls_only else []),
    ]


def add_parser(commands: argparse._SubParsersAction, parents: list) -> None:
    commands.add_parser(
        "bootstrap",
        parents=parents,
        help="create or update the S3 bucket of F1_DATA_ROOT: versioning, encryption, "
        "public access blocked, TLS-only policy (idempotent)",
    )


def command(settings: Settings, args: argparse.Namespace) -> int:
    from f1_pipeline.defs.resources import storage_resource

    root = settings.data_root
    if not isinstance(root, S3Root):
        raise usage_error(f"bootstrap needs F1_DATA_ROOT=s3://bucket[/prefix]; it is {root}")
    tls_only = tls_policy_applies(settings.aws.endpoint_url)
    if not tls_only:
        print(
            f"warning: AWS_ENDPOINT_URL={settings.aws.endpoint_url} is plain HTTP; the "
            "TLS-only bucket policy is not applied (it would deny every request made through "
            "this endpoint). It is applied on AWS and HTTPS endpoints.",
            file=sys.stderr,
        )
    client = storage_resource(settings).s3_client()
    changes = bootstrap_bucket(
        client, root.bucket, settings.aws.region, tls_only=tls_only, prefix=root.prefix
    )
    for change in changes:
        print(f"s3://{root.bucket}: {change}")
    if not changes:
        print(f"s3://{root.bucket}: already compliant, nothing changed")
    return 0
