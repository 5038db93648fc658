"""What feeds incidents: services, integrations (one per sender, with a secret webhook
token minted in `changes.integration_create` and nowhere else) and routing rules.
Configuration writes, validated once and audited (`changes`), and their API (`api`)."""
