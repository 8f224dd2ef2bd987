"""`f1-pipeline bootstrap` against moto's S3 server. moto records the bucket policy
but does not evaluate its conditions, so the policy document itself is checked."""

from __future__ import annotations

import json
import uuid

import pytest

from f1_pipeline.cli import main
from f1_pipeline.cli.bootstrap import (
    PUBLIC_ACCESS_BLOCK,
    TLS_SID,
    bootstrap_bucket,
    tls_only_statement,
    tls_policy_applies,
)


def _state(client, name):
    policy = json.loads(client.get_bucket_policy(Bucket=name)["Policy"])
    rules = client.get_bucket_encryption(Bucket=name)["ServerSideEncryptionConfiguration"]
    return {
        "versioning": client.get_bucket_versioning(Bucket=name).get("Status"),
        "sse": rules["Rules"][0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"],
        "public": client.get_public_access_block(Bucket=name)["PublicAccessBlockConfiguration"],
        "policy": policy,
        "lifecycle": client.get_bucket_lifecycle_configuration(Bucket=name)["Rules"],
    }


def test_bootstrap_creates_a_compliant_bucket_then_changes_nothing(s3_client):
    name = f"f1-boot-{uuid.uuid4().hex[:8]}"
    changes = bootstrap_bucket(s3_client, name, "eu-west-1", tls_only=True)
    assert changes == [
        f"created bucket {name}",
        "enabled versioning",
        "enabled default encryption (SSE-S3, AES256)",
        "blocked all public access",
        "set lifecycle rules: scratch space and incomplete uploads expire after a day",
        "set bucket policy: deny requests without TLS",
    ]
    state = _state(s3_client, name)
    rules = s3_client.get_bucket_lifecycle_configuration(Bucket=name)["Rules"]
    assert {r["ID"]: r["Filter"]["Prefix"] for r in rules} == {
        "f1-expire-pipes": "pipes/",
        "f1-expire-cleaned-_staging": "cleaned/_staging/",
        "f1-abort-incomplete-uploads": "",
    }
    assert state["versioning"] == "Enabled"
    assert state["sse"] == "AES256"
    assert state["public"] == PUBLIC_ACCESS_BLOCK
    [statement] = state["policy"]["Statement"]
    assert statement == {
        "Sid": TLS_SID,
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [f"arn:aws:s3:::{name}", f"arn:aws:s3:::{name}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }
    location = s3_client.get_bucket_location(Bucket=name)["LocationConstraint"]
    assert location == "eu-west-1"

    assert bootstrap_bucket(s3_client, name, "eu-west-1", tls_only=True) == []
    assert _state(s3_client, name) == state


def test_bootstrap_repairs_drift_and_keeps_other_policy_statements(s3_client):
    name = f"f1-drift-{uuid.uuid4().hex[:8]}"
    s3_client.create_bucket(
        Bucket=name, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )
    own = {
        "Sid": "OperatorsOwn",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:DeleteBucket",
        "Resource": f"arn:aws:s3:::{name}",
    }
    stale_tls = {**tls_only_statement(name), "Action": "s3:GetObject"}
    operator_rule = {"ID": "operators-archive", "Filter": {"Prefix": "archive/"},
                     "Status": "Enabled", "Expiration": {"Days": 365}}  # fmt: skip
    s3_client.put_bucket_lifecycle_configuration(
        Bucket=name, LifecycleConfiguration={"Rules": [operator_rule]}
    )
    s3_client.put_bucket_policy(
        Bucket=name, Policy=json.dumps({"Version": "2012-10-17", "Statement": [own, stale_tls]})
    )
    changes = bootstrap_bucket(s3_client, name, "eu-west-1", tls_only=True)
    assert f"created bucket {name}" not in changes
    assert "set bucket policy: deny requests without TLS" in changes
    statements = _state(s3_client, name)["policy"]["Statement"]
    assert statements == [own, tls_only_statement(name)]
    rules = s3_client.get_bucket_lifecycle_configuration(Bucket=name)["Rules"]
    assert rules[0]["ID"] == "operators-archive"
    assert len(rules) == 4


def test_tls_policy_is_skipped_only_for_plain_http_endpoints():
    assert tls_policy_applies(None)
    assert tls_policy_applies("https://s3.eu-west-1.amazonaws.com")
    assert not tls_policy_applies("http://127.0.0.1:9000")


def test_bootstrap_command(aws_env, monkeypatch, capsys, s3_client):
    name = f"f1-cli-{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("F1_DATA_ROOT", f"s3://{name}/prefix")
    assert main(["bootstrap"]) == 0
    captured = capsys.readouterr()
    assert f"s3://{name}: created bucket {name}" in captured.out
    assert "TLS-only bucket policy is not applied" in captured.err
    assert s3_client.get_bucket_versioning(Bucket=name)["Status"] == "Enabled"
    rules = s3_client.get_bucket_lifecycle_configuration(Bucket=name)["Rules"]
    assert {r["Filter"]["Prefix"] for r in rules} == {
        "prefix/pipes/",
        "prefix/cleaned/_staging/",
        "prefix/",
    }
    assert main(["bootstrap"]) == 0
    assert f"s3://{name}: already compliant, nothing changed" in capsys.readouterr().out


def test_bootstrap_needs_an_s3_root(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("F1_DATA_ROOT", str(tmp_path))
    assert main(["bootstrap"]) == 2
    assert "bootstrap needs F1_DATA_ROOT=s3://" in capsys.readouterr().err


@pytest.mark.parametrize("bad", ["s3://Bad_Bucket", "s3://ab", "s3://a..b"])
def test_invalid_bucket_names_are_refused(monkeypatch, capsys, bad):
    monkeypatch.setenv("F1_DATA_ROOT", bad)
    assert main(["bootstrap"]) == 2
    assert "is not a valid S3 bucket name" in capsys.readouterr().err
