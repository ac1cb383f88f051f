"""Who may do what, and edges that hold under abuse (issue 12), as the templates say it:
Cognito groups, route throttles, the edge web ACL, reserved concurrency, the webhook-secrets key, and
partner drop credentials that write only under their own prefix."""

from __future__ import annotations

import re
from typing import Any

import pytest
from product_importer.auth.groups import GROUPS
from product_importer.webhooks.secrets import PURPOSE

from infra import topology
from infra.cdk import names
from infra.cdk.edge import EDGE_REGION
from infra.cdk.webhooks import SECRET_PURPOSE
from tests.infra.conftest import PARTNER, Stage, Synthesized
from tests.infra.template_queries import StackTemplate, as_list

pytestmark = pytest.mark.infra


# -- groups -------------------------------------------------------------------------------------------

def test_cognito_has_the_three_groups_the_api_checks(prod: Stage) -> None:
    template = prod.stateless_template
    users = prod.stateless.api.users
    assert users is not None
    groups = {
        g["Properties"]["GroupName"]: g["Properties"]
        for g in template.of_type("AWS::Cognito::UserPoolGroup").values()
    }
    assert tuple(sorted(groups, key=lambda g: -groups[g]["Precedence"])) == GROUPS == names.USER_GROUPS
    for group in groups.values():
        assert group["UserPoolId"] == {"Ref": template.logical_id(users.pool)}
        assert len(group["Description"]) > 20
    assert groups["admin"]["Precedence"] < groups["importer"]["Precedence"] < groups["viewer"]["Precedence"]


def test_stages_without_sign_in_have_no_groups(dev: Stage) -> None:
    assert dev.stateless_template.of_type("AWS::Cognito::UserPoolGroup") == {}


# -- throttles and the edge ---------------------------------------------------------------------------------

def _http_stage(stage: Stage) -> dict[str, Any]:
    return stage.stateless_template.props(stage.stateless.api.stage)


@pytest.mark.parametrize("stage_name", ["dev", "prod"])
def test_public_routes_have_their_own_lower_throttle(synthesized: Synthesized, stage_name: str) -> None:
    stage = synthesized.stages[stage_name]
    config = stage.stateless.config
    props = _http_stage(stage)
    default = props["DefaultRouteSettings"]
    assert (default["ThrottlingRateLimit"], default["ThrottlingBurstLimit"]) == (
        config.api_rate_limit, config.api_burst_limit
    )
    trigger = topology.FUNCTIONS["api"].trigger
    assert isinstance(trigger, topology.HttpTrigger)
    settings = props["RouteSettings"]
    assert set(settings) == {f"GET {path}" for path in trigger.public_paths} == {
        "GET /api/health", "GET /api/config"
    }
    for route in settings.values():
        assert route["ThrottlingRateLimit"] == config.public_rate_limit < config.api_rate_limit
        assert route["ThrottlingBurstLimit"] == config.public_burst_limit < config.api_burst_limit
    # the routes exist before the stage names them
    template = stage.stateless_template
    depends = template.resource(stage.stateless.api.stage).get("DependsOn", [])
    for route in stage.stateless.api.public_routes:
        assert template.logical_id(route) in depends


def _edge(synthesized: Synthesized) -> StackTemplate:
    (stack,) = [s for s in synthesized.assembly.stacks if s.stack_name == names.StageNames("prod").edge_stack]
    assert stack.environment.region == EDGE_REGION
    edge = synthesized.stages["prod"].stateless.edge
    assert edge is not None
    return StackTemplate.load(synthesized.outdir, edge)


