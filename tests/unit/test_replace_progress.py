"""A replace deactivates for a while after the import's last row (at 1M products, a minute and a half): the
import shows the count as it grows, and the CLI's bar says what is going on instead of sitting at 100%."""

from __future__ import annotations

from product_importer import cli
from product_importer.models import ReplaceRequest
from product_importer.pipeline import finish

from tests.unit.fakes import FakeChunkLedger, FakeJobLedger, FakeProgress, FakeQueue


def test_each_step_of_a_replace_shows_the_count_so_far() -> None:
    progress, chunks = FakeProgress(), FakeChunkLedger()
    jobs = FakeJobLedger(chunks, products={f"s{n}": True for n in range(7)}, in_file={"imp-1": {"s1"}}, step=2)
    progress.items["imp-1"] = {"id": "imp-1", "status": "processing"}
    seen: list[int] = []
    record = progress.record_deactivated

    def recording(import_id: str, products_deactivated: int) -> bool:
        seen.append(products_deactivated)
        return record(import_id, products_deactivated)

    progress.record_deactivated = recording  # type: ignore[method-assign]
    request = ReplaceRequest(import_id="imp-1", requested_at="2026-12-01T00:00:00Z", scope="all")

    assert finish.deactivate(request, finish.JobPorts(progress, chunks, jobs, FakeQueue()))

    assert seen == [1, 3, 5, 6]  # steps of two products, s1 in the file
    assert progress.items["imp-1"]["products_deactivated"] == 6


def test_the_cli_bar_says_a_replace_is_deactivating_once_every_row_is_in() -> None:
    running = {"status": "processing", "rows_total": 600_000, "rows_processed": 600_000,
               "replace": {"scope": "partner", "max_deactivate_percent": 50, "status": None},
               "products_deactivated": 120_000}
    assert cli._note(running) == "replacing: 120,000 deactivated"
    assert cli._note({**running, "rows_processed": 599_000}) == "processing"
    assert cli._note({**running, "replace": None}) == "processing"
    assert cli._note({**running, "status": "completed"}) == "completed"
