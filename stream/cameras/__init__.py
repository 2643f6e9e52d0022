"""The camera sampler service: frames fetched under the risk-driven schedule, analysed, published; its state kept in Redis."""
