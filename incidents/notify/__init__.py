"""Reaching people: contact methods (`contacts`), sending notifications with retries and a
circuit breaker per endpoint (`sending`, `breaker`), address checks for outbound requests
(`address`), message text (`message`), and one transport module per channel
(`transports/`)."""
