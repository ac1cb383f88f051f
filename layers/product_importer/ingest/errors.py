"""Why a file cannot be imported at all (CONTRACT §1): each a ``HeaderError`` whose text is for the user.

The splitter ends the import ``failed`` with ``str(error)``; the API maps the option errors
(``UnknownEncodingError``, ``UnknownProfileError``, ``InvalidMappingError``) to 422 before any upload.
"""

from __future__ import annotations


class HeaderError(ValueError):
    """The file's first bytes make the whole file unusable; the message says why and what to do."""


class EmptyFileError(HeaderError):
    """The file has no header line at all (0 bytes, or nothing but a BOM and blank lines)."""

    def __init__(self, message: str = "the file is empty") -> None:
        super().__init__(message)


class HeaderTooLargeError(HeaderError):
    """More than 1,024 columns or 64 KiB of header (or a quote in it that never closes)."""


class HeaderNameTooLongError(HeaderError):
    """A header cell longer than an attribute name may be (255 characters)."""


class HeaderNulError(HeaderError):
    """A NUL character in the header (PostgreSQL cannot store it in a name)."""


class NotTextError(HeaderError):
    """The file is a workbook, an archive, a PDF or an image saved under a text name, not CSV text."""


class HeaderEncodingError(HeaderError):
    """The header cannot be read in the file's encoding."""


class MissingColumnsError(HeaderError):
    """No column for sku and/or name after mapping, profile and aliases; ``missing`` in field order,
    ``suggestions`` the likeliest header names for each."""

    def __init__(
        self,
        missing: tuple[str, ...],
        message: str | None = None,
        *,
        found: tuple[str, ...] = (),
        suggestions: dict[str, list[str]] | None = None,
        plan: object | None = None,
    ) -> None:
        self.missing = missing
        self.plan = plan  # the FilePlan as far as it goes (no sku and/or name), for suggest
        self.found = found
        self.suggestions = suggestions or {}
        plural = "s" if len(missing) > 1 else ""
        super().__init__(message or f"missing required column{plural}: {', '.join(missing)}")


class InvalidMappingError(HeaderError):
    """A mapping value that is no field, ``attribute`` or ``ignore``."""


class UnknownEncodingError(HeaderError):
    """An encoding override that is none of utf-8, utf-16, windows-1252."""


class UnknownProfileError(HeaderError):
    """A profile override that is none of the known profiles."""
