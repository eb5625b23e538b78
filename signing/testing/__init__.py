"""Test doubles of the officials' signing apps. Testing only: the runtime never imports this."""
