"""The AWS CDK app for Product Importer: one construct per concern, all wired from ``infra.topology``.

Importing this package does not import ``aws_cdk``: call :func:`infra.cdk.jsii_node.use_bundled_node`
first (``infra/app.py`` and the tests' conftest do), so jsii runs on the Node.js shipped as a wheel.
"""
