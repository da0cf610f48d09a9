"""The notifier: delivers sub-processor changes to registered webhook endpoints."""
