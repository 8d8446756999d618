"""Test-only registrations (configs pull them in with custom_imports)."""
