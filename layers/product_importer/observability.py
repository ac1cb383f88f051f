"""Where the domain's logs go in Lambda: the standard-library loggers of ``product_importer.*`` get the
handler's Powertools logger configuration (JSON lines with the service, the cold start and the request's
correlation id), so a line logged deep in a repository is found next to the request that caused it."""

from __future__ import annotations

import logging

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers

PACKAGE_LOGGER = "product_importer"


def route_domain_logs(logger: Logger, *, also: tuple[str, ...] = ()) -> None:
    """Send ``product_importer`` (and every logger under it) plus ``also`` through ``logger``'s handler."""
    for name in (PACKAGE_LOGGER, *also):
        logging.getLogger(name)  # registered, so that the copy below finds it; children propagate to it
    copy_config_to_registered_loggers(source_logger=logger, include={PACKAGE_LOGGER, *also})
