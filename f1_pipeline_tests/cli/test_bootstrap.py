"""`f1-pipeline bootstrap` against moto's S3 server: the bucket ends up exactly as
infra/template.yaml declares it. What is expected is read from the template here, with this
file's own reading of CloudFormation's shapes, so neither the template nor bootstrap can
drift from the other. moto records the bucket policy but does not evaluate its conditions,
so the policy document itself is compared."""

from __future__ import annotations

import argparse
import json
import re
import uuid
from pathlib import Path

import pytest
import yaml
from botocore.exceptions import ClientError

from f1_pipeline.cli import bootstrap
from f1_pipeline.cli.bootstrap import REQUIRED_ACTIONS, bootstrap_bucket, tls_policy_applies
from f1_pipeline.cli.context import Cli
from f1_pipeline.cli.errors import CommandError
from f1_pipeline.core.storage import layout
from f1_pipeline_tests.conftest import REPO

TEMPLATE = REPO / "infra" / "template.yaml"
# The lifecycle rules' CloudFormation properties this file (and bootstrap) translate.
RULE_PROPERTIES = {"Id", "Status", "Prefix", "ExpirationInDays", "NoncurrentVersionExpiration",
                   "AbortIncompleteMultipartUpload"}  # fmt: skip


def _resolved(value, params):
    """CloudFormation's Ref and Fn::Sub, as the stack resolves them."""
    if isinstance(value, list):
        return [_resolved(v, params) for v in value]
    if not isinstance(value, dict):
        return value
    if "Ref" in value:
        return params[value["Ref"]]
    if "Fn::Sub" in value:
        return re.sub(r"\$\{([^}]*)\}", lambda m: str(params[m[1]]), value["Fn::Sub"])
    return {k: _resolved(v, params) for k, v in value.items()}


def _api_rule(rule: dict) -> dict:
    """A lifecycle rule of the template as the S3 API answers with it."""
    assert set(rule) <= RULE_PROPERTIES, f"translate {set(rule) - RULE_PROPERTIES} here first"
    api = {"ID": rule["Id"], "Status": rule["Status"], "Filter": {"Prefix": rule.get("Prefix", "")}}
    if "ExpirationInDays" in rule:
        api["Expiration"] = {"Days": rule["ExpirationInDays"]}
    same = {"NoncurrentVersionExpiration", "AbortIncompleteMultipartUpload"} & set(rule)
    return api | {name: rule[name] for name in same}


def expected(bucket: str, prefix: str = "", template: Path = TEMPLATE) -> dict:
    """The bucket's state as the template declares it for a data root s3://bucket/prefix."""
    doc = yaml.safe_load(template.read_text())
    params = {k: p.get("Default") for k, p in doc["Parameters"].items()}
    params |= {"BucketName": bucket, "DataPrefix": prefix, "AWS::Partition": "aws"}
    resources = doc["Resources"]
    props = dict(resources["DataBucket"]["Properties"])
    del props["NotificationConfiguration"]  # the stack's (it needs the stack's queue)
    props = _resolved(props, params)
    policy = _resolved(resources["DataBucketPolicy"]["Properties"]["PolicyDocument"], params)
    return {
        "versioning": props["VersioningConfiguration"],
        "encryption": [
            {"ApplyServerSideEncryptionByDefault": rule["ServerSideEncryptionByDefault"],
             "BucketKeyEnabled": rule["BucketKeyEnabled"]}
            for rule in props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        ],
        "public_access": props["PublicAccessBlockConfiguration"],
        "lifecycle": {r["Id"]: _api_rule(r) for r in props["LifecycleConfiguration"]["Rules"]},
        "policy": {s["Sid"]: s for s in policy["Statement"]},
    }  # fmt: skip


def _state(client, name: str) -> dict:
    try:
        statements = json.loads(client.get_bucket_policy(Bucket=name)["Policy"])["Statement"]
    except client.exceptions.ClientError as err:
        if err.response["Error"]["Code"] != "NoSuchBucketPolicy":
            raise
        statements = []
    encryption = client.get_bucket_encryption(Bucket=name)["ServerSideEncryptionConfiguration"]
    return {
        "versioning": {"Status": client.get_bucket_versioning(Bucket=name).get("Status")},
        "encryption": encryption["Rules"],
        "public_access": client.get_public_access_block(Bucket=name)[
            "PublicAccessBlockConfiguration"
        ],
        "lifecycle": {
            r["ID"]: r for r in client.get_bucket_lifecycle_configuration(Bucket=name)["Rules"]
        },
        "policy": {s.get("Sid"): s for s in statements},
    }