def test_prod_serves_api_through_cloudfront_behind_a_rate_based_web_acl(
    synthesized: Synthesized, prod: Stage
) -> None:
    # Given the us-east-1 edge stack of prod
    edge = _edge(synthesized)
    ((_, acl),) = edge.of_type("AWS::WAFv2::WebACL").items()
    props = acl["Properties"]
    config = prod.stateless.config
    # Then its web ACL is a CloudFront one that allows by default and limits each client IP
    assert props["Scope"] == "CLOUDFRONT" and props["DefaultAction"] == {"Allow": {}}
    rules = {r["Name"]: r for r in props["Rules"]}
    per_ip = rules["requests-per-ip"]["Statement"]["RateBasedStatement"]
    assert (per_ip["AggregateKeyType"], per_ip["Limit"]) == ("IP", config.waf_rate_limit)
    writes = rules["api-writes-per-ip"]["Statement"]["RateBasedStatement"]
    assert (writes["AggregateKeyType"], writes["Limit"]) == ("IP", config.waf_api_write_rate_limit)
    assert "/api/" in str(writes["ScopeDownStatement"]) and "POST" in str(writes["ScopeDownStatement"])
    for rule in ("requests-per-ip", "api-writes-per-ip"):
        assert rules[rule]["Action"]["Block"]["CustomResponse"]["ResponseCode"] == 429
    assert {"AWSManagedRulesAmazonIpReputationList", "AWSManagedRulesKnownBadInputsRuleSet"} <= set(rules)
    # And prod's distribution, which serves /api/* too, is attached to it (a cross-region reference)
    distribution = prod.stateless_template.props(prod.stateless.frontend.distribution)["DistributionConfig"]
    assert "WebACLId" in distribution
    behaviors = {b["PathPattern"]: b for b in distribution["CacheBehaviors"]}
    assert "/api/*" in behaviors
    readers = prod.stateless_template.of_type("Custom::CrossRegionExportReader")
    assert readers and "WebAcl" in str(readers)


def test_dev_has_no_edge_stack_and_no_web_acl(synthesized: Synthesized, dev: Stage) -> None:
    assert dev.stateless.edge is None
    assert names.StageNames("dev").edge_stack not in {s.stack_name for s in synthesized.assembly.stacks}
    distribution = dev.stateless_template.props(dev.stateless.frontend.distribution)["DistributionConfig"]
    assert "WebACLId" not in distribution


# -- reserved concurrency -----------------------------------------------------------------------------------

def test_prod_reserves_concurrency_for_the_api_and_webhooks_dev_does_not(prod: Stage, dev: Stage) -> None:
    reserved = {name for name, spec in topology.FUNCTIONS.items() if spec.reserved_concurrency}
    assert reserved == {"api", "webhooks"}
    for name, service in prod.stateless.functions.items():
        props = prod.stateless_template.props(service.function)
        assert props.get("ReservedConcurrentExecutions") == topology.FUNCTIONS[name].reserved_concurrency, name
    for service in dev.stateless.functions.values():
        assert "ReservedConcurrentExecutions" not in dev.stateless_template.props(service.function)


def test_slow_webhook_receivers_hold_a_bounded_number_of_functions(prod: Stage) -> None:
    trigger = topology.FUNCTIONS["webhooks"].trigger
    assert isinstance(trigger, topology.SqsTrigger) and trigger.max_concurrency
    mappings = prod.stateless_template.of_type("AWS::Lambda::EventSourceMapping").values()
    webhooks_fn = prod.stateless_template.logical_id(prod.stateless.webhooks.function.function)
    (mapping,) = [m for m in mappings if webhooks_fn in str(m["Properties"]["FunctionName"])]
    assert mapping["Properties"]["ScalingConfig"]["MaximumConcurrency"] == trigger.max_concurrency


def test_search_refresh_has_its_own_queue_and_function(prod: Stage) -> None:
    finisher = topology.FUNCTIONS["finisher"].trigger
    webhooks = topology.FUNCTIONS["webhooks"].trigger
    assert isinstance(finisher, topology.SqsTrigger) and isinstance(webhooks, topology.SqsTrigger)
    assert finisher.queue != webhooks.queue
    assert prod.stateless.webhooks.finished.queue is not prod.stateless.webhooks.deliveries.queue


