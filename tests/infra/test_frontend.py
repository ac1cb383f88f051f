"""Frontend hosting: private site bucket via OAC, /api/* to the HTTP API, security headers, deployment."""

from __future__ import annotations

import pytest

from tests.infra.conftest import Stage

pytestmark = pytest.mark.infra

CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
ALL_VIEWER_EXCEPT_HOST_HEADER = "b689b0a8-53d0-40ab-baf2-68738e2966ac"


def _distribution(stage: Stage) -> dict:
    return stage.stateless_template.props(stage.stateless.frontend.distribution)["DistributionConfig"]


def test_api_paths_go_to_the_http_api_uncached_with_viewer_headers(prod: Stage) -> None:
    config = _distribution(prod)
    (behavior,) = config["CacheBehaviors"]
    assert behavior["PathPattern"] == "/api/*"
    assert behavior["CachePolicyId"] == CACHING_DISABLED
    assert behavior["OriginRequestPolicyId"] == ALL_VIEWER_EXCEPT_HOST_HEADER
    assert behavior["AllowedMethods"] == ["GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"]
    origin = next(o for o in config["Origins"] if o["Id"] == behavior["TargetOriginId"])
    api_id = prod.stateless_template.logical_id(prod.stateless.api.http_api)
    assert {"Ref": api_id} in origin["DomainName"]["Fn::Join"][1]
    assert origin["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"


def test_site_bucket_is_private_and_read_through_origin_access_control(prod: Stage) -> None:
    template = prod.stateless_template
    config = _distribution(prod)
    site_id = template.logical_id(prod.stateless.frontend.site)
    default_origin = next(
        o for o in config["Origins"] if o["Id"] == config["DefaultCacheBehavior"]["TargetOriginId"]
    )
    assert site_id in str(default_origin["DomainName"])
    assert "OriginAccessControlId" in default_origin
    assert template.of_type("AWS::CloudFront::OriginAccessControl")
    assert (
        template.props(prod.stateless.frontend.site)["PublicAccessBlockConfiguration"]["BlockPublicPolicy"]
        is True
    )
    assert config["DefaultRootObject"] == "index.html"
    assert config["DefaultCacheBehavior"]["ViewerProtocolPolicy"] == "redirect-to-https"
    assert config["Logging"]["Bucket"]


def test_security_headers_apply_to_ui_and_api(prod: Stage) -> None:
    template = prod.stateless_template
    config = _distribution(prod)
    (policy_id,) = template.of_type("AWS::CloudFront::ResponseHeadersPolicy")
    for behavior in (config["DefaultCacheBehavior"], *config["CacheBehaviors"]):
        assert behavior["ResponseHeadersPolicyId"] == {"Ref": policy_id}
    headers = template.resources[policy_id]["Properties"]["ResponseHeadersPolicyConfig"][
        "SecurityHeadersConfig"
    ]
    assert headers["StrictTransportSecurity"]["AccessControlMaxAgeSec"] >= 31536000
    assert headers["ContentTypeOptions"]["Override"] is True
    assert headers["FrameOptions"]["FrameOption"] == "DENY"
    csp = str(headers["ContentSecurityPolicy"]["ContentSecurityPolicy"])
    assert "default-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    # the UI exchanges sign-in codes and refresh tokens at the pool's hosted domain
    users = prod.stateless.api.users
    assert users is not None
    assert template.logical_id(users.domain) in csp
    assert ".auth.eu-west-1.amazoncognito.com" in csp


def test_built_ui_is_deployed_and_the_cache_invalidated(prod: Stage) -> None:
    (deployment,) = prod.stateless_template.of_type("Custom::CDKBucketDeployment").values()
    props = deployment["Properties"]
    assert props["DestinationBucketName"] == {
        "Ref": prod.stateless_template.logical_id(prod.stateless.frontend.site)
    }
    assert props["DistributionPaths"] == ["/*"]
    assert props["Prune"] is True
