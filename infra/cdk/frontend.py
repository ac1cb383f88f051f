"""Frontend hosting: private site bucket, CloudFront with origin access control, ``/api/*`` to the HTTP API.

One origin for the browser: the SPA and its API share the CloudFront domain, so the API needs no CORS.
``frontend/dist`` is deployed with the stack; when it has not been built, a placeholder page is deployed
so synthesis still works (build the UI first for a real deployment).
"""

from __future__ import annotations

from aws_cdk import Duration, Fn, RemovalPolicy, Stack
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_deployment as s3deploy
from cdk_nag import NagSuppressions
from constructs import Construct

from infra.cdk.config import REPO_ROOT, StageConfig
from infra.cdk.storage import private_bucket

DIST_DIR = REPO_ROOT / "frontend" / "dist"
PLACEHOLDER_HTML = (
    "<!doctype html><html><head><meta charset='utf-8'><title>Product Importer</title></head>"
    "<body><p>The UI was not built when this stack was synthesized (frontend/dist missing).</p></body></html>"
)

# Client-side routes (no file extension) are served index.html; /api/* never reaches this function.
SPA_REWRITE = """
function handler(event) {
  var request = event.request;
  var last = request.uri.split('/').pop();
  if (last.indexOf('.') === -1) { request.uri = '/index.html'; }
  return request;
}
"""


def content_security_policy(uploads_bucket: s3.IBucket, region: str, sign_in_host: str | None = None) -> str:
    connect = [
        "'self'",
        f"wss://*.execute-api.{region}.amazonaws.com",  # live progress (WebSocket API)
        # presigned POST uploads (boto3 signs for the regional or the global bucket host)
        f"https://{uploads_bucket.bucket_regional_domain_name}",
        f"https://{uploads_bucket.bucket_domain_name}",
    ]
    if sign_in_host:
        connect.append(f"https://{sign_in_host}")  # sign-in: the code and refresh exchanges at /oauth2/token
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data:",
            f"connect-src {' '.join(connect)}",
            "frame-ancestors 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "object-src 'none'",
        ]
    )