# -- the webhook-secrets key ---------------------------------------------------------------------------------

def test_webhook_secrets_key_rotates_and_outlives_the_stack_in_prod(prod: Stage, dev: Stage) -> None:
    key = prod.stateful_template.resource(prod.stateful.webhook_key.key)
    assert key["Properties"]["EnableKeyRotation"] is True
    assert key["DeletionPolicy"] == "Retain"
    assert dev.stateful_template.resource(dev.stateful.webhook_key.key)["DeletionPolicy"] == "Delete"


def test_the_key_policy_context_is_the_one_the_code_uses() -> None:
    assert SECRET_PURPOSE == PURPOSE


# -- partner drop credentials --------------------------------------------------------------------------------

BUCKET_ARN = "arn:aws:s3:::uploads-bucket"


def _resolve(value: Any, bucket_id: str) -> str:
    """A policy Resource with the uploads bucket's Arn written out."""
    if isinstance(value, str):
        return value
    if "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return separator.join(_resolve(p, bucket_id) for p in parts)
    if value == {"Fn::GetAtt": [bucket_id, "Arn"]}:
        return BUCKET_ARN
    raise AssertionError(f"unexpected policy value {value}")


def _glob(pattern: str) -> re.Pattern[str]:
    """IAM's wildcards: * any run of characters (slashes too), ? one character."""
    return re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern) + r"\Z")


def allows(statements: list[dict[str, Any]], action: str, resource: str, bucket_id: str) -> bool:
    """IAM evaluation of identity statements: an explicit Deny wins, else any Allow."""
    def matches(statement: dict[str, Any]) -> bool:
        actions = as_list(statement["Action"])
        resources = [_resolve(r, bucket_id) for r in as_list(statement["Resource"])]
        return any(_glob(a).match(action) for a in actions) and any(_glob(r).match(resource) for r in resources)

    if any(s["Effect"] == "Deny" and matches(s) for s in statements):
        return False
    return any(s["Effect"] == "Allow" and matches(s) for s in statements)


@pytest.mark.parametrize(
    ("key", "allowed"),
    [
        ("incoming/acme/feed.csv", True),
        ("incoming/acme/2026/05/feed.csv", True),
        ("incoming/beta/feed.csv", False),
        ("incoming/beta/acme/feed.csv", False),
        ("incoming/acmecorp/feed.csv", False),
        ("incoming/feed.csv", False),
        ("uploads/0123.csv", False),
        ("incoming/acme", False),
    ],
)
def test_a_partner_role_writes_only_under_its_own_prefix(prod: Stage, key: str, allowed: bool) -> None:
    # Given the policy of the role made for partner acme
    template = prod.stateful_template
    role = prod.stateful.storage.partner_roles[PARTNER]
    statements = template.policies_of_role(role)
    bucket_id = template.logical_id(prod.stateful.storage.bucket)
    # Then it may put (and finish multipart uploads of) exactly the objects under incoming/acme/
    object_arn = f"{BUCKET_ARN}/{key}"
    assert allows(statements, "s3:PutObject", object_arn, bucket_id) is allowed
    # And nothing else: no reads, no deletes, no listing, no ACLs, anywhere
    for action in ("s3:GetObject", "s3:DeleteObject", "s3:PutObjectAcl", "s3:ListBucket", "s3:PutBucketPolicy"):
        assert not allows(statements, action, object_arn, bucket_id), action
        assert not allows(statements, action, BUCKET_ARN, bucket_id), action


def test_the_uploads_bucket_policy_grants_partners_nothing(prod: Stage) -> None:
    template = prod.stateful_template
    bucket_id = template.logical_id(prod.stateful.storage.bucket)
    for policy in template.of_type("AWS::S3::BucketPolicy").values():
        if policy["Properties"]["Bucket"] != {"Ref": bucket_id}:
            continue
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            if statement["Effect"] == "Allow":
                assert "111122223333" not in str(statement["Principal"])
