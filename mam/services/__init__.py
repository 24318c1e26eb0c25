"""Domain services: each takes a session and a storage, raises ``MamError``s."""