class Frontend(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StageConfig,
        api_domain_name: str,
        uploads_bucket: s3.IBucket,
        sign_in_host: str | None = None,
        web_acl_arn: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        region = Stack.of(self).region

        self.logs = s3.Bucket(
            self,
            "Logs",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            encryption=s3.BucketEncryption.S3_MANAGED,
            # CloudFront standard logging writes with ACLs: the one bucket here that keeps them.
            object_ownership=s3.ObjectOwnership.OBJECT_WRITER,
            lifecycle_rules=[s3.LifecycleRule(id="expire-logs", expiration=Duration.days(90))],
            removal_policy=RemovalPolicy.RETAIN if config.retain_data else RemovalPolicy.DESTROY,
        )
        NagSuppressions.add_resource_suppressions(
            self.logs,
            [
                {
                    "id": "AwsSolutions-S1",
                    "reason": "This bucket is the access-log destination itself; logging it to itself would loop, and a "
                    "further log bucket would only move the same finding.",
                }
            ],
        )
        self.site = private_bucket(
            self,
            "Site",
            config=config,
            server_access_logs_bucket=self.logs,
            server_access_logs_prefix="site/",
        )

        headers = cloudfront.ResponseHeadersPolicy(
            self,
            "SecurityHeaders",
            comment="Product Importer security headers",
            security_headers_behavior=cloudfront.ResponseSecurityHeadersBehavior(
                content_security_policy=cloudfront.ResponseHeadersContentSecurityPolicy(
                    content_security_policy=content_security_policy(uploads_bucket, region, sign_in_host),
                    override=True,
                ),
                strict_transport_security=cloudfront.ResponseHeadersStrictTransportSecurity(
                    access_control_max_age=Duration.days(730), include_subdomains=True, override=True
                ),
                content_type_options=cloudfront.ResponseHeadersContentTypeOptions(override=True),
                frame_options=cloudfront.ResponseHeadersFrameOptions(
                    frame_option=cloudfront.HeadersFrameOption.DENY, override=True
                ),
                referrer_policy=cloudfront.ResponseHeadersReferrerPolicy(
                    referrer_policy=cloudfront.HeadersReferrerPolicy.STRICT_ORIGIN_WHEN_CROSS_ORIGIN,
                    override=True,
                ),
            ),
            custom_headers_behavior=cloudfront.ResponseCustomHeadersBehavior(
                custom_headers=[
                    cloudfront.ResponseCustomHeader(
                        header="Permissions-Policy",
                        value="camera=(), microphone=(), geolocation=(), payment=()",
                        override=True,
                    )
                ]
            ),
        )
        spa_rewrite = cloudfront.Function(
            self,
            "SpaRewrite",
            code=cloudfront.FunctionCode.from_inline(SPA_REWRITE),
            runtime=cloudfront.FunctionRuntime.JS_2_0,
            comment="Serve index.html for client-side routes",
        )

        self.distribution = cloudfront.Distribution(
            self,
            "Distribution",
            comment=f"Product Importer UI + API ({config.stage})",
            default_root_object="index.html",
            price_class=cloudfront.PriceClass.PRICE_CLASS_100,
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
            enable_logging=True,
            web_acl_id=web_acl_arn,  # per-client rate limits for the UI and /api (infra.cdk.edge)
            log_bucket=self.logs,
            log_file_prefix="cloudfront/",
            default_behavior=cloudfront.BehaviorOptions(
                origin=origins.S3BucketOrigin.with_origin_access_control(self.site),
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                cache_policy=cloudfront.CachePolicy.CACHING_OPTIMIZED,
                response_headers_policy=headers,
                function_associations=[
                    cloudfront.FunctionAssociation(
                        function=spa_rewrite, event_type=cloudfront.FunctionEventType.VIEWER_REQUEST
                    )
                ],
            ),
            additional_behaviors={
                "/api/*": cloudfront.BehaviorOptions(
                    origin=origins.HttpOrigin(
                        api_domain_name, protocol_policy=cloudfront.OriginProtocolPolicy.HTTPS_ONLY
                    ),
                    viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
                    allowed_methods=cloudfront.AllowedMethods.ALLOW_ALL,
                    # Caching off, so the viewer's Authorization header may be forwarded.
                    cache_policy=cloudfront.CachePolicy.CACHING_DISABLED,
                    origin_request_policy=cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
                    response_headers_policy=headers,
                )
            },
        )
        NagSuppressions.add_resource_suppressions(
            self.distribution,
            [
                {
                    "id": "AwsSolutions-CFR1",
                    "reason": "Catalog operators and partners work from several countries; there is no "
                    "legal or business reason to geo-restrict the UI.",
                },
                *(
                    []
                    if web_acl_arn
                    else [
                        {
                            "id": "AwsSolutions-CFR2",
                            "reason": f"Stage {config.stage} runs with edgeWaf=false (no per-client limits "
                            "at the edge); the API still requires a Cognito JWT and is throttled per route. "
                            "Production stages attach the us-east-1 web ACL.",
                        }
                    ]
                ),
                {
                    "id": "AwsSolutions-CFR4",
                    "reason": "The default *.cloudfront.net certificate cannot pin TLSv1.2_2021; the "
                    "minimum protocol version applies as soon as a custom domain + ACM certificate is set.",
                },
            ],
        )

        if (DIST_DIR / "index.html").is_file():
            source = s3deploy.Source.asset(str(DIST_DIR))
        else:
            source = s3deploy.Source.data("index.html", PLACEHOLDER_HTML)
        s3deploy.BucketDeployment(
            self,
            "Deploy",
            sources=[source],
            destination_bucket=self.site,
            distribution=self.distribution,
            distribution_paths=["/*"],
            prune=True,
            memory_limit=512,
        )

    @property
    def url(self) -> str:
        return Fn.join("", ["https://", self.distribution.distribution_domain_name])
