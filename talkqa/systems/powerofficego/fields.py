"""PowerOffice Go field constraints, as :class:`FieldSpec` keyed by canonical path.

Lengths marked ``# guess`` are not documented by the vendor; they are plausible values of ours.
"""
from __future__ import annotations

from talkqa.fields import FieldSpec


def _specs(*specs: FieldSpec) -> dict[str, FieldSpec]:
    return {s.path: s for s in specs}


# PowerOffice Go v1 ContactPerson (camelCase). v1 documents no lengths: all are guesses, taken from
# the v2 AddressDto where a counterpart exists.
POWEROFFICE_CONTACTPERSON_FIELDS: dict[str, FieldSpec] = _specs(
    FieldSpec("firstName", max_length=100, required_on_create=True, nullable=False),  # guess
    FieldSpec("lastName", max_length=100, required_on_create=True, nullable=False),  # guess
    FieldSpec("emailAddress", kind="email", max_length=255),  # guess
    FieldSpec("phoneNumber", kind="phone", max_length=50),  # guess
    FieldSpec("address1", max_length=200),  # guess (v2 AddressLine1 is 200)
    FieldSpec("address2", max_length=200),  # guess (v2 AddressLine2 is 200)
    FieldSpec("city", max_length=100),  # guess (v2 City is 100)
    FieldSpec("zipCode", max_length=50),  # guess (v2 ZipCode is 50)
    FieldSpec("residenceCountryCode", kind="country", max_length=2),
    FieldSpec("dateOfBirth", kind="date"),
    FieldSpec("externalCode", max_length=50),  # guess (v2 ExternalCode is 50)
    FieldSpec("isActive", kind="boolean", nullable=False),
)

# PowerOffice Go v2 SupplierDto (PascalCase, dotted for MailAddress). FirstName/LastName are required
# only when IsPerson is true and Name only for companies: the simulator checks that rule itself.
POWEROFFICE_SUPPLIER_FIELDS: dict[str, FieldSpec] = _specs(
    FieldSpec("IsPerson", kind="boolean", nullable=False),
    FieldSpec("FirstName", max_length=100),  # guess
    FieldSpec("LastName", max_length=100),  # guess
    FieldSpec("Name", max_length=255),  # guess
    FieldSpec("EmailAddress", kind="email", max_length=255),  # guess
    FieldSpec("PhoneNumber", kind="phone", max_length=50),  # guess
    FieldSpec("DateOfBirth", kind="date"),
    FieldSpec("ExternalImportReference", max_length=50),
    FieldSpec("MailAddress.AddressLine1", max_length=200),
    FieldSpec("MailAddress.AddressLine2", max_length=200),
    FieldSpec("MailAddress.City", max_length=100),
    FieldSpec("MailAddress.ZipCode", max_length=50),
    FieldSpec("MailAddress.CountryCode", kind="country", max_length=2),
    FieldSpec("MailAddress.ExternalCode", max_length=50),
)
