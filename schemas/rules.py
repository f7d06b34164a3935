"""Field rules shared by the Pandera schemas and the interactive commands.

Plain constants, no pandera: `contacts edit` checks an email without paying for
pandera's import (0.5-1 s).
"""

E164 = r"^\+[1-9]\d{6,14}$"
EMAIL = r"^[^@\s,;<>()\[\]]+@[^@\s,;<>()\[\]]+\.[A-Za-z0-9-]{2,}$"
MAX_FIELD = 500
