"""Errors of the signing library, with Russian messages a person can act on."""

from __future__ import annotations


class SigningError(Exception):
    """Base of every signing failure."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class WrongPassphraseError(SigningError):
    """The passphrase does not open the private key."""


class CertificateNotValidError(SigningError):
    """The certificate is expired, not yet valid, or not for signing."""


class CertificateRevokedError(CertificateNotValidError):
    """The certificate is on the school's revocation list."""


class FieldError(SigningError):
    """The signature field is missing or already signed."""


class TimestampUnavailableError(SigningError):
    """The time-stamping authority did not answer or refused the request."""
