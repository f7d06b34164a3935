"""Word pools for the messy-contact generator: names, companies, places, notes.

Pools are plain tuples; the generator picks from them by index, so their order is part
of the generator's determinism (append, don't reorder).
"""

from __future__ import annotations

import unicodedata

# fmt: off
FIRST_NAMES: tuple[str, ...] = (
    "James", "Mary", "John", "Patricia", "Robert", "Jennifer", "Michael", "Linda",
    "William", "Elizabeth", "David", "Barbara", "Richard", "Susan", "Joseph", "Jessica",
    "Thomas", "Sarah", "Charles", "Karen", "Christopher", "Nancy", "Daniel", "Lisa",
    "Matthew", "Betty", "Anthony", "Margaret", "Mark", "Sandra", "Donald", "Ashley",
    "Steven", "Kimberly", "Paul", "Emily", "Andrew", "Donna", "Joshua", "Michelle",
    "Kenneth", "Carol", "Kevin", "Amanda", "Brian", "Melissa", "George", "Deborah",
    "Timothy", "Stephanie", "Ronald", "Rebecca", "Jason", "Laura", "Jeffrey", "Sharon",
    "Ryan", "Cynthia", "Jacob", "Kathleen", "Gary", "Amy", "Nicholas", "Angela",
    "Eric", "Shirley", "Jonathan", "Anna", "Priya", "Wei", "Mohammed", "Fatima",
    "Olivia", "Liam", "Noah", "Emma", "Ava", "Sophia", "Isabella", "Mia",
    "José", "Zoë", "Łukasz", "François", "Björn", "Søren", "Chloé", "Renée",
    "Jürgen", "Karel", "Joaquín", "María", "Inés", "Sébastien", "Ana-Lucía", "Maëlle",
    "Siobhán", "Åsa", "Ørjan", "Thành", "Nguyễn", "Günther", "Mónica", "Raúl",
    "Agnieszka", "Małgorzata", "Jiří", "Zoltán", "Ingrid", "Dagný", "Çağla", "Ömer",
    "Anaïs", "Hélène", "Noé", "Adrián", "João", "Conceição", "Aarav", "Ananya",
    "Rohan", "Saanvi", "Hiroshi", "Yuki", "Min-jun", "Ji-woo", "D'Andre", "Mary Ann",
)

LAST_NAMES: tuple[str, ...] = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis",
    "Rodriguez", "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson",
    "Thomas", "Taylor", "Moore", "Jackson", "Martin", "Lee", "Perez", "Thompson",
    "White", "Harris", "Sanchez", "Clark", "Ramirez", "Lewis", "Robinson", "Walker",
    "Young", "Allen", "King", "Wright", "Scott", "Torres", "Nguyen", "Hill", "Flores",
    "Green", "Adams", "Nelson", "Baker", "Hall", "Rivera", "Campbell", "Mitchell",
    "Carter", "Roberts", "Patel", "Shah", "Kumar", "Singh", "Chen", "Wang", "Kim",
    "Park", "Tanaka", "Sato", "Müller", "Schmidt", "Schneider", "Fischer", "Weiß",
    "Ñúñez", "García Márquez", "Fernández", "Muñoz", "Peña", "Gómez", "Ibáñez",
    "Kowalski", "Wiśniewski", "Wójcik", "Lewandowski", "Nowak", "Dvořák", "Novák",
    "Østergaard", "Sørensen", "Ångström", "Lindqvist", "Björk", "Öztürk", "Yılmaz",  # noqa: RUF001
    "O'Brien", "O'Connor", "McDonald", "MacLeod", "Smith-Jones", "van der Berg",
    "de la Cruz", "Dubois", "Lefèvre", "Gauthier", "Côté", "Rossi", "Bianchi",
    "Conti", "Esposito", "Nguyễn", "Trần", "Lê", "Silva", "Santos", "Gonçalves",
    "Araújo", "Oliveira", "Fitzgerald", "Zimmermann", "Hoffmann", "Schäfer",
)

# (display name, email domain); some names carry commas and quotes on purpose.
COMPANIES: tuple[tuple[str, str], ...] = (
    ("Acme, Inc.", "acme.com"),
    ("Globex Corporation", "globex.com"),
    ("Initech", "initech.com"),
    ("Umbrella Health", "umbrellahealth.com"),
    ("Stark Industries", "stark.com"),
    ("Wayne Enterprises", "wayne.com"),
    ("Hooli", "hooli.com"),
    ("Pied Piper", "piedpiper.com"),
    ("Vandelay Industries", "vandelay.com"),
    ("Soylent Foods, LLC", "soylent.com"),
    ('The "Best" Roofing Co.', "bestroofing.com"),
    ("Smith & Sons Plumbing", "smithandsons.com"),
    ("Müller GmbH", "mueller.de"),
    ("Ñúñez Hermanos S.A.", "nunezhermanos.es"),
    ("Société Générale d'Assurances", "sga.fr"),
    ("Björk & Lindqvist AB", "bjorklindqvist.se"),
    ("Tata Consultancy", "tcs.com"),
    ("Infosys", "infosys.com"),
    ("Northwind Traders", "northwind.com"),
    ("Contoso Ltd", "contoso.com"),
    ("Fabrikam, Inc.", "fabrikam.com"),
    ("Tailspin Toys", "tailspin.com"),
    ("Blue Yonder Airlines", "blueyonder.com"),
    ("Coho Winery", "cohowinery.com"),
    ("Adventure Works", "adventure-works.com"),
    ("Litware", "litware.com"),
    ("Proseware", "proseware.com"),
    ("Wide World Importers", "wideworldimporters.com"),
    ("Lucerne Publishing", "lucernepublishing.com"),
    ("Margie's Travel", "margiestravel.com"),
    ("Bellows College", "bellows.edu"),
    ("City of Springfield", "springfield.gov"),
    ("Dunder Mifflin Paper Co.", "dundermifflin.com"),
    ("Sterling Cooper", "sterlingcooper.com"),
    ("Los Pollos Hermanos", "lospolloshermanos.com"),
    ("Gringotts", "gringotts.co.uk"),
    ("Oscorp", "oscorp.com"),
    ("Cyberdyne Systems", "cyberdyne.com"),
    ("Tyrell Corp.", "tyrell.com"),
    ("Weyland-Yutani", "weyland.com"),
    ("Brasil Logística Ltda.", "brlog.com.br"),
    ("Sydney Harbour Tours Pty Ltd", "harbourtours.com.au"),
    ("Bharat Textiles Pvt. Ltd.", "bharattextiles.in"),
    ("Panadería García", "panaderiagarcia.mx"),
    ("Rossi & Figli S.r.l.", "rossifigli.it"),
    ("Maple Leaf Logistics", "mapleleaf.ca"),
    ("", ""),
    ("", ""),
    ("", ""),
    ("", ""),
)

