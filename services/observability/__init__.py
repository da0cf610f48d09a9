"""What operators see of the services: structured logs, Prometheus metrics, OpenTelemetry traces.

Shared by the registry, the notifier and the `ropa serve` that starts them; it imports neither
service.
"""
