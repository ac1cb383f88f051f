"""The messages on the webhooks queue.

- ``import.finished``: an import reached its final status (sent by the broadcaster, possibly more than
  once); the webhooks function refreshes the import's search documents, then records the import's event
  exactly once and fans it out as one ``delivery`` per subscribed webhook.
- ``delivery``: one event to one webhook; retried with back-off until it succeeds or attempts run out.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, TypeAdapter

from product_importer.models import Import


class ImportFinished(BaseModel):
    kind: Literal["import.finished"] = "import.finished"
    import_: Import = Field(alias="import")
    search_after: str | None = None  # a search refresh that ran out of time resumes after this SKU key
    # only webhooks created by then (ISO 8601): an event recovered after a restart (infra.local) goes to
    # the webhooks that existed when the import ended, not to one created since
    subscribed_by: str | None = None

    model_config = {"populate_by_name": True}


class DeliveryJob(BaseModel):
    kind: Literal["delivery"] = "delivery"
    event_id: str
    webhook_id: str
    attempts_before: int = 0  # attempts made before this message (a delivery resumed after a restart)


Job = Annotated[ImportFinished | DeliveryJob, Field(discriminator="kind")]
_jobs: TypeAdapter[ImportFinished | DeliveryJob] = TypeAdapter(Job)


def parse_job(body: str) -> ImportFinished | DeliveryJob:
    return _jobs.validate_json(body)


def finished_job(imp: Import, search_after: str | None = None, subscribed_by: str | None = None) -> dict[str, Any]:
    return ImportFinished.model_validate(
        {"import": imp, "search_after": search_after, "subscribed_by": subscribed_by}
    ).model_dump(mode="json", by_alias=True)


def delivery_job(event_id: str, webhook_id: str, attempts_before: int = 0) -> dict[str, Any]:
    return DeliveryJob(event_id=event_id, webhook_id=webhook_id, attempts_before=attempts_before).model_dump(
        mode="json")
