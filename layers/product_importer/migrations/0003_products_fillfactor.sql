-- Room on every page of products for a new version of each of its rows, so that a re-import, which
-- rewrites every row it touches (at least its version), stays a HOT update: no new index entries in the
-- three indexes, and the page's previous versions are pruned in place on the next pass.
-- Measured (docs/benchmarks.md): with fillfactor 85 only ~19% of a re-import's updates were HOT (the
-- ~15% free space holds new versions of ~4 of a page's ~23 rows, and a chunk updates all of them in
-- one transaction); with 50, 100%, and PostgreSQL's cost per updated row fell from ~10 to ~6 µs.
-- Applies to pages written from now on (existing pages keep their layout until rewritten).
ALTER TABLE products SET (fillfactor = 50);
