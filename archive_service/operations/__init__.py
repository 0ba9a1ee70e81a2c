"""Operations: health and Prometheus metrics of a deployment (queue, workers, closes)."""
