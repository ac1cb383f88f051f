"""Edge: the WAF web ACL of the CloudFront distribution that serves the UI and ``/api`` (per-client limits).

HTTP APIs take no web ACL, and a CloudFront web ACL must live in us-east-1, so this is a small stack of
its own there (``<prefix>-Edge``), switched on per stage (``edgeWaf``, on in prod); the stateless stack
attaches the ACL to its distribution through a cross-region reference.

Rules, in order:
1. ``api-writes-per-ip``: POST / PUT / PATCH / DELETE under ``/api/`` from one IP, at most
   ``wafApiWriteRateLimit`` per 5 minutes (imports, edits, webhook tests: the expensive calls);
2. ``requests-per-ip``: any request from one IP, at most ``wafRateLimit`` per 5 minutes;
3. AWS's IP reputation list and known bad inputs (Log4Shell-style payloads). The broad "common rule set"
   is left out on purpose: its 8 KB body limit and cross-site-scripting match would refuse product
   descriptions (HTML from Shopify exports) and the 64 KB mapping-suggest bodies.
Blocked requests get 429 (rate rules) or 403.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Environment, Stack
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

from infra.cdk import names
from infra.cdk.config import StageConfig
from infra.cdk.nag import suppress_cdk_internals

EDGE_REGION = "us-east-1"  # CloudFront's web ACLs are made there, whatever the stage's region
WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
MANAGED_RULE_GROUPS = ("AWSManagedRulesAmazonIpReputationList", "AWSManagedRulesKnownBadInputsRuleSet")


def _visibility(metric: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
    return wafv2.CfnWebACL.VisibilityConfigProperty(
        cloud_watch_metrics_enabled=True, metric_name=metric, sampled_requests_enabled=True
    )


def _too_many() -> wafv2.CfnWebACL.RuleActionProperty:
    return wafv2.CfnWebACL.RuleActionProperty(
        block=wafv2.CfnWebACL.BlockActionProperty(
            custom_response=wafv2.CfnWebACL.CustomResponseProperty(response_code=429)
        )
    )


def _method_is(method: str) -> dict[str, Any]:
    return {
        "byteMatchStatement": {
            "fieldToMatch": {"method": {}},
            "positionalConstraint": "EXACTLY",
            "searchString": method,
            "textTransformations": [{"priority": 0, "type": "NONE"}],
        }
    }


def _api_writes() -> dict[str, Any]:
    return {
        "andStatement": {
            "statements": [
                {
                    "byteMatchStatement": {
                        "fieldToMatch": {"uriPath": {}},
                        "positionalConstraint": "STARTS_WITH",
                        "searchString": "/api/",
                        "textTransformations": [{"priority": 0, "type": "LOWERCASE"}],
                    }
                },
                {"orStatement": {"statements": [_method_is(m) for m in WRITE_METHODS]}},
            ]
        }
    }


class EdgeStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, config: StageConfig) -> None:
        super().__init__(
            scope,
            construct_id,
            env=Environment(account=config.account, region=EDGE_REGION),
            description=f"{names.APP} {config.stage}: CloudFront web ACL (per-client rate limits)",
            cross_region_references=True,
        )
        stage_names = names.StageNames(config.stage)
        rules = [
            wafv2.CfnWebACL.RuleProperty(
                name="api-writes-per-ip",
                priority=0,
                action=_too_many(),
                statement=wafv2.CfnWebACL.StatementProperty(
                    rate_based_statement=wafv2.CfnWebACL.RateBasedStatementProperty(
                        limit=config.waf_api_write_rate_limit,
                        aggregate_key_type="IP",
                        evaluation_window_sec=300,
                        scope_down_statement=_api_writes(),  # type: ignore[arg-type]
                    )
                ),
                visibility_config=_visibility("api-writes-per-ip"),
            ),
            wafv2.CfnWebACL.RuleProperty(
                name="requests-per-ip",
                priority=1,
                action=_too_many(),
                statement=wafv2.CfnWebACL.StatementProperty(
                    rate_based_statement=wafv2.CfnWebACL.RateBasedStatementProperty(
                        limit=config.waf_rate_limit, aggregate_key_type="IP", evaluation_window_sec=300
                    )
                ),
                visibility_config=_visibility("requests-per-ip"),
            ),
            *(
                wafv2.CfnWebACL.RuleProperty(
                    name=group,
                    priority=2 + n,
                    override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}),
                    statement=wafv2.CfnWebACL.StatementProperty(
                        managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
                            vendor_name="AWS", name=group
                        )
                    ),
                    visibility_config=_visibility(group),
                )
                for n, group in enumerate(MANAGED_RULE_GROUPS)
            ),
        ]
        self.web_acl = wafv2.CfnWebACL(
            self,
            "WebAcl",
            name=stage_names.web_acl,
            description=f"{names.APP} {config.stage}: per-client limits in front of the UI and /api",
            scope="CLOUDFRONT",
            default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
            visibility_config=_visibility(stage_names.web_acl),
            rules=rules,
        )
        CfnOutput(self, "WebAclArn", value=self.web_acl.attr_arn)
        suppress_cdk_internals(self)
