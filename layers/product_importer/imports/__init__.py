"""What the API does with imports beyond reading them: create with options, list with filters, apply a
preview, discard, request a revert or a held replace (``service``); their DynamoDB writes (``store``);
row errors (``row_errors``) and their spreadsheet-safe CSV (``errors_csv``)."""
