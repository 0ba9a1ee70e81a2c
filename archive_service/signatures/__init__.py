"""The signature chain as a workflow (цепочка подписей): users with certificates, order, records."""