JOB_TITLES: tuple[str, ...] = (
    "CEO", "CTO", "CFO", "Founder", "Co-Founder", "VP, Sales", "VP of Marketing",
    "Director of Operations", "Head of Growth", "Sales Manager", "Account Executive",
    "Office Manager", "Owner", "Procurement Lead", "Software Engineer", "Nurse",
    "Teacher", "Realtor", "Consultant", "Purchasing Agent", "HR Generalist",
    "Operations Analyst", "Store Manager", "Gérant", "Geschäftsführer", "Directora",
    'Manager, "Key Accounts"', "Intern", "Student", "Retired", "", "", "", "", "",
)

FREEMAIL_DOMAINS: tuple[str, ...] = (
    "gmail.com", "yahoo.com", "outlook.com", "hotmail.com", "icloud.com", "aol.com",
    "proton.me", "gmx.de", "orange.fr", "yahoo.co.uk", "uol.com.br", "rediffmail.com",
)

# Cities by region code; US first.
CITIES: dict[str, tuple[str, ...]] = {
    "US": (
        "New York", "Los Angeles", "Chicago", "Houston", "Phoenix", "Philadelphia",
        "San Antonio", "San Diego", "Dallas", "San Francisco", "Austin", "Seattle",
        "Denver", "Boston", "Nashville", "Portland", "Las Vegas", "St. Louis",
        "Winston-Salem", "Coeur d'Alene", "Española", "", "",
    ),
    "CA": ("Toronto", "Montréal", "Vancouver", "Calgary", "Québec", "Ottawa"),
    "GB": ("London", "Manchester", "Birmingham", "Leeds", "Glasgow", "Bristol"),
    "DE": ("Berlin", "München", "Hamburg", "Köln", "Frankfurt am Main", "Düsseldorf"),
    "FR": ("Paris", "Lyon", "Marseille", "Toulouse", "Nice", "Besançon"),
    "ES": ("Madrid", "Barcelona", "Sevilla", "Málaga", "A Coruña", "Valencia"),
    "IT": ("Roma", "Milano", "Napoli", "Torino", "Forlì", "Firenze"),
    "MX": ("Ciudad de México", "Guadalajara", "Monterrey", "Puebla", "Mérida"),
    "BR": ("São Paulo", "Rio de Janeiro", "Brasília", "Belo Horizonte", "Goiânia"),
    "IN": ("Mumbai", "Delhi", "Bengaluru", "Hyderabad", "Chennai", "Kolkata"),
    "AU": ("Sydney", "Melbourne", "Brisbane", "Perth", "Adelaide", "Hobart"),
}

NOTES: tuple[str, ...] = (
    "Met at SaaStr 2024",
    "Prefers email, not calls",
    'Said "call after 5pm"',
    "Called 3/4, left VM",
    "Referral from Dana\nFollow up in Q3",
    "Do not call before 9am; works nights",
    "Interested in premium plan, budget ~$5,000",
    "Spanish speaker / habla español",
    "Asked about pricing\r\nSent brochure",
    "VIP 🌟",
    "Old number, may have changed",
    "Wrong person? Check with front desk",
    "=SUM(A1:A2)",
    "+ follow up",
    "Bought 2x licenses, renews 2025-01-31",
    "Notes: see CRM; owner=jsmith",
)

# Words people type into a phone cell instead of a number.
NOT_A_NUMBER: tuple[str, ...] = (
    "n/a", "N/A", "none", "unknown", "TBD", "see notes", "no phone", "-", "?", "x",
    "refused", "NULL",
)

# fmt: on


def ascii_fold(text: str) -> str:
    """Lowercase ASCII for e-mail local parts: 'Łukasz Ñúñez' -> 'lukasznunez'."""
    special = str.maketrans(
        {"ł": "l", "Ł": "l", "ø": "o", "Ø": "o", "ß": "ss", "đ": "d", "\u0131": "i"}
    )
    decomposed = unicodedata.normalize("NFKD", text.translate(special))
    kept = (c for c in decomposed if c.isascii() and c.isalnum())
    return "".join(kept).lower()