def test_bootstrap_applies_every_property_of_the_bucket_but_the_stacks_own():
    """A property added to the template fails here until bootstrap (and ``expected``) apply
    it; tags and the upload notifications (to the stack's queue) are the stack's alone."""
    props = yaml.safe_load(TEMPLATE.read_text())["Resources"]["DataBucket"]["Properties"]
    assert set(props) - {"BucketName", "Tags", "NotificationConfiguration"} == {
        "VersioningConfiguration",
        "BucketEncryption",
        "PublicAccessBlockConfiguration",
        "LifecycleConfiguration",
    }
    # The IAM names of the calls it makes (docs/operations.md lists them).
    assert set(REQUIRED_ACTIONS) == {
        "s3:CreateBucket", "s3:ListBucket",
        "s3:GetBucketVersioning", "s3:PutBucketVersioning",
        "s3:GetEncryptionConfiguration", "s3:PutEncryptionConfiguration",
        "s3:GetBucketPublicAccessBlock", "s3:PutBucketPublicAccessBlock",
        "s3:GetLifecycleConfiguration", "s3:PutLifecycleConfiguration",
        "s3:GetBucketPolicy", "s3:PutBucketPolicy",
    }  # fmt: skip


def _name(kind: str) -> str:
    return f"f1-{kind}-{uuid.uuid4().hex[:8]}"


def test_a_new_bucket_is_made_as_the_template_declares_then_left_alone(s3_client):
    name = _name("boot")
    assert bootstrap_bucket(s3_client, name) == [
        f"created bucket {name}",
        "set versioning",
        "set encryption",
        "set public access block",
        "set lifecycle configuration",
        "set policy",
    ]
    state = _state(s3_client, name)
    assert state == expected(name)
    assert s3_client.get_bucket_location(Bucket=name)["LocationConstraint"] == "eu-west-1"
    assert bootstrap_bucket(s3_client, name) == []
    assert _state(s3_client, name) == state


def test_a_data_prefix_reaches_every_rule_and_statement(s3_client):
    name = _name("prefix")
    bootstrap_bucket(s3_client, name, prefix="team-a/")
    state = _state(s3_client, name)
    assert state == expected(name, "team-a/")
    # Not vacuous: the scratch space expires, and the policy covers the root's objects.
    prefixes = {rule["Filter"]["Prefix"] for rule in state["lifecycle"].values()}
    assert {f"team-a/{p}" for p in layout.SCRATCH_PREFIXES} <= prefixes
    [statement] = state["policy"].values()
    assert f"arn:aws:s3:::{name}/team-a/*" in statement["Resource"]
    assert bootstrap_bucket(s3_client, name, prefix="team-a/") == []


def test_drift_is_repaired_and_the_operators_rules_and_statements_are_kept(s3_client):
    name = _name("drift")
    s3_client.create_bucket(
        Bucket=name, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )
    s3_client.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Suspended"})
    own = {"Sid": "OperatorsOwn", "Effect": "Deny", "Principal": "*",
           "Action": "s3:DeleteBucket", "Resource": f"arn:aws:s3:::{name}"}  # fmt: skip
    ours = expected(name)
    [(sid, tls)] = ours["policy"].items()
    stale_tls = {**tls, "Action": "s3:GetObject"}
    operator_rule = {"ID": "operators-archive", "Filter": {"Prefix": "archive/"},
                     "Status": "Enabled", "Expiration": {"Days": 365}}  # fmt: skip
    [(rule_id, rule), *_] = ours["lifecycle"].items()
    stale_rule = {**rule, "Expiration": {"Days": 90}}
    # A rule of an earlier bootstrap, before the template was its one source: replaced.
    retired = {"ID": "f1-expire-pipes", "Filter": {"Prefix": "pipes/"}, "Status": "Enabled",
               "Expiration": {"Days": 1}}  # fmt: skip
    s3_client.put_bucket_lifecycle_configuration(
        Bucket=name, LifecycleConfiguration={"Rules": [operator_rule, stale_rule, retired]}
    )
    policy = {"Version": "2012-10-17", "Statement": [own, stale_tls]}
    s3_client.put_bucket_policy(Bucket=name, Policy=json.dumps(policy))

    changes = bootstrap_bucket(s3_client, name)
    assert f"created bucket {name}" not in changes
    assert {"set versioning", "set lifecycle configuration", "set policy"} <= set(changes)
    state = _state(s3_client, name)
    assert state["policy"] == {"OperatorsOwn": own, sid: tls}
    assert state["lifecycle"] == {"operators-archive": operator_rule, **ours["lifecycle"]}
    assert state["lifecycle"][rule_id] == rule
    assert state == {**ours, "policy": state["policy"], "lifecycle": state["lifecycle"]}
    assert bootstrap_bucket(s3_client, name) == []


