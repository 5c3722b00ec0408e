// Placeholder: replaced by the JSON-RPC transport.
