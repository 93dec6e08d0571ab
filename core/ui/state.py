"""Session-state keys, declared once (streamlit-authenticator owns the first four)."""

AUTH_STATUS = "authentication_status"
USERNAME = "username"
NAME = "name"
ROLES = "roles"
PERIOD_DAYS = "period_days"
FLASH = "flash_message"
FORM_ROUNDS = "form_rounds"