def test_a_plain_http_endpoint_gets_all_but_the_tls_only_policy(s3_client):
    assert tls_policy_applies(None)
    assert tls_policy_applies("https://s3.eu-west-1.amazonaws.com")
    assert not tls_policy_applies("http://127.0.0.1:9000")
    name = _name("http")
    bootstrap_bucket(s3_client, name, tls_only=False)
    assert _state(s3_client, name) == {**expected(name), "policy": {}}
    assert bootstrap_bucket(s3_client, name, tls_only=False) == []


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    bootstrap.add_parser(parser.add_subparsers(), [])
    return parser.parse_args(["bootstrap", *argv])


def test_the_command(aws_env, capsys, s3_client):
    name = _name("cli")
    cli = Cli({"F1_DATA_ROOT": f"s3://{name}/prefix"})
    assert bootstrap.command(cli, _args()) == 0
    captured = capsys.readouterr()
    assert f"s3://{name}: created bucket {name}\n" in captured.out
    assert f"s3://{name}: set lifecycle configuration\n" in captured.out
    assert "TLS-only bucket policy is not applied" in captured.err  # moto is plain HTTP
    assert _state(s3_client, name) == {**expected(name, "prefix/"), "policy": {}}
    assert bootstrap.command(cli, _args()) == 0
    assert capsys.readouterr().out == f"s3://{name}: already compliant, nothing changed\n"


def test_the_command_applies_the_template_it_is_given(aws_env, capsys, s3_client, tmp_path):
    doc = yaml.safe_load(TEMPLATE.read_text())
    rules = doc["Resources"]["DataBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]
    rules[0]["ExpirationInDays"] = 3
    (template := tmp_path / "stack.yaml").write_text(yaml.safe_dump(doc))
    name = _name("given")
    cli = Cli({"F1_DATA_ROOT": f"s3://{name}"})
    assert bootstrap.command(cli, _args("--template", str(template))) == 0
    state = _state(s3_client, name)
    assert state == {**expected(name, template=template), "policy": {}}
    assert state["lifecycle"][rules[0]["Id"]]["Expiration"] == {"Days": 3}


@pytest.mark.parametrize(
    ("root", "message"),
    [
        ("/srv/f1", "bootstrap needs F1_DATA_ROOT=s3://bucket[/prefix], not '/srv/f1'"),
        ("", "bootstrap needs F1_DATA_ROOT=s3://bucket[/prefix], not ''"),
        ("s3://Bad_Bucket", "'Bad_Bucket' is not a valid S3 bucket name"),
        ("s3://ab", "'ab' is not a valid S3 bucket name"),
        ("s3://a..b", "'a..b' is not a valid S3 bucket name"),
    ],
)
def test_the_command_needs_an_s3_root(root, message):
    with pytest.raises(CommandError, match=re.escape(message)) as raised:
        bootstrap.command(Cli({"F1_DATA_ROOT": root}), _args())
    assert raised.value.exit_code == 2


def test_without_a_checkout_the_template_is_asked_for(monkeypatch, tmp_path):
    from f1_pipeline.glue import deploy

    monkeypatch.setattr(deploy, "project_root", lambda: None)  # an installed package
    cli = Cli({"F1_DATA_ROOT": "s3://f1-bucket"})
    with pytest.raises(
        CommandError, match=re.escape("checkout's infra/template.yaml, or --template")
    ):
        bootstrap.command(cli, _args())
    missing = tmp_path / "missing.yaml"
    with pytest.raises(CommandError, match=re.escape(f"--template {missing}: no such file")):
        bootstrap.command(cli, _args("--template", str(missing)))


@pytest.mark.parametrize(
    "prefix", [{"Fn::GetAtt": ["UploadsQueue", "Arn"]}, {"Ref": "NoSuchParameter"},
               {"Fn::Sub": "${AWS::Region}/pipes/"}, {"Fn::Join": ["", ["a", "b"]]}],
)  # fmt: skip
def test_what_cannot_be_resolved_is_refused_before_anything_changes(s3_client, tmp_path, prefix):
    doc = yaml.safe_load(TEMPLATE.read_text())
    doc["Resources"]["DataBucket"]["Properties"]["LifecycleConfiguration"]["Rules"][0]["Prefix"] = (
        prefix
    )
    (template := tmp_path / "stack.yaml").write_text(yaml.safe_dump(doc))
    name = _name("refused")
    with pytest.raises(CommandError, match="bootstrap cannot resolve the template's") as raised:
        bootstrap_bucket(s3_client, name, template=template)
    assert json.dumps(prefix) in str(raised.value)
    with pytest.raises(ClientError):
        s3_client.head_bucket(Bucket=name)
