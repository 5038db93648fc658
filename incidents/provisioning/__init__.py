"""Team configuration as code: a YAML document of teams and their set-up (docs/provisioning.md)."""
