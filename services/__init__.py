"""The domain: plain async Python, no aiogram. Handlers call these; these call storage."""
