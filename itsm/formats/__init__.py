"""Our date formats per language (``FORMAT_MODULE_PATH``); languages without a module
here use Django's own (German: 31.12.2026)."""
