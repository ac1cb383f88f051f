-- When an import's replace began deactivating (NULL: no replace, a held one, or one not started). A chunk of
-- an older import that lands after it (its file arrived late) deactivates its own products that the replace
-- would have deactivated in creation order (docs/changes-and-undo.md, "Replace").
ALTER TABLE import_registry ADD COLUMN replace_ran_at timestamptz;
