"""Header aliases: which source column feeds which contact field.

Headers are compared after `normalize_header` (accents, case, punctuation and camel
case folded), so "E-mail Address", "EMAIL_ADDRESS" and "EmailAddress" are one key.
Within a field, earlier aliases win: Outlook's "Job Title" beats its "Title"
(a salutation there). Phone columns are recognised by words rather than a closed
list, because exports name them freely ("Work Direct Phone", "Phone 2 - Value").
"""

from __future__ import annotations

import re
import unicodedata

FIELDS = (
    "phone",
    "phone_extension",
    "first_name",
    "last_name",
    "full_name",
    "email",
    "company",
    "title",
    "country",
)
IGNORE = "ignore"

# Entity prefixes CRMs put before field names ("Person - Email", "Contact.FirstName").
ENTITY_PREFIXES = ("person", "contact", "lead", "prospect", "customer", "member", "people")

# fmt: off
ALIASES: dict[str, tuple[str, ...]] = {
    "first_name": (
        "first name", "firstname", "given name", "first", "fname", "forename", "givenname",
        "prenom", "vorname", "nombre", "nome", "voornaam", "primeiro nome", "nombre de pila",
        "imie",
    ),
    "last_name": (
        "last name", "lastname", "surname", "family name", "last", "lname", "familyname",
        "nom", "nom de famille", "nachname", "familienname", "apellido", "apellidos",
        "cognome", "sobrenome", "achternaam", "nazwisko", "ultimo nome", "apelido",
        "primer apellido",
    ),
    # Not Google's "File As": a display override ("Hopper, Grace", or a company), kept as
    # an attribute rather than split into a name.
    "full_name": (
        "full name", "fullname", "name", "contact name", "display name", "person name",
        "nombre completo", "nom complet", "vollstandiger name", "nome completo", "naam",
        "nombre y apellidos", "nome e cognome", "nom et prenom", "prenom et nom",
        "volledige naam", "nome e sobrenome",
    ),
    "email": (
        "email", "e mail", "email address", "e mail address", "e mail 1 value",
        "email 1 value", "emails", "email work", "work email", "primary email",
        "personal email", "email 1", "mail", "courriel", "adresse e mail", "correo",
        "correo electronico", "e mail adresse", "posta elettronica", "endereco de e mail",
        "adresse electronique", "indirizzo email", "indirizzo e mail", "e mailadres",
        "emailadres", "endereco de email", "e mail 2 address", "email 2", "email home",
        "email other",
    ),
    "company": (
        "company", "company name", "organization", "organisation", "organization name",
        "organization 1 name", "account name", "account", "employer", "business name",
        "org", "firma", "unternehmen", "firmenname", "societe", "entreprise", "raison sociale",
        "empresa", "compania", "nombre de la empresa", "azienda", "societa", "ragione sociale",
        "bedrijf", "bedrijfsnaam", "organisatie", "organizacion", "nome da empresa",
    ),
    "title": (
        "job title", "jobtitle", "organization title", "organization 1 title", "position",
        "role", "job", "designation", "occupation", "title", "titre", "poste", "fonction",
        "cargo", "puesto", "funcion", "berufsbezeichnung", "position im unternehmen",
        "funktion", "ruolo", "qualifica", "mansione", "functie", "functietitel",
        "job function",
    ),
    # Salesforce Data Loader writes "MAILINGCOUNTRY" (no camel case left to split).
    # Not Mailchimp's "CC": it is where the sign-up IP was, not where the phone is.
    "country": (
        "country", "country region", "country code", "business country region",
        "home country region", "other country region", "mailing country", "other country",
        "address 1 country", "business country", "home country", "country name",
        "mailingcountry", "othercountry", "country of postal address", "phone country",
        "land", "pays", "pais", "paese", "nazione", "staat",
    ),
    "phone_extension": (
        "extension", "ext", "phone extension", "phone ext", "work extension", "durchwahl",
    ),
}

# Words that make a header a phone column (whole tokens, or stems inside compounds).
# "whats": camel-case splitting turns HubSpot's "WhatsApp Phone Number" into "whats app".
PHONE_TOKENS = frozenset(
    {
        "phone", "phones", "telephone", "tel", "tele", "mobile", "cell", "cellphone",
        "cellular", "handy", "natel", "telefon", "telefono", "telefone", "telefoon",
        "portable", "celular", "movil", "telemovel", "cellulare", "mobiel", "mobil", "gsm",
        "whatsapp", "whats", "msisdn", "phonenumber", "mobilephone", "homephone", "workphone",
        "otherphone", "businessphone", "callback", "numero", "nummer", "number", "no",
        "contact number",
    }
)
PHONE_STEMS = ("telefon", "telefoon", "phone", "handy", "mobil")
# "Number"-like words count only when nothing else in the header says what it numbers.
WEAK_PHONE_TOKENS = frozenset({"numero", "nummer", "number", "no"})
MOBILE_TOKENS = frozenset(
    {
        "mobile", "cell", "cellphone", "cellular", "handy", "natel", "mobil", "mobiel",
        "mobiele", "portable", "celular", "movil", "movel", "telemovel", "cellulare", "gsm",
        "whatsapp", "whats", "mobilephone", "msisdn",
    }
)
MOBILE_STEMS = ("handy", "mobil", "cell")
# Never the contact's phone (PRODUCT 3.2), nor a column describing a phone. Compounds
# are listed whole ("ASSISTANTPHONE" from Salesforce Data Loader, "telecopie" is French
# for fax); "phonetic" keeps Google's "Phonetic First Name" from matching the stem.
NOT_A_PHONE_TOKENS = frozenset(
    {
        "fax", "telefax", "telecopie", "telecopieur", "pager", "telex", "assistant",
        "assistants", "assistante", "assistent", "assistentin", "assistente", "asistente",
        "asst", "assistantphone", "asstphone", "tty", "tdd", "phonetic", "mobility",
        "type", "label", "status", "opt", "optout", "consent", "verified", "valid",
        "validity", "code", "ext", "extension", "carrier", "kind", "count", "dnc",
        "donotcall", "country", "prefix", "sms", "date", "id", "owner", "source",
    }
)
# Values of a Google-style "Phone 1 - Type" cell (polars regex syntax).
MOBILE_LABEL = r"(?i)mobile|cell|handy|natel|portable|celular|m[oó]vil|mobil|gsm|whatsapp"
EXCLUDED_LABEL = r"(?i)fax|pager|telex|assist|tty|t[eé]l[eé]copie"

# fmt: on

# Columns a rejects.csv adds; re-importing it must not treat them as contact data.
REJECT_COLUMNS = frozenset({"row", "reason", "message", "suggested phone"})  # normalized

_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")
_NON_WORD = re.compile(r"[^0-9a-z]+")


def normalize_header(header: str) -> str:
    """Fold a header to a comparison key: 'E-mail Address' -> 'e mail address'."""
    text = _CAMEL.sub(" ", header)
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    return _NON_WORD.sub(" ", text).strip()


def strip_entity_prefix(key: str) -> str:
    """'person email work' -> 'email work'; keeps the key when nothing would remain."""
    for prefix in ENTITY_PREFIXES:
        if key.startswith(prefix + " ") and len(key) > len(prefix) + 1:
            return key[len(prefix) + 1 :]
    return key
